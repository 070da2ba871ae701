"""Corpus loading: every format, every encoding and delimiter, the mapping, the cleaning
counts, and a plain-words CorpusError for every kind of bad input.

Each fixture is a real file written to tmp_path in its format (pandas, json, openpyxl and
pyarrow write them), then read back through the public API.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from stigma_core import io as sio
from stigma_core.errors import CorpusError

# Non-ASCII on purpose (é ’ — ï are all in cp1252), to check every encoding round trip.
TEXTS = [
    "People with schizophrenia are dangerous and should be locked away from us",
    "I have lived with depression for years and therapy really helps me now",
    "Café talk — it’s naïve to think mental illness is just a choice people make",
    "Talking openly about anxiety with my friends made a real difference to me",
]
LABELS = [1, 0, 1, 0]


def table() -> pd.DataFrame:
    """The small corpus every format test writes: ids with leading zeros, text, label."""
    return pd.DataFrame({"id": ["001", "002", "003", "004"], "text": TEXTS, "label": LABELS})


def write_csv(path: Path, encoding: str = "utf-8", sep: str = ",") -> Path:
    path.write_bytes(table().to_csv(index=False, sep=sep).encode(encoding))
    return path


def assert_corpus(df: pd.DataFrame) -> None:
    """The four posts came back exactly, typed canonically."""
    assert df["text"].tolist() == TEXTS
    assert df["label"].tolist() == LABELS
    assert str(df["label"].dtype) == "Int64"
    assert df["id"].tolist() == ["001", "002", "003", "004"]


# ---------------------------------------------------------------------------------------------
# Formats, encodings, delimiters


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be",
                                      "cp1252"])
def test_csv_encodings(tmp_path: Path, encoding: str) -> None:
    # utf-16 writes a BOM; utf-16-le/-be do not, so their NUL pattern must give them away.
    path = write_csv(tmp_path / "posts.csv", encoding=encoding)
    raw = sio.read_table(path)
    assert raw.columns.tolist() == ["id", "text", "label"]  # no BOM left in the header
    assert raw.attrs["source"]["encoding"] == encoding
    assert_corpus(sio.load_corpus(path))


def test_bytes_invalid_everywhere_still_load(tmp_path: Path) -> None:
    # 0x81 is undefined even in cp1252: decoding must fall back, not crash.
    path = tmp_path / "odd.csv"
    path.write_bytes(b"id,text\n1,broken \x81 byte but a long enough English post here\n")
    df = sio.load_corpus(path)
    assert len(df) == 1
    assert df["text"].iloc[0].startswith("broken ")
    assert df["text"].iloc[0].endswith("English post here")


@pytest.mark.parametrize(("sep", "suffix"), [
    (";", "csv"), ("\t", "csv"), ("|", "csv"), ("\t", "tsv"), (",", "txt"), (";", "txt"),
])
def test_delimiters(tmp_path: Path, sep: str, suffix: str) -> None:
    path = write_csv(tmp_path / f"posts.{suffix}", sep=sep)
    raw = sio.read_table(path)
    assert raw.attrs["source"]["delimiter"] == sep
    assert_corpus(sio.load_corpus(path))


def test_quoted_delimiters_and_newlines_inside_posts(tmp_path: Path) -> None:
    frame = pd.DataFrame({"text": ["one, two; three", "line one\nline two but long enough"],
                          "label": [0, 1]})
    path = tmp_path / "quoted.csv"
    frame.to_csv(path, index=False)
    df = sio.load_corpus(path, language=None)
    assert df["text"].tolist() == frame["text"].tolist()


def test_json_list_of_records(tmp_path: Path) -> None:
    path = tmp_path / "posts.json"
    path.write_text(json.dumps(table().to_dict("records")), encoding="utf-8")
    assert_corpus(sio.load_corpus(path))


@pytest.mark.parametrize("suffix", ["jsonl", "ndjson", "json"])
def test_json_lines(tmp_path: Path, suffix: str) -> None:
    # A .json holding one object per line is read as JSON lines too.
    path = tmp_path / f"posts.{suffix}"
    lines = [json.dumps(r, ensure_ascii=False) for r in table().to_dict("records")]
    path.write_text("\n".join(lines) + "\n\n", encoding="utf-8")
    assert_corpus(sio.load_corpus(path))


def twitter_page(ids: range) -> dict:
    """A Twitter API v2 search page: tweets, one retweet, authors in includes.users."""
    tweets = [{
        "id": str(1000 + i), "text": f"Tweet number {i}: people with bipolar disorder are fine",
        "author_id": f"u{i % 2}", "created_at": f"2021-03-0{i + 1}T10:00:00.000Z",
    } for i in ids]
    tweets[0]["referenced_tweets"] = [{"type": "retweeted", "id": "77"}]
    tweets[-1]["referenced_tweets"] = [{"type": "replied_to", "id": "78"}]
    users = [{"id": "u0", "username": "ann", "location": "Leeds, UK"},
             {"id": "u1", "username": "bob", "location": "Austin, TX"}]
    return {"data": tweets, "includes": {"users": users}, "meta": {"result_count": len(tweets)}}


def test_twitter_api_v2_export(tmp_path: Path) -> None:
    path = tmp_path / "tweets.json"
    path.write_text(json.dumps(twitter_page(range(3))), encoding="utf-8")
    raw = sio.read_table(path)
    assert raw["username"].tolist() == ["ann", "bob", "ann"]
    df = sio.load_corpus(path)
    assert df["id"].tolist() == ["1000", "1001", "1002"]
    assert df["is_retweet"].tolist() == [True, False, False]
    assert df["location"].tolist() == ["Leeds, UK", "Austin, TX", "Leeds, UK"]
    assert df["platform"].tolist() == ["twitter"] * 3
    assert df["date"].iloc[1] == pd.Timestamp("2021-03-02 10:00:00")
    assert df.attrs["load_report"]["mapping"]["location"] == "user_location"


def test_twitter_pages_as_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "pages.jsonl"
    pages = [twitter_page(range(0, 3)), twitter_page(range(3, 6))]
    path.write_text("\n".join(json.dumps(p) for p in pages), encoding="utf-8")
    df = sio.load_corpus(path)
    assert len(df) == 6
    assert df["is_retweet"].sum() == 2
    assert df["location"].notna().all()


def test_reddit_dump(tmp_path: Path) -> None:
    records = [
        {"id": "c1", "body": "Therapy helped me more than I ever expected it would.",
         "subreddit": "mentalhealth", "created_utc": 1609459200, "author": "x"},
        {"id": "s1", "title": "Why do people call us crazy", "selftext": "It hurts every time.",
         "subreddit": "depression", "created_utc": 1609462800, "author": "y"},
        {"id": "s2", "title": "Link post about schizophrenia research today", "selftext": "",
         "subreddit": "science", "created_utc": 1609466400, "author": "z"},
        {"id": "c2", "body": "[removed]", "subreddit": "mentalhealth",
         "created_utc": 1609470000, "author": "w"},
    ]
    path = tmp_path / "reddit.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records), encoding="utf-8")
    raw = sio.read_table(path)
    assert raw["kind"].tolist() == ["comment", "submission", "submission", "comment"]
    df = sio.load_corpus(path, groups=["subreddit"])
    assert df["text"].tolist() == [
        "Therapy helped me more than I ever expected it would.",
        "Why do people call us crazy\n\nIt hurts every time.",
        "Link post about schizophrenia research today",
    ]
    assert df.attrs["load_report"]["dropped"]["empty_text"] == 1  # the removed comment
    assert df["platform"].tolist() == ["reddit"] * 3
    assert df["group_subreddit"].tolist() == ["mentalhealth", "depression", "science"]
    assert df["date"].tolist() == pd.to_datetime(
        ["2021-01-01 00:00", "2021-01-01 01:00", "2021-01-01 02:00"]).tolist()


def test_parquet(tmp_path: Path) -> None:
    path = tmp_path / "posts.parquet"
    table().to_parquet(path)
    assert_corpus(sio.load_corpus(path))


def test_xlsx_with_numeric_ids(tmp_path: Path) -> None:
    path = tmp_path / "posts.xlsx"
    table().assign(id=[1.0, 2.0, 3.0, 4.0]).to_excel(path, index=False)
    df = sio.load_corpus(path)
    assert df["text"].tolist() == TEXTS
    assert df["label"].tolist() == LABELS
    assert df["id"].tolist() == ["1", "2", "3", "4"]  # not "1.0"


# ---------------------------------------------------------------------------------------------
# Sources: path, str, bytes, uploads


class Upload(io.BytesIO):
    """What Streamlit's UploadedFile looks like to the library: a BytesIO with a name."""

    def __init__(self, data: bytes, name: str) -> None:
        super().__init__(data)
        self.name = name


def test_sources_path_str_bytes_and_upload(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "posts.csv", sep=";")
    data = path.read_bytes()
    upload = Upload(data, "posts.csv")
    upload.read()  # already read once, as Streamlit may have done: must be rewound
    for source in (path, str(path), data, upload):
        raw = sio.read_table(source, name="posts.csv" if source is data else None)
        assert raw["text"].tolist() == TEXTS


def test_format_sniffed_from_bytes_without_a_name() -> None:
    records = json.dumps(table().to_dict("records")).encode()
    assert sio.read_table(records).attrs["source"]["format"] == "json"
    assert sio.read_table(table().to_csv(index=False).encode())["text"].tolist() == TEXTS


def test_upload_name_decides_the_format() -> None:
    upload = Upload(table().to_csv(index=False, sep="\t").encode(), "posts.tsv")
    assert sio.read_table(upload).attrs["source"] == {
        "name": "posts.tsv", "format": "tsv", "encoding": "utf-8", "delimiter": "\t"}


# ---------------------------------------------------------------------------------------------
# Bad input: a plain-words CorpusError for each


def error_of(source: object, name: str | None = None, **mapping: object) -> str:
    with pytest.raises(CorpusError) as caught:
        sio.load_corpus(source, name=name, **mapping)
    return str(caught.value)


def test_missing_file(tmp_path: Path) -> None:
    assert "There is no file at" in error_of(tmp_path / "nope.csv")


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    assert error_of(path) == (
        "'empty.csv' is empty (0 bytes). Choose the file that holds the posts.")


def test_header_only(tmp_path: Path) -> None:
    path = tmp_path / "header.csv"
    path.write_text("id,text,label\n", encoding="utf-8")
    message = error_of(path)
    assert "has a header row (columns: 'id', 'text', 'label') but no data rows" in message


def test_blank_lines_only() -> None:
    assert "holds no table" in error_of(b"\n\n\n", name="blank.csv")


def test_no_text_column() -> None:
    message = error_of(b"id,score\n1,3\n", name="scores.csv")
    assert message.startswith("No text column found. The file's columns are: 'id', 'score'.")
    assert "--text-col" in message


def test_mapped_column_not_in_file(tmp_path: Path) -> None:
    message = error_of(write_csv(tmp_path / "posts.csv"), text="tweet")
    assert message.startswith("The column 'tweet' chosen for text is not in this file.")
    assert "'id', 'text', 'label'" in message


def test_mapped_column_matches_ignoring_case(tmp_path: Path) -> None:
    df = sio.load_corpus(write_csv(tmp_path / "posts.csv"), text="TEXT", label=" Label ")
    assert df.attrs["load_report"]["mapping"]["text"] == "text"
    assert df["label"].tolist() == LABELS


@pytest.mark.parametrize(("data", "what"), [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200), "it is a PNG image"),
    (b"%PDF-1.7\n" + bytes(range(256)), "it is a PDF document"),
    (np.random.default_rng(0).bytes(2000).replace(b"\x00", b"\x01") + bytes(50),
     "binary bytes"),
])
def test_binary_file_renamed_csv(tmp_path: Path, data: bytes, what: str) -> None:
    path = tmp_path / "photo.csv"
    path.write_bytes(data)
    message = error_of(path)
    assert message.startswith("'photo.csv' does not look like a text table")
    assert what in message


def test_zip_renamed_csv(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("posts.csv", table().to_csv(index=False))
    message = error_of(buffer.getvalue(), name="archive.csv")
    assert message.startswith("'archive.csv' does not look like a text table: it is a ZIP")


def test_mixed_delimiters_name_the_line() -> None:
    data = b"id,text,label\n1,hello there all,1\n2;bye now;0\n3;and again;1\n"
    assert error_of(data, name="mixed.csv").startswith(
        "Line 3 of 'mixed.csv' has 1 field but the header has 3 (fields split on commas) "
        "(1 more lines do not fit either). The file may mix delimiters")


def test_unquoted_delimiter_in_a_post() -> None:
    data = b"id,text\n1,fine\n2,not fine, as it has a comma\n"
    assert error_of(data, name="posts.csv").startswith(
        "Line 3 of 'posts.csv' has 3 fields but the header has 2")


def test_unclosed_quote_is_read_on_its_own_and_reported() -> None:
    # Was a CorpusError for the whole file (issue #10): the line is now read on its own, the
    # stray quote kept as text, and the repair listed with its line.
    df = sio.load_corpus(b'id,text\n1,"hello\n2,bye\n', name="quote.csv", language=None)
    assert df["text"].tolist() == ['"hello', "bye"]
    repair = df.attrs["load_report"]["repairs"][0]
    assert (repair["kind"], repair["line"], repair["row"]) == ("quote_repaired", 2, 1)
    assert "opened but never closed" in repair["reason"]


def test_unclosed_quote_that_cannot_be_repaired() -> None:
    message = error_of(b'id,text\n1,"a,b" c,d\n2,bye\n', name="quote.csv")
    assert message.startswith("Line 2 of 'quote.csv' has a quote mark that is opened but "
                              "never closed")


def test_unsupported_extension(tmp_path: Path) -> None:
    path = tmp_path / "notes.docx"
    path.write_bytes(b"anything")
    message = error_of(path)
    assert message.startswith("'notes.docx' ends in .docx, which Stigma Lens cannot read.")
    assert ".csv, .tsv, .txt, .json, .jsonl, .ndjson, .parquet, .xlsx" in message


def test_invalid_json() -> None:
    assert error_of(b'[{"text": "a",}]', name="bad.json").startswith(
        "'bad.json' is not valid JSON: Expecting property name enclosed in double quotes "
        "at line 1, column 15.")


def test_invalid_json_line() -> None:
    assert error_of(b'{"text": "fine"}\n{"text": oops}\n', name="bad.jsonl").startswith(
        "Line 2 of 'bad.jsonl' is not valid JSON")


@pytest.mark.parametrize("value", [[1, 2, 3], {"a": 1}, "just a string"])
def test_json_that_is_not_records(value: object) -> None:
    data = json.dumps(value).encode()
    assert "is JSON but not a list of posts" in error_of(data, name="odd.json")


@pytest.mark.parametrize("suffix", ["xlsx", "parquet"])
def test_broken_binary_tables(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"broken.{suffix}"
    path.write_bytes(table().to_csv(index=False).encode())  # a CSV wearing the wrong name
    kind = {"xlsx": "an Excel workbook (.xlsx)", "parquet": "a Parquet file"}[suffix]
    assert error_of(path).startswith(f"'broken.{suffix}' could not be opened as {kind}")


def test_every_text_empty() -> None:
    message = error_of(b'id,text,label\n1,   ,1\n2,,0\n3," ",1\n', name="blank.csv")
    assert message.startswith("Every row of the text column 'text' is empty (3 rows)")


def test_unknown_mapping_field_is_a_programming_error(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="txt"):
        sio.load_corpus(write_csv(tmp_path / "posts.csv"), txt="text")


# ---------------------------------------------------------------------------------------------
# Labels, raters, retweets, dates, countries, groups


def canon(frame: pd.DataFrame, language: str | None = None,
          **mapping: object) -> tuple[pd.DataFrame, sio.LoadReport]:
    guess = sio.guess_mapping(frame.columns)
    chosen = sio.ColumnMapping(**{**guess.as_dict(), **mapping}, guessed=guess.guessed)
    return sio.canonicalise(frame, chosen, language=language)


def posts(n: int) -> list[str]:
    return [f"post number {i} about mental health" for i in range(n)]


@pytest.mark.parametrize(("values", "expected"), [
    ([1, 0, 1, 0], [1, 0, 1, 0]),
    ([True, False, True, False], [1, 0, 1, 0]),
    ([1.0, 0.0, np.nan, 1.0], [1, 0, None, 1]),
    (["yes", "No", " YES ", "no"], [1, 0, 1, 0]),
    (["1", "0", "", "0"], [1, 0, None, 0]),
    (["stigma", "not stigma", "Non-Stigma", "stigmatising"], [1, 0, 0, 1]),
    (["stigmatizing", "not stigmatising", "True", "false"], [1, 0, 1, 0]),
])
def test_label_spellings(values: list, expected: list) -> None:
    df, report = canon(pd.DataFrame({"text": posts(4), "stigma": values}))
    assert [None if pd.isna(v) else int(v) for v in df["label"]] == expected
    assert str(df["label"].dtype) == "Int64"
    assert report.mapping["label"] == "stigma"


def test_missing_labels_are_kept_and_noted() -> None:
    df, report = canon(pd.DataFrame({"text": posts(4), "label": [1, None, 0, None]}))
    assert len(df) == 4
    assert int(df["label"].isna().sum()) == 2
    assert "2 rows have no label in 'label'; kept with the label empty." in report.notes


def test_empty_label_column_means_unlabelled() -> None:
    df, report = canon(pd.DataFrame({"text": posts(2), "label": [None, None]}))
    assert df["label"].isna().all()
    assert "The label column 'label' is empty: the posts are loaded unlabelled." in report.notes


def test_single_class_label_is_an_error() -> None:
    with pytest.raises(CorpusError, match=r"label column 'class' has only one class: every "
                                          r"coded post is stigmatising \(1\)"):
        canon(pd.DataFrame({"text": posts(3), "class": ["yes", "yes", None]}))


def test_third_class_is_an_error_naming_values_and_column() -> None:
    frame = pd.DataFrame({"text": posts(4), "label": ["yes", "no", "maybe", "maybe"]})
    with pytest.raises(CorpusError) as caught:
        canon(frame)
    assert str(caught.value).startswith(
        "The label column 'label' has values that do not say stigmatising (1) or not (0): "
        "'maybe' (2 rows).")


def test_rater_columns() -> None:
    frame = pd.DataFrame({"text": posts(3), "label": [1, 0, 1], "rater_A": ["yes", "no", ""],
                          "coder_2": [1, 0, 0], "annotator_x": ["stigma", "not stigma", None]})
    df, report = canon(frame)
    assert report.mapping["raters"] == ["rater_A", "coder_2", "annotator_x"]
    assert df["rater_a"].tolist() == [1, 0, pd.NA]
    assert df["rater_coder_2"].tolist() == [1, 0, 0]
    assert df["rater_annotator_x"].tolist() == [1, 0, pd.NA]
    with pytest.raises(CorpusError, match="rater column 'coder_2' has values .*'7'"):
        canon(frame.assign(coder_2=[1, 7, 0]))


def test_retweet_column_spellings_and_missing() -> None:
    frame = pd.DataFrame({"text": posts(4), "RT": ["yes", "no", None, "TRUE"]})
    df, report = canon(frame)
    assert df["is_retweet"].tolist() == [True, False, False, True]
    assert df["is_retweet"].dtype == bool
    assert "1 rows have no value in 'RT'; counted as original posts." in report.notes


def test_retweets_from_rt_prefix_when_no_column() -> None:
    texts = ["RT @ann: people with psychosis are not violent at all",
             "my own post about recovery from depression", "  RT @bob: therapy works for me"]
    df, report = canon(pd.DataFrame({"text": texts}))
    assert df["is_retweet"].tolist() == [True, False, True]
    assert ("No retweet column: 2 posts starting with 'RT @' are marked as retweets."
            in report.notes)


def test_dates_text_epoch_and_garbage() -> None:
    frame = pd.DataFrame({"text": posts(4), "date": [
        "2021-01-01T00:02:57Z", "2021-01-02T10:00:00.000Z", "Wed Oct 10 20:19:24 +0000 2018",
        "not a date"]})
    df, report = canon(frame)
    assert df["date"].tolist()[:3] == pd.to_datetime([
        "2021-01-01 00:02:57", "2021-01-02 10:00:00", "2018-10-10 20:19:24"]).tolist()
    assert pd.isna(df["date"].iloc[3])
    assert "1 values in 'date' are not dates; their date is left empty." in report.notes
    epoch, _ = canon(pd.DataFrame({"text": posts(2), "timestamp": ["1609459200", None]}))
    assert epoch["date"].iloc[0] == pd.Timestamp("2021-01-01")


def test_countries_from_codes_and_names() -> None:
    frame = pd.DataFrame({"text": posts(5),
                          "country": ["gb", "United Kingdom", "USA", "Narnia", None]})
    df, report = canon(frame)
    assert df["country"].tolist()[:3] == ["GB", "GB", "US"]
    assert df["country"].iloc[3:].isna().all()
    assert any(n.startswith("1 rows have a 'country' value that names no known country")
               for n in report.notes)


def test_groups_location_platform() -> None:
    frame = pd.DataFrame({"text": posts(2), "Topic Area": ["a", "b"],
                          "site": [" Twitter", "TikTok"], "location": ["Leeds ", ""]})
    df, _ = canon(frame, groups=["Topic Area"])
    assert df["group_topic_area"].tolist() == ["a", "b"]
    assert df["platform"].tolist() == ["twitter", "tiktok"]
    assert df["location"].iloc[0] == "Leeds"
    assert pd.isna(df["location"].iloc[1])


# ---------------------------------------------------------------------------------------------
# Cleaning counts


MESSY = pd.DataFrame({
    "id": ["1", "2", "2", "3", "4", "5", "6", "7"],
    "text": [
        "People with depression just need to try harder, honestly",
        "Seeing a therapist was the best thing I did this year",
        "Seeing a therapist was the best thing I did this year",  # exact duplicate row
        "   ",  # empty
        "Las personas con esquizofrenia son peligrosas y violentas",  # Spanish
        "Seeing a therapist was the best thing I did this year",  # same text, other id: kept
        "so true",  # too short to decide: kept
        None,  # empty
    ],
})


def test_drop_counts_and_report() -> None:
    df, report = canon(MESSY, language="en")
    assert report.n_input == 8
    assert report.dropped == {"empty_text": 2, "duplicate_rows": 1, "other_language": 1}
    assert report.n_kept == len(df) == 4
    assert df["id"].tolist() == ["1", "2", "5", "6"]
    assert "Posts in other languages dropped (es 1)." in report.notes
    assert df.index.tolist() == [0, 1, 2, 3]
    assert report.summary().splitlines()[:2] == [
        "Read 8 rows; kept 4.",
        "Dropped 2 with empty text, 1 exact duplicate rows, 1 in other languages."]


def test_a_language_column_is_used_where_it_gives_a_code() -> None:
    tweets = pd.DataFrame({
        "text": ["Seeing a therapist was the best thing I did this year",
                 "Las personas con esquizofrenia son peligrosas y violentas",
                 "Menschen mit Depressionen verdienen Respekt und Hilfe",  # lang blank: detected
                 "People with depression just need to try harder, honestly",  # file says Spanish
                 "https://t.co/abc"],
        "lang": ["en", "es", "", "es", "zxx"],
    })
    df, report = canon(tweets, language="en")
    assert report.mapping["lang"] == "lang"
    assert df["text"].str[:6].tolist() == ["Seeing", "https:"]
    assert df["lang"].tolist() == ["en", "und"]
    assert report.dropped["other_language"] == 3
    assert "Language given by the file for 4 posts, detected for 1." in report.notes
    assert "Posts in other languages dropped (es 2, de 1)." in report.notes
    assert ("Posts whose 'lang' names no language (such as 'zxx'): 1; they count as "
            "undecidable and are kept.") in report.notes


def test_load_corpus_can_ignore_the_language_column(tmp_path: Path) -> None:
    path = tmp_path / "tweets.csv"
    pd.DataFrame({"text": ["Menschen mit Depressionen verdienen Respekt und Hilfe",
                           "Seeing a therapist was the best thing I did this year"],
                  "lang": ["en", "en"]}).to_csv(path, index=False)
    assert len(sio.load_corpus(path)) == 2  # the file says both are English
    detected = sio.load_corpus(path, lang=None)
    assert detected["text"].str[:6].tolist() == ["Seeing"]
    assert "lang" not in detected


def test_filters_can_be_turned_off() -> None:
    df, report = sio.canonicalise(MESSY, sio.ColumnMapping(text="text", id="id"),
                                  language=None, drop_duplicates=False)
    assert report.dropped == {"empty_text": 2, "duplicate_rows": 0, "other_language": 0}
    assert len(df) == 6


def test_other_language_only_is_an_error() -> None:
    frame = pd.DataFrame({"text": ["Las personas con depresión merecen respeto y apoyo"]})
    with pytest.raises(CorpusError, match=r"No post is in the chosen language \('en'\)"):
        canon(frame, language="en")


def test_unknown_language_is_an_error() -> None:
    with pytest.raises(CorpusError, match="Unknown language code 'English'"):
        canon(MESSY, language="English")


def test_long_posts_are_cut_and_noted() -> None:
    frame = pd.DataFrame({"text": ["word " * 3000, "a short post about anxiety and help"]})
    df, report = canon(frame)
    assert df["text"].str.len().tolist() == [10_000, 35]
    assert ("1 posts longer than 10,000 characters were cut to their first 10,000."
            in report.notes)


# ---------------------------------------------------------------------------------------------
# Guessing and load_corpus


def test_guess_mapping_names_and_priority() -> None:
    guess = sio.guess_mapping(["Tweet", "BODY", "Stigmatising", "User.Location", "Country_Code",
                               "Source_Platform", "Timestamp", "is_retweet", "Tweet_ID",
                               "rater_1", "Coder_B", "notes"])
    assert guess.as_dict() == {
        "text": "Tweet", "label": "Stigmatising", "country": "Country_Code",
        "location": "User.Location", "platform": "Source_Platform", "date": "Timestamp",
        "retweet": "is_retweet", "id": "Tweet_ID", "lang": None,
        "raters": ["rater_1", "Coder_B"], "groups": []}
    assert guess.guessed == ["text", "label", "location", "country", "platform", "date",
                             "retweet", "id", "raters"]


def test_guess_mapping_finds_nothing() -> None:
    guess = sio.guess_mapping(["a", "b"])
    assert guess.text is None
    assert guess.guessed == []


def test_load_corpus_overrides_and_report(tmp_path: Path) -> None:
    path = tmp_path / "posts.csv"
    table().assign(body=[t.upper() for t in TEXTS]).to_csv(path, index=False)
    df = sio.load_corpus(path, text="body", label=None)
    assert df["text"].tolist() == [t.upper() for t in TEXTS]
    assert "label" not in df
    report = df.attrs["load_report"]
    assert report["mapping"]["text"] == "body"
    assert report["guessed"] == ["id"]
    assert report["n_input"] == report["n_kept"] == 4
    assert sio.LoadReport(**report).summary().startswith("Read 4 rows; kept 4.")


def test_real_interview_corpus(real_corpus_path: Path) -> None:
    df = sio.load_corpus(real_corpus_path)
    assert len(df) == 3312
    assert df.attrs["load_report"]["guessed"] == ["text", "label", "id"]
    assert df["label"].notna().all()
    assert 0.44 <= df["label"].mean() <= 0.48


def test_columns_no_mapping_uses_are_named_not_dropped_silently() -> None:
    """A bio or a coder's extra column that no field maps is not loaded: the report says so
    (a user walk's upload lost its 'bio' column with no word)."""
    frame = sio.load_corpus(io.StringIO("text,label,bio,theme\nhello there friends,1,"
                                        "a bio,awareness\nanother post here,0,b,other\n"),
                            language=None)
    notes = frame.attrs["load_report"]["notes"]
    assert "Columns not loaded (2): 'bio', 'theme'." in " ".join(notes)
    assert "bio" not in frame and "theme" not in frame

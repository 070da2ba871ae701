"""Nasty input for the reading layer (issue #10): each file either loads exactly what it says
or fails with a CorpusError that names the problem, never with a traceback and never with a
silent change of the data.

Every file is generated here, in tmp_path or in memory; nothing large is committed. The
limits are lowered with monkeypatch where a real file over them would be slow to make.
"""

from __future__ import annotations

import codecs
import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from stigma_core import io as sio
from stigma_core.errors import CorpusError
from stigma_core.io import binary, sources

ACCENTED = ["Café talk — it’s naïve to think", "Crème brûlée for everyone at the clinic",
            "Señora Muñoz said therapy helped", "Plain ASCII post about anxiety today"]


def load(data: bytes, name: str, **mapping: object) -> pd.DataFrame:
    """load_corpus with the language filter off (the files here are about reading)."""
    return sio.load_corpus(data, name=name, language=None, **mapping)


def error_of(data: bytes | Path, name: str | None = None, **mapping: object) -> str:
    with pytest.raises(CorpusError) as caught:
        sio.load_corpus(data, name=name, language=None, **mapping)
    return str(caught.value)


def repairs(df: pd.DataFrame) -> list[dict]:
    return df.attrs["load_report"]["repairs"]


def kinds(df: pd.DataFrame) -> dict[str, int]:
    return df.attrs["load_report"]["repair_counts"]


def csv_bytes(rows: list[tuple], header: tuple = ("id", "text", "label")) -> bytes:
    return pd.DataFrame(rows, columns=list(header)).to_csv(index=False).encode("utf-8")


ROWS = [(i + 1, text, i % 2) for i, text in enumerate(ACCENTED)]


# ---------------------------------------------------------------------------------------------
# Encodings


def test_utf8_with_a_few_bad_bytes_stays_utf8() -> None:
    lines = csv_bytes(ROWS).split(b"\n")
    lines[3] = lines[3].replace("Muñoz".encode(), b"Mu\xc3\x28oz")  # a broken 2-byte sequence
    df = load(b"\n".join(lines), "bad_bytes.csv")
    assert df["text"].tolist()[:2] == ACCENTED[:2]  # every other accent intact
    assert df["text"].iloc[2] == "Señora Mu\ufffd(oz said therapy helped"
    assert df.attrs["load_report"]["notes"][0].startswith("Read 'bad_bytes.csv' as CSV, "
                                                          "encoding utf-8")
    [repair] = repairs(df)
    assert (repair["kind"], repair["line"]) == ("bytes_replaced", 4)


def test_one_cp1252_row_in_a_utf8_file_is_read_as_cp1252() -> None:
    good = csv_bytes(ROWS)
    bad_row = '5,"Naïve café owners say it’s fine",0\n'.encode("cp1252")
    df = load(good + bad_row, "pasted.csv")
    assert df["text"].tolist() == ACCENTED + ["Naïve café owners say it’s fine"]
    [repair] = repairs(df)
    assert (repair["kind"], repair["line"]) == ("line_decoded", 6)
    assert "Windows-1252" in repair["action"]


def test_whole_cp1252_file_is_cp1252_without_repairs() -> None:
    df = load(pd.DataFrame(ROWS, columns=["id", "text", "label"]).to_csv(index=False)
              .encode("cp1252"), "excel.csv")
    assert df["text"].tolist() == ACCENTED
    assert repairs(df) == []
    assert "encoding cp1252" in df.attrs["load_report"]["notes"][0]


def test_cp1252_file_with_one_utf8_line_reads_that_line_as_utf8() -> None:
    data = csv_bytes(ROWS[:2]).decode().encode("cp1252") + "3,Señor naïve,1\n".encode()
    data += "4,Crème again for all,0\n5,Más café,1\n".encode("cp1252")
    df = load(data, "mixed.csv")
    assert df["text"].tolist() == ACCENTED[:2] + ["Señor naïve", "Crème again for all",
                                                  "Más café"]
    assert [(r["kind"], r["line"]) for r in repairs(df)] == [("line_decoded", 4)]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-8-sig"])
def test_unicode_encodings_with_and_without_bom(encoding: str) -> None:
    data = pd.DataFrame(ROWS, columns=["id", "text", "label"]).to_csv(index=False)
    df = load(data.encode(encoding), "unicode.csv")
    assert df["text"].tolist() == ACCENTED
    assert df.attrs["load_report"]["mapping"]["text"] == "text"  # no BOM left in the name


def test_utf16_with_a_lone_surrogate_is_repaired() -> None:
    data = "id,text\n1,fine post here\n".encode("utf-16-le") + b"2\x00,\x00" + b"\x00\xd8"
    data += "broken here\n3,last post\n".encode("utf-16-le")
    df = load(codecs.BOM_UTF16_LE + data, "lone.csv")
    assert df["text"].tolist() == ["fine post here", "\ufffdbroken here", "last post"]
    assert kinds(df) == {"bytes_replaced": 1}


def test_byte_undefined_even_in_cp1252_is_replaced_and_reported() -> None:
    df = load(b"id,text\n1,odd \x81 byte in an ASCII file\n", "odd.csv")
    assert df["text"].tolist() == ["odd \ufffd byte in an ASCII file"]
    assert kinds(df) == {"bytes_replaced": 1}


def test_cyrillic_cp1251_file() -> None:
    text = "Люди с депрессией заслуживают уважения и поддержки каждый день"
    data = ("id,text\n" + "".join(f"{i},{text} {i}\n" for i in range(20))).encode("cp1251")
    raw = sio.read_table(data, name="ru.csv")
    assert raw.attrs["source"]["encoding"] == "cp1251"
    assert raw["text"].iloc[0] == f"{text} 0"


def test_mixed_line_endings() -> None:
    df = load(b"id,text\r\n1,first post\n2,second post\r3,third post\r\n", "endings.csv")
    assert df["text"].tolist() == ["first post", "second post", "third post"]


def test_a_few_nul_bytes_are_removed_and_reported() -> None:
    body = b"".join(b"%d,post number %d about stigma\n" % (i, i) for i in range(200))
    data = b"id,text\n" + body.replace(b"post number 7 ", b"post\x00 number 7 ")
    df = load(data, "nul.csv")
    assert df["text"].iloc[7] == "post number 7 about stigma"
    assert [(r["kind"], r["line"]) for r in repairs(df)] == [("nul_removed", 9)]


def test_binary_junk() -> None:
    junk = np.random.default_rng(1).bytes(5000)
    assert "does not look like a text table" in error_of(junk, "junk.csv")


def test_empty_file() -> None:
    assert error_of(b"", "empty.csv") == (
        "'empty.csv' is empty (0 bytes). Choose the file that holds the posts.")


def test_header_only_without_newline() -> None:
    assert "has a header row (columns: 'id', 'text') but no data rows" in error_of(
        b"id,text", "header.csv")


def test_only_whitespace() -> None:
    assert "holds no table (only blank lines)" in error_of(b"  \n\t\n   \r\n", "blank.csv")


def test_blank_lines_before_the_header() -> None:
    df = load(b"\n\n  \nid,text\n1,a post after blank lines\n", "late.csv")
    assert df["text"].tolist() == ["a post after blank lines"]


# ---------------------------------------------------------------------------------------------
# CSV structure


LABELLED = b"id,text,label\n1,\"first, post\",1\n2,second post,0\n"


def test_unclosed_quote_in_the_middle_does_not_shift_labels() -> None:
    data = LABELLED + b'3,"never closed post,1\n4,"fourth, quoted",0\n5,fifth post,1\n'
    df = load(data, "quote.csv")
    assert df["text"].tolist() == ["first, post", "second post", '"never closed post',
                                   "fourth, quoted", "fifth post"]
    assert df["label"].tolist() == [1, 0, 1, 0, 1]
    [repair] = repairs(df)
    assert (repair["kind"], repair["line"], repair["row"]) == ("quote_repaired", 4, 3)


def test_unclosed_quote_in_the_last_row() -> None:
    df = load(LABELLED + b'3,"last one never closed,1\n', "quote.csv")
    assert df["label"].tolist() == [1, 0, 1]
    assert df["text"].iloc[2] == '"last one never closed'


def test_unclosed_quote_that_would_swallow_the_rest_of_the_file() -> None:
    data = b'id,text,label\n1,"open quote,1\n' + b"".join(
        b"%d,plain post %d,%d\n" % (i, i, i % 2) for i in range(2, 50))
    df = load(data, "swallow.csv")
    assert len(df) == 49
    assert df["label"].tolist() == [1] + [i % 2 for i in range(2, 50)]


def test_silent_merge_is_detected_and_split() -> None:
    # Python's csv and pandas read these three lines as two rows, without any error.
    data = b'id,text,label\n1,"open text,1\n2,plain end",0\n3,third post,1\n'
    df = load(data, "merge.csv")
    assert df["id"].tolist() == ["1", "2", "3"]
    assert df["label"].tolist() == [1, 0, 1]
    assert [r["line"] for r in repairs(df)] == [2, 3]


def test_a_real_multiline_post_is_kept_whole() -> None:
    data = b'id,text,label\n1,"line one\nline two, still the post",0\n2,next,1\n'
    df = load(data, "multi.csv")
    assert df["text"].tolist() == ["line one\nline two, still the post", "next"]
    assert repairs(df) == []


def test_crlf_inside_a_quoted_post() -> None:
    df = load(b'id,text\r\n1,"para one\r\npara two"\r\n2,next\r\n', "crlf.csv")
    assert df["text"].tolist() == ["para one\r\npara two", "next"]


def test_undoubled_quotes_inside_a_quoted_post() -> None:
    df = load(b'id,text,label\n1,"he said "hi" to me",1\n2,fine,0\n', "inner.csv")
    assert df["text"].tolist() == ['he said "hi" to me', "fine"]
    assert kinds(df) == {"quote_repaired": 1}


def test_unclosed_quote_in_the_header() -> None:
    assert error_of(b'id,"text\n1,post\n', "head.csv").startswith(
        "The header row (line 1) of 'head.csv' has a quote mark that is opened but never "
        "closed")


def test_unrepairable_quote_names_the_line() -> None:
    message = error_of(LABELLED + b'3,"a,b" c,d,1\n', "bad.csv")
    assert message.startswith("Line 4 of 'bad.csv' has a quote mark that is opened but never")


@pytest.mark.parametrize(("row", "count"), [(b"3,too,many,fields\n", 4), (b"3\n", 1)])
def test_ragged_rows(row: bytes, count: int) -> None:
    message = error_of(LABELLED + row, "ragged.csv")
    assert message.startswith(f"Line 4 of 'ragged.csv' has {count} field")
    assert "but the header has 3" in message


def test_five_megabyte_post_is_kept_and_cut() -> None:
    long_post = "word " * 1_000_000
    data = csv_bytes([(1, "short post", 0), (2, long_post, 1), (3, "another", 0)])
    df = load(data, "long.csv")
    assert df["text"].str.len().tolist() == [10, sio.MAX_TEXT_CHARS, 7]
    assert df["label"].tolist() == [0, 1, 0]
    [repair] = repairs(df)
    assert (repair["kind"], repair["row"], repair["column"]) == ("text_cut", 2, "text")
    assert "post cut from 4,999,999 to 10,000 characters" == repair["action"]


def test_duplicate_column_names() -> None:
    df = load(b"id,text,text\n1,the post,a note\n", "dup.csv")
    assert df["text"].tolist() == ["the post"]
    raw = sio.read_table(b"id,text,text\n1,the post,a note\n", name="dup.csv")
    assert raw.columns.tolist() == ["id", "text", "text.1"]
    [repair] = raw.attrs["repairs"].entries
    assert (repair.kind, repair.column) == ("column_renamed", "text.1")


def test_blank_column_name() -> None:
    raw = sio.read_table(b"id,,text\n1,x,post\n", name="blank.csv")
    assert raw.columns.tolist() == ["id", "Unnamed: 1", "text"]


def test_one_column_file_with_commas_in_posts() -> None:
    df = load(b"text\nI think, honestly, it helps\nno commas here\n", "one.csv")
    assert df["text"].tolist() == ["I think, honestly, it helps", "no commas here"]
    assert "one column" in df.attrs["load_report"]["notes"][0]


def test_semicolons_with_commas_inside_posts() -> None:
    raw = sio.read_table(b"id;text\n1;yes, it is, really\n2;no, not at all\n", name="s.csv")
    assert raw.attrs["source"]["delimiter"] == ";"
    assert raw["text"].tolist() == ["yes, it is, really", "no, not at all"]


def test_tabs_in_a_csv_with_commas_and_semicolons_in_posts() -> None:
    raw = sio.read_table(b"id\ttext\n1\tone, two; three\n2\tfour; five, six\n", name="t.csv")
    assert raw.attrs["source"]["delimiter"] == "\t"
    assert raw["text"].tolist() == ["one, two; three", "four; five, six"]


@pytest.mark.parametrize("word", ["NA", "None", "null", "N/A", "nan", "NULL", "#N/A", "NaN"])
def test_na_words_are_posts(word: str) -> None:
    df = load(f"id,text\n1,{word}\n2,\n3,\"\"\n".encode(), "na.csv")
    assert df["text"].tolist() == [word]
    assert df.attrs["load_report"]["dropped"]["empty_text"] == 2  # only truly empty cells


def test_whitespace_lines_inside_the_data_are_skipped() -> None:
    df = load(b"id,text,label\n1,a,1\n   \n2,b,0\n\t\n", "ws.csv")
    assert df["text"].tolist() == ["a", "b"]


def test_ids_keep_leading_zeros_and_last_line_without_newline() -> None:
    df = load(b"id,text\n007,bond post\n010,last post", "ids.csv")
    assert df["id"].tolist() == ["007", "010"]


def test_file_over_the_size_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources, "MAX_FILE_BYTES", 100)
    message = error_of(b"id,text\n" + b"1,post\n" * 30, "big.csv")
    assert "Stigma Lens reads files up to" in message


def test_a_folder_is_not_a_file(tmp_path: Path) -> None:
    folder = tmp_path / "posts.csv"
    folder.mkdir()
    assert "is a folder, not a file" in error_of(folder)


def test_big_file_from_disk_is_read_in_place(tmp_path: Path) -> None:
    path = tmp_path / "disk.csv"
    rows = [(i, f"post {i} with café and 😂", i % 2) for i in range(20_000)]
    path.write_bytes(csv_bytes(rows))
    df = sio.load_corpus(path, language=None)
    assert len(df) == 20_000
    assert df["text"].iloc[-1] == "post 19999 with café and 😂"


# ---------------------------------------------------------------------------------------------
# JSON


def test_json_nested_far_too_deep() -> None:
    data = b"[" * 100_000 + b"]" * 100_000
    assert "nests lists or objects more than 200 levels deep" in error_of(data, "deep.json")


def test_json_records_nested_beyond_the_limit() -> None:
    value: object = "bottom"
    for _ in range(300):
        value = {"a": value}
    data = json.dumps([{"text": "a post", "extra": value}]).encode()
    assert "more than 200 levels deep" in error_of(data, "deep.json")


def test_jsonl_line_nested_far_too_deep() -> None:
    data = b'{"text": "fine"}\n' + b"[" * 50_000 + b"]" * 50_000 + b"\n"
    assert "Line 2 of 'deep.jsonl' nests lists or objects" in error_of(data, "deep.jsonl")


@pytest.mark.parametrize("value", [42, "text", None, [1, 2], {"a": [1], "b": [2]}])
def test_json_of_the_wrong_shape(value: object) -> None:
    assert "is JSON but not a list of posts" in error_of(json.dumps(value).encode(), "w.json")


def test_json_list_with_non_records_skips_them() -> None:
    data = json.dumps([{"text": "first post"}, 7, None, {"text": "second post"}]).encode()
    df = load(data, "mixed.json")
    assert df["text"].tolist() == ["first post", "second post"]
    assert [r["action"] for r in repairs(df)] == ["skipped item 2", "skipped item 3"]


def twitter_page(**extra: object) -> dict:
    return {"data": [{"id": "1", "text": "people with anxiety deserve care", "author_id": "u1",
                      "referenced_tweets": [{"type": "retweeted", "id": "9"}]},
                     {"id": "2", "text": "second tweet here", "author_id": "u2"}],
            "includes": {"users": [{"id": "u1", "username": "ann", "location": "Leeds"}]},
            **extra}


@pytest.mark.parametrize("includes", [[{"users": []}], "users", {"users": {"id": "u1"}}])
def test_twitter_includes_of_the_wrong_shape(includes: object) -> None:
    df = load(json.dumps(twitter_page(includes=includes)).encode(), "tweets.json")
    assert df["text"].tolist() == ["people with anxiety deserve care", "second tweet here"]
    assert df["location"].isna().all()
    assert any("could not be joined in" in n for n in df.attrs["load_report"]["notes"])


def test_twitter_data_with_non_objects_and_odd_references() -> None:
    page = twitter_page()
    page["data"].append("not a tweet")
    page["data"][1]["referenced_tweets"] = "retweeted"
    df = load(json.dumps(page).encode(), "tweets.json")
    assert df["is_retweet"].tolist() == [True, False]
    assert df["location"].tolist()[0] == "Leeds"
    assert kinds(df) == {"item_skipped": 1}


def reddit_listing(*children: object) -> dict:
    return {"kind": "Listing", "data": {"children": list(children)}}


def comment(body: str, replies: object = "") -> dict:
    return {"kind": "t1", "data": {"body": body, "subreddit": "mh", "replies": replies}}


def test_reddit_listing_with_non_object_children() -> None:
    data = json.dumps(reddit_listing(1, "x", None, comment("a real comment here"))).encode()
    df = load(data, "reddit.json")
    assert df["text"].tolist() == ["a real comment here"]
    assert kinds(df) == {"item_skipped": 3}


def test_reddit_replies_are_flattened_in_order_and_stubs_noted() -> None:
    tree = comment("parent comment", reddit_listing(
        comment("first reply", reddit_listing(comment("reply to reply"))),
        {"kind": "more", "data": {"count": 3, "children": ["a", "b"]}},
        comment("second reply")))
    post = reddit_listing({"kind": "t3", "data": {"title": "A post", "selftext": "its body",
                                                   "subreddit": "mh"}})
    df = load(json.dumps([post, reddit_listing(tree)]).encode(), "thread.json")
    assert df["text"].tolist() == ["A post\n\nits body", "parent comment", "first reply",
                                   "reply to reply", "second reply"]
    assert any("'load more comments'" in n for n in df.attrs["load_report"]["notes"])


def test_jsonl_with_a_bad_line() -> None:
    assert error_of(b'{"text": "fine"}\n{"text": "cut off\n', "cut.jsonl").startswith(
        "Line 2 of 'cut.jsonl' is not valid JSON")


def test_jsonl_with_a_non_object_line() -> None:
    df = load(b'{"text": "fine post"}\n[1, 2]\n{"text": "other post"}\n', "odd.jsonl")
    assert df["text"].tolist() == ["fine post", "other post"]
    assert kinds(df) == {"item_skipped": 1}


def test_json_text_as_a_list_and_as_an_object() -> None:
    data = json.dumps([{"text": ["I feel", "so alone"], "n": 1},
                       {"text": [{"b": 2, "a": "x"}], "n": 2},
                       {"text": "plain", "n": 3}]).encode()
    df = load(data, "lists.json")
    assert df["text"].tolist() == ["I feel so alone", '[{"a": "x", "b": 2}]', "plain"]
    [repair] = repairs(df)
    assert (repair["kind"], repair["column"]) == ("cell_to_text", "text")
    assert "rows 1, 2" in repair["action"]


def test_json_na_words_and_nulls() -> None:
    data = json.dumps([{"text": "NA"}, {"text": "null"}, {"text": None}, {"text": "None"}])
    df = load(data.encode(), "na.json")
    assert df["text"].tolist() == ["NA", "null", "None"]


def test_json_with_a_bom() -> None:
    df = load(codecs.BOM_UTF8 + json.dumps([{"text": "café post"}]).encode(), "bom.json")
    assert df["text"].tolist() == ["café post"]


# ---------------------------------------------------------------------------------------------
# Excel


def xlsx_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_excel(buffer, index=False)
    return buffer.getvalue()


def rewrite_part(data: bytes, part: str, change: callable) -> bytes:
    """The workbook with one of its XML parts changed."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as old, zipfile.ZipFile(out, "w") as new:
        for item in old.infolist():
            content = old.read(item.filename)
            new.writestr(item, change(content) if item.filename == part else content)
    return out.getvalue()


def test_xlsx_declaring_a_huge_dimension_reads_only_its_cells() -> None:
    data = xlsx_bytes(pd.DataFrame({"text": ["a post", "another"], "label": [1, 0]}))
    data = rewrite_part(data, "xl/worksheets/sheet1.xml",
                        lambda x: x.replace(b'ref="A1:B3"', b'ref="A1:XFD1048576"'))
    df = load(data, "huge_dimension.xlsx")
    assert df["text"].tolist() == ["a post", "another"]


def test_xlsx_with_one_cell_at_the_last_column_and_row() -> None:
    import openpyxl

    book = openpyxl.Workbook()
    book.active["XFD1048576"] = "lonely"
    buffer = io.BytesIO()
    book.save(buffer)
    assert len(buffer.getvalue()) < 10_000
    assert "but no data rows" in error_of(buffer.getvalue(), "corner.xlsx")


def test_xlsx_over_the_cell_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(binary, "MAX_XLSX_CELLS", 50)
    data = xlsx_bytes(pd.DataFrame({f"c{i}": range(20) for i in range(5)}))
    message = error_of(data, "wide.xlsx")
    assert "more than the 50 cells Stigma Lens reads from Excel" in message
    assert "declares the range A1:E21" in message


def test_xlsx_zip_bomb(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(binary, "MAX_UNPACKED_BYTES", 1 << 20)
    data = xlsx_bytes(pd.DataFrame({"text": ["a post"]}))
    data = rewrite_part(data, "xl/worksheets/sheet1.xml", lambda x: x + b" " * (2 << 20))
    assert len(data) < 100_000
    assert "would unpack to" in error_of(data, "bomb.xlsx")


def test_xlsx_that_is_not_really_a_zip() -> None:
    message = error_of(b"PK\x03\x04" + b"garbage" * 50, "fake.xlsx")
    assert message.startswith("'fake.xlsx' could not be opened as an Excel workbook (.xlsx) "
                              "(it is not a ZIP archive")


def test_zip_without_a_workbook() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("posts.csv", "text\nhello\n")
    assert "a ZIP archive without a workbook in it" in error_of(buffer.getvalue(), "z.xlsx")


def test_xlsx_with_na_words_duplicate_headers_and_blank_rows() -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    for row in (["text", "text", "label"], ["NA", "x", 1], [None, None, None],
                ["null", "y", 0], ["N/A", "z", 1]):
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    df = load(buffer.getvalue(), "na.xlsx")
    assert df["text"].tolist() == ["NA", "null", "N/A"]
    assert df["label"].tolist() == [1, 0, 1]
    assert kinds(df) == {"column_renamed": 1}


# ---------------------------------------------------------------------------------------------
# Parquet


def parquet_bytes(table: pa.Table | pd.DataFrame) -> bytes:
    if isinstance(table, pd.DataFrame):
        table = pa.Table.from_pandas(table, preserve_index=False)
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


POSTS = ["first post here", "second post here", "third post here"]


@pytest.mark.parametrize(("values", "unit"), [
    ([1609459200, 1609462800, 1609466400], "s"),
    ([1609459200000, 1609462800000, 1609466400000], "ms"),
    ([1609459200 * 10**9, 1609462800 * 10**9, 1609466400 * 10**9], "ns"),
])
def test_parquet_integer_epoch_dates(values: list[int], unit: str) -> None:
    df = load(parquet_bytes(pd.DataFrame({"text": POSTS, "created_at": values})), f"{unit}.parquet")
    assert df["date"].tolist() == pd.to_datetime(
        ["2021-01-01 00:00", "2021-01-01 01:00", "2021-01-01 02:00"]).tolist()


def test_parquet_epoch_dates_far_out_of_range() -> None:
    frame = pd.DataFrame({"text": POSTS, "created_at": [9 * 10**18, 1609462800, -5 * 10**15]})
    df = load(parquet_bytes(frame), "far.parquet")
    assert pd.isna(df["date"].iloc[0]) and pd.isna(df["date"].iloc[2])
    assert df["date"].iloc[1] == pd.Timestamp("2021-01-01 01:00")
    assert [r["row"] for r in repairs(df)] == [1, 3]
    assert kinds(df) == {"date_unreadable": 2}


def test_csv_epoch_dates_out_of_range() -> None:
    df = load(b"text,timestamp\nhello there,99999999999999999999\nbye now,1609462800\n", "e.csv")
    assert pd.isna(df["date"].iloc[0])
    assert df["date"].iloc[1] == pd.Timestamp("2021-01-01 01:00")


def test_parquet_small_integers_are_not_dates() -> None:
    df = load(parquet_bytes(pd.DataFrame({"text": POSTS, "date": [1, 2, 3]})), "small.parquet")
    assert df["date"].isna().all()
    assert "3 values in 'date' are not dates" in " ".join(df.attrs["load_report"]["notes"])


def test_parquet_nested_struct_columns_are_flattened() -> None:
    table = pa.table({"text": POSTS, "user": [{"location": "Leeds", "name": "a"},
                                              {"location": "Austin", "name": "b"},
                                              {"location": None, "name": "c"}]})
    df = load(parquet_bytes(table), "nested.parquet")
    assert df.attrs["load_report"]["mapping"]["location"] == "user.location"
    assert df["location"].tolist()[:2] == ["Leeds", "Austin"]


def test_parquet_list_valued_text_becomes_text_before_masking() -> None:
    from stigma_core.privacy import mask_series

    table = pa.table({"text": [["mail me", "at a@b.org"], ["@ann", "hi there"], []]})
    df = load(parquet_bytes(table), "lists.parquet")
    assert df["text"].tolist() == ["mail me at a@b.org", "@ann hi there"]
    assert mask_series(df["text"]).tolist() == ["mail me at <email>", "@user hi there"]
    assert df.attrs["load_report"]["dropped"]["empty_text"] == 1  # the empty list


def test_parquet_binary_text_is_decoded() -> None:
    table = pa.table({"text": pa.array([b"caf\xc3\xa9 post", b"bad \xff byte"], pa.binary())})
    df = load(parquet_bytes(table), "bytes.parquet")
    assert df["text"].tolist() == ["café post", "bad \ufffd byte"]


def test_truncated_parquet() -> None:
    data = parquet_bytes(pd.DataFrame({"text": POSTS}))
    assert error_of(data[: len(data) // 2], "cut.parquet").startswith(
        "'cut.parquet' could not be opened as a Parquet file")


def test_parquet_declaring_a_huge_unpacked_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(binary, "MAX_UNPACKED_BYTES", 1000)
    data = parquet_bytes(pd.DataFrame({"text": ["same long post " * 50] * 1000}))
    assert "would unpack to" in error_of(data, "big.parquet")


# ---------------------------------------------------------------------------------------------
# Training on posts without words


@pytest.mark.parametrize("texts", [
    ["😂😂", "🙏", "💔💔💔", "😂", "🙏🙏", "💔"] * 5,
    ["the and is", "it was", "of the", "and", "to be or not to be", "is it"] * 5,
])
def test_training_on_posts_without_learnable_words(texts: list[str]) -> None:
    from stigma_core.models import train_models

    frame = pd.DataFrame({"text": texts, "label": [0, 1] * (len(texts) // 2)})
    with pytest.raises(CorpusError, match="has a word the model can learn from"):
        train_models(frame, ["logistic_regression"], grid="fast", cv=2)

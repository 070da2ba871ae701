"""The paper's preprocessing, input handling of the sklearn step, and PII masking."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import make_pipeline

from stigma_core import text as text_module
from stigma_core.errors import CorpusError
from stigma_core.interning import RUNS
from stigma_core.privacy import mask_pii, mask_series
from stigma_core.text import (
    TextPreprocessor,
    as_texts,
    clear_caches,
    preprocess,
    preprocess_many,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # hashtag word kept without '#'; URL and handle dropped; lower-cased; "are" is a stop word
        ("The #Schizophrenics are DANGEROUS!!! https://t.co/abc @bob", "schizophrenic dangerous"),
        # apostrophe deleted (don't -> dont -> lemma "do", a stop word); hyphen splits words
        ("I don't think mental-health posts are crazy", "think mental health post crazy"),
        ("Tom &amp; Jerry", "tom jerry"),  # HTML entity decoded, then '&' removed
        ("write to jane@nhs.uk today", "write today"),  # e-mail dropped
        ("Mice RUNNING", "mouse run"),  # lemmas of lower-cased tokens
        ("Psychos’ tweets were stigmatising", "psycho tweet stigmatise"),  # curly apostrophe
        ("@bob's mum and @amy’s dad", "mum dad"),  # handle with its possessive
        ("and the of", ""),  # only stop words
        ("", ""),
        ("Born in 2024 😀 :)", "born 2024"),  # digits kept, emoji and emoticon removed
    ],
)
def test_preprocess_hand_examples(raw: str, expected: str) -> None:
    assert preprocess(raw) == expected


def test_preprocess_many_keeps_order_and_dedupes() -> None:
    texts = ["Crazy people!!", "People are running", "Crazy people!!"]
    clear_caches()
    before = text_module._POSTS.computed
    out = preprocess_many(texts)
    assert out == ["crazy people", "people run", "crazy people"]
    assert text_module._POSTS.computed - before == 2  # once per distinct text
    assert preprocess_many(texts) == out
    assert text_module._POSTS.computed - before == 2  # memoised across calls


def test_as_texts_accepts_the_shapes_sklearn_passes() -> None:
    expected = ["a", "b", "", "3"]
    frame = pd.DataFrame({"id": [1, 2, 3, 4], "text": ["a", "b", None, 3]})
    assert as_texts(frame) == expected
    assert as_texts(frame["text"]) == expected
    assert as_texts(frame[["text"]]) == expected
    assert as_texts(np.array([["a"], ["b"], [np.nan], [3]], dtype=object)) == expected
    assert as_texts(pd.Series(["a", "b", pd.NA, "3"], dtype="string")) == expected
    assert as_texts(("a", "b", float("nan"), 3)) == expected


@pytest.mark.parametrize(
    ("bad", "words"),
    [
        ("one post", "single piece of text"),
        (pd.DataFrame({"a": ["x"], "b": ["y"]}), "no 'text' column"),
        (np.array([["x", "y"]], dtype=object), "one column"),
        (["x", {"k": 1}], "Row 1 .* holds a dict, not text"),
    ],
)
def test_as_texts_refuses_bad_input_in_plain_words(bad: object, words: str) -> None:
    with pytest.raises(CorpusError, match=words):
        as_texts(bad)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("@bob_1 said hi", "@user said hi"),
        ("RT @Amy: ok @bob", "RT @user: ok @user"),
        ("see https://t.co/x1, and http://a.b/c?d=1.", "see <url>, and <url>."),
        ("HTTPS://EXAMPLE.COM/Page", "<url>"),
        ("go to www.nhs.uk/mental-health!", "go to <url>!"),
        ("(https://x.com/a)", "(<url>)"),
        ("https://medium.com/@bob/post", "<url>"),
        ("mail jane.doe+mh@example.co.uk.", "mail <email>."),
        ("bob@mail.com", "<email>"),
    ],
)
def test_mask_pii_masks_handles_links_and_emails(raw: str, expected: str) -> None:
    assert mask_pii(raw) == expected


@pytest.mark.parametrize(
    "normal",
    [
        "me@home is 5 @ 6, e.g. the U.S. and www or http talk",
        "Price: $5.00! Wow... ok? C# and #mh, 50% of A&E",
        "email: none; see page 4.2 (not a link)",
    ],
)
def test_mask_pii_leaves_normal_text_alone(normal: str) -> None:
    assert mask_pii(normal) == normal


@pytest.mark.parametrize("dtype", [object, "str"])
def test_mask_series_matches_mask_pii_and_keeps_shape(dtype: object) -> None:
    s = pd.Series(["hi @x", None, "hi @x", "a@b.org"], name="text", index=[5, 6, 7, 9],
                  dtype=dtype)
    out = mask_series(s)
    assert out.tolist()[0] == "hi @user" and out.tolist()[2:] == ["hi @user", "<email>"]
    assert pd.isna(out[6])
    assert out.index.tolist() == [5, 6, 7, 9] and out.name == "text" and out.dtype == s.dtype


def test_text_preprocessor_feeds_tfidf() -> None:
    pipe = make_pipeline(TextPreprocessor(), TfidfVectorizer())
    pipe.fit(pd.Series(["Crazy people!!", "People are RUNNING"]))
    assert set(pipe[-1].vocabulary_) == {"crazy", "people", "run"}
    assert clone(pipe[0]).transform(["Mice"]).tolist() == ["mouse"]


@pytest.mark.parametrize("selector", ["text", ["text"]])
def test_text_preprocessor_inside_column_transformer(selector: object) -> None:
    df = pd.DataFrame({"text": ["Crazy people!!", "Mice running", "Crazy mice"], "n": [1, 2, 3]})
    branch = make_pipeline(TextPreprocessor(), TfidfVectorizer())
    ct = ColumnTransformer([("words", branch, selector)])
    matrix = ct.fit_transform(df)
    assert matrix.shape == (3, 4)
    assert sorted(ct.get_feature_names_out()) == [
        "words__crazy", "words__mouse", "words__people", "words__run",
    ]


PREPROCESS_EDGE_CASES = [
    "", " ", "call 555 1234 now", "1 555 123 4567", "555-1234", "12\n3456789", "123 456 7890x",
    "&amp; &#10;x &nbsp;y", "ΟΔΟΣ Σ", "a\x00b c", "8pm 8d d8 p8 do8", "ref000123 abc1234567",
    "@bob's mum", "see https://t.co/x and www.nhs.uk.", "jane@nhs.uk", "____ a____b", "x" * 300,
    "don’t can't WON'T", "#MentalHealth!!! #2024", "😀😀😀 :) :-(", "\t\n\r\u00a0\u2028",
    "Crazy PEOPLE are RUNNING", "l'amour est aveugle", "日本語のテキスト", "١٢٣ ٤٥٦٧",
]


def test_batched_preprocessing_equals_the_one_post_function() -> None:
    clear_caches()
    texts = PREPROCESS_EDGE_CASES + [f"{a} {b}" for a in PREPROCESS_EDGE_CASES[:12]
                                      for b in PREPROCESS_EDGE_CASES[:12]]
    assert preprocess_many(texts) == [preprocess(t) for t in texts]


@pytest.mark.real_data
def test_batched_preprocessing_equals_on_real_and_sample_posts(
    real_corpus_path: Path, sample_dir: Path
) -> None:
    texts = pd.read_csv(real_corpus_path, usecols=["text"])["text"].dropna().tolist()
    for path in sorted(sample_dir.glob("*.csv")):
        texts += pd.read_csv(path, usecols=["text"])["text"].dropna().tolist()
    texts += [f"{t} ref{i:06d} 020 7946 {i % 10000:04d}" for i, t in enumerate(texts[:3000])]
    clear_caches()
    assert preprocess_many(texts) == [preprocess(t) for t in texts]


def test_ascii_run_tokens_equal_tweettokenizer() -> None:
    tokenizer = text_module._tokenizer()
    rng = np.random.default_rng(5)
    alphabet = [*"abcdefghijklmnopqrstuvwxyz0123456789_", "8", "d", "p", "o", "0", "1", "_",
                "8d", "d8", "po8", "8op", "123", "4567", "____"]
    runs = ["".join(rng.choice(alphabet, size=rng.integers(1, 12))) for _ in range(6000)]
    runs += [a + b for a in "8dpo01_x" for b in "8dpo01_x"] + ["15551234567", "0123456789"]
    assert [text_module.ascii_run_tokens(r) for r in runs] == [tokenizer.tokenize(r)
                                                                for r in runs]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(st.sampled_from(
    list("aé_8dpo01 \n\t.-@#&;'’:/") + ["www.", "http://", "x@y.z", "@bob", "555", "1234",
                                        "&amp;", "running", "the ", "Σ"]), max_size=40).map(
    "".join), max_size=6))
def test_batched_preprocessing_equals_on_any_text(texts: list[str]) -> None:
    clear_caches()
    assert preprocess_many(texts) == [preprocess(t) for t in texts]


def test_digit_lemma_shortcut_equals_simplemma() -> None:
    import simplemma

    rng = np.random.default_rng(3)
    tokens = ["0", "7", "2024", "0020000", "1" * 30, "٣", "١٢٣", "²", "½", "3rd", "12a"]
    tokens += ["".join(map(str, rng.integers(0, 10, rng.integers(1, 15)))) for _ in range(500)]
    assert [text_module._lemma(t) for t in tokens] == [
        simplemma.lemmatize(t, lang="en").lower() for t in tokens]


def test_a_full_run_table_keeps_the_runs_met_most_recently(monkeypatch) -> None:
    """A real vocabulary has hundreds of thousands of rare words: a memo that forgot
    everything when full also forgot the common words and computed them again at once."""
    clear_caches()
    monkeypatch.setattr(RUNS, "limit", 40)
    common = "people with depression are not dangerous".split()
    rare = [f"word{chr(97 + i % 26)}{chr(97 + i // 26 % 26)}x" for i in range(200)]
    posts = [" ".join([*common, *rare[i : i + 5]]) for i in range(0, 200, 5)]
    assert preprocess_many(posts[:20]) == [preprocess(t) for t in posts[:20]]
    assert len(text_module._RUNS.runs()) > 40  # full: the next batch starts by trimming it
    computed: list[str] = []
    compute = text_module._preprocess_words

    def counting(words: list[str]) -> list:
        computed.extend(words)
        return compute(words)

    monkeypatch.setattr(text_module, "_preprocess_words", counting)
    batch = posts[20:24]
    assert preprocess_many(batch) == [preprocess(t) for t in batch]
    assert sorted(computed) == sorted(rare[100:120])  # only the new words were computed
    assert preprocess_many(posts[24:26]) == [preprocess(t) for t in posts[24:26]]
    kept = set(text_module._RUNS.runs())  # trimmed to the batch before, then this one's
    assert set(common) <= kept  # the common words stayed
    assert not kept & set(rare[:100])  # the first batch's rare words went
    assert set(rare[100:120]) <= kept
    assert preprocess_many(posts) == [preprocess(t) for t in posts]


def test_numbers_stay_out_of_the_word_memos() -> None:
    clear_caches()
    ids = [f"case {n} and 2024" for n in range(100_000, 100_300)]
    assert preprocess_many(ids) == [preprocess(t) for t in ids]
    assert not any(token.isdigit() for token in text_module._KEPT)


def test_the_lemma_memo_forgets_its_older_half(monkeypatch) -> None:
    clear_caches()
    monkeypatch.setattr(text_module, "LEMMA_MEMO", 50)
    words = [f"walking{chr(97 + i % 26)}{chr(97 + i // 26)}" for i in range(120)]
    posts = [" ".join(words[i : i + 3]) for i in range(0, 120, 3)]
    assert preprocess_many(posts) == [preprocess(t) for t in posts]
    kept = text_module._KEPT
    assert 25 <= len(kept) <= 51
    assert words[-1] in kept and words[0] not in kept
    clear_caches()


def test_entities_decoded_to_whitespace_send_their_post_to_the_one_post_function(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs are cut from the text as written and decoded and lower-cased one by one; a run
    whose entities decode to whitespace ("&nbsp;") is no longer one run, so its post is done
    by ``preprocess`` itself, and only such posts (or a phone number across runs) are."""
    posts = ["Call 555&nbsp;1234 NOW", "GOOD&nbsp;Day &amp; Night", "a&#32;b&#x20;C", "&nbsp;",
             "Don&#39;t STOP", "X&#10;&#10;y", "THE The the", "&AMP;amp; &lt;3 &#0;",
             "ΟΔΟΣ&nbsp;ΟΔΟΣ", "tab&#9;bed 2&nbsp;3", "İstanbul &EACUTE; Café", "call 555 1234"]
    clear_caches()
    done_alone: list[str] = []
    one_post = text_module.preprocess
    monkeypatch.setattr(text_module, "preprocess", lambda t: done_alone.append(t) or one_post(t))
    assert preprocess_many(posts) == [one_post(t) for t in posts]
    assert done_alone == [posts[i] for i in (0, 1, 2, 3, 5, 8, 9, 11)]
    assert preprocess_many([p.upper() for p in posts]) == [one_post(p.upper()) for p in posts]


def test_a_run_taken_as_blank_is_one_the_substitutions_leave_blank() -> None:
    """The shortcut for lone links and handles: every run it takes is blank by the one-run
    function, on made-up runs built around its edges; and it takes the common forms."""
    blank = text_module._BLANK_RUN_RE.fullmatch
    taken = ["@bob_99", "@bob:", "@bob@", "@ann…", "https://t.co/abc123", "http://x.org/a).",
             "www.who.int/mental-health", "https://x.org/a’b"]
    assert all(blank(run) for run in taken)
    left = ["@bob's", "@bob.smith", "http://", "https://.", "https://x.org/a@b.com/c",
            "x@y.com", "@bob'x", "https://x.org/\"q\"", "#bob"]
    assert not any(blank(run) for run in left)
    rng = np.random.default_rng(5)
    parts = ["@", "http://", "https://", "www.", "t.co/", "bob", "_", "99", ".", ",", ")", "!",
             "'", "’", "s", "\"", "<", "…", "x@y.com", "/", "é", "-"]
    runs = {"".join(rng.choice(parts, size=rng.integers(1, 5))) for _ in range(20_000)}
    taken_runs = [run for run in runs if blank(run)]
    assert len(taken_runs) > 500
    for run in taken_runs:
        assert text_module._preprocess_word(run) == text_module._BLANK, run
    clear_caches()
    posts = [" ".join(sorted(runs)[i : i + 5]) for i in range(0, 5000, 5)]
    assert preprocess_many(posts) == [preprocess(t) for t in posts]


def test_runs_with_marks_skip_the_tokenizer_only_where_it_changes_nothing() -> None:
    """Links, handles, hashtags and words with punctuation are cleaned without
    TweetTokenizer; a phone number split by a mark, or non-ASCII words, still go through it.
    Either way the output is the one-post function's, on thousands of made-up runs."""
    quick = ["https://t.co/abc123", "@bob_99", "#mentalhealth", "word,", "don't", "well-known",
             "(hello)", "x@y.com.", "5-star", "a.b.c", "...", "#2024", "covid-19"]
    slow = ["555-1234", "call:555.1234", "café,", "1-800-555-1234", "日本語。"]
    def without_tokenizer(run: str) -> tuple | None:
        return text_module._ascii_part(text_module._drop_marks(run))

    for run in quick:
        assert without_tokenizer(run) == text_module._preprocess_word(run), run
    assert [without_tokenizer(run) for run in slow] == [None] * len(slow)
    rng = np.random.default_rng(11)
    parts = ["#", "@", "http://t.co/", "https://", "www.", ".", ",", "-", "'", "’", "(", ")",
             "!", "?", ":", "/", "_", "a", "running", "dogs", "555", "1234", "0", "8d", "x@y.com",
             "&amp;", "é", "日本", "the", "13", "2nd", "zqz"]
    runs = ["".join(rng.choice(parts, size=rng.integers(1, 6))) for _ in range(4000)]
    posts = [" ".join(runs[i : i + 4]) for i in range(0, len(runs), 4)]
    posts += ["call 555 https://t.co/x 1234", "555 @bob @ann 1234 now", "2 www.x.org 3",
              "ref 12 @bob", "@bob 34 end", "x@y.com 555 (https://t.co/q) 1234"]
    clear_caches()
    assert preprocess_many(posts) == [preprocess(t) for t in posts]

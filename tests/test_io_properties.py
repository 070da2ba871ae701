"""Property-based tests (hypothesis) of reading, masking and preprocessing.

- Any table of random Unicode posts (quotes, commas, newlines, emoji, "NA"-like words...)
  written as CSV, JSON lines, Parquet or Excel reads back exactly through ``read_table``, and
  through ``load_corpus`` up to its documented normalisations (posts trimmed, empty ones
  dropped). Documented limits of the formats themselves: NUL characters are dropped from
  text files; Excel cannot hold most control characters, keeps "" as an empty cell, and reads
  a text starting with "=" as a formula, so those are not generated for it.
- ``privacy.mask_pii`` never leaves an e-mail, a link or an @handle other than ``@user``, and
  masking twice changes nothing.
- ``text.preprocess`` never raises on any Unicode text and always returns a string.

Examples are derandomised (the same on every run and in CI) and few, to keep this file fast.
"""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stigma_core import io as sio
from stigma_core.privacy import EMAIL_RE, HANDLE_RE, URL_RE, mask_pii
from stigma_core.text import preprocess

FAST = settings(derandomize=True, max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
SLOW = settings(FAST, max_examples=15)

NA_WORDS = ["NA", "N/A", "nan", "NaN", "None", "null", "NULL", "#N/A", "-", "?", "0"]
TRICKY = ['"', '""', ",", ";", "\t", "|", "\n", "\r\n", " ", "😂", "é", "’", "\\", "'",
          "RT @ann: ", "#tag", "=1+1"]
# Any character but surrogates, NUL and the C0/C1 controls other than tab and line breaks.
TEXT_CHARS = st.characters(blacklist_categories=("Cs",),
                           blacklist_characters=[chr(c) for c in range(32) if chr(c) not in
                                                 "\t\n\r"] + ["\x7f"])
POSTS = st.one_of(
    st.text(TEXT_CHARS, max_size=40),
    st.sampled_from(NA_WORDS),
    st.lists(st.one_of(st.sampled_from(TRICKY), st.text(TEXT_CHARS, max_size=5)),
             max_size=8).map("".join),
)
EXCEL_POSTS = POSTS.map(lambda t: t.replace("\r", "").lstrip("=")).filter(bool)


def table_of(texts: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"id": [f"{i:04d}" for i in range(len(texts))], "text": texts,
                         "label": [i % 2 for i in range(len(texts))]})


def read_back(frame: pd.DataFrame, data: bytes, name: str) -> list:
    raw = sio.read_table(data, name=name)
    assert raw["id"].astype(str).tolist() == frame["id"].tolist()
    return [None if pd.isna(v) else v for v in raw["text"].tolist()]


def canonical_texts(texts: list[str]) -> list[str]:
    """What load_corpus keeps of ``texts``: each trimmed, the empty ones dropped."""
    return [t.strip() for t in texts if t.strip()]


@FAST
@given(st.lists(POSTS, min_size=1, max_size=12))
def test_csv_round_trip(texts: list[str]) -> None:
    frame = table_of(texts)
    data = frame.to_csv(index=False).encode("utf-8")
    assert read_back(frame, data, "posts.csv") == [t if t != "" else None for t in texts]
    if canonical_texts(texts):
        loaded = sio.load_corpus(data, name="posts.csv", language=None, label=None)
        assert loaded["text"].tolist() == canonical_texts(texts)
        assert loaded.attrs["load_report"]["repairs"] == []


@FAST
@given(st.lists(POSTS, min_size=1, max_size=12))
def test_jsonl_round_trip(texts: list[str]) -> None:
    frame = table_of(texts)
    lines = [json.dumps(r, ensure_ascii=False) for r in frame.to_dict("records")]
    data = "\n".join(lines).encode("utf-8")
    assert read_back(frame, data, "posts.jsonl") == texts


@FAST
@given(st.lists(st.one_of(POSTS, st.none()), min_size=1, max_size=12))
def test_parquet_round_trip(texts: list[str | None]) -> None:
    frame = table_of(texts)
    buffer = io.BytesIO()
    frame.to_parquet(buffer)
    assert read_back(frame, buffer.getvalue(), "posts.parquet") == texts


@SLOW
@given(st.lists(EXCEL_POSTS, min_size=1, max_size=8))
def test_xlsx_round_trip(texts: list[str]) -> None:
    frame = table_of(texts)
    buffer = io.BytesIO()
    frame.to_excel(buffer, index=False)
    assert read_back(frame, buffer.getvalue(), "posts.xlsx") == texts


# ---------------------------------------------------------------------------------------------
# Masking and preprocessing


PII_PIECES = ["@", "ann", "bob_1", ".", "com", "co.uk", "http://", "https://", "www.", " ",
              "x", "_", "-", "+", ")", "(", "/", ":", "é", "😂", ",", "\n", "<", ">", "user",
              "email", "url", "mail@", "@@", "'s", "?q=1", "#"]
PII_TEXT = st.lists(st.sampled_from(PII_PIECES), max_size=20).map("".join)


@FAST
@given(st.one_of(PII_TEXT, st.text(max_size=60)))
def test_masking_leaves_no_personal_detail_and_is_idempotent(text: str) -> None:
    masked = mask_pii(text)
    assert EMAIL_RE.search(masked) is None
    assert URL_RE.search(masked) is None
    assert all(handle == "@user" for handle in HANDLE_RE.findall(masked))
    assert mask_pii(masked) == masked


@FAST
@given(st.text(max_size=200))
def test_preprocess_never_raises_and_returns_text(text: str) -> None:
    assert isinstance(preprocess(text), str)


@FAST
@given(st.lists(st.one_of(st.text(TEXT_CHARS, max_size=12),
                          st.sampled_from([" a", "a\n", "\u00a0a", "a\u3000", "\u2003", ""])),
                min_size=1, max_size=8))
def test_posts_are_trimmed_as_str_strip_does(posts: list[str]) -> None:
    """Loading trims posts exactly as ``str.strip`` (Unicode white space, both ends), also on
    the path that skips the copy when no post needs trimming."""
    from stigma_core.io.canonical import _trimmed

    for dtype in ("str", object):
        values = pd.Series(posts, dtype=dtype)
        assert _trimmed(values).tolist() == [p.strip() for p in posts]


@FAST
@given(st.lists(st.integers(0, 6), max_size=40))
def test_repeated_hashes_are_found_as_pandas_duplicated_finds_them(values: list[int]) -> None:
    """The sort-based duplicate finder (used instead of a hash table to keep the memory of
    loading millions of rows down) agrees with ``Series.duplicated`` and points each repeat
    at the first row with its hash."""
    from stigma_core.io.canonical import _repeats

    hashes = np.array(values, dtype=np.uint64)
    candidate, first = _repeats(hashes)
    assert candidate.tolist() == pd.Series(values, dtype="uint64").duplicated().tolist()
    if first is None:
        assert not candidate.any()
    else:
        assert first.tolist() == [values.index(v) for v in values]

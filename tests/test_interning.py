"""The compiled run numbering gives exactly ``factorize_strings(text.split())``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from stigma_core.interning import (
    _SPACE_LIMIT,
    POST_BREAK,
    KeyedColumns,
    RunNumbering,
    StringInterner,
    joined_posts,
    max_space_code_point,
)
from stigma_core.text import factorize_strings


def assert_same(interner: StringInterner, text: str) -> None:
    codes, uniques = interner.factorize_runs(text)
    expected_codes, expected_uniques = factorize_strings(text.split())
    assert uniques == expected_uniques
    assert np.array_equal(codes, expected_codes)


def test_every_whitespace_code_point_is_in_the_table() -> None:
    assert max_space_code_point() < _SPACE_LIMIT


def test_unicode_whitespace_surrogates_and_edges() -> None:
    spaces = [chr(i) for i in range(_SPACE_LIMIT) if chr(i).isspace()]
    assert len(spaces) > 20
    interner = StringInterner()
    text = "".join(f"w{i}{s}x{s}{s}é\ud800{s}😀ab" for i, s in enumerate(spaces)) + " \x00 end"
    assert_same(interner, text)
    assert_same(interner, text)  # all known now
    for edge in ("", "   ", "a", " a", "a ", "\u3000", "\x1c\x1d\x1e\x1f", "a\u0085b\u2029c"):
        assert_same(interner, edge)


def test_growth_and_forgetting_keep_the_numbers(sample_dir: Path) -> None:
    texts = pd.read_csv(sample_dir / "corpus.csv")["text"].dropna().astype(str).tolist()
    interner = StringInterner(limit=300)
    interner.clear(capacity=4)  # forces many rounds of growth
    for start in range(0, len(texts), 97):
        assert_same(interner, " \x00 ".join(texts[start : start + 97]))
    assert interner.state[0] <= 300 + 97 * 200  # forgot along the way
    long_run = "x" * 5000
    assert_same(interner, f"{long_run} a {long_run}y {long_run}")


def test_keys_kept_are_renumbered_and_the_rest_forgotten(sample_dir: Path) -> None:
    texts = pd.read_csv(sample_dir / "corpus.csv")["text"].dropna().astype(str).tolist()
    for keep_strings in (True, False):
        interner = StringInterner(keep_strings=keep_strings)
        first = " \x00 ".join(texts[:60])
        codes, keys, new = interner.factorize_keys(first)
        uniques = factorize_strings(first.split())[1]
        assert new == uniques and keys.tolist() == list(range(len(uniques)))
        assert [interner.string(k) for k in keys] == uniques
        assert interner.strings == (uniques if keep_strings else [])
        kept = keys[::3]
        names = [interner.string(k) for k in kept]
        interner.keep_only(kept)
        assert [interner.string(k) for k in range(interner.size)] == names
        assert interner.strings == (names if keep_strings else [])
        codes, keys, new = interner.factorize_keys(" ".join([*names, "brand-new-run"]))
        assert keys.tolist() == list(range(len(names) + 1))  # known under their new numbers
        assert new == ["brand-new-run"] and interner.size == len(names) + 1
    assert_same(StringInterner(), " ".join(texts[60:120]))


@pytest.mark.real_data
def test_real_posts(real_corpus_path: Path) -> None:
    texts = pd.read_csv(real_corpus_path, usecols=["text"])["text"].dropna().astype(str)
    interner = StringInterner()
    rng = np.random.default_rng(0)
    for _ in range(3):
        picks = texts.to_numpy()[rng.integers(0, len(texts), 2000)]
        assert_same(interner, " \x00 ".join(f"{t} ref{i}" for i, t in enumerate(picks)))
        assert_same(interner, " ".join(picks).lower())


def test_recent_keys_keep_what_the_last_calls_met() -> None:
    interner = StringInterner(keep_strings=False)
    interner.factorize_keys("old1 old2 common")
    interner.factorize_keys("mid common")
    interner.factorize_keys("new common")
    assert [interner.string(k) for k in interner.recent_keys(3)] == ["common", "mid", "new"]
    last = interner.recent_keys(1)  # the last call's runs all stay, whatever the room
    assert [interner.string(k) for k in last] == ["common", "new"]
    interner.keep_only(interner.recent_keys(3))
    assert [interner.string(k) for k in interner.recent_keys(1)] == ["common", "new"]
    assert interner.factorize_keys("old1 new")[2] == ["old1"]


def test_a_shared_numbering_numbers_an_equal_text_once_and_its_tables_follow_it() -> None:
    numbering = RunNumbering(limit=6)
    table = KeyedColumns(numbering, size=np.int64)
    text = joined_posts(["b a", "c a d"])
    codes, keys = numbering.factorize(text)
    assert numbering.factorize(str(text)) == (codes, keys)  # equal text: the same arrays
    assert numbering.strings(keys) == ["b", "a", POST_BREAK, "c", "d"]
    table.size[table.missing(keys)] = [len(s) for s in numbering.strings(keys)]
    table.filled[keys] = True
    codes, keys = numbering.factorize("e fff a")
    assert table.missing(keys).tolist() == [5, 6]
    assert numbering.strings(np.array([6, 0])) == ["fff", "b"]  # new, then rebuilt
    table.size[[5, 6]] = [1, 3]
    table.filled[[5, 6]] = True
    numbering.factorize("gg a")  # seven runs: keeps the last text's, renumbered
    assert numbering.strings(np.arange(numbering.size)).count("a") == 1
    kept = numbering.strings(np.arange(numbering.size))
    assert set(kept) >= {"e", "fff", "a", "gg"} and "b" not in kept
    filled = np.flatnonzero(table.filled[: numbering.size])
    assert {kept[k]: int(table.size[k]) for k in filled} == {"e": 1, "fff": 3, "a": 1}
    numbering.clear()
    assert numbering.size == 0 and not table.filled.any()

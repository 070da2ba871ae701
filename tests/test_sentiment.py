"""stigma_core.sentiment gives TextBlob's numbers exactly (TextBlob itself is the reference)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from textblob import TextBlob

from stigma_core import sentiment as fast
from stigma_core import text as text_module
from stigma_core.interning import RUNS, joined_posts
from stigma_core.sentiment import sentiment, sentiment_many

EDGE_CASES = [
    "", " ", "\n\n", "!!!", "?!?!", "...", "(!)", "( ! )", "good (!) bad", ":)", ": )", ":-)",
    ":D", ":d", "XD", "xD", "x D", "<3", "♥", ":'(", "I'm :( today", "not good", "not very good",
    "very good", "not very bad at all!!", "really not good", "never, ever good", "no good!",
    "GOOD", "Very GOOD!!!", "VERY BAD", "I don't like it", "I can't stand it", "isn't great",
    "#happy #sad", "https://t.co/abc happy", "@bob is terrible", "terribly good", "dreadfully",
    "good.\n\nbad", "good\r\n\r\nbad", "\"good\" he said. 'bad' she said.", "“good” ‘bad’",
    "e.g. good. U.S. bad. Mr. Nice.", "good... bad... ugly...", "wait… what", "so good!?!",
    "😀 happy 😭 sad", "ΟΔΟΣ καλή", "naïve café good", "l o v e", "o . O", "o.O wow", "8)",
    "see (8) items", "reasons: (1) bad", "END-OF-SENTENCE good", "a\x00b good", "good\x00",
    "\t good \u00a0 bad \u2028 ugly", "!good", "good!", "(good)", "[bad]", "{ugly}",
    "well-known bad-tempered", "not a good", "not the very best", "so so", "so so so good",
    "extremely very good", "incredibly stupid idea!!!", "I am not crazy, you are", "a" * 500,
    "good " * 2000, " ".join(["not good!"] * 300), ":-( :-( :-(", ">:D", "=/ =/", ":o) :c)",
    "o_O", "°O°", "I'd've", "didn't", "N'T", "not!", "not (!)", "very (!) good",
    "#good @bad 'good \"bad `ugly *nice ~great |awful (not good 's 'S2 @ #", "(:good :) =)",
]


def _reference(texts: list[str]) -> np.ndarray:
    return np.array([tuple(TextBlob(t).sentiment) for t in texts], dtype=float)


def _assert_same(texts: list[str]) -> None:
    got = sentiment_many(texts)
    want = _reference(texts)
    worst = np.abs(got - want).max(axis=1) if len(texts) else np.zeros(0)
    bad = np.flatnonzero(worst > 1e-12)
    assert bad.size == 0, [(texts[i], got[i], want[i]) for i in bad[:5]]


def test_edge_cases_match_textblob() -> None:
    _assert_same(EDGE_CASES)
    assert [sentiment(t) for t in EDGE_CASES[:20]] == [
        tuple(TextBlob(t).sentiment) for t in EDGE_CASES[:20]
    ]


def test_hand_values_and_shapes() -> None:
    assert sentiment("good") == pytest.approx((0.7, 0.6))
    assert sentiment("not good") == pytest.approx((-0.35, 0.6))
    assert sentiment("") == (0.0, 0.0)
    assert sentiment_many([]).shape == (0, 2)


def test_small_batches_and_separator_in_text_give_the_same() -> None:
    texts = EDGE_CASES + ["good\x00bad", "\x00"]
    whole = sentiment_many(texts)
    assert np.array_equal(sentiment_many(texts, batch=3), whole)
    _assert_same(texts)


def test_random_punctuation_soup_matches_textblob() -> None:
    alphabet = list("aZoOxXD8 \n.,;:!?()[]{}'\"-_=<>/\\*^°♥“”‘’…#@") + [
        "good", "bad", "not", "very", "never", "really", "no", ":)", ":-(", "!", "(!)"]
    rng = np.random.default_rng(13)
    texts = ["".join(rng.choice(alphabet, size=rng.integers(0, 30))) for _ in range(1500)]
    _assert_same(texts)


def test_constants_are_textblobs() -> None:
    import textblob._text as tb
    from textblob.en import sentiment as tb_sentiment

    assert fast.PUNCTUATION == tb.PUNCTUATION
    assert fast.ABBREVIATIONS == tb.ABBREVIATIONS
    assert fast.EMOTICONS == tb.EMOTICONS and list(fast.EMOTICONS) == list(tb.EMOTICONS)
    # The alternatives are the same; their order within a mood follows set iteration (it
    # varies between processes, in TextBlob too) and cannot matter: no emoticon of a mood is
    # a prefix of another of the same mood, so at most one of them matches at a position.
    def alternatives(pattern: str) -> list[str]:
        return sorted(pattern[1 : pattern.index(")($|")].split("|"))

    assert alternatives(fast.RE_EMOTICONS.pattern) == alternatives(tb.RE_EMOTICONS.pattern)
    for faces in fast.EMOTICONS.values():
        assert not any(a != b and b.startswith(a) for a in faces for b in faces)
    assert fast.RE_SARCASM.pattern == tb.RE_SARCASM.pattern
    assert fast.RE_ABBR3.pattern == tb.RE_ABBR3.pattern
    assert fast.REPLACEMENTS == tb.replacements and fast.EOS == tb.EOS
    assert fast.NEGATIONS == tb_sentiment.negations
    assert fast.MODIFIERS == tb_sentiment.modifiers


def test_lexicon_is_textblobs() -> None:
    from textblob.en import sentiment as tb_sentiment

    theirs = {w: {pos: tuple(v) for pos, v in d.items()} for w, d in tb_sentiment.items()}
    ours = {w: {pos: tuple(v) for pos, v in d.items()} for w, d in fast.lexicon().items()}
    assert ours == theirs


def _corpus_variants(texts: list[str]) -> list[str]:
    """The corpus and rewrites that exercise the rules: shouting, emoticons, negations,
    exclamations, paragraph breaks and pairs of posts."""
    out = list(texts)
    out += [t.upper() for t in texts]
    out += [f"not very {t} !!! :-)" for t in texts]
    out += [f"{a}\n\n{b} :(" for a, b in zip(texts, texts[1:], strict=False)]
    return out


@pytest.mark.real_data
def test_real_corpus_and_variants_match_textblob(real_corpus_path: Path) -> None:
    texts = pd.read_csv(real_corpus_path, usecols=["text"])["text"].dropna().astype(str).tolist()
    variants = _corpus_variants(texts)
    assert len(variants) > 13_000
    _assert_same(variants)


def test_sample_data_matches_textblob(sample_dir: Path) -> None:
    texts: list[str] = []
    for path in sorted(sample_dir.glob("*.csv")):
        texts += pd.read_csv(path, usecols=["text"])["text"].dropna().astype(str).tolist()
    texts = list(dict.fromkeys(texts))
    assert len(texts) > 6_000
    _assert_same(texts)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(st.sampled_from(
    list("aoOxXDdpP8cs3 \n.,;:!?()[]{}'\"-_=<>/\\*^°♥“”‘’…#@") + ["good", "bad ", "not ", "very ",
                                                                  "!!", ":-)", "\n\n", "n't"]),
    max_size=40).map("".join), max_size=6))
def test_any_text_matches_textblob(texts: list[str]) -> None:
    _assert_same(texts)


def test_cold_and_warm_memos_agree() -> None:
    warm = sentiment_many(EDGE_CASES)
    fast.clear_caches()
    assert np.array_equal(sentiment_many(EDGE_CASES), warm)


def test_memos_starting_afresh_mid_stream_give_textblobs_numbers(
    sample_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = pd.read_csv(sample_dir / "corpus.csv", usecols=["text"])["text"].dropna()
    texts = list(dict.fromkeys(texts.astype(str)))[:1500] + EDGE_CASES
    want = _reference(texts)
    fast.clear_caches()
    monkeypatch.setattr(fast, "CACHE_LIMIT", 60)  # every memo and table overflows often
    monkeypatch.setattr(RUNS, "limit", 60)
    trims = []
    keep_only = RUNS.names.keep_only
    monkeypatch.setattr(RUNS.names, "keep_only", lambda keys: trims.append(keys.size)
                        or keep_only(keys))
    got = sentiment_many(texts, batch=37)
    assert len(trims) > 5
    assert RUNS.size < 60 + 37 * 200
    assert np.abs(got - want).max() <= 1e-12
    fast.clear_caches()


def test_preprocessing_and_sentiment_number_a_batch_once(sample_dir: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Scoring preprocesses a batch and then measures its sentiment: the second step reuses
    the first's numbering of the batch's runs, and both still give the reference values."""
    texts = pd.read_csv(sample_dir / "corpus.csv", usecols=["text"])["text"].dropna()
    texts = list(dict.fromkeys(texts.astype(str)))[:800]
    text_module.clear_caches()
    fast.clear_caches()
    numbered: list[str] = []
    factorize_keys = RUNS.names.factorize_keys
    monkeypatch.setattr(RUNS.names, "factorize_keys",
                        lambda text: numbered.append(text) or factorize_keys(text))
    cleaned = text_module.preprocess_many(texts)
    got = sentiment_many(texts)
    assert numbered.count(joined_posts(texts)) == 1
    assert cleaned == [text_module.preprocess(t) for t in texts]
    assert np.abs(got - _reference(texts)).max() <= 1e-12


def test_a_shared_numbering_that_forgets_keeps_both_tables_right(
        sample_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Preprocessing and sentiment fill their rows of the shared numbering at different
    times, on different batches; when it forgets runs both tables must follow it."""
    texts = pd.read_csv(sample_dir / "corpus.csv", usecols=["text"])["text"].dropna()
    texts = list(dict.fromkeys(texts.astype(str)))[800:1400]
    text_module.clear_caches()
    fast.clear_caches()
    monkeypatch.setattr(RUNS, "limit", 50)
    trims = []
    keep_only = RUNS.names.keep_only
    monkeypatch.setattr(RUNS.names, "keep_only", lambda keys: trims.append(keys.size)
                        or keep_only(keys))
    for start in range(0, 560, 40):
        first, second = texts[start : start + 40], texts[start + 20 : start + 60]
        assert text_module.preprocess_many(first) == [text_module.preprocess(t) for t in first]
        assert np.abs(sentiment_many(second) - _reference(second)).max() <= 1e-12
    assert len(trims) > 5
    text_module.clear_caches()


def test_new_word_rows_equal_the_per_word_functions() -> None:
    lex = fast.lexicon()
    words = [w.lower() for w in EDGE_CASES for w in w.split()] + list(lex)[:3000] + [
        "ref0001234", "x", "ly", "oddly", "n't", "not", "never", "no", "!", "(!)", "'", "''a",
        ":)", ":-(", "xd", "<3", "8)", "é", "ǅungla", "²", "terribly", "a'", "'ly", "ly'",
        "''''''", "''''''a", "'''''ab", "https://t.co/x1", "@someone", "hello!!", "oddly.."]
    words = list(dict.fromkeys(words))
    scores, flags = fast._new_word_rows(words, lex)
    want_scores = np.array([fast._word_scores(lex.get(w), w) for w in words])
    want_flags = np.array([fast._word_flags(lex.get(w), w) for w in words])
    assert np.array_equal(scores, want_scores, equal_nan=True)
    assert np.array_equal(flags, want_flags)


def test_words_outside_the_lexicon_share_rows_whatever_the_vocabulary() -> None:
    """A big corpus brings hundreds of thousands of new words: each one's row follows from
    its length, ending and marks alone, so the word table must not grow with them."""
    fast.clear_caches()
    made_up = [f"zq{i}x" for i in range(3000)] + [f"zq{i}ly" for i in range(3000)]
    texts = [" ".join(made_up[i : i + 6]) + " not oddly good :) x!" for i in range(0, 6000, 6)]
    _assert_same(texts)
    assert fast._WORDS.size < 60
    before = fast._WORDS.size
    _assert_same([t.upper() + " qq" for t in texts])
    assert fast._WORDS.size <= before + 5


def test_spaced_emoticons_are_found_anywhere_in_long_posts() -> None:
    """Spaced faces are looked for only around the places where two of a face's characters
    meet across a space: far apart, fully spaced, and among many such places that are not
    faces, they must still be closed up as TextBlob does."""
    plain = "people are kind and fair " * 12
    near = "it ' s - fine ' ' ok " * 6  # pairs of a face's characters, but no face
    faces = [": ' ' ' (", ":' ''(", "> : D", "x - D", "( ! )", "o _ O", ": -(", ":'''("]
    texts = [f"{plain}{face} {plain}" for face in faces]
    texts += [f"{face} {near}" for face in faces] + [f"{near}{face}" for face in faces]
    texts += [plain, near, f"sad {faces[0]} today"]
    _assert_same(texts)

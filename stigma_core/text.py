"""The paper's text preprocessing.

Jilka et al. (2022) prepared each tweet for the bag-of-words model by removing punctuation,
tokenising with NLTK's ``TweetTokenizer``, removing stop words and lemmatising. This module
does the same with tools that work offline: scikit-learn's English stop-word list (NLTK's
list needs a download) and ``simplemma`` for lemmas (NLTK's WordNet needs a download).

Scoring a corpus repeats the same posts many times (retweets) and model search transforms the
same training texts once per grid point, so ``preprocess`` is memoised and the batch function
works on unique texts only.
"""

from __future__ import annotations

import html
import numbers
import re
from collections.abc import Iterable
from functools import cache, lru_cache
from itertools import pairwise
from typing import Any

import numpy as np
import pandas as pd
import simplemma
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS
from sklearn.utils import Tags

from stigma_core.errors import CorpusError
from stigma_core.interning import (
    POST_BREAK,
    RUNS,
    KeyedColumns,
    holding_memo_lock,
    joined_posts,
)
from stigma_core.privacy import EMAIL_RE, URL_RE

CACHE_SIZE = 500_000
STOP_WORDS: frozenset[str] = frozenset(ENGLISH_STOP_WORDS)

# An @handle (as privacy.HANDLE_RE) with any possessive "'s", dropped from the model text.
_HANDLE_DROP_RE = re.compile(r"(?<![\w@])@\w+(?:['\u2019]s\b)?")
_APOSTROPHES_RE = re.compile(r"['\u2018\u2019\u02bc`]")
_NOT_WORD_RE = re.compile(r"[^\w\s]+")


@cache
def _tokenizer() -> Any:
    """NLTK's ``TweetTokenizer``, built on first use: importing nltk costs about two seconds
    (it pulls in scipy.stats), which the dashboard's first page must not pay for masking."""
    from nltk.tokenize import TweetTokenizer

    return TweetTokenizer()


LEMMA_MEMO = 400_000
"""Distinct tokens whose kept lemma is remembered (``_KEPT``; past it the older half is
forgotten). simplemma is the dearest step for a word met anew (about 3 µs), and a real
corpus's vocabulary runs to hundreds of thousands of words, most of them rare: with room
for only 30,000 the common words were forgotten and looked up again and again, and with
200,000 bench/scale.py's posts from a 300,000-word vocabulary still needed 0.69 look-ups
a post (0.19 with 400,000: 9.3 -> 6.7 µs a post of preprocessing). A token that is its own
lemma shares its string with it: an entry costs about 160 bytes with the token's string
(measured), 64 MB when full.
Numbers never enter it (see ``_kept``), so streams of ids and counts do not fill it."""


def _lemma(token: str) -> str:
    """simplemma's English lemma, lower-cased (it capitalises some, e.g. "I", "John").

    A token of ASCII digits is its own lemma: simplemma (2.0) returns any numeric token as it
    stands, after an NFC normalisation that leaves ASCII alone (tested); skipping the call
    saves its cost for every new number (years, counts, ids).
    """
    if token.isdigit() and token.isascii():
        return token
    return simplemma.lemmatize(token, lang="en").lower()


@lru_cache(maxsize=CACHE_SIZE)
def preprocess(text: str) -> str:
    """The paper's preprocessing of one post; returns its kept tokens joined by spaces.

    Steps, in order: decode HTML entities (``&amp;`` → ``&``); lower-case; drop links,
    e-mails and @handles, with any possessive 's (they name a place or a person, not an
    idea); delete apostrophes (``don't`` → ``dont``) and turn every other punctuation mark or
    symbol into a space (so a hashtag keeps its word without the ``#``, and emoji go);
    tokenise with NLTK's ``TweetTokenizer``; drop scikit-learn's English stop words; lemmatise
    with simplemma, and drop a lemma that is itself a stop word (``dont`` → ``do``).
    Memoised: retweets and repeated model fits cost one dictionary look-up.
    """
    text = _drop_marks(html.unescape(text).lower())
    lemmas = (_lemma(t) for t in _tokenizer().tokenize(text) if t not in STOP_WORDS)
    return " ".join(lemma for lemma in lemmas if lemma not in STOP_WORDS)


def factorize_strings(values: list[str]) -> tuple[np.ndarray, list[str]]:
    """``pandas.factorize`` of a list of strings: codes, and the distinct strings in order of
    first appearance, as a list. (Arrow's hash kernel was tried here: faster in one process,
    but four to five times slower inside the scoring worker processes; measured, reverted.)"""
    if not values:
        return np.zeros(0, dtype=np.intp), []
    codes, uniques = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=False)
    return codes, uniques.tolist()

_PLAIN_RUN_RE = re.compile(r"[a-z]+|[0-9]{1,6}")
_ASCII_RUN_RE = re.compile(r"[a-z0-9_]+")
# TweetTokenizer's pattern (nltk 3.10, PHONE_WORD_RE) cut down to what can match in a run of
# ASCII lower-case letters, digits and "_": its other branches need a character such a run
# lacks (":" "/" "." "@" "#" "<" "-", emoji). Branches in the same order: phone number
# without separators, emoticon with a "d"/"p" mouth and "8" eyes, word with inner "_", word.
_ASCII_TOKEN_RE = re.compile(
    r"[01]?(?:\d{3})?\d{3}\d{4}|8o?[dp]|[dp]o?8|[a-z][a-z_]+[a-z]|\w+", re.ASCII | re.I)
_ASCII_HANG_RE = re.compile(r"(_)\1{3,}")


def ascii_run_tokens(word: str) -> list[str]:
    """TweetTokenizer's tokens of a run of ASCII lower-case letters, digits and "_" (tested
    equal to it), without its slower engine: "____" runs shortened as its HANG_RE does."""
    if "____" in word:
        word = _ASCII_HANG_RE.sub(r"\1\1\1", word)
    return _ASCII_TOKEN_RE.findall(word)


_KEPT: dict[str, str] = {}
"""token → its lemma when ``preprocess`` keeps it, "" when it drops it (a stop word, or a
lemma that is one); numbers are not kept in it, and past ``LEMMA_MEMO`` entries the older
half is forgotten."""


def _kept(token: str) -> str:
    """``_KEPT``'s entry for ``token``, computed on first sight: ``preprocess``'s output for
    a single token. Numbers (their own lemma, never a stop word) are not remembered, so a
    stream of ids does not crowd out words."""
    kept = _KEPT.get(token)
    if kept is None:
        if token.isdigit() and token.isascii():
            return token
        if len(_KEPT) > LEMMA_MEMO:
            newer = list(_KEPT.items())[len(_KEPT) // 2 :]
            _KEPT.clear()  # in place: callers hold its bound ``get``
            _KEPT.update(newer)
        lemma = "" if token in STOP_WORDS else _lemma(token)
        if lemma == token:
            lemma = token  # one string for both, not two equal ones
        kept = _KEPT[token] = "" if lemma in STOP_WORDS else lemma
    return kept


Entry = tuple[str, bool, bool, bool]
"""What preprocessing keeps of one whitespace-free run of a post: its kept lemmas joined by
spaces; whether its text as the tokenizer sees it starts / ends with a digit-like character;
whether the substitutions leave nothing of it (a link, a handle). See ``_preprocess_word``."""


def _preprocess_ascii(words: list[str]) -> list[Entry]:
    """``_preprocess_word`` of runs that are all ASCII lower-case letters, digits and "_"
    (``_ASCII_RUN_RE``), with less Python per run: one look-up per token in ``_KEPT``."""
    plain = _PLAIN_RUN_RE.fullmatch
    get = _KEPT.get
    out = []
    for word in words:  # never blank: letters, digits or "_"
        if plain(word):
            kept = get(word)
            text = _kept(word) if kept is None else kept
        else:
            parts = []
            for token in ascii_run_tokens(word):
                kept = get(token)
                if kept is None:
                    kept = _kept(token)
                if kept:
                    parts.append(kept)
            text = " ".join(parts)
        out.append((text, word[0].isnumeric(), word[-1].isnumeric(), False))
    return out


def _preprocess_word(word: str) -> Entry:
    """``preprocess``'s steps after lower-casing, for one whitespace-free run of a post
    (``Entry``). The digit flags matter because TweetTokenizer's phone-number pattern can
    join a run to the next one with a digit on each side, across any runs left blank
    between them (see ``_preprocess_batch``).

    A run of ASCII letters, or of at most six ASCII digits, is a single token as it stands
    (no link, handle, mark or phone number in it); any other run of ASCII letters, digits
    and "_" is tokenised by ``ascii_run_tokens``.
    """
    if _PLAIN_RUN_RE.fullmatch(word):
        return _entry([word], word)
    if _ASCII_RUN_RE.fullmatch(word):
        return _entry(ascii_run_tokens(word), word)
    word = _drop_marks(word)
    return _entry(_tokenizer().tokenize(word), word)


_RUN_BREAK_WORD = "zqz"
_RUN_BREAK = f" {_RUN_BREAK_WORD} "
"""Joins runs tokenised together: a word of its own between spaces. No token pattern spans
whitespace except the phone number's, which needs digits on both sides."""


def _lemmas(tokens: list[str]) -> str:
    """The kept lemmas of tokens, joined (``preprocess``'s last steps, memoised per token)."""
    return " ".join(kept for kept in map(_kept, tokens) if kept)


def _preprocess_words(words: list[str]) -> list[Entry]:
    """``_preprocess_word`` of many runs: plain ASCII runs by ``_preprocess_ascii``, the
    others by ``_preprocess_rest``."""
    ascii_run = _ASCII_RUN_RE.fullmatch
    plain = [ascii_run(w) is not None for w in words]
    rest = [w for w, p in zip(words, plain, strict=True) if not p]
    others = iter(_preprocess_rest(rest))
    easy = iter(_preprocess_ascii([w for w, p in zip(words, plain, strict=True) if p]))
    return [next(easy) if p else next(others) for p in plain]


def _drop_marks(text: str) -> str:
    """``preprocess``'s substitutions: e-mails, links and handles become spaces, apostrophes
    go, and every other mark or symbol becomes a space."""
    for pattern in (EMAIL_RE, URL_RE, _HANDLE_DROP_RE):
        text = pattern.sub(" ", text)
    return _NOT_WORD_RE.sub(" ", _APOSTROPHES_RE.sub("", text))


_BLANK: Entry = ("", False, False, True)
_BLANK_RUN_RE = re.compile(
    r"@\w+[^\w\s]*"
    r"|(?:https?://|www\.)[^\s<>\"'@]*[^\s<>\"'@.,;:!?)\]}][.,;:!?)\]}]*")
"""Runs the substitutions leave blank, recognised by one match (a run may be blank without
matching): a handle followed by marks only (the e-mail pattern needs a character before the
"@"), or a link without "@" or quotes, whose end the link pattern takes but for its trailing
marks (``privacy.URL_RE``). Most new runs of a tweet stream are such, one per post or more."""


def _preprocess_rest(words: list[str]) -> list[Entry]:
    """``_preprocess_word`` of runs holding marks: ``_BLANK`` for a lone handle or link
    (``_BLANK_RUN_RE``), ``_preprocess_marked`` for the others."""
    blank = _BLANK_RUN_RE.fullmatch
    out: list[Entry | None] = [_BLANK if blank(w) else None for w in words]
    todo = [i for i, entry in enumerate(out) if entry is None]
    if not todo:
        return out  # type: ignore[return-value]
    for i, entry in zip(todo, _preprocess_marked([words[i] for i in todo]), strict=True):
        out[i] = entry
    return out  # type: ignore[return-value]


def _preprocess_marked(words: list[str]) -> list[Entry]:
    """``_preprocess_word`` of runs holding marks (links, handles, hashtags, a word and its
    comma…) or non-ASCII characters. The substitutions run once over all of them joined by
    ``_RUN_BREAK`` (no pattern matches across it); a run whose cleaned text is ASCII words
    is tokenised without TweetTokenizer (``_ascii_part``), the others by TweetTokenizer once
    over them joined; a run holding the break's word, or anything that looks off, goes one
    run at a time."""
    odd = [_RUN_BREAK_WORD in w for w in words]
    parts = iter(_drop_marks_together([w for w, o in zip(words, odd, strict=True) if not o]))
    cleaned = [_drop_marks(w) if o else next(parts) for w, o in zip(words, odd, strict=True)]
    out = list(map(_ascii_part, cleaned))
    hard = [i for i, done in enumerate(out) if done is None and not odd[i]]
    slow = _tokenized_parts([cleaned[i] for i in hard]) if hard else []
    if slow is None:
        slow = [_preprocess_word(words[i]) for i in hard]
    for i, done in zip(hard, slow, strict=True):
        out[i] = done
    return [_preprocess_word(w) if done is None else done  # type: ignore[misc]
            for w, done in zip(words, out, strict=True)]


def _drop_marks_together(words: list[str]) -> list[str]:
    """``_drop_marks`` of each lower-cased run, computed over them joined by ``_RUN_BREAK``
    (no pattern matches across it). The e-mail and handle patterns run only over the runs
    holding "@", the link pattern only over those holding "http" or "www." (no letter of
    those has another case form that its IGNORECASE would accept): the e-mail pattern is
    slow on long runs such as links."""
    words = list(words)
    at = [i for i, w in enumerate(words) if "@" in w]
    web = [i for i, w in enumerate(words) if "http" in w or "www." in w]
    for pattern, hits in ((EMAIL_RE, at), (URL_RE, web), (_HANDLE_DROP_RE, at)):
        if not hits:
            continue
        done = pattern.sub(" ", _RUN_BREAK.join([words[i] for i in hits])).split(_RUN_BREAK)
        if len(done) != len(hits):
            done = [pattern.sub(" ", words[i]) for i in hits]
        for i, word in zip(hits, done, strict=True):
            words[i] = word
    parts = _NOT_WORD_RE.sub(" ", _APOSTROPHES_RE.sub("", _RUN_BREAK.join(words))).split(
        _RUN_BREAK)
    return parts if len(parts) == len(words) else [_drop_marks(w) for w in words]


def _entry(tokens: list[str], part: str) -> Entry:
    """A run's entry from its tokens and its cleaned text (see ``_preprocess_word``)."""
    part = part.strip()
    return (_lemmas(tokens), bool(part) and part[0].isnumeric(),
            bool(part) and part[-1].isnumeric(), not part)


def _ascii_part(part: str) -> Entry | None:
    """The entry of a run from its cleaned text (``_drop_marks``) without TweetTokenizer,
    when that text is ASCII words (``_ASCII_RUN_RE``) of which no two could be joined by
    TweetTokenizer's phone-number pattern (a digit each side of a space): its only pattern
    that spans a space, so the tokens are then ``ascii_run_tokens`` of each word. None
    otherwise."""
    pieces = part.split()
    if not all(map(_ASCII_RUN_RE.fullmatch, pieces)):
        return None
    if any(a[-1].isdigit() and b[0].isdigit() for a, b in pairwise(pieces)):
        return None
    return _entry([token for piece in pieces for token in ascii_run_tokens(piece)], part)


def _tokenized_parts(parts: list[str]) -> list[Entry] | None:
    """The entries of runs from their cleaned texts, TweetTokenizer run once over them
    joined by ``_RUN_BREAK`` (None: do them one at a time)."""
    try:
        tokens = _tokenizer().tokenize(_RUN_BREAK.join(parts))
    except TimeoutError:
        return None
    breaks = [i for i, t in enumerate(tokens) if t == _RUN_BREAK_WORD]
    if len(breaks) != len(parts) - 1:
        return None
    bounds = [-1, *breaks, len(tokens)]
    return [_entry(tokens[bounds[i] + 1 : bounds[i + 1]], part) for i, part in enumerate(parts)]


class _RunTable(KeyedColumns):
    """``preprocess``'s work per run of post text (whitespace-free, as written), in columns
    indexed by the run's key in the shared numbering (``interning.RUNS``): its
    ``_preprocess_word`` entry (``output``, ``starts``, ``ends``, ``blank``) once HTML
    entities are decoded and the case lowered, whether it is the post break, and whether the
    post holding it must be done alone (``alone``: decoding gave whitespace, as "&nbsp;"
    does, so it is no longer one run). A batch gathers its runs' rows with array indexing,
    and only runs never met before cost Python work."""

    def __init__(self) -> None:
        super().__init__(RUNS, output=object, starts=bool, ends=bool, blank=bool, breaks=bool,
                         alone=bool)

    def factorize(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """A code per run of ``text`` and, per code, its run's key into the columns (rows of
        new runs computed together by ``_preprocess_words``)."""
        codes, keys = RUNS.factorize(text)
        missing = self.missing(keys)
        if missing.size:
            runs = RUNS.strings(missing)
            lowered = [html.unescape(r).lower() if "&" in r else r.lower() for r in runs]
            alone = [len(w.split()) != 1 for w in lowered]
            entries = _preprocess_words(["x" if a else w for w, a in zip(
                lowered, alone, strict=True)])
            self.output[missing] = [e[0] for e in entries]
            self.starts[missing] = [e[1] for e in entries]
            self.ends[missing] = [e[2] for e in entries]
            self.blank[missing] = [e[3] for e in entries]
            self.breaks[missing] = [r == POST_BREAK for r in runs]
            self.alone[missing] = alone
            self.filled[missing] = True
        return codes, keys

    def runs(self) -> list[str]:
        """The runs remembered now (in the shared numbering)."""
        return RUNS.strings(np.arange(RUNS.size))


def _preprocess_batch(texts: list[str]) -> list[str]:
    """``preprocess`` of many posts (none holding ``POST_BREAK``) at once, equal to it.

    Every step of ``preprocess`` acts within whitespace-free runs (an HTML entity or a
    letter's case never reaches past one), so each distinct run is processed once (memoised,
    ``_RunTable``) and a post is its runs' outputs joined. The exceptions are done one post
    at a time by ``preprocess`` itself: a phone number written across runs ("555 1234"),
    which can only occur where a run ending in a digit meets one starting with a digit with
    nothing between them but runs the substitutions leave blank (a link, a handle); and a run
    that decoding its entities splits (``_RunTable.alone``).
    """
    codes, keys = _RUNS.factorize(joined_posts(texts))
    breaks = _RUNS.breaks[keys][codes]
    pieces = _RUNS.output[keys][codes]
    pieces[breaks] = "\n"
    keep = breaks | (pieces != "")
    out = [p.strip() for p in " ".join(pieces[keep].tolist()).split("\n")]
    blank = _RUNS.blank[keys]
    seen = np.flatnonzero(~blank[codes] | breaks) if blank.any() else np.arange(codes.size)
    ends, starts = _RUNS.ends[keys][codes[seen]], _RUNS.starts[keys][codes[seen]]
    apart = breaks[seen]  # runs the tokenizer sees, and which are post breaks
    joins = np.flatnonzero(ends[:-1] & starts[1:] & ~apart[:-1] & ~apart[1:])
    alone = _RUNS.alone[keys]
    split = np.flatnonzero(alone[codes]) if alone.any() else joins[:0]
    if joins.size or split.size:
        post_of_run = np.cumsum(breaks)
        for post in np.union1d(post_of_run[seen[joins]], post_of_run[split]).tolist():
            out[post] = preprocess(texts[post])
    return out


POST_MEMO = 20_000
"""Whole posts remembered by ``preprocess_many`` (scoring millions of distinct posts gains
nothing from more, training re-reads a few thousand)."""
_RUNS = _RunTable()


class _PostMemo:
    """Memo of whole posts → ``preprocess`` output, bounded; counts what it computed."""

    def __init__(self) -> None:
        self.table: dict[str, str] = {}
        self.computed = 0

    def clear(self) -> None:
        """Forget every post (and every run): the next call starts cold."""
        self.table.clear()
        RUNS.clear()


_POSTS = _PostMemo()
BATCH = 20_000


@holding_memo_lock
def preprocess_many(texts: Iterable[str]) -> list[str]:
    """``preprocess`` for many posts (anything ``as_texts`` accepts), in the input order.

    Equal to ``[preprocess(t) for t in texts]`` but computed once per distinct post
    (memoised across calls: model search transforms the same posts once per grid point) and
    in batches, without a Python loop over each post's tokens (see ``_preprocess_batch``).
    """
    texts = as_texts(texts)
    memo = _POSTS.table
    if len(memo) > POST_MEMO:
        memo.clear()
    todo = [t for t in dict.fromkeys(texts) if t not in memo]
    alone = [t for t in todo if POST_BREAK in t]
    together = [t for t in todo if POST_BREAK not in t] if alone else todo
    for start in range(0, len(together), BATCH):
        rows = together[start : start + BATCH]
        memo.update(zip(rows, _preprocess_batch(rows), strict=True))
    memo.update((t, preprocess(t)) for t in alone)
    _POSTS.computed += len(todo)
    return [memo[t] for t in texts]


@holding_memo_lock
def clear_caches() -> None:
    """Empty every memo of this module (benchmarks measure cold runs)."""
    _POSTS.clear()
    _KEPT.clear()
    preprocess.cache_clear()


def as_texts(X: object) -> list[str]:
    """The posts in ``X`` as a list of strings, whatever shape a caller or sklearn hands over.

    Accepts a sequence, Series or 1-D array of texts, a one-column 2-D array, or a DataFrame
    with a ``text`` column (or a single column), as a ``ColumnTransformer`` passes it. Missing
    cells become empty texts and numbers become their digits; anything else is refused.
    """
    if isinstance(X, str):
        raise CorpusError(
            "Expected a list of posts but got a single piece of text. Put the post in a list, "
            "e.g. [\"my post\"]."
        )
    if isinstance(X, pd.DataFrame):
        X = _text_frame_column(X)
    values = np.asarray(X if isinstance(X, pd.Series) else list(X), dtype=object)
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.ndim != 1:
        raise CorpusError(
            f"Expected one column of posts but got data shaped {values.shape}. Pass only the "
            "text column."
        )
    return [v if type(v) is str else _cell_text(v, i) for i, v in enumerate(values)]


def _text_frame_column(df: pd.DataFrame) -> pd.Series:
    """The ``text`` column of a frame, or its only column; otherwise a plain-words error."""
    if "text" in df.columns:
        return df["text"]
    if df.shape[1] == 1:
        return df.iloc[:, 0]
    raise CorpusError(
        "The table has no 'text' column, so it is not clear which column holds the posts "
        f"(columns: {', '.join(map(str, df.columns))}). Map the post column to 'text'."
    )


def _cell_text(value: object, row: int) -> str:
    """One non-string cell as text: missing → "", a number → its digits; else an error."""
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, numbers.Number):
        return "" if value != value else str(value)
    if isinstance(value, str):
        return str(value)
    raise CorpusError(
        f"Row {row} of the text column holds a {type(value).__name__}, not text: {value!r:.60}. "
        "Check that the column mapped to 'text' holds the posts."
    )


class TextPreprocessor(TransformerMixin, BaseEstimator, auto_wrap_output_keys=None):
    """sklearn step: posts → preprocessed strings (see ``preprocess``), ready for
    ``TfidfVectorizer``. Stateless; input as ``as_texts`` accepts; returns a 1-D object array
    (never wrapped in a DataFrame by ``set_output``: the next step needs a sequence of strings).
    """

    def fit(self, X: object, y: object = None) -> TextPreprocessor:
        """Nothing to learn; present so the step fits in a Pipeline."""
        return self

    def transform(self, X: object) -> np.ndarray:
        """Preprocess each post (once per unique text)."""
        return np.asarray(preprocess_many(X), dtype=object)

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        """One output column, the preprocessed ``text`` (so a Pipeline/ColumnTransformer
        around this step can name its features)."""
        return np.asarray(["text"], dtype=object)

    def __sklearn_tags__(self) -> Tags:
        """Stateless, and takes raw strings."""
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.string = True
        return tags

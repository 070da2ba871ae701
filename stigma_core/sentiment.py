"""TextBlob's sentiment, exactly, for many posts at once.

``TextBlob(text).sentiment`` (the pattern library's analyser that TextBlob bundles) gives each
post a polarity (-1 … 1) and a subjectivity (0 … 1): it splits the post into tokens, looks each
lower-cased token up in a lexicon of about 2,900 opinion words, lets adverbs ("very") scale the
next word, negations ("not") flip and halve it, "!" boost it and emoticons count as words of
their own, and averages what it found. It does so one post at a time in Python: about 4,600
posts a second on one core, which capped how fast the library could score a corpus.

This module gives the same two numbers (tested equal to TextBlob's, to the last bit, on the
real and sample corpora and on hand-made edge cases) for a batch of posts, with the per-post
Python work replaced by work over the whole batch:

1. Tokenising (pattern's ``find_tokens``): the text-wide substitutions (contractions, quotes,
   line breaks, whitespace) and the split at whitespace run once over all the posts joined by
   a separator; each distinct raw token is split from its punctuation once (memoised); the
   sentence boundaries, which only matter for the emoticon and sarcasm rules, are found by a
   compiled (numba) pass over token kinds, and those two rules run once over the batch.
2. Assessing (pattern's ``Sentiment.assessments``): every distinct token is looked up once
   (known word, polarity, subjectivity, intensity, adverb, negation, emoticon…) into arrays;
   a compiled pass walks the token ids of all posts with the same state machine.

The rules reproduce pattern's quirks on purpose (the contract is TextBlob's numbers): the
apostrophe is split off before contractions are handled, so "n't" never negates; "( ! )"
becomes the sarcasm mark; ": (" anywhere is a frowning emoticon. The lexicon is read from the
XML file in the installed TextBlob wheel, averaged exactly as pattern averages it.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Iterable, Sequence
from functools import cache
from itertools import chain
from pathlib import Path
from xml.etree import ElementTree

import numba
import numpy as np

from stigma_core.interning import (
    MEMO_LIMIT,
    POST_BREAK,
    RUNS,
    KeyedColumns,
    holding_memo_lock,
    joined_posts,
)
from stigma_core.text import factorize_strings

# --- pattern's constants (textblob/_text.py and textblob/en/__init__.py, TextBlob 0.20) --------
# Copied rather than imported: importing textblob imports nltk (about 1.7 s). A test checks
# each one against TextBlob's own.

PUNCTUATION = ".,;:!?()[]{}`''\"@#$^&*+-|=~_"
ABBREVIATIONS = frozenset((
    "a.", "adj.", "adv.", "al.", "a.m.", "c.", "cf.", "comp.", "conf.", "def.", "ed.", "e.g.",
    "esp.", "etc.", "ex.", "f.", "fig.", "gen.", "id.", "i.e.", "int.", "l.", "m.", "Med.",
    "Mil.", "Mr.", "n.", "n.q.", "orig.", "pl.", "pred.", "pres.", "p.m.", "ref.", "v.", "vs.",
    "w/",
))
RE_ABBR1 = re.compile(r"^[A-Za-z]\.$")
RE_ABBR2 = re.compile(r"^([A-Za-z]\.)+$")
RE_ABBR3 = re.compile("^[A-Z][" + "|".join("bcdfghjklmnpqrstvwxz") + "]+.$")
EMOTICONS: dict[tuple[str, float], set[str]] = {
    ("love", +1.00): {"<3", "♥"},
    ("grin", +1.00): {">:D", ":-D", ":D", "=-D", "=D", "X-D", "x-D", "XD", "xD", "8-D"},
    ("taunt", +0.75): {">:P", ":-P", ":P", ":-p", ":p", ":-b", ":b", ":c)", ":o)", ":^)"},
    ("smile", +0.50): {">:)", ":-)", ":)", "=)", "=]", ":]", ":}", ":>", ":3", "8)", "8-)"},
    ("wink", +0.25): {">;]", ";-)", ";)", ";-]", ";]", ";D", ";^)", "*-)", "*)"},
    ("gasp", +0.05): {">:o", ":-O", ":O", ":o", ":-o", "o_O", "o.O", "°O°", "°o°"},
    ("worry", -0.25): {">:/", ":-/", ":/", ":\\", ">:\\", ":-.", ":-s", ":s", ":S", ":-S", ">.>"},
    ("frown", -0.75): {">:[", ":-(", ":(", "=(", ":-[", ":[", ":{", ":-<", ":c", ":-c", "=/"},
    ("cry", -1.00): {":'(", ":'''(", ";'("},
}
_FACES = "|".join(r" ?".join(re.escape(c) for c in e) for v in EMOTICONS.values() for e in v)
RE_EMOTICONS = re.compile(rf"({_FACES})($|\s)")
RE_SARCASM = re.compile(r"\( ?\! ?\)")
REPLACEMENTS = {"'d": " 'd", "'m": " 'm", "'s": " 's", "'ll": " 'll", "'re": " 're",
                "'ve": " 've", "n't": " n't"}
EOS = "END-OF-SENTENCE"
NEGATIONS = ("no", "not", "n't", "never")
MODIFIERS = ("RB",)
TOKEN = re.compile(r"(\S+)\s")
LINEBREAK = re.compile(r"\n{2,}")
WHITESPACE = re.compile(r"\s+")
QUOTES = (("“", " “ "), ("”", " ” "), ("‘", " ‘ "), ("’", " ’ "), ("'", " ' "), ('"', ' " '))

_QUOTE_CHARS = re.compile("[" + re.escape("".join(old for old, _ in QUOTES)) + "]")
"""Any character ``split_word``'s replacements act on (``QUOTES``; "n't" holds one)."""
_LEADING = tuple(PUNCTUATION.replace(".", ""))
_TRAILING = _LEADING + (".",)
_LEADING_SET, _TRAILING_SET = frozenset(_LEADING), frozenset(_TRAILING)
"""(Each mark is one character, so ``startswith(_LEADING)`` is ``t[0] in _LEADING_SET``.)"""
# Token kinds for the sentence splitter (find_tokens): a sentence ends after a run of closing
# marks that starts with a terminator; a straight quote stops the run.
PLAIN, TERMINATOR, CLOSER, QUOTE, END_MARK, DOC_BREAK = range(6)
_KINDS = {"...": TERMINATOR, ".": TERMINATOR, "!": TERMINATOR, "?": TERMINATOR,
          "”": CLOSER, "’": CLOSER, ")": CLOSER, "'": QUOTE, '"': QUOTE, EOS: END_MARK}
BATCH = 20_000
CACHE_LIMIT = MEMO_LIMIT
"""Distinct pieces remembered per process before their memo starts afresh (see
``interning.MEMO_LIMIT``)."""


# --- the lexicon ---------------------------------------------------------------------------


def lexicon_path() -> Path:
    """Where the installed TextBlob wheel keeps ``en-sentiment.xml`` (found without importing
    textblob, which would import nltk)."""
    spec = importlib.util.find_spec("textblob")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("TextBlob is not installed: its sentiment lexicon is needed.")
    return Path(next(iter(spec.submodule_search_locations))) / "en" / "en-sentiment.xml"


def _avg(values: Sequence[float]) -> float:
    """pattern's ``avg``: the plain mean, summed left to right (so the same float)."""
    return sum(values) / float(len(values) or 1)


@cache
def lexicon() -> dict[str, dict[str | None, tuple[float, float, float]]]:
    """word → {part of speech (None = all): (polarity, subjectivity, intensity)}, as pattern
    builds it: senses averaged per part of speech, parts of speech averaged under None, then
    every adjective's adverb ("terrible" → "terribly") added with the adjective's scores."""
    words: dict[str, dict[str | None, list]] = {}
    for node in ElementTree.parse(lexicon_path()).getroot().findall("word"):
        form, pos = node.attrib.get("form"), node.attrib.get("pos")
        psi = (float(node.attrib.get("polarity", 0.0)),
               float(node.attrib.get("subjectivity", 0.0)),
               float(node.attrib.get("intensity", 1.0)))
        if form:
            words.setdefault(form, {}).setdefault(pos, []).append(psi)
    table: dict[str, dict[str | None, tuple[float, float, float]]] = {}
    for word, senses in words.items():
        table[word] = {pos: tuple(_avg(each) for each in zip(*psi, strict=True))
                       for pos, psi in senses.items()}
    for by_pos in table.values():
        by_pos[None] = tuple(_avg(each) for each in zip(*by_pos.values(), strict=True))
    for word, by_pos in list(table.items()):
        if "JJ" in by_pos:
            stem = word[:-1] + "i" if word.endswith("y") else word
            stem = stem[:-2] if stem.endswith("le") else stem
            entry = table.setdefault(stem + "ly", {})
            entry["RB"] = entry[None] = by_pos["JJ"]
    return table


# --- tokenising, as pattern's find_tokens ---------------------------------------------------


def split_token(token: str) -> tuple[str, ...]:
    """One whitespace-delimited token split from its leading and trailing punctuation, as
    ``find_tokens`` does (abbreviations such as "e.g." and "U.S." keep their period)."""
    if token and token[0] not in _LEADING_SET and token[-1] not in _TRAILING_SET:
        return (token,)  # neither loop below would start
    head: list[str] = []
    tail: list[str] = []
    t = token
    while t.startswith(_LEADING) and t not in REPLACEMENTS:
        head.append(t[0])
        t = t[1:]
    while t.endswith(_TRAILING) and t not in REPLACEMENTS:
        if t.endswith(_LEADING):
            tail.append(t[-1])
            t = t[:-1]
        if t.endswith("..."):
            tail.append("...")
            t = t[:-3].rstrip(".")
        if t.endswith("."):
            if (t in ABBREVIATIONS or RE_ABBR1.match(t) is not None
                    or RE_ABBR2.match(t) is not None or RE_ABBR3.match(t) is not None):
                break
            tail.append(t[-1])
            t = t[:-1]
    if t != "":
        head.append(t)
    head.extend(reversed(tail))
    return tuple(head)


def _paragraphs(text: str) -> str:
    """find_tokens' whitespace steps that need the whole text: a paragraph break (two or more
    line breaks, CRLF counted as one) becomes an end-of-sentence mark. Works on one post or
    many joined."""
    if "\r\n" in text:
        text = text.replace("\r\n", "\n")
    return LINEBREAK.sub(f" {EOS} ", text) if "\n\n" in text else text


def split_word(word: str) -> tuple[str, ...]:
    """find_tokens' pieces of one whitespace-free run of text: "n't" parted from its verb,
    quotes spaced out (both only ever insert spaces, so they can run word by word), then each
    part split from its punctuation (``split_token``)."""
    if word.isalnum():  # no quote, mark or "n't": one piece as it stands
        return (word,)
    if word[0] in _LEADING_SET and word[1:].isalnum():  # a handle or hashtag: two pieces
        return (word[0], word[1:])
    if _QUOTE_CHARS.search(word) is None:  # nothing to replace ("n't" holds a quote)
        return split_token(word)
    word = word.replace("n't", " n't")
    for old, new in QUOTES:
        word = word.replace(old, new)
    return tuple(chain.from_iterable(split_token(part) for part in word.split()))


@numba.njit(cache=True, nogil=True)
def _sentence_ends(kinds: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    """True at the last kept token of each sentence, as find_tokens splits them: a sentence
    ends after a run of closers (. ! ? ... ) ” ’ and paragraph breaks) that starts with a
    terminator (. ! ? ... or a paragraph break); a straight quote stops the run. Paragraph
    break marks are dropped, so the end falls on the last token before them; a post break
    (kind DOC_BREAK) starts afresh."""
    ends = np.zeros(kinds.size, dtype=np.bool_)
    last = -1
    j = 0
    n = kinds.size
    while j < n:
        k = kinds[j]
        if k == 5:
            last = -1
            j += 1
        elif k == 1 or k == 4:
            while j < n and (kinds[j] == 1 or kinds[j] == 2 or kinds[j] == 4):
                if kinds[j] != 4:
                    last = j
                j += 1
            if last >= 0:
                ends[last] = True
        else:
            last = j
            j += 1
    return ends


def _emoticon_fix(match: re.Match[str]) -> str:
    """pattern's emoticon rule: close up the spaces inside an emoticon split by tokenising."""
    return match.group(1).replace(" ", "") + match.group(2)


def _pieces(text: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """find_tokens' pieces of posts joined (``interning.joined_posts``), before the sentence
    rules: the pieces remembered (``flat``, an object array), each position's index into
    them, and per piece of ``flat`` its row of ``_PieceInfo.COLUMNS`` (sentence kind,
    emoticon character classes, word id). The posts must not hold the separator."""
    codes, keys = _RAW.factorize(text)
    if not keys.size:
        return _RAW.pieces[:0], np.zeros(0, dtype=np.int64), np.zeros((0, 4), dtype=np.int64)
    counts = _RAW.count[keys]
    starts = _RAW.first[keys]
    per_token = counts[codes]
    total = int(per_token.sum())
    out_start = np.cumsum(per_token) - per_token
    index = np.arange(total) - np.repeat(out_start - starts[codes], per_token)
    return _RAW.pieces, index, _RAW.rows


def _token_stream(texts: list[str]) -> list[str]:
    """The lower-cased tokens pattern assesses, for posts joined by ``POST_BREAK`` tokens
    (one separator token between consecutive posts), with the sarcasm and emoticon rules
    applied to each sentence as find_tokens does. ``texts`` must not hold the separator."""
    flat, index, info = _pieces(_paragraphs(joined_posts(texts)))
    if not index.size:
        return []
    kinds = info[index, 0]
    pieces = np.asarray(flat, dtype=object)[index]
    ends = _sentence_ends(kinds)
    keep = kinds != END_MARK
    marked = np.flatnonzero(ends)
    if marked.size:
        pieces[marked] = [p + "\n" for p in pieces[marked].tolist()]
    text = " ".join(pieces[keep].tolist())
    text = RE_EMOTICONS.sub(_emoticon_fix, RE_SARCASM.sub("(!)", text))
    return text.lower().split()


def _joinable_pairs() -> tuple[dict[str, int], np.ndarray]:
    """Characters of emoticons and of "(!)", numbered, and which ordered pairs of them stand
    side by side in one: only where such a pair meets across a space can the emoticon or
    sarcasm rule change a post's tokens."""
    faces = [f for group in EMOTICONS.values() for f in group] + ["(!)"]
    chars = {c: i for i, c in enumerate(sorted({c for f in faces for c in f}))}
    pairs = np.zeros((len(chars) + 1, len(chars) + 1), dtype=bool)
    for face in faces:
        for a, b in zip(face, face[1:], strict=False):
            pairs[chars[a], chars[b]] = True
    return chars, pairs


_CHARS, _PAIRS = _joinable_pairs()


def _spaced_faces() -> re.Pattern[str]:
    """Any emoticon, or "(!)", written with at least one space inside: the only matches of
    the emoticon and sarcasm rules that change anything (they close up the spaces)."""
    faces = [f for group in EMOTICONS.values() for f in group] + ["(!)"]
    alternatives = []
    for face in faces:
        chars = [re.escape(c) for c in face]
        for k in range(1, len(chars)):
            alternatives.append(" ?".join(chars[:k]) + " " + " ?".join(chars[k:]))
    return re.compile("|".join(alternatives))


RE_SPACED_FACES = _spaced_faces()


# --- assessing, as pattern's Sentiment.assessments ------------------------------------------


def _emoticon_polarity(word: str) -> float:
    """The emoticon polarity pattern gives an unknown (lower-cased) token, or NaN."""
    if word.isalpha() is False and len(word) <= 5 and word not in PUNCTUATION:
        for (_, polarity), faces in EMOTICONS.items():
            if word in (face.lower() for face in faces):
                return polarity
    return float("nan")


_UNKNOWN = (0.0, 0.0, 1.0)


def _word_scores(entry: dict | None, word: str) -> tuple[float, float, float, float]:
    """(polarity, subjectivity, intensity, emoticon polarity or NaN) of a lower-cased token
    (``entry``: its lexicon entry, None when unknown)."""
    p, s, i = entry[None] if entry is not None else _UNKNOWN
    face = float("nan") if word.isalnum() else _emoticon_polarity(word)
    return p, s, i, face


def _word_flags(entry: dict | None, word: str) -> tuple[bool, ...]:
    """``_Words.FLAGS`` of a lower-cased token (``entry``: its lexicon entry or None)."""
    return (
        entry is not None,
        entry is not None and any(m in entry for m in MODIFIERS),
        word in NEGATIONS,
        len(word.strip("'")) > 1,
        len(word) > 2,
        word.endswith("ly"),
        word == "!",
        word == "(!)",
    )


class _Words:
    """What the assessment needs of each lower-cased token, in arrays indexed by a word id.

    Words of the lexicon, negations and the post separator get an id of their own. Every
    other word is assessed by its row alone (no rule looks at which word it is), so words
    with equal rows share one id: the tables stay small, whatever the corpus's vocabulary,
    and never start afresh (ids stay valid for the memos built on them)."""

    FLAGS = ("known", "adverb", "negation", "breaks_negation", "breaks_modifier", "ends_ly",
             "exclamation", "sarcasm")

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.shared: dict[bytes, int] = {}
        self.size = 0
        self.scores = np.zeros((256, 4))
        self.flags = np.zeros((256, len(self.FLAGS)), dtype=np.bool_)

    def _add(self, scores: np.ndarray, flags: np.ndarray) -> int:
        if self.size == len(self.scores):
            self.scores = np.concatenate([self.scores, np.zeros_like(self.scores)])
            self.flags = np.concatenate([self.flags, np.zeros_like(self.flags)])
        self.scores[self.size] = scores
        self.flags[self.size] = flags
        self.size += 1
        return self.size - 1

    def ids(self, uniques: list[str]) -> np.ndarray:
        """Word ids of ``uniques`` (distinct lower-cased tokens), adding new rows."""
        get = self.index.get
        ids = np.fromiter((get(w, -1) for w in uniques), dtype=np.int64, count=len(uniques))
        new = np.flatnonzero(ids < 0)
        if new.size:
            lex = lexicon()
            words = [uniques[position] for position in new.tolist()]
            scores, flags = _new_word_rows(words, lex)
            own = np.fromiter((w in lex or w in NEGATIONS or w == POST_BREAK for w in words),
                              dtype=bool, count=len(words))
            for i in np.flatnonzero(own).tolist():
                ids[new[i]] = self.index[words[i]] = self._add(scores[i], flags[i])
            rest = np.flatnonzero(~own)
            if rest.size:
                ids[new[rest]] = self._shared_ids(scores[rest], flags[rest])
        return ids

    def _shared_ids(self, scores: np.ndarray, flags: np.ndarray) -> np.ndarray:
        """The shared id of each row (``scores`` and ``flags`` side by side), adding rows
        not met before; one dictionary look-up per distinct row. Rows with a plain word's
        scores differ by their flags alone, numbered as bits (a word with scores of its
        own, an emoticon, is a group of its own)."""
        plain = ((scores[:, :3] == _PLAIN_SCORES[:3]).all(axis=1) & np.isnan(scores[:, 3]))
        bits = flags.astype(np.int64) @ (1 << np.arange(flags.shape[1], dtype=np.int64))
        groups = np.where(plain, bits, bits.max(initial=0) + 1 + np.arange(len(bits)))
        distinct, first, inverse = np.unique(groups, return_index=True, return_inverse=True)
        found = np.empty(distinct.size, dtype=np.int64)
        for j, row in enumerate(first.tolist()):
            key = scores[row].tobytes() + flags[row].tobytes()
            shared = self.shared.get(key)
            if shared is None:
                shared = self.shared[key] = self._add(scores[row], flags[row])
            found[j] = shared
        return found[inverse.ravel()]


_PLAIN_SCORES = np.array([0.0, 0.0, 1.0, np.nan])
"""``_word_scores`` of a word outside the lexicon that is no emoticon."""


def _new_word_rows(words: list[str], lex: dict) -> tuple[np.ndarray, np.ndarray]:
    """``_word_scores`` and ``_word_flags`` rows of ``words``. Most new words are plain
    (alphanumeric, not in the lexicon, not a negation): their rows follow from their length
    and ending alone, filled for all at once; the others go through the two functions."""
    n = len(words)
    scores = np.tile(_PLAIN_SCORES, (n, 1))
    flags = np.zeros((n, len(_Words.FLAGS)), dtype=np.bool_)
    lengths = np.fromiter(map(len, words), dtype=np.int64, count=n)
    flags[:, 3] = lengths > 1  # an alphanumeric word has no "'" to strip
    flags[:, 4] = lengths > 2
    flags[:, 5] = np.fromiter((w.endswith("ly") for w in words), dtype=np.bool_, count=n)
    for i, w in enumerate(words):
        if w in lex or w in NEGATIONS:
            entry = lex[w] if w in lex else None
        elif w.isalnum():
            continue
        elif len(w) > 5:  # no emoticon is that long: only the stripped length can differ
            flags[i, 3] = len(w.strip("'")) > 1
            continue
        else:
            entry = None
        scores[i] = _word_scores(entry, w)
        flags[i] = _word_flags(entry, w)
    return scores, flags


_WORDS = _Words()


class _PieceInfo:
    """Memo of a piece → its sentence kind, the ``_CHARS`` class of its first and last
    character (``len(_CHARS)`` for any other) and the ``_WORDS`` id of its lower-cased
    form, packed in one int (8 bits each for the first three, the id above them); bounded
    per process."""

    COLUMNS = ("kind", "first", "last", "word")

    def __init__(self) -> None:
        self.table: dict[str, int] = {}

    def info(self, flat: list[str]) -> np.ndarray:
        """The rows of ``flat``'s pieces, shape (len(flat), 4), int64."""
        if len(self.table) > CACHE_LIMIT:
            self.table.clear()
        table = self.table
        new = [p for p in dict.fromkeys(flat) if p not in table]
        if new:
            ids = _WORDS.ids([p.lower() for p in new]).tolist()
            other = len(_CHARS)
            kind_of = {POST_BREAK: DOC_BREAK, **_KINDS}
            chars = _CHARS
            table.update(
                (p, kind_of.get(p, PLAIN) | chars.get(p[0], other) << 8
                 | chars.get(p[-1], other) << 16 | i << 24)
                for p, i in zip(new, ids, strict=True))
        packed = np.fromiter(map(table.__getitem__, flat), dtype=np.int64, count=len(flat))
        return np.stack([packed & 0xFF, packed >> 8 & 0xFF, packed >> 16 & 0xFF, packed >> 24],
                        axis=1)


_PIECES = _PieceInfo()


class _RawTable(KeyedColumns):
    """find_tokens' pieces of each raw token (whitespace-free run of post text) and their
    ``_PieceInfo`` rows, kept in flat arrays; per token, in columns indexed by its key in
    the shared numbering (``interning.RUNS``), where its pieces start (``first``) and how
    many there are (``count``). A batch gathers its tokens' rows with array indexing, and
    only tokens never met before cost Python work."""

    def __init__(self) -> None:
        super().__init__(RUNS, first=np.int64, count=np.int64)

    def clear(self) -> None:
        """Forget every token."""
        super().clear()
        self.pieces = np.empty(8192, dtype=object)
        self.rows = np.zeros((8192, 4), dtype=np.int64)
        self.n_pieces = 0

    def keep_only(self, keys: np.ndarray) -> None:
        """Keep the tokens of ``keys`` only (the numbering forgets the others), their pieces
        packed to the front."""
        self.missing(keys[:0])
        counts = np.where(self.filled[keys], self.count[keys], 0)
        total = int(counts.sum())
        new_first = np.cumsum(counts) - counts
        positions = np.repeat(self.first[keys] - new_first, counts) + np.arange(total)
        pieces, rows = self.pieces[positions], self.rows[positions]
        super().keep_only(keys)
        self.first[: keys.size] = new_first
        self.pieces = np.empty(max(8192, 2 * total), dtype=object)
        self.rows = np.zeros((self.pieces.size, 4), dtype=np.int64)
        self.pieces[:total] = pieces
        self.rows[:total] = rows
        self.n_pieces = total

    def factorize(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """A code per raw token of ``text`` and, per code, the token's key into ``first``
        and ``count`` (new tokens split and their pieces' rows added)."""
        codes, keys = RUNS.factorize(text)
        missing = self.missing(keys)
        if missing.size:
            self._add(missing, RUNS.strings(missing))
        return codes, keys

    def _add(self, keys: np.ndarray, raw: list[str]) -> None:
        """Split the raw tokens ``raw`` (of ``keys``) and add their pieces' rows."""
        split = [split_word(token) for token in raw]
        counts = np.fromiter(map(len, split), dtype=np.int64, count=len(split))
        flat = list(chain.from_iterable(split))
        start, end = self.n_pieces, self.n_pieces + len(flat)
        if end > self.pieces.size:
            capacity = max(2 * self.pieces.size, end)
            pieces = np.empty(capacity, dtype=object)
            pieces[:start] = self.pieces[:start]
            rows = np.zeros((capacity, 4), dtype=np.int64)
            rows[:start] = self.rows[:start]
            self.pieces, self.rows = pieces, rows
        self.count[keys] = counts
        self.first[keys] = start + np.cumsum(counts) - counts
        self.pieces[start:end] = flat
        self.rows[start:end] = _PIECES.info(flat)
        self.n_pieces = end
        self.filled[keys] = True


_RAW = _RawTable()


@numba.njit(cache=True, nogil=True)
def _clip(value: float) -> float:  # pragma: no cover - compiled
    """``max(-1.0, min(value, +1.0))``."""
    if 1.0 < value:
        value = 1.0
    if value < -1.0:
        value = -1.0
    return value


@numba.njit(cache=True, nogil=True)
def _assess(ids: np.ndarray, starts: np.ndarray, scores: np.ndarray,
            flags: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    """(polarity, subjectivity) per post: pattern's ``assessments`` and ``avg``, token by token.

    ``ids[starts[d]:starts[d + 1]]`` are post d's tokens; ``scores`` and ``flags`` rows are
    per token id (see ``_Words``).
    """
    n_docs = starts.size - 1
    out = np.zeros((n_docs, 2))
    longest = 0
    for d in range(n_docs):
        longest = max(longest, starts[d + 1] - starts[d])
    ap = np.empty(longest + 1)
    asub = np.empty(longest + 1)
    ai = np.empty(longest + 1)
    aneg = np.empty(longest + 1, dtype=np.bool_)
    for d in range(n_docs):
        na = 0
        m = -1
        n = -1
        for k in range(starts[d], starts[d + 1]):
            t = ids[k]
            if flags[t, 0]:
                if m < 0:
                    ap[na] = scores[t, 0]
                    asub[na] = scores[t, 1]
                    ai[na] = scores[t, 2]
                    aneg[na] = False
                    na += 1
                else:
                    ap[na - 1] = _clip(scores[t, 0] * ai[na - 1])
                    asub[na - 1] = _clip(scores[t, 1] * ai[na - 1])
                    ai[na - 1] = scores[t, 2]
                if n >= 0:
                    ai[na - 1] = 1.0 / ai[na - 1]
                    aneg[na - 1] = True
                m = -1
                n = -1
                if flags[t, 1]:
                    m = t
                if flags[t, 2]:
                    n = t
            else:
                if flags[t, 2]:
                    n = t
                elif n >= 0 and flags[t, 3]:
                    n = -1
                if n >= 0 and m >= 0 and flags[m, 5]:
                    aneg[na - 1] = True
                    n = -1
                elif m >= 0 and flags[t, 4]:
                    m = -1
                if flags[t, 6] and na > 0:
                    ap[na - 1] = _clip(ap[na - 1] * 1.25)
                if flags[t, 7]:
                    ap[na] = 0.0
                    asub[na] = 1.0
                    ai[na] = 1.0
                    aneg[na] = False
                    na += 1
                face = scores[t, 3]
                if face == face:
                    ap[na] = face
                    asub[na] = 1.0
                    ai[na] = 1.0
                    aneg[na] = False
                    na += 1
        polarity = 0.0
        subjectivity = 0.0
        for a in range(na):
            polarity += ap[a] * -0.5 if aneg[a] else ap[a]
            subjectivity += asub[a]
        out[d, 0] = polarity / (na if na else 1)
        out[d, 1] = subjectivity / (na if na else 1)
    return out


# --- public API ----------------------------------------------------------------------------


def _sentiment_regex(texts: list[str]) -> np.ndarray:
    """(polarity, subjectivity) rows, with the sentence rules run as regular expressions over
    the posts' token text (as pattern does, a batch at a time)."""
    tokens = _token_stream(texts)
    if not tokens:
        return np.zeros((len(texts), 2))
    codes, uniques = factorize_strings(tokens)
    ids = _WORDS.ids(uniques)[codes]
    breaks = np.flatnonzero(ids == _WORDS.index.get(POST_BREAK, -2))
    if breaks.size != len(texts) - 1:
        raise AssertionError("post separator lost while tokenising")  # never expected
    keep = np.ones(ids.size, dtype=bool)
    keep[breaks] = False
    starts = np.concatenate(([0], breaks - np.arange(breaks.size), [ids.size - breaks.size]))
    return _assess(ids[keep], starts.astype(np.int64), _WORDS.scores, _WORDS.flags)


def _sentiment_batch(texts: list[str]) -> np.ndarray:
    """(polarity, subjectivity) rows for posts without the separator character.

    Most posts have no place where an emoticon or "( ! )" could be closed up across a space
    (no pair of ``_PAIRS`` meets across one, or ``RE_SPACED_FACES`` finds none): their
    pieces, lower-cased, are the tokens, looked up directly. The others go through
    ``_sentiment_regex``.
    """
    flat, index, info = _pieces(joined_posts(texts))
    if not index.size:
        return np.zeros((len(texts), 2))
    kinds = info[index, 0]
    keep = kinds != END_MARK
    index, kinds = index[keep], kinds[keep]
    first, last, flat_ids = info[:, 1], info[:, 2], info[:, 3]
    breaks = kinds == DOC_BREAK
    post = np.cumsum(breaks)
    joinable = _PAIRS[last[index[:-1]], first[index[1:]]]
    at = np.flatnonzero(breaks)
    if at.size != len(texts) - 1:
        raise AssertionError("post separator lost while tokenising")  # never expected
    starts = np.concatenate(([0], at - np.arange(at.size), [index.size - at.size]))
    out = _assess(flat_ids[index[~breaks]], starts.astype(np.int64), _WORDS.scores,
                  _WORDS.flags)
    redo = _spaced_face_posts(flat, index, post, np.flatnonzero(joinable),
                              np.concatenate(([-1], at, [index.size])))
    if redo:
        out[redo] = _sentiment_regex([texts[i] for i in redo])
    return out


_FACE_REACH = max(len(f) for group in EMOTICONS.values() for f in group) - 1
"""Pieces a spaced emoticon can reach on either side of a space inside it (one character
each at least)."""


def _spaced_face_posts(flat: np.ndarray, index: np.ndarray, post: np.ndarray,
                       junctions: np.ndarray, bounds: np.ndarray) -> list[int]:
    """The posts where ``RE_SPACED_FACES`` matches their pieces joined by spaces.

    Such a match always spans a junction where two characters of one face meet across a
    space (``junctions``: piece positions followed by such a meeting), and lies within
    ``_FACE_REACH`` pieces of it; so only those few pieces around each junction are
    searched (a match there is a match in the post's text, and every match is found)."""
    found: list[int] = []
    reach = _FACE_REACH
    for junction, d in zip(junctions.tolist(), post[junctions].tolist(), strict=True):
        if found and found[-1] == d:
            continue
        low = max(junction - reach + 1, bounds[d] + 1)
        high = min(junction + reach + 1, bounds[d + 1])
        if RE_SPACED_FACES.search(" ".join(flat[index[low:high]].tolist())):
            found.append(d)
    return found


@holding_memo_lock
def sentiment_many(texts: Iterable[str], *, batch: int = BATCH) -> np.ndarray:
    """TextBlob's ``(polarity, subjectivity)`` of each post, as an array of shape (n, 2).

    Equal to ``[TextBlob(t).sentiment for t in texts]`` (see the module docstring), computed
    ``batch`` posts at a time; not memoised (callers deduplicate).
    """
    values = [t if type(t) is str else str(t) for t in texts]
    out = np.zeros((len(values), 2))
    alone = [i for i, t in enumerate(values) if POST_BREAK in t]
    together = np.setdiff1d(np.arange(len(values)), alone) if alone else np.arange(len(values))
    for start in range(0, together.size, batch):
        rows = together[start : start + batch]
        out[rows] = _sentiment_batch([values[i] for i in rows.tolist()])
    for i in alone:
        out[i] = _sentiment_one_alone(values[i])
    return out


def _sentiment_one_alone(text: str) -> np.ndarray:
    """A post holding the separator character: tokenised on its own (nothing to separate)."""
    tokens = _token_stream([text])
    if not tokens:
        return np.zeros(2)
    codes, uniques = factorize_strings(tokens)
    ids = _WORDS.ids(uniques)[codes]
    return _assess(ids, np.array([0, ids.size], dtype=np.int64), _WORDS.scores, _WORDS.flags)[0]


@holding_memo_lock
def clear_caches() -> None:
    """Forget every memoised token (benchmarks measure cold runs)."""
    RUNS.clear()  # and with it ``_RAW``, which ``text`` shares
    _WORDS.__init__()
    _PIECES.table.clear()


def sentiment(text: str) -> tuple[float, float]:
    """TextBlob's ``(polarity, subjectivity)`` of one post."""
    polarity, subjectivity = sentiment_many([text])[0]
    return float(polarity), float(subjectivity)

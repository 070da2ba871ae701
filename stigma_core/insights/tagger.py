"""The lexicon tagger: one class per post from the word lists, and why (``explain``).

A post's score for a class is the sum of the weights of the entries found in it (whole words
only; leftmost-longest phrases, so "my therapist" counts once, not also as "therapist"); the
highest score wins if it reaches ``MIN_SCORE``, otherwise the post gets the fallback class
(``none`` / ``other``). Ties go to the class listed first in ``PRIORITY`` — the more specific
and more actionable class: ``professional`` > ``community`` > ``self`` (a named setting —
work, care, family, peers — says more about *where* than a first-person mention of one's own
condition: "my friends dropped me over my anxiety" is about friends), ``help_seeking`` >
``actionable`` > ``awareness`` > ``personal_story`` (what a campaign can answer first).

Negation: in themes, an entry right after "not", "no", "never", "don't"… (two words back, not
across punctuation) does not count — "I'm not looking for advice" asks for none. Domains ignore
negation: "my family doesn't judge me" is still about family. ``explain`` shows every entry
found, its weight and whether a negation cancelled it: why a post got its tag.

Speed: texts are tokenised once (one compiled regex) and the lexicon is compiled into a word
trie, so matching costs about one dict lookup per word however many entries there are; each
distinct text is tagged once (``pandas.factorize``), so repeated posts and retweets cost nothing
extra. ``bench/insights_speed.py`` measures it.

``check_lexicon`` is here because the tagger checks every word list it is handed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from stigma_core.errors import CorpusError
from stigma_core.insights.lexicon import (
    CLASS_NAMES,
    FALLBACK,
    KINDS,
    LEXICON,
    MIN_SCORE,
    NEGATION_APPLIES,
    NEGATION_WINDOW,
    NEGATORS,
    PRIORITY,
)

_TOKEN_RE = re.compile(r"[#@]?[a-z0-9&]+(?:'[a-z]+)*|[?!.,;:]")
_BOUNDARY = frozenset("?!.,;:")


# --- the lexicon matcher --------------------------------------------------------------------


def tokenize(text: str) -> list[str]:
    """Lower-case words (apostrophes kept: "don't"), hashtags, and ``? ! . , ; :`` as tokens.

    Punctuation stays a token so that phrases never match across it and a negation never
    reaches over it.
    """
    return _TOKEN_RE.findall(text.lower().replace("\u2019", "'"))


class _Entry(NamedTuple):
    label: int
    weight: float
    term: str


@dataclass(frozen=True)
class _Matcher:
    """A lexicon compiled for one kind into a word trie: each node maps the next word to a
    child node, and ``_END`` to the entries of the phrase ending there. Matching walks the
    trie from each token, so it costs one dict lookup per word, however big the lexicon."""

    labels: tuple[str, ...]
    fallback: str
    negation: bool
    trie: dict
    fast: dict  # the same trie, each phrase's end holding ((class index, weight), ...) only
    dyadic: bool  # every weight a multiple of 1/64: scores are exact, rounding changes nothing


_END = ""  # no token is empty, so this key cannot clash with a word


@lru_cache(maxsize=32)
def _compile(kind: str, frozen: tuple) -> _Matcher:
    labels = tuple(label for label, _ in frozen)
    trie: dict = {}
    for index, (_, terms) in enumerate(frozen):
        for term, weight in terms:
            tokens = tokenize(term)
            if not tokens:
                continue
            node = trie
            for token in tokens:
                node = node.setdefault(token, {})
            node.setdefault(_END, []).append(_Entry(index, weight, term))
    dyadic = all(_is_dyadic(weight) for _, terms in frozen for _, weight in terms)
    return _Matcher(labels, FALLBACK[kind], NEGATION_APPLIES[kind], trie, _fast_trie(trie),
                    dyadic)


def _is_dyadic(value: float) -> bool:
    """A multiple of 1/64 below 2**30 in size: sums of such weights are exact floats with at
    most six decimals, so ``round(score, 9)`` returns the score itself."""
    return abs(value) < 2**30 and float(value * 64).is_integer()


def _exact(matcher: _Matcher) -> bool:
    """Whether ``matcher``'s scores may be compared unrounded (same decisions as ``_decide``):
    its weights and ``MIN_SCORE`` are all multiples of 1/64 (the seed lexicon's are)."""
    return matcher.dyadic and _is_dyadic(MIN_SCORE)


def _fast_trie(node: dict) -> dict:
    """A copy of a trie whose phrase ends hold plain ``(class index, weight)`` pairs, in the
    entries' order (so scores add up in the same order, to the same floats)."""
    return {key: (tuple((e.label, e.weight) for e in child) if key == _END
                  else _fast_trie(child)) for key, child in node.items()}


def _matcher(kind: str, lexicon: Mapping[str, Mapping[str, float]] | None) -> _Matcher:
    """The compiled matcher of ``lexicon`` (one kind's class -> terms; default ``LEXICON``)."""
    if kind not in KINDS:
        raise CorpusError(f"Unknown tag kind {kind!r}; use one of {', '.join(KINDS)}.")
    classes = LEXICON[kind] if lexicon is None else lexicon
    check_lexicon(classes, kind)
    order = [c for c in PRIORITY[kind] if c in classes]
    frozen = tuple((label, tuple(sorted((str(t), float(w)) for t, w in classes[label].items())))
                   for label in order)
    return _compile(kind, frozen)


class Hit(NamedTuple):
    """One lexicon entry found in a post."""

    term: str
    label: str
    weight: float
    negated: bool


def _find(tokens: Sequence[str], matcher: _Matcher) -> list[tuple[int, _Entry, bool]]:
    """Leftmost-longest matches: (position, entry, negated) for every entry found."""
    found = []
    trie, negation = matcher.trie, matcher.negation
    i, n = 0, len(tokens)
    while i < n:
        node = trie.get(tokens[i])
        if node is None:
            i += 1
            continue
        longest, end, j = node.get(_END), i + 1, i + 1
        while j < n:
            node = node.get(tokens[j])
            if node is None:
                break
            j += 1
            if _END in node:
                longest, end = node[_END], j
        if longest is None:
            i += 1
            continue
        negated = negation and _negated(tokens, i)
        found.extend((i, entry, negated) for entry in longest)
        i = end
    return found


def _negated(tokens: Sequence[str], start: int) -> bool:
    """A negation word within ``NEGATION_WINDOW`` tokens before ``start``, not across
    punctuation."""
    for j in range(start - 1, max(start - 1 - NEGATION_WINDOW, -1), -1):
        if tokens[j] in _BOUNDARY:
            return False
        if tokens[j] in NEGATORS:
            return True
    return False


def _token_scores(tokens: Sequence[str], matcher: _Matcher) -> list[float]:
    """Each class's summed weight of the (not negated) entries found in ``tokens``."""
    scores = [0.0] * len(matcher.labels)
    for _, entry, negated in _find(tokens, matcher):
        if not negated:
            scores[entry.label] += entry.weight
    return scores


def _scores(text: str, matcher: _Matcher) -> list[float]:
    return _token_scores(tokenize(text), matcher)


def _decide(scores: Sequence[float], matcher: _Matcher) -> str:
    """The class with the highest score (first in priority order on a tie) if it reaches
    ``MIN_SCORE``, else the fallback class."""
    best, best_score = matcher.fallback, -math.inf
    for label, score in zip(matcher.labels, scores, strict=True):
        if round(score, 9) > best_score:  # strictly: the earlier class keeps a tie
            best, best_score = label, round(score, 9)
    return best if best_score >= MIN_SCORE else matcher.fallback


def _fast_tag(tokens: list[str], matcher: _Matcher) -> str:
    """``_decide(_token_scores(tokens, matcher), matcher)`` — the same tag from the same sums in
    the same order — without building match tuples: only tokens that start a lexicon entry
    are visited (one C-level pass finds them), and a post with none is the fallback at once.
    ``tests/test_insights.py`` checks it equals the plain path on every sample post."""
    trie = matcher.fast
    return _fast_tag_from(tokens, [i for i, token in enumerate(tokens) if token in trie],
                          matcher, _exact(matcher))


def _fast_tag_from(tokens: list[str], starts: list[int], matcher: _Matcher,
                   exact: bool = False) -> str:
    """``_fast_tag`` given the positions whose token may start an entry: every position
    where ``matcher``'s trie has the token, and possibly more (another kind's starts, so that
    ``tag_frame`` scans a post once for both kinds); the others are skipped. ``exact``
    (``_exact(matcher)``): compare the scores as they are, since rounding would not change
    them."""
    if not starts:
        return matcher.fallback
    trie = matcher.fast
    scores = [0.0] * len(matcher.labels)
    n, free, negation = len(tokens), 0, matcher.negation
    for i in starts:
        if i < free:  # inside a phrase already matched (leftmost-longest)
            continue
        node = trie.get(tokens[i])
        if node is None:  # starts another kind's entry only
            continue
        longest, end, j = node.get(_END), i + 1, i + 1
        while j < n:
            node = node.get(tokens[j])
            if node is None:
                break
            j += 1
            found = node.get(_END)
            if found is not None:
                longest, end = found, j
        if longest is None:
            continue
        free = end
        if negation and _negated(tokens, i):
            continue
        for label, weight in longest:
            scores[label] += weight
    # _decide's rule with C-level max/index: the first class (priority order) holding the
    # highest rounded score wins, if that score reaches MIN_SCORE
    if exact:
        top = max(scores)
        return matcher.labels[scores.index(top)] if top >= MIN_SCORE else matcher.fallback
    rounded = [round(score, 9) for score in scores]
    top = max(rounded)
    return matcher.labels[rounded.index(top)] if top >= MIN_SCORE else matcher.fallback


def _tag_one(text: object, matcher: _Matcher, exact: bool = False) -> str:
    if not isinstance(text, str):
        if text is None or (isinstance(text, float) and math.isnan(text)):
            return matcher.fallback
        text = str(text)
    tokens = tokenize(text)
    trie = matcher.fast
    return _fast_tag_from(tokens, [i for i, token in enumerate(tokens) if token in trie],
                          matcher, exact)


def _tag_distinct(texts: Iterable[object], function: Any) -> np.ndarray:
    """``function`` applied once per distinct text, spread back to every position."""
    values = pd.Series(list(texts) if not isinstance(texts, pd.Series) else texts,
                       dtype=object).to_numpy()
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    tagged = np.empty(len(uniques) + 1, dtype=object)
    for position, text in enumerate(uniques):
        tagged[position] = function(text)
    tagged[-1] = function(None)
    return tagged[codes]  # code -1 (missing) picks the last element: the fallback


def tag(texts: Iterable[object], kind: str,
        lexicon: Mapping[str, Mapping[str, float]] | None = None) -> np.ndarray:
    """One class per text for ``kind`` ("domain", "theme" or "help_topic") from the lexicon.

    ``lexicon``: class -> {term: weight} for this kind (default ``LEXICON[kind]``). Missing
    texts get the fallback class. Each distinct text is tagged once.
    """
    matcher = _matcher(kind, lexicon)
    exact = _exact(matcher)
    return _tag_distinct(texts, lambda text: _tag_one(text, matcher, exact)).astype(str)


def tag_domains(texts: Iterable[object],
                lexicon: Mapping[str, Mapping[str, float]] | None = None) -> np.ndarray:
    """``self`` / ``community`` / ``professional`` / ``none`` per text (seed lexicon, no labels
    needed; pass ``lexicon`` — class -> {term: weight} — to use an edited one)."""
    return tag(texts, "domain", lexicon)


def tag_themes(texts: Iterable[object],
               lexicon: Mapping[str, Mapping[str, float]] | None = None) -> np.ndarray:
    """``awareness`` / ``actionable`` / ``help_seeking`` / ``personal_story`` / ``other`` per
    text (seed lexicon, no labels needed; ``lexicon`` as for ``tag_domains``)."""
    return tag(texts, "theme", lexicon)


@dataclass(frozen=True)
class Explanation:
    """Why a post got its tag: the entries found, their weights and each class's score."""

    text: str
    kind: str
    tag: str
    scores: dict[str, float]
    hits: list[Hit] = field(default_factory=list)

    def table(self) -> pd.DataFrame:
        """The entries found as rows, in words: ``Word or phrase, Class, Weight, Counted``
        ("no" where a negation just before cancelled it)."""
        return pd.DataFrame({
            "Word or phrase": [h.term for h in self.hits],
            "Class": [_short_name(h.label) for h in self.hits],
            "Weight": [h.weight for h in self.hits],
            "Counted": ["yes" if not h.negated else "no (negated)" for h in self.hits],
        })

    def words(self) -> str:
        """One plain sentence: the tag and the entries that decided it."""
        counted = [h for h in self.hits if not h.negated and h.label == self.tag]
        tag = _short_name(self.tag)
        if not counted:
            return (f"{self.kind.capitalize()}: {tag} — no {self.kind} class reached a "
                    f"score of {MIN_SCORE:g}.")
        found = ", ".join(f'"{h.term}" ({h.weight:g})' for h in counted)
        score = self.scores[self.tag]
        return f"{self.kind.capitalize()}: {tag} (score {score:g}) from {found}."


def _short_name(label: str) -> str:
    """A class's display name without its gloss: "help_seeking" -> "Help-seeking"."""
    return CLASS_NAMES.get(label, label).split(" (")[0]


def explain(text: str, kind: str = "domain",
            lexicon: Mapping[str, Mapping[str, float]] | None = None) -> Explanation:
    """Which lexicon entries fire in ``text`` for ``kind``, their weights, whether a negation
    cancelled them, each class's score and the resulting tag (same rule as ``tag``)."""
    matcher = _matcher(kind, lexicon)
    text = "" if text is None else str(text)
    hits = [Hit(entry.term, matcher.labels[entry.label], entry.weight, negated)
            for _, entry, negated in _find(tokenize(text), matcher)]
    scores = _scores(text, matcher)
    return Explanation(text, kind, _decide(scores, matcher),
                       dict(zip(matcher.labels, scores, strict=True)), hits)


def explain_domain(text: str, lexicon: Mapping[str, Mapping[str, float]] | None = None
                   ) -> Explanation:
    """``explain`` for the domain tag."""
    return explain(text, "domain", lexicon)


def explain_theme(text: str, lexicon: Mapping[str, Mapping[str, float]] | None = None
                  ) -> Explanation:
    """``explain`` for the theme tag."""
    return explain(text, "theme", lexicon)


# --- checking a word list ------------------------------------------------------------------


def check_lexicon(classes: Mapping[str, Mapping[str, float]], kind: str) -> None:
    """Raise ``CorpusError`` (plain words) for unknown classes, empty terms or bad weights."""
    known = set(PRIORITY[kind])
    for label, terms in classes.items():
        if label not in known:
            raise CorpusError(
                f"The {kind} word list has a class {label!r} that the tagger does not know; "
                f"use one of {', '.join(PRIORITY[kind])}.")
        for term, weight in terms.items():
            if not tokenize(str(term)):
                raise CorpusError(f"The {kind} word list for {label!r} holds an empty term "
                                  f"({term!r}); give words or a phrase.")
            if not isinstance(weight, int | float) or not math.isfinite(weight):
                raise CorpusError(f"The weight of {term!r} ({label}) must be a number, got "
                                  f"{weight!r}.")

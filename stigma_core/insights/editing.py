"""Editing the word lists: add terms, and the whole lexicon to and from a table (CSV).

Every edit returns a new lexicon and leaves ``LEXICON`` as it was, so an edited word list can be
tried, compared and thrown away; each result is checked (``check_lexicon``) before it is used.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping

import pandas as pd

from stigma_core.errors import CorpusError
from stigma_core.insights.lexicon import KINDS, LEXICON
from stigma_core.insights.tagger import _BOUNDARY, check_lexicon, tokenize


def add_terms(lexicon: Mapping[str, Mapping[str, Mapping[str, float]]] | None, kind: str,
              label: str, terms: Iterable[str], weight: float = 1.0
              ) -> dict[str, dict[str, dict[str, float]]]:
    """A copy of the whole ``lexicon`` (default ``LEXICON``) with ``terms`` added to one class
    (a term already there takes the new weight). The original is left as it was."""
    new = copy.deepcopy(dict(LEXICON if lexicon is None else lexicon))
    new = {k: {c: dict(t) for c, t in v.items()} for k, v in new.items()}
    cleaned = [tokenize(str(t)) for t in terms]
    added = {" ".join(tokens): float(weight) for tokens in cleaned
             if any(t == "?" or t not in _BOUNDARY for t in tokens)}
    if not added:
        raise CorpusError("Type at least one word or phrase to add.")
    new.setdefault(kind, {}).setdefault(label, {}).update(added)
    check_lexicon(new[kind], kind)
    return new


def lexicon_table(lexicon: Mapping[str, Mapping[str, Mapping[str, float]]] | None = None
                  ) -> pd.DataFrame:
    """The whole lexicon as rows ``kind, class, term, weight`` (to show or save as CSV)."""
    lexicon = LEXICON if lexicon is None else lexicon
    rows = [(kind, label, term, float(weight))
            for kind, classes in lexicon.items() for label, terms in classes.items()
            for term, weight in terms.items()]
    return pd.DataFrame(rows, columns=["kind", "class", "term", "weight"])


def lexicon_from_table(table: pd.DataFrame) -> dict[str, dict[str, dict[str, float]]]:
    """The nested lexicon from rows ``kind, class, term, weight`` (e.g. an edited CSV)."""
    missing = {"kind", "class", "term", "weight"} - set(table.columns)
    if missing:
        raise CorpusError(f"A word-list table needs the columns kind, class, term and weight; "
                          f"{', '.join(sorted(missing))} missing.")
    lexicon: dict[str, dict[str, dict[str, float]]] = {}
    for kind, label, term, weight in table[["kind", "class", "term", "weight"]].itertuples(
            index=False):
        lexicon.setdefault(str(kind), {}).setdefault(str(label), {})[str(term)] = float(weight)
    for kind, classes in lexicon.items():
        if kind not in KINDS:
            raise CorpusError(f"Unknown kind {kind!r} in the word list; use {', '.join(KINDS)}.")
        check_lexicon(classes, kind)
    return lexicon

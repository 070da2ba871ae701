"""Faster stand-ins, equal to the last bit, for the text steps of a fitted scoring pipeline.

Scoring millions of new posts spends much of its time in per-token Python: scikit-learn's
``CountVectorizer`` (inside ``TfidfVectorizer``) walks every token of every document in a
Python loop with a dictionary per document. For the vectorisers the library builds
(unigrams, tokens = runs of non-whitespace, no stop words, no accent stripping), the same
count matrix comes out of a few array operations: split each document once, map the tokens to
vocabulary ids in one pass, and count (document, id) pairs with ``numpy.unique``, which also
sorts them as ``CountVectorizer`` leaves them (``sort_indices``). The fitted
``TfidfTransformer`` then weights it exactly as before.

:func:`fast_pipeline` gives a copy of a fitted pipeline whose vectoriser computes its counts
this way (the fitted objects are shared, not refitted); anything it does not recognise is
left as it is. Tests compare the matrices and the probabilities with the original pipeline's.
"""

from __future__ import annotations

import copy
import weakref
from itertools import chain, repeat
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction import text as sk_text
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.pipeline import Pipeline

from stigma_core.interning import (
    MEMO_LIMIT,
    POST_BREAK,
    StringInterner,
    holding_memo_lock,
    joined_posts,
)

WHITESPACE_TOKENS = r"\S+"
"""The token pattern whose tokens are exactly ``str.split()``'s (tested over every code point:
``re``'s ``\\s`` and ``str.isspace`` agree)."""


def supports(vectorizer: Any) -> bool:
    """Whether ``count_matrix`` reproduces this fitted vectoriser's counts: a plain
    ``CountVectorizer``/``TfidfVectorizer`` of unigrams split at whitespace, on text content,
    without stop words, accent stripping or custom callables."""
    return (
        type(vectorizer) in (CountVectorizer, TfidfVectorizer)
        and hasattr(vectorizer, "vocabulary_")
        and vectorizer.analyzer == "word"
        and vectorizer.input == "content"
        and vectorizer.tokenizer is None
        and vectorizer.preprocessor is None
        and vectorizer.token_pattern == WHITESPACE_TOKENS
        and tuple(vectorizer.ngram_range) == (1, 1)
        and vectorizer.stop_words is None
        and vectorizer.strip_accents is None
    )


@holding_memo_lock
def count_matrix(vectorizer: Any, docs: list[str]) -> Any:
    """``vectorizer``'s count matrix of ``docs`` (equal to ``CountVectorizer.transform``,
    data, indices, index dtypes and sorting included), for a vectoriser ``supports`` accepts;
    ``docs`` must be strings.

    The documents are joined by a break token and their tokens numbered in one compiled pass
    (``stigma_core.interning``), so only each distinct token is looked up in the vocabulary.
    """
    vocabulary = vectorizer.vocabulary_
    if not docs:
        return _to_matrix(vectorizer, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64),
                          0)
    joined = joined_posts(docs)
    if vectorizer.lowercase:
        joined = joined.lower()  # equal to lower-casing each document: a space parts them
    codes, uniques = _TOKENS.factorize_runs(joined)
    term = np.fromiter(map(vocabulary.get, uniques, repeat(-1)), dtype=np.int64,
                       count=len(uniques))
    breaks = np.zeros(len(uniques), dtype=bool)
    if POST_BREAK in uniques:
        breaks[uniques.index(POST_BREAK)] = True
    at_break = breaks[codes]
    if int(at_break.sum()) != len(docs) - 1:  # a document holds the break token itself
        return _count_matrix_by_doc(vectorizer, docs)
    term[breaks] = -1
    return _to_matrix(vectorizer, np.cumsum(at_break), term[codes], len(docs))


_TOKENS = StringInterner(MEMO_LIMIT)
"""Distinct tokens numbered so far (bounded: see ``interning.MEMO_LIMIT``)."""


def _count_matrix_by_doc(vectorizer: Any, docs: list[str]) -> Any:
    """``count_matrix`` with each document split on its own (for documents holding the
    break token)."""
    lower = vectorizer.lowercase
    splits = [(d.lower() if lower else d).split() for d in docs]
    lengths = np.fromiter(map(len, splits), dtype=np.int64, count=len(splits))
    ids = np.fromiter(map(vectorizer.vocabulary_.get, chain.from_iterable(splits), repeat(-1)),
                      dtype=np.int64, count=int(lengths.sum()))
    rows = np.repeat(np.arange(len(docs), dtype=np.int64), lengths)
    return _to_matrix(vectorizer, rows, ids, len(docs))


def _to_matrix(vectorizer: Any, rows: np.ndarray, ids: np.ndarray, n_docs: int) -> Any:
    """The CSR count matrix of tokens given by document row and vocabulary id (-1: not in
    the vocabulary), built as ``CountVectorizer`` builds it."""
    n_terms = len(vectorizer.vocabulary_)
    width = max(n_terms, 1)
    known = ids >= 0
    pairs, counts = np.unique(rows[known] * width + ids[known], return_counts=True)
    pair_rows = pairs // width
    columns = pairs - pair_rows * width
    indptr = np.zeros(n_docs + 1, dtype=np.int64)
    np.cumsum(np.bincount(pair_rows, minlength=n_docs), out=indptr[1:])
    index_dtype = np.int64 if pairs.size > np.iinfo(np.int32).max else np.int32
    matrix = sp.csr_array(
        (counts.astype(np.intc), columns.astype(index_dtype), indptr.astype(index_dtype)),
        shape=(n_docs, n_terms), dtype=vectorizer.dtype,
    )
    matrix.sort_indices()
    align = getattr(sk_text, "_align_api_if_sparse", None)
    if align is not None:
        matrix = align(matrix)
    if vectorizer.binary:
        matrix.data.fill(1)
    return matrix


class FastVectorizer(BaseEstimator):
    """A fitted ``CountVectorizer``/``TfidfVectorizer`` whose ``transform`` counts with
    :func:`count_matrix` (then weights with the fitted ``TfidfTransformer``, as
    ``TfidfVectorizer.transform`` does). Only ``transform`` is offered: it is for scoring."""

    def __init__(self, vectorizer: Any) -> None:
        self.vectorizer = vectorizer

    def fit(self, X: Any, y: Any = None) -> FastVectorizer:
        """Not offered: wrap an already fitted vectoriser."""
        raise NotImplementedError("FastVectorizer wraps a fitted vectoriser; fit that one.")

    def __sklearn_is_fitted__(self) -> bool:
        return True

    def transform(self, docs: Any) -> Any:
        """The vectoriser's output for ``docs`` (a sequence of strings)."""
        values = list(docs)
        if not all(type(d) is str for d in values):
            return self.vectorizer.transform(values)
        counts = count_matrix(self.vectorizer, values)
        if isinstance(self.vectorizer, TfidfVectorizer):
            return self.vectorizer._tfidf.transform(counts, copy=False)
        return counts


def _fast_branch(branch: Any) -> Any:
    """A text branch (``Pipeline`` ending in a vectoriser ``supports`` accepts) with that
    vectoriser wrapped in ``FastVectorizer``; None when the branch is not such a pipeline."""
    if not isinstance(branch, Pipeline) or not branch.steps:
        return None
    name, last = branch.steps[-1]
    if not supports(last):
        return None
    fast = copy.copy(branch)
    fast.steps = [*branch.steps[:-1], (name, FastVectorizer(last))]
    return fast


_FAST: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def fast_pipeline(pipeline: Any) -> Any:
    """A copy of a fitted ``Pipeline([("features", ColumnTransformer), ..., model])`` whose
    text branches count tokens with :func:`count_matrix`; the fitted steps are shared, so
    ``predict_proba`` gives the same numbers. Returns ``pipeline`` itself when it has no
    branch to speed up. Remembered per pipeline object."""
    try:
        return _FAST[pipeline]
    except (KeyError, TypeError):
        pass
    fast = _build_fast(pipeline)
    try:
        _FAST[pipeline] = fast
    except TypeError:
        pass
    return fast


def _build_fast(pipeline: Any) -> Any:
    if not isinstance(pipeline, Pipeline) or not pipeline.steps:
        return pipeline
    name, columns = pipeline.steps[0]
    if type(columns) is not ColumnTransformer or not hasattr(columns, "transformers_"):
        return pipeline
    replaced = []
    changed = False
    for branch_name, branch, selection in columns.transformers_:
        fast = _fast_branch(branch)
        changed = changed or fast is not None
        replaced.append((branch_name, branch if fast is None else fast, selection))
    if not changed:
        return pipeline
    fast_columns = copy.copy(columns)
    fast_columns.transformers_ = replaced
    fast = copy.copy(pipeline)
    fast.steps = [(name, fast_columns), *pipeline.steps[1:]]
    return fast

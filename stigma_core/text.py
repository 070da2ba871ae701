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
from typing import Any

import numpy as np
import pandas as pd
import simplemma
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS
from sklearn.utils import Tags

from stigma_core.errors import CorpusError
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


@lru_cache(maxsize=CACHE_SIZE)
def _lemma(token: str) -> str:
    """simplemma's English lemma, lower-cased (it capitalises some, e.g. "I", "John")."""
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
    text = html.unescape(text).lower()
    for pattern in (EMAIL_RE, URL_RE, _HANDLE_DROP_RE):
        text = pattern.sub(" ", text)
    text = _NOT_WORD_RE.sub(" ", _APOSTROPHES_RE.sub("", text))
    lemmas = (_lemma(t) for t in _tokenizer().tokenize(text) if t not in STOP_WORDS)
    return " ".join(lemma for lemma in lemmas if lemma not in STOP_WORDS)


def preprocess_many(texts: Iterable[str]) -> list[str]:
    """``preprocess`` for many posts (anything ``as_texts`` accepts), computed once per unique
    text, in the input order."""
    codes, uniques = pd.factorize(np.asarray(as_texts(texts), dtype=object))
    done = np.array([preprocess(u) for u in uniques], dtype=object)
    return done[codes].tolist()


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

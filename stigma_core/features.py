"""The ten engineered features of Jilka et al. (2022), and Welch t-tests between the classes.

The paper added to the bag of words ten numbers about each post: its sentiment and
subjectivity, and eight counts about its form. It kept for the model those that differ
between stigmatising and other posts (Welch's t-test, p < .05). Every feature is computed on
the RAW post (before preprocessing), as defined here; "word" means a run of non-whitespace
characters (``str.split()``) and "letter" a Unicode letter (a word character that is neither
a digit nor ``_``).

- ``sentiment``: TextBlob polarity, -1 (negative) … 1 (positive); 0 with no opinion words.
- ``subjectivity``: TextBlob subjectivity, 0 (factual) … 1 (opinion).
- ``length``: number of characters, spaces included: ``len(text)``.
- ``punctuation_ratio``: punctuation marks / ``length`` (0 for an empty post). A mark is a
  ``string.punctuation`` character or any Unicode punctuation of the Basic Multilingual Plane
  (category P*: curly quotes, dashes, ellipsis…), except ``#`` and ``@``, which open hashtags
  and handles. (The planes above hold only historic scripts' marks; checking them makes the
  count about ten times slower.)
- ``uppercase_words``: words with at least two letters, all of them upper case ("WORLD!!",
  "NHS", "U.S."; not "I", "C#", "Hello").
- ``avg_word_length``: letters per word: all letters / ``word_count`` (0 with no words).
- ``word_count``: number of words.
- ``char_count``: number of characters that are not whitespace. The paper lists "length" and
  "number of characters" apart; this is the second.
- ``hashtag_count``: ``#`` + word characters with at least one non-digit, not glued to a word
  before it ("#mh" counts; "C#" and "#2024" do not).
- ``numeric_count``: number of digit characters ("2024" → 4).

Scoring corpora of millions of posts repeats posts (retweets), so features are computed once
per unique text. Sentiment and subjectivity come from ``stigma_core.sentiment`` (TextBlob's
numbers, computed for a whole batch at once); the eight counts from one compiled pass over the
posts' code points, with each code point's classes (space, letter, digit, punctuation, upper
or lower case) looked up in a table filled from the same regular expressions and ``str``
methods the definitions above use.
"""

from __future__ import annotations

import re
import string
import unicodedata
import warnings
from collections.abc import Sequence
from functools import lru_cache

import numba
import numpy as np
import pandas as pd
from scipy.stats import ttest_ind
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import Tags

from stigma_core.errors import CorpusError, ModelError
from stigma_core.sentiment import sentiment_many
from stigma_core.text import CACHE_SIZE, as_texts

FEATURE_NAMES: tuple[str, ...] = (
    "sentiment", "subjectivity", "length", "punctuation_ratio", "uppercase_words",
    "avg_word_length", "word_count", "char_count", "hashtag_count", "numeric_count",
)
WELCH_COLUMNS: tuple[str, ...] = (
    "mean_stigma", "sd_stigma", "n_stigma", "mean_other", "sd_other", "n_other", "diff",
    "ci_low", "ci_high", "t", "df", "p", "significant",
)
NOT_LETTERS = r"[\W\d_]+"
HASHTAG = r"(?<!\w)#\w*[^\W\d]\w*"


@lru_cache(maxsize=1)
def _punctuation_class() -> str:
    """A regex character class of the punctuation marks counted (see the module docstring).

    Built once, on first use, from Python's ``string.punctuation`` and the Unicode database.
    """
    marks = set(string.punctuation) | {
        chr(i) for i in range(0x10000) if unicodedata.category(chr(i))[0] == "P"
    }
    codes = sorted(ord(c) for c in marks - {"#", "@"})
    runs: list[list[int]] = []
    for code in codes:
        if runs and code == runs[-1][1] + 1:
            runs[-1][1] = code
        else:
            runs.append([code, code])
    return "[" + "".join(rf"\U{a:08x}-\U{b:08x}" for a, b in runs) + "]"


@lru_cache(maxsize=CACHE_SIZE)
def text_sentiment(text: str) -> tuple[float, float]:
    """TextBlob's ``(polarity, subjectivity)`` of one raw post, memoised (equal to
    ``TextBlob(text).sentiment``; see ``stigma_core.sentiment``)."""
    polarity, subjectivity = sentiment_many([text])[0]
    return float(polarity), float(subjectivity)


# Code-point classes, one bit each, in a table over all of Unicode (filled on first sight).
SPACE, PUNCT, LETTER, DIGIT, WORD, UPPER, NOT_UPPER, SEEN = (1 << k for k in range(8))
COUNTS = ("length", "punctuation", "uppercase_words", "letters", "word_count", "char_count",
          "hashtag_count", "numeric_count")


class _CodePoints:
    """Which classes each code point belongs to, decided once per code point by the same
    regular expressions (``\\s``, ``\\d``, ``\\w``, the punctuation class, letters = not
    ``[\\W\\d_]``) and ``str.isupper`` rules the feature definitions use."""

    def __init__(self) -> None:
        self.table = np.zeros(0x110000, dtype=np.uint8)

    def classify(self, points: np.ndarray) -> np.ndarray:
        """The table, with every code point in ``points`` filled in."""
        table = self.table
        new = np.unique(points[(table[points] & SEEN) == 0])
        if new.size:
            punct = re.compile(_punctuation_class())
            letters = re.compile(NOT_LETTERS)
            for code in new.tolist():
                c = chr(code)
                table[code] = (
                    SEEN
                    | SPACE * bool(re.fullmatch(r"\s", c))
                    | PUNCT * bool(punct.fullmatch(c))
                    | LETTER * (letters.fullmatch(c) is None)
                    | DIGIT * bool(re.fullmatch(r"\d", c))
                    | WORD * bool(re.fullmatch(r"\w", c))
                    | UPPER * c.isupper()
                    # lower or title case: a word holding one is never all upper case
                    | NOT_UPPER * (not (c + "A").isupper())
                )
        return table


_CODE_POINTS = _CodePoints()


@numba.njit(cache=True, nogil=True)
def _count(points: np.ndarray, starts: np.ndarray, table: np.ndarray) -> np.ndarray:
    """The eight counts of ``COUNTS`` per post (``points[starts[d]:starts[d + 1]]``), in one
    pass (see the module docstring for the definitions)."""  # pragma: no cover - compiled
    n = starts.size - 1
    out = np.zeros((n, 8), dtype=np.int64)
    for d in range(n):
        a = starts[d]
        b = starts[d + 1]
        punct = 0
        upper_words = 0
        letters = 0
        words = 0
        spaces = 0
        hashtags = 0
        digits = 0
        in_word = False
        word_letters = 0
        word_upper = False
        word_not_upper = False
        previous_is_word = False
        for i in range(a, b):
            f = table[points[i]]
            if f & 1:
                spaces += 1
                if in_word:
                    if word_upper and not word_not_upper and word_letters >= 2:
                        upper_words += 1
                    in_word = False
            else:
                if not in_word:
                    in_word = True
                    words += 1
                    word_letters = 0
                    word_upper = False
                    word_not_upper = False
                if f & 4:
                    word_letters += 1
                if f & 32:
                    word_upper = True
                if f & 64:
                    word_not_upper = True
            if f & 2:
                punct += 1
            if f & 4:
                letters += 1
            if f & 8:
                digits += 1
            if points[i] == 35 and not previous_is_word:
                j = i + 1
                tagged = False
                while j < b and table[points[j]] & 16:
                    if not table[points[j]] & 8:
                        tagged = True
                    j += 1
                if tagged:
                    hashtags += 1
            previous_is_word = (f & 16) != 0
        if in_word and word_upper and not word_not_upper and word_letters >= 2:
            upper_words += 1
        out[d, 0] = b - a
        out[d, 1] = punct
        out[d, 2] = upper_words
        out[d, 3] = letters
        out[d, 4] = words
        out[d, 5] = (b - a) - spaces
        out[d, 6] = hashtags
        out[d, 7] = digits
    return out


def character_counts(texts: list[str], batch: int = 20_000) -> np.ndarray:
    """``COUNTS`` for each post, shape (n, 8), int64, ``batch`` posts per pass."""
    out = np.zeros((len(texts), len(COUNTS)), dtype=np.int64)
    for start in range(0, len(texts), batch):
        part = texts[start : start + batch]
        joined = "".join(part).encode("utf-32-le", "surrogatepass")
        points = np.frombuffer(joined, dtype=np.uint32)
        starts = np.zeros(len(part) + 1, dtype=np.int64)
        np.cumsum(np.fromiter(map(len, part), dtype=np.int64, count=len(part)), out=starts[1:])
        out[start : start + len(part)] = _count(points, starts, _CODE_POINTS.classify(points))
    return out


def _ratio_array(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator as floats, 0 where the denominator is 0."""
    out = np.zeros(numerator.shape, dtype=float)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def _feature_table(texts: list[str], names: list[str]) -> pd.DataFrame:
    """The requested features of each (distinct) post, columns in ``names`` order."""
    columns: dict[str, np.ndarray] = {}
    if {"sentiment", "subjectivity"} & set(names):
        both = sentiment_many(texts)
        columns["sentiment"], columns["subjectivity"] = both[:, 0], both[:, 1]
    if set(names) - {"sentiment", "subjectivity"}:
        c = dict(zip(COUNTS, character_counts(texts).T, strict=True))
        columns.update(
            length=c["length"],
            punctuation_ratio=_ratio_array(c["punctuation"], c["length"]),
            uppercase_words=c["uppercase_words"],
            avg_word_length=_ratio_array(c["letters"], c["word_count"]),
            word_count=c["word_count"],
            char_count=c["char_count"],
            hashtag_count=c["hashtag_count"],
            numeric_count=c["numeric_count"],
        )
    return pd.DataFrame({name: columns[name] for name in names})


def check_feature_names(columns: Sequence[str]) -> list[str]:
    """The requested feature names as a list; a plain-words ``ModelError`` for unknown ones."""
    names = [columns] if isinstance(columns, str) else list(columns)
    unknown = [str(c) for c in names if c not in FEATURE_NAMES]
    if unknown or not names:
        problem = f"Unknown features: {', '.join(unknown)}." if unknown else "No features chosen."
        raise ModelError(
            f"{problem} Choose one or more engineered features of: {', '.join(FEATURE_NAMES)}."
        )
    return names


def compute_features(texts: object, columns: Sequence[str] = FEATURE_NAMES) -> pd.DataFrame:
    """The engineered features (all ten, or ``columns``) of each raw post, one row per post.

    ``texts``: anything ``stigma_core.text.as_texts`` accepts; a Series or DataFrame keeps its
    index. Each unique text is measured once and the rows are then laid out in input order.
    """
    names = check_feature_names(columns)
    codes, uniques = pd.factorize(np.asarray(as_texts(texts), dtype=object))
    table = _feature_table(uniques.tolist(), names)
    keep_index = isinstance(texts, pd.Series | pd.DataFrame)
    return table.take(codes).set_axis(texts.index if keep_index else pd.RangeIndex(len(codes)))


class EngineeredFeatures(TransformerMixin, BaseEstimator):
    """sklearn step: posts → the selected engineered features as a float array.

    Stateless. Takes a Series/sequence of texts or a DataFrame with a ``text`` column (a
    ``ColumnTransformer`` selecting ``"text"`` passes a Series, ``["text"]`` a DataFrame).
    """

    def __init__(self, columns: Sequence[str] = FEATURE_NAMES) -> None:
        self.columns = columns

    def fit(self, X: object, y: object = None) -> EngineeredFeatures:
        """Nothing to learn; checks the feature names so a bad request fails at fit time."""
        check_feature_names(self.columns)
        return self

    def transform(self, X: object) -> np.ndarray:
        """The features of each post, shape (n_posts, n_columns), dtype float."""
        return compute_features(X, columns=self.columns).to_numpy(dtype=float)

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        """The selected feature names, in output order."""
        return np.asarray(check_feature_names(self.columns), dtype=object)

    def __sklearn_tags__(self) -> Tags:
        """Stateless, and takes raw strings."""
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.string = True
        return tags


def welch_tests(features: pd.DataFrame, labels: object, alpha: float = 0.05) -> pd.DataFrame:
    """Welch's t-test of each feature between stigmatising (label 1) and other (0) posts.

    Why Welch: the two classes differ in size and spread, so equal variances are not assumed
    (``scipy.stats.ttest_ind(equal_var=False)``). Rows are matched to labels by position.
    Returns one row per feature (index = feature name) with the class means, SDs (ddof=1) and
    sizes, ``diff`` = mean_stigma − mean_other with its (1 − alpha) confidence interval
    (95% by default), Welch's ``t``, ``df`` and two-sided ``p``, and ``significant`` =
    p < alpha. A feature with no spread at all has t and p NaN and is not significant.
    """
    y = _binary_labels(labels, len(features))
    x = _numeric_matrix(features)
    stigma, other = x[y == 1], x[y == 0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = ttest_ind(stigma, other, equal_var=False, axis=0)
        ci = result.confidence_interval(confidence_level=1 - alpha)
    return pd.DataFrame(
        {
            "mean_stigma": stigma.mean(axis=0), "sd_stigma": stigma.std(axis=0, ddof=1),
            "n_stigma": len(stigma),
            "mean_other": other.mean(axis=0), "sd_other": other.std(axis=0, ddof=1),
            "n_other": len(other),
            "diff": stigma.mean(axis=0) - other.mean(axis=0),
            "ci_low": ci.low, "ci_high": ci.high,
            "t": result.statistic, "df": result.df, "p": result.pvalue,
            "significant": np.asarray(result.pvalue < alpha, dtype=bool),
        },
        index=pd.Index([str(c) for c in features.columns], name="feature"),
    )


def significant_features(table: pd.DataFrame) -> list[str]:
    """Names of the features ``welch_tests`` marked significant, in table order."""
    return table.index[table["significant"].astype(bool)].tolist()


def _binary_labels(labels: object, n_rows: int) -> np.ndarray:
    """Labels as an int array of 0/1, checked against the feature table in plain words."""
    values = pd.Series(np.asarray(labels, dtype=object).ravel())
    if len(values) != n_rows:
        raise CorpusError(
            f"There are {len(values)} labels for {n_rows} posts. Give one label per post."
        )
    codes = pd.to_numeric(values, errors="coerce")
    if not codes.isin([0, 1]).all():
        raise CorpusError(
            "Labels must be 1 (stigmatising) or 0 (not) for every post; found "
            f"{', '.join(map(repr, values[~codes.isin([0, 1])].unique()[:3]))}. "
            "Fix or drop the posts without a 0/1 label."
        )
    y = codes.to_numpy(dtype=int)
    if min((y == 1).sum(), (y == 0).sum()) < 2:
        raise CorpusError(
            "Comparing the classes needs at least two stigmatising (1) and two other (0) "
            f"posts; there are {(y == 1).sum()} and {(y == 0).sum()}. Code more posts."
        )
    return y


def _numeric_matrix(features: pd.DataFrame) -> np.ndarray:
    """The feature table as a float matrix; plain-words errors for text or missing values."""
    if features.shape[1] == 0:
        raise CorpusError("The feature table has no columns. Compute the features first.")
    try:
        x = features.to_numpy(dtype=float)
    except (TypeError, ValueError) as error:
        raise CorpusError(
            f"Every feature must be a number; the table holds text ({error}). Pass the "
            "output of compute_features."
        ) from error
    bad = ~np.isfinite(x).all(axis=0)
    if bad.any():
        raise CorpusError(
            "These features have missing or infinite values: "
            f"{', '.join(map(str, features.columns[bad]))}. Recompute or fill them first."
        )
    return x

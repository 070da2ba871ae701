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
per unique text, with pandas ``.str`` methods; TextBlob's sentiment, the slow part, is also
memoised per text across calls.
"""

from __future__ import annotations

import string
import unicodedata
import warnings
from collections.abc import Callable, Sequence
from functools import lru_cache

import numpy as np
import pandas as pd
from scipy.stats import ttest_ind
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import Tags
from textblob.en.sentiments import pattern_sentiment

from stigma_core.errors import CorpusError, ModelError
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
    """TextBlob's ``(polarity, subjectivity)`` of one raw post, memoised.

    Calls the pattern analyser that ``TextBlob(text).sentiment`` and ``PatternAnalyzer``
    both delegate to, skipping the blob and namedtuple built around it on every call: the
    same numbers, about 1.5x faster (measured on the MHStigmaInterview texts).
    """
    polarity, subjectivity = pattern_sentiment(text)
    return float(polarity), float(subjectivity)


def _ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """numerator / denominator as floats, 0 where the denominator is 0."""
    return (numerator / denominator.where(denominator > 0)).fillna(0.0).astype(float)


def _letters(s: pd.Series) -> pd.Series:
    """Number of letters in each text (deleting runs of non-letters is faster than counting)."""
    return s.str.replace(NOT_LETTERS, "", regex=True).str.len()


def _uppercase_words(s: pd.Series) -> pd.Series:
    """Words with at least two letters, all upper case (``str.isupper`` ignores non-letters)."""
    words = s.str.split().explode()
    upper = words[words.str.isupper().eq(True)]
    shouting = _letters(upper) >= 2
    return shouting.groupby(level=0).sum().reindex(s.index, fill_value=0).astype("int64")


_FEATURES: dict[str, Callable[[pd.Series], pd.Series]] = {
    "sentiment": lambda s: s.map(lambda t: text_sentiment(t)[0]),
    "subjectivity": lambda s: s.map(lambda t: text_sentiment(t)[1]),
    "length": lambda s: s.str.len(),
    "punctuation_ratio": lambda s: _ratio(s.str.count(_punctuation_class()), s.str.len()),
    "uppercase_words": _uppercase_words,
    "avg_word_length": lambda s: _ratio(_letters(s), s.str.count(r"\S+")),
    "word_count": lambda s: s.str.count(r"\S+"),
    "char_count": lambda s: s.str.len() - s.str.count(r"\s"),
    "hashtag_count": lambda s: s.str.count(HASHTAG),
    "numeric_count": lambda s: s.str.count(r"\d"),
}


def check_feature_names(columns: Sequence[str]) -> list[str]:
    """The requested feature names as a list; a plain-words ``ModelError`` for unknown ones."""
    names = [columns] if isinstance(columns, str) else list(columns)
    unknown = [str(c) for c in names if c not in _FEATURES]
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
    unique_texts = pd.Series(uniques, dtype=object)
    table = pd.DataFrame({name: _FEATURES[name](unique_texts) for name in names})
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

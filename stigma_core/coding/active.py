"""Coding smarter: which posts to code next, how the model improves with more codes, and
which final labels deserve a second look.

* ``suggest_posts`` — active learning: a quick model trained on the posts coded so far
  scores the uncoded ones; the most uncertain (probability near 0.5) are candidates, and a
  k-means over their TF-IDF vectors keeps them diverse (one per cluster), so a round of coding
  does not spend itself on ten versions of one post. Posts chosen this way are not a random
  sample: they improve the model but must never be used to estimate prevalence.
* ``learning_curve`` — cross-validated AUC against the number of coded posts (is more coding
  still paying off?).
* ``suspect_labels`` — confident learning in the spirit of cleanlab (Northcutt et al. 2021):
  out-of-fold probabilities; a post is suspect when the model is confident, beyond that
  class's own typical confidence, that it belongs to the other class. Suspects are offered
  for a second look and never changed automatically.

The quick model is the house pipeline (``models.build_pipeline``) with logistic regression
on the preprocessed text only, which trains in well under a second on a few hundred posts.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.cluster import KMeans
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.model_selection import learning_curve as sk_learning_curve
from sklearn.pipeline import Pipeline

from stigma_core.errors import CodingError
from stigma_core.models import build_pipeline

MIN_PER_CLASS = 10
"""Fewest coded posts of each kind before a model's opinion is worth anything here."""


def quick_model(seed: int = 0) -> Pipeline:
    """Logistic regression on TF-IDF of the preprocessed text (no engineered features)."""
    return build_pipeline("logistic_regression", [], seed=seed)


def _frame(texts: Sequence[str]) -> pd.DataFrame:
    return pd.DataFrame({"text": [str(t) for t in texts]})


def _labels(labels: Sequence[int]) -> np.ndarray:
    values = np.asarray(pd.to_numeric(pd.Series(labels), errors="coerce"), float)
    if not np.isin(values, (0.0, 1.0)).all():
        raise CodingError("Final labels must all be 1 (stigmatising) or 0 (not).")
    return values.astype(int)


def enough_codes(labels: Sequence[int]) -> bool:
    """True when there are at least ``MIN_PER_CLASS`` coded posts of each kind."""
    values = _labels(labels)
    return min((values == 1).sum(), (values == 0).sum()) >= MIN_PER_CLASS


def suggest_posts(
    candidates: Sequence[str], coded_texts: Sequence[str], coded_labels: Sequence[int],
    n: int = 20, *, seed: int = 0, pool_factor: int = 5,
) -> pd.DataFrame:
    """The ``n`` uncoded posts to code next: uncertain for the model, and unlike each other.

    Returns columns text, probability (NaN when drawn at random), uncertainty (1 at p = 0.5,
    0 at p = 0 or 1), why. With fewer than ``MIN_PER_CLASS`` coded posts of each kind the
    model cannot be trusted to know what it does not know, so the posts are drawn at random.
    """
    pool = pd.Series([str(t) for t in candidates]).drop_duplicates()
    pool = pool[~pool.isin(set(map(str, coded_texts)))].reset_index(drop=True)
    if pool.empty:
        raise CodingError("Every post of the corpus is coded already: there is nothing to "
                          "suggest.")
    n = min(n, len(pool))
    rng = np.random.default_rng(seed)
    if not len(coded_labels) or not enough_codes(coded_labels):
        picked = pool.iloc[rng.choice(len(pool), n, replace=False)]
        why = (f"random: the model needs at least {MIN_PER_CLASS} coded posts of each kind "
               "before it can tell which posts it is unsure about")
        return pd.DataFrame({"text": picked.to_numpy(), "probability": np.nan,
                             "uncertainty": np.nan, "why": why})
    model = quick_model(seed).fit(_frame(coded_texts), _labels(coded_labels))
    proba = model.predict_proba(_frame(pool))[:, 1]
    uncertainty = 1 - 2 * np.abs(proba - 0.5)
    top = np.argsort(-uncertainty, kind="stable")[: max(n, n * pool_factor)]
    chosen = _diverse(model, pool.iloc[top], uncertainty[top], n, seed)
    index = top[chosen]
    return pd.DataFrame({
        "text": pool.iloc[index].to_numpy(), "probability": proba[index],
        "uncertainty": uncertainty[index],
        "why": "the model is unsure about it, and it is unlike the other suggestions",
    })


def _diverse(model: Pipeline, texts: pd.Series, uncertainty: np.ndarray, n: int,
             seed: int) -> np.ndarray:
    """Positions (into ``texts``) of the most uncertain post in each of ``n`` k-means clusters."""
    if len(texts) <= n:
        return np.arange(len(texts))
    vectors = model.named_steps["features"].transform(_frame(texts))
    clusters = KMeans(n_clusters=n, n_init=3, random_state=seed).fit_predict(vectors)
    picked = [int(np.flatnonzero(clusters == c)[np.argmax(uncertainty[clusters == c])])
              for c in np.unique(clusters)]
    return np.array(sorted(picked, key=lambda i: -uncertainty[i]))


def _folds(labels: np.ndarray, cv: int) -> int:
    smallest = int(min((labels == 1).sum(), (labels == 0).sum()))
    if smallest < 2:
        raise CodingError("Both kinds of post must be coded (at least two of each) first.")
    return min(cv, smallest)


def learning_curve(
    texts: Sequence[str], labels: Sequence[int], *, steps: int = 6, cv: int = 5, seed: int = 0,
) -> pd.DataFrame:
    """Cross-validated AUC of the quick model trained on growing shares of the coded posts.

    Columns: n_coded (training posts at that step), auc (mean over folds), ci_low, ci_high
    (t interval over folds), folds. A curve still rising says: more coding will pay off.
    """
    y = _labels(labels)
    folds = _folds(y, cv)
    sizes, _, scores = sk_learning_curve(
        quick_model(seed), _frame(texts), y, train_sizes=np.linspace(0.2, 1.0, steps),
        cv=StratifiedKFold(folds, shuffle=True, random_state=seed), scoring="roc_auc",
        shuffle=True, random_state=seed, error_score=np.nan)
    mean = np.nanmean(scores, axis=1)
    sd = np.nanstd(scores, axis=1, ddof=1)
    half = stats.t.ppf(0.975, folds - 1) * sd / np.sqrt(folds)
    return pd.DataFrame({"n_coded": sizes, "auc": mean, "ci_low": mean - half,
                         "ci_high": np.minimum(mean + half, 1.0), "folds": folds})


def suspect_labels(
    texts: Sequence[str], labels: Sequence[int], *, cv: int = 5, seed: int = 0,
) -> pd.DataFrame:
    """Final labels a confident model disagrees with, most suspect first.

    Columns: text, label, probability (out-of-fold, of "stigmatising"), self_confidence
    (the model's probability for the given label), suspect (bool). Per-class thresholds are
    the mean out-of-fold confidence of posts labelled with that class (confident learning),
    so a model that is generally timid does not flag everything.
    """
    y = _labels(labels)
    folds = _folds(y, cv)
    proba = cross_val_predict(quick_model(seed), _frame(texts), y, method="predict_proba",
                              cv=StratifiedKFold(folds, shuffle=True, random_state=seed))[:, 1]
    threshold_1 = proba[y == 1].mean()
    threshold_0 = (1 - proba[y == 0]).mean()
    self_confidence = np.where(y == 1, proba, 1 - proba)
    other_confident = np.where(y == 1, 1 - proba >= threshold_0, proba >= threshold_1)
    own_unsure = np.where(y == 1, proba < threshold_1, 1 - proba < threshold_0)
    table = pd.DataFrame({"text": [str(t) for t in texts], "label": y, "probability": proba,
                          "self_confidence": self_confidence,
                          "suspect": other_confident & own_unsure & (self_confidence < 0.5)})
    return table.sort_values("self_confidence", kind="stable").reset_index(drop=True)

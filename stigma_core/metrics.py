"""How good is a stigma classifier, and where should its threshold sit?

Every figure comes with a 95% percentile-bootstrap interval, because the coded sets this
project works with are small (hundreds of posts) and a bare number would overstate what is
known. Bootstraps resample rows with a seeded numpy ``Generator`` and are vectorised: each
resample is a row of counts, so 1,000 resamples cost a few array operations, not 1,000 calls
into scikit-learn. Point values come from scikit-learn.

Service users in Jilka et al. (2022) asked for "as few missed stigmatising posts as
possible", so thresholds are chosen from costs (a missed post can cost more than a false
alarm) or from a recall target, in one sort plus cumulative counts: fast enough to follow a
slider in the dashboard without refitting anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd
from sklearn.metrics import (
    accuracy_score,
    cohen_kappa_score,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)
from statsmodels.stats.proportion import proportion_confint

from stigma_core.errors import ModelError

CI_LEVEL = 0.95
METRIC_NAMES = (
    "auc",
    "accuracy",
    "false_negatives",
    "false_positives",
    "precision",
    "recall",
    "kappa",
    "predicted_positive_share",
)
# Bootstrap work is done in blocks of resamples holding at most this many cells, so a large
# test set never needs one huge (n_boot x n) matrix in memory.
_BLOCK_CELLS = 2_000_000


class Estimate(NamedTuple):
    """A figure with its 95% confidence interval and the number of rows it rests on."""

    value: float
    ci_low: float
    ci_high: float
    n: int


def _as_labels(y: Sequence[int] | np.ndarray, what: str = "labels") -> np.ndarray:
    """Labels as an int array of 0/1, or a plain-words error."""
    arr = np.asarray(y)
    if arr.ndim != 1 or arr.size == 0:
        raise ModelError(f"The {what} must be a non-empty list of 0/1 codes.")
    if not np.isin(arr, (0, 1)).all():
        raise ModelError(f"The {what} must be 0 (not stigmatising) or 1 (stigmatising) only.")
    return arr.astype(np.int64)


def _as_pair(y_true: Sequence[int], proba: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """Validated (labels, probabilities) of the same length."""
    y = _as_labels(y_true)
    p = np.asarray(proba, dtype=np.float64)
    if p.shape != y.shape:
        raise ModelError(
            f"There are {y.size} labels but {p.size} probabilities; they must match one to one."
        )
    if not np.isfinite(p).all():
        raise ModelError("Some probabilities are missing or not numbers.")
    return y, p


def confusion_counts(y_true: Sequence[int], y_pred: Sequence[int]) -> dict[str, int]:
    """Counts of true/false positives and negatives (1 = stigmatising) for 0/1 predictions."""
    y = _as_labels(y_true)
    pred = _as_labels(y_pred, "predictions")
    if pred.shape != y.shape:
        raise ModelError("Labels and predictions must have the same length.")
    tn, fp, fn, tp = np.bincount(2 * y + pred, minlength=4)
    return {"tp": int(tp), "fp": int(fp), "tn": int(tn), "fn": int(fn)}


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den with NaN where den is 0 (an undefined rate, e.g. precision of no flags)."""
    num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


def _kappa_from_confusion(cm: np.ndarray) -> np.ndarray:
    """Cohen's kappa for a stack of square confusion matrices (..., k, k) of counts."""
    n = cm.sum(axis=(-2, -1))
    observed = np.trace(cm, axis1=-2, axis2=-1)
    expected = (cm.sum(axis=-1) * cm.sum(axis=-2)).sum(axis=-1) / np.where(n > 0, n, 1)
    return _ratio(observed - expected, n - expected)


def _count_metrics(cells: np.ndarray) -> dict[str, np.ndarray]:
    """Threshold metrics from (..., 4) counts ordered tn, fp, fn, tp."""
    tn, fp, fn, tp = (cells[..., i].astype(float) for i in range(4))
    n = tn + fp + fn + tp
    cm = np.stack([np.stack([tn, fp], -1), np.stack([fn, tp], -1)], -2)
    return {
        "accuracy": _ratio(tp + tn, n),
        "false_negatives": fn,
        "false_positives": fp,
        "precision": _ratio(tp, tp + fp),
        "recall": _ratio(tp, tp + fn),
        "kappa": _kappa_from_confusion(cm),
        "predicted_positive_share": _ratio(tp + fp, n),
    }


def _weighted_auc(weights: np.ndarray, y: np.ndarray, proba: np.ndarray) -> np.ndarray:
    """ROC AUC for each row of ``weights`` (row counts of a resample), ties counted half.

    Sorting once and summing weights within tied scores gives, per resample, the weighted
    Mann-Whitney statistic; resamples holding one class only give NaN.
    """
    order = np.argsort(proba, kind="stable")
    scores = proba[order]
    starts = np.flatnonzero(np.r_[True, scores[1:] != scores[:-1]])
    w = weights[:, order]
    positive = y[order] == 1
    pos = np.add.reduceat(np.where(positive, w, 0.0), starts, axis=1)
    neg = np.add.reduceat(np.where(positive, 0.0, w), starts, axis=1)
    neg_below = np.cumsum(neg, axis=1) - neg
    wins = (pos * (neg_below + 0.5 * neg)).sum(axis=1)
    return _ratio(wins, pos.sum(axis=1) * neg.sum(axis=1))


def _resample_weights(rng: np.random.Generator, n: int, size: int) -> np.ndarray:
    """``size`` bootstrap resamples of ``n`` rows, each as a row of per-row draw counts."""
    draws = rng.integers(0, n, size=(size, n))
    offsets = (np.arange(size) * n)[:, None]
    return np.bincount((draws + offsets).ravel(), minlength=size * n).reshape(size, n)


def _blocks(n_boot: int, n: int) -> list[int]:
    """Block sizes summing to ``n_boot`` that keep each block under ``_BLOCK_CELLS`` cells."""
    per_block = max(1, _BLOCK_CELLS // max(n, 1))
    return [min(per_block, n_boot - start) for start in range(0, n_boot, per_block)]


def _interval(samples: np.ndarray) -> tuple[float, float]:
    """Percentile interval of the defined (non-NaN) bootstrap values; NaNs when none are."""
    finite = samples[np.isfinite(samples)]
    if finite.size == 0:
        return float("nan"), float("nan")
    tail = 100 * (1 - CI_LEVEL) / 2
    low, high = np.percentile(finite, [tail, 100 - tail])
    return float(low), float(high)


def _point_metrics(y: np.ndarray, proba: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    """Point values, from scikit-learn where it defines them."""
    cells = np.bincount(2 * y + pred, minlength=4)
    values = {k: float(v) for k, v in _count_metrics(cells).items()}
    values["accuracy"] = float(accuracy_score(y, pred))
    values["auc"] = float(roc_auc_score(y, proba)) if np.unique(y).size == 2 else float("nan")
    if np.isfinite(values["kappa"]):
        values["kappa"] = float(cohen_kappa_score(y, pred))
    return values


def evaluate(
    y_true: Sequence[int],
    proba: Sequence[float],
    threshold: float = 0.5,
    n_boot: int = 1000,
    seed: int = 0,
) -> dict[str, Estimate]:
    """Test-set figures at ``threshold`` (flag when probability >= threshold), with 95% CIs.

    Returns an :class:`Estimate` for each of ``METRIC_NAMES``. Intervals are percentile
    bootstraps over rows (``n_boot`` resamples, seeded, so the same call gives the same
    interval); a resample in which a figure is undefined (one class only for AUC, no flags for
    precision) is skipped for that figure. Undefined point values are NaN.
    """
    y, p = _as_pair(y_true, proba)
    pred = (p >= threshold).astype(np.int64)
    points = _point_metrics(y, p, pred)
    cell_of_row = np.eye(4)[2 * y + pred]
    rng = np.random.default_rng(seed)
    samples: dict[str, list[np.ndarray]] = {name: [] for name in METRIC_NAMES}
    for size in _blocks(n_boot, y.size):
        weights = _resample_weights(rng, y.size, size)
        for name, values in _count_metrics(weights @ cell_of_row).items():
            samples[name].append(values)
        samples["auc"].append(_weighted_auc(weights, y, p))
    return {
        name: Estimate(points[name], *_interval(np.concatenate(samples[name])), int(y.size))
        for name in METRIC_NAMES
    }


@dataclass(frozen=True)
class OperatingPoints:
    """Every distinct way of thresholding one set of scores, with its counts.

    Row ``i`` flags the posts scoring ``>= thresholds[i]``; row 0 flags nothing (its threshold
    sits just above the top score). Built once with one sort; each question after that (best
    threshold for a cost ratio, for a recall target) is a vectorised pass, so a dashboard
    slider can move without refitting or re-sorting.
    """

    thresholds: np.ndarray
    tp: np.ndarray
    fp: np.ndarray
    positives: int
    negatives: int

    @classmethod
    def from_scores(cls, y_true: Sequence[int], proba: Sequence[float]) -> OperatingPoints:
        """Sort once (descending) and accumulate true/false positives at each distinct score."""
        y, p = _as_pair(y_true, proba)
        order = np.argsort(-p, kind="stable")
        scores, labels = p[order], y[order]
        ends = np.r_[np.flatnonzero(scores[1:] != scores[:-1]), scores.size - 1]
        tp = np.cumsum(labels)[ends]
        fp = (ends + 1) - tp
        top = np.nextafter(scores[0], np.inf)
        return cls(
            thresholds=np.r_[top, scores[ends]],
            tp=np.r_[0, tp],
            fp=np.r_[0, fp],
            positives=int(labels.sum()),
            negatives=int(labels.size - labels.sum()),
        )

    @property
    def fn(self) -> np.ndarray:
        """Missed stigmatising posts at each threshold."""
        return self.positives - self.tp

    def for_cost(self, fn_cost: float, fp_cost: float = 1.0) -> float:
        """Threshold minimising ``fn_cost * FN + fp_cost * FP`` (highest one on ties)."""
        if fn_cost < 0 or fp_cost < 0 or not np.isfinite([fn_cost, fp_cost]).all():
            raise ModelError("Costs of a missed post and of a false alarm must be 0 or more.")
        cost = fn_cost * self.fn + fp_cost * self.fp
        return float(self.thresholds[int(np.argmin(cost))])

    def for_recall(self, target: float) -> float:
        """Highest threshold that still finds at least ``target`` of the stigmatising posts."""
        if not 0 < target <= 1:
            raise ModelError(
                f"The recall target must be above 0 and at most 1 (got {target}); "
                "e.g. 0.9 means 'find at least 90% of the stigmatising posts'."
            )
        if self.positives == 0:
            raise ModelError(
                "No post is labelled stigmatising, so no threshold can be set for recall."
            )
        reached = self.tp >= target * self.positives - 1e-9
        return float(self.thresholds[int(np.argmax(reached))])


def threshold_for_cost(
    y_true: Sequence[int], proba: Sequence[float], fn_cost: float, fp_cost: float = 1.0
) -> float:
    """Threshold minimising the total cost of errors when a miss costs ``fn_cost``.

    With ``fn_cost`` above ``fp_cost`` the threshold falls and fewer stigmatising posts are
    missed, at the price of more false alarms. One sort, then O(n); for a slider, build
    :class:`OperatingPoints` once and call :meth:`OperatingPoints.for_cost` per move.
    """
    return OperatingPoints.from_scores(y_true, proba).for_cost(fn_cost, fp_cost)


def threshold_for_recall(y_true: Sequence[int], proba: Sequence[float], target: float) -> float:
    """Highest threshold whose recall on these labels is at least ``target`` (0 < target <= 1)."""
    return OperatingPoints.from_scores(y_true, proba).for_recall(target)


def _codes_pair(a: Sequence, b: Sequence) -> tuple[np.ndarray, np.ndarray, int]:
    """Two raters' codes as integer category codes, rows missing either code dropped."""
    first, second = np.asarray(a, dtype=object), np.asarray(b, dtype=object)
    if first.shape != second.shape or first.ndim != 1:
        raise ModelError("The two sets of codes must be lists of the same length.")
    keep = ~(pd.isna(first) | pd.isna(second))
    if not keep.any():
        raise ModelError("No post has a code from both raters, so agreement cannot be measured.")
    values = np.r_[first[keep], second[keep]]
    try:
        values = values.astype(float)  # 1 and 1.0 are the same code
    except (TypeError, ValueError):
        values = values.astype(str)
    categories, codes = np.unique(values, return_inverse=True)
    half = int(keep.sum())
    return codes[:half], codes[half:], int(categories.size)


def cohen_kappa_ci(a: Sequence, b: Sequence, n_boot: int = 1000, seed: int = 0) -> Estimate:
    """Cohen's kappa between two codings of the same posts, with a 95% bootstrap CI.

    Posts missing either code are left out (``n`` says how many were used). The point value
    is scikit-learn's; the interval resamples posts (seeded), vectorised over confusion
    matrices. Kappa is NaN where it is undefined (both raters always give the same one code).
    """
    first, second, k = _codes_pair(a, b)
    cell = first * k + second
    onehot = np.eye(k * k)[cell]
    point = _kappa_from_confusion(np.bincount(cell, minlength=k * k).reshape(k, k))
    if np.isfinite(point):
        point = cohen_kappa_score(first, second)
    rng = np.random.default_rng(seed)
    samples = [
        _kappa_from_confusion((_resample_weights(rng, cell.size, size) @ onehot).reshape(-1, k, k))
        for size in _blocks(n_boot, cell.size)
    ]
    return Estimate(float(point), *_interval(np.concatenate(samples)), int(cell.size))


def wilson_interval(k: int, n: int, alpha: float = 0.05) -> tuple[float, float]:
    """Wilson score interval for ``k`` successes in ``n`` trials (NaNs when ``n`` is 0)."""
    if n <= 0:
        return float("nan"), float("nan")
    low, high = proportion_confint(k, n, alpha=alpha, method="wilson")
    return float(low), float(high)


def curves(y_true: Sequence[int], proba: Sequence[float]) -> dict[str, dict[str, np.ndarray]]:
    """ROC and precision-recall curves for plotting.

    Returns ``{"roc": {"fpr", "tpr", "threshold"}, "pr": {"precision", "recall",
    "threshold"}}`` from scikit-learn (``drop_intermediate`` keeps the ROC light to draw).
    """
    y, p = _as_pair(y_true, proba)
    if np.unique(y).size < 2:
        raise ModelError("Curves need both stigmatising and other posts among the labels.")
    fpr, tpr, roc_thr = roc_curve(y, p)
    precision, recall, pr_thr = precision_recall_curve(y, p)
    return {
        "roc": {"fpr": fpr, "tpr": tpr, "threshold": roc_thr},
        "pr": {"precision": precision, "recall": recall, "threshold": np.r_[pr_thr, np.inf]},
    }

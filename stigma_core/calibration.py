"""Calibrated probabilities: a model's "70%" should come true for about 70% of such posts.

A classifier ranks posts well long before its scores can be read as probabilities: naive
Bayes pushes everything to 0 or 1, a strongly regularised logistic regression huddles near
the base rate. An advisory group reading "this post: 70% likely stigmatising" needs the
number itself to be right, so this module:

- fits a monotone map from a model's scores to probabilities on *cross-validated*
  (out-of-fold) scores of the training posts, never on the posts being scored: Platt
  scaling (a logistic curve on the score's log-odds, two numbers) or isotonic regression
  (a step function, more flexible, needs more posts) — :class:`ProbabilityCalibrator`;
- wraps a fitted model with that map so a saved pipeline gives calibrated probabilities
  everywhere (:class:`CalibratedModel`);
- measures calibration: the reliability curve (per bin of predicted probability, the share
  that really was stigmatising, with a Wilson 95% interval) and the Brier score (mean squared
  difference between probability and outcome; 0 perfect, 0.25 a coin flip at a 50% base rate)
  with a bootstrap 95% interval;
- turns the operating point into workload: how many posts a team reviews per stigmatising
  post it catches (flagged / caught = 1 / precision).

Platt scaling is strictly increasing, so it changes no ranking: AUC, and which posts a
threshold flags, stay as they were; only the numbers become honest.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from stigma_core.errors import ModelError
from stigma_core.metrics import Estimate, wilson_interval

METHODS = ("sigmoid", "isotonic", "none")
_EPS = 1e-6


def _logit(p: np.ndarray) -> np.ndarray:
    """Log-odds of probabilities clipped away from 0 and 1."""
    q = np.clip(np.asarray(p, dtype=float), _EPS, 1 - _EPS)
    return np.log(q / (1 - q))


def _pair(y_true: Sequence[int], proba: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """0/1 labels and probabilities as arrays of one length, or a plain-words error."""
    y = np.asarray(y_true, dtype=float).ravel()
    p = np.asarray(proba, dtype=float).ravel()
    if y.shape != p.shape:
        raise ModelError(f"{y.size} labels but {p.size} probabilities: they must pair up.")
    if y.size == 0:
        raise ModelError("No posts to measure calibration on.")
    if not np.isin(y, (0.0, 1.0)).all():
        raise ModelError("Labels must be 0 (not stigmatising) or 1 (stigmatising).")
    if not np.isfinite(p).all() or (p < 0).any() or (p > 1).any():
        raise ModelError("Probabilities must be numbers between 0 and 1.")
    return y.astype(np.int64), p


class ProbabilityCalibrator(BaseEstimator):
    """A monotone map from a model's scores (0–1) to calibrated probabilities.

    ``method``: ``"sigmoid"`` (Platt scaling on the log-odds: ``1 / (1 + exp(-(a·logit(p) +
    b)))``, unregularised) or ``"isotonic"`` (non-decreasing steps, interpolated between the
    fitted points), or ``"none"`` (identity). Fit it on out-of-fold scores. Only plain
    numbers are kept, so a model file holding it needs no extra trusted types.
    """

    def __init__(self, method: str = "sigmoid") -> None:
        self.method = method

    def fit(self, proba: Sequence[float], y: Sequence[int]) -> ProbabilityCalibrator:
        """Learn the map from scores ``proba`` to outcomes ``y`` (0/1)."""
        if self.method not in METHODS:
            raise ModelError(f"Unknown calibration '{self.method}': choose "
                             f"{', '.join(METHODS)}.")
        y_arr, p = _pair(y, proba)
        if np.unique(y_arr).size < 2:
            raise ModelError("Calibration needs both stigmatising and other posts.")
        self.slope_, self.intercept_ = 1.0, 0.0
        self.x_points_ = np.array([0.0, 1.0])
        self.y_points_ = np.array([0.0, 1.0])
        if self.method == "sigmoid":
            fit = LogisticRegression(C=1e6, solver="lbfgs", max_iter=1000)
            fit.fit(_logit(p).reshape(-1, 1), y_arr)
            self.slope_ = float(fit.coef_[0, 0])
            self.intercept_ = float(fit.intercept_[0])
        elif self.method == "isotonic":
            iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
            iso.fit(p, y_arr)
            self.x_points_ = np.asarray(iso.X_thresholds_, dtype=float)
            self.y_points_ = np.asarray(iso.y_thresholds_, dtype=float)
        return self

    def predict(self, proba: Sequence[float]) -> np.ndarray:
        """Calibrated probabilities for scores ``proba``."""
        p = np.asarray(proba, dtype=float)
        if self.method == "sigmoid":
            return 1.0 / (1.0 + np.exp(-(self.slope_ * _logit(p) + self.intercept_)))
        if self.method == "isotonic":
            return np.interp(p, self.x_points_, self.y_points_)
        return p.copy()


class CalibratedModel(ClassifierMixin, BaseEstimator):
    """A classifier whose ``predict_proba`` passes through a :class:`ProbabilityCalibrator`.

    ``fit`` does what ``CalibratedClassifierCV(ensemble=False)`` does: out-of-fold scores
    (``cv`` stratified folds) to fit the map, then the model on all posts. Training in this
    library already has the out-of-fold scores from its grid search, so it builds the
    fitted wrapper with :meth:`from_fitted` instead and fits nothing twice.
    """

    def __init__(self, estimator: Any = None, method: str = "sigmoid", cv: int = 5,
                 random_state: int = 0) -> None:
        self.estimator = estimator
        self.method = method
        self.cv = cv
        self.random_state = random_state

    def fit(self, X: Any, y: Sequence[int]) -> CalibratedModel:
        """Out-of-fold scores → the map; then the model on all of ``X``."""
        if self.estimator is None:
            raise ModelError("CalibratedModel needs an estimator to calibrate.")
        y_arr = np.asarray(y)
        folds = StratifiedKFold(self.cv, shuffle=True, random_state=self.random_state)
        oof = cross_val_predict(clone(self.estimator), X, y_arr, cv=folds,
                                method="predict_proba")[:, 1]
        self.calibrator_ = ProbabilityCalibrator(self.method).fit(oof, y_arr)
        self.estimator_ = clone(self.estimator).fit(X, y_arr)
        self.classes_ = self.estimator_.classes_
        return self

    @classmethod
    def from_fitted(cls, fitted: Any, calibrator: ProbabilityCalibrator) -> CalibratedModel:
        """Wrap an already fitted model with an already fitted map."""
        model = cls(estimator=fitted, method=calibrator.method)
        model.estimator_ = fitted
        model.calibrator_ = calibrator
        model.classes_ = fitted.classes_
        return model

    def predict_proba(self, X: Any) -> np.ndarray:
        """Calibrated probabilities: columns for classes 0 and 1."""
        positive = list(self.classes_).index(1)
        q = self.calibrator_.predict(self.estimator_.predict_proba(X)[:, positive])
        return np.column_stack([1 - q, q])

    def predict(self, X: Any) -> np.ndarray:
        """1 where the calibrated probability is at least one half."""
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(np.int64)


def brier_score(y_true: Sequence[int], proba: Sequence[float], n_boot: int = 1000,
                seed: int = 0) -> Estimate:
    """Mean squared gap between probability and outcome (lower is better), with a seeded
    percentile-bootstrap 95% interval over posts."""
    y, p = _pair(y_true, proba)
    errors = (p - y) ** 2
    rng = np.random.default_rng(seed)
    means = np.empty(n_boot)
    for start in range(0, n_boot, 200):
        size = min(200, n_boot - start)
        rows = rng.integers(0, y.size, size=(size, y.size))
        means[start:start + size] = errors[rows].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return Estimate(float(errors.mean()), float(low), float(high), int(y.size))


def reliability_curve(y_true: Sequence[int], proba: Sequence[float], n_bins: int = 10,
                      strategy: str = "quantile") -> pd.DataFrame:
    """Per bin of predicted probability: its mean prediction, the share that really was
    stigmatising (with a Wilson 95% interval) and how many posts it holds.

    ``strategy``: ``"quantile"`` (bins of about equal size, so each point rests on as many
    posts) or ``"uniform"`` (bins 0–0.1, 0.1–0.2, …). Empty bins are left out. On a
    perfectly calibrated model the points lie on the diagonal.
    """
    y, p = _pair(y_true, proba)
    if n_bins < 1:
        raise ModelError("Use at least one bin.")
    if strategy == "quantile":
        edges = np.unique(np.quantile(p, np.linspace(0, 1, n_bins + 1)))
    elif strategy == "uniform":
        edges = np.linspace(0, 1, n_bins + 1)
    else:
        raise ModelError(f"Unknown binning '{strategy}': choose 'quantile' or 'uniform'.")
    if edges.size < 2:
        edges = np.array([p.min(), p.max()])
    which = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, edges.size - 2)
    rows = []
    for b in range(edges.size - 1):
        inside = which == b
        n = int(inside.sum())
        if n == 0:
            continue
        k = int(y[inside].sum())
        low, high = wilson_interval(k, n)
        rows.append({"bin_low": float(edges[b]), "bin_high": float(edges[b + 1]),
                     "mean_predicted": float(p[inside].mean()), "observed": k / n,
                     "ci_low": low, "ci_high": high, "n": n})
    return pd.DataFrame(rows, columns=["bin_low", "bin_high", "mean_predicted", "observed",
                                       "ci_low", "ci_high", "n"])


def calibration_gap(curve: pd.DataFrame) -> float:
    """Expected calibration error: the post-weighted mean distance between predicted and
    observed share over the curve's bins (0 = the points lie on the diagonal)."""
    if curve.empty:
        return float("nan")
    gap = (curve["mean_predicted"] - curve["observed"]).abs()
    return float(np.average(gap, weights=curve["n"]))


def reviews_per_catch(precision: Estimate) -> Estimate:
    """Posts a team reviews per stigmatising post caught (flagged ÷ truly stigmatising among
    them = 1 / precision), with the interval carried over from precision's."""
    value, low, high, n = precision

    def invert(v: float) -> float:
        return float("inf") if not np.isfinite(v) or v <= 0 else 1.0 / v

    return Estimate(invert(value), invert(high), invert(low), n)


def cross_fitted(proba: Sequence[float], y_true: Sequence[int], method: str = "sigmoid",
                 folds: int = 5, seed: int = 0) -> np.ndarray:
    """Calibrated out-of-fold probabilities whose maps never saw the post they map:
    the map for each fold is fitted on the other folds' scores (for honest CV figures)."""
    y, p = _pair(y_true, proba)
    if method == "none":
        return p.copy()
    out = np.empty_like(p)
    splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
    for train, test in splitter.split(p.reshape(-1, 1), y):
        out[test] = ProbabilityCalibrator(method).fit(p[train], y[train]).predict(p[test])
    return out

"""Calibration: reliability curve, Brier score, Platt/isotonic maps fitted on CV scores."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss

from stigma_core.calibration import (
    CalibratedModel,
    ProbabilityCalibrator,
    brier_score,
    calibration_gap,
    cross_fitted,
    reliability_curve,
    reviews_per_catch,
)
from stigma_core.errors import ModelError
from stigma_core.metrics import Estimate, wilson_interval


def _overconfident(n: int = 4000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Outcomes drawn from true probabilities, and scores pushed towards 0 and 1 (same
    ranking, wrong numbers: what naive Bayes does)."""
    rng = np.random.default_rng(seed)
    truth = rng.uniform(0.05, 0.95, n)
    y = (rng.uniform(size=n) < truth).astype(int)
    logit = np.log(truth / (1 - truth))
    scores = 1 / (1 + np.exp(-4 * logit))
    return y, scores


@pytest.mark.parametrize("method", ["sigmoid", "isotonic"])
def test_calibration_improves_brier_on_a_miscalibrated_model(method: str) -> None:
    y, scores = _overconfident()
    fit, held = slice(0, 2000), slice(2000, None)
    calibrator = ProbabilityCalibrator(method).fit(scores[fit], y[fit])
    raw = brier_score_loss(y[held], scores[held])
    calibrated = brier_score_loss(y[held], calibrator.predict(scores[held]))
    assert calibrated < raw - 0.02  # a real gain, not noise
    gap_before = calibration_gap(reliability_curve(y[held], scores[held]))
    gap_after = calibration_gap(reliability_curve(y[held], calibrator.predict(scores[held])))
    assert gap_after < gap_before / 2
    if method == "sigmoid":  # Platt undoes the x4 on the log-odds
        assert calibrator.slope_ == pytest.approx(0.25, abs=0.04)
        order = np.argsort(scores[held], kind="stable")
        assert np.all(np.diff(calibrator.predict(scores[held])[order]) >= 0)


def test_reliability_curve_values_by_hand() -> None:
    proba = np.r_[np.full(10, 0.1), np.full(10, 0.9)]
    y = np.r_[np.eye(1, 10, 0).ravel(), np.ones(9), 0].astype(int)  # 1 of 10, then 9 of 10
    curve = reliability_curve(y, proba, n_bins=10, strategy="uniform")
    assert list(curve["n"]) == [10, 10]
    assert curve["mean_predicted"].tolist() == pytest.approx([0.1, 0.9])
    assert curve["observed"].tolist() == pytest.approx([0.1, 0.9])
    assert (curve["ci_low"].iloc[0], curve["ci_high"].iloc[0]) == pytest.approx(
        wilson_interval(1, 10))
    assert calibration_gap(curve) == pytest.approx(0.0)
    quantile = reliability_curve(y, proba, n_bins=4)
    assert quantile["n"].sum() == 20  # tied scores share a bin; no post lost
    with pytest.raises(ModelError, match="binning"):
        reliability_curve(y, proba, strategy="wavy")


def test_brier_score_with_interval() -> None:
    y, scores = _overconfident(500)
    est = brier_score(y, scores, seed=1)
    assert est.value == pytest.approx(brier_score_loss(y, scores))
    assert est.ci_low < est.value < est.ci_high and est.n == 500
    assert brier_score(y, scores, seed=1) == est  # seeded
    assert brier_score([0, 1], [0.0, 1.0]).value == 0.0
    assert brier_score([0, 1], [0.5, 0.5]).value == 0.25
    with pytest.raises(ModelError, match="between 0 and 1"):
        brier_score([0, 1], [0.2, 1.4])
    with pytest.raises(ModelError, match="pair up"):
        brier_score([0, 1, 1], [0.2, 0.4])


def test_reviews_per_catch_inverts_precision() -> None:
    est = reviews_per_catch(Estimate(0.5, 0.4, 0.8, 100))
    assert est == pytest.approx(Estimate(2.0, 1.25, 2.5, 100))
    assert reviews_per_catch(Estimate(float("nan"), 0.0, 0.1, 5)).value == float("inf")


def test_calibrated_model_fits_like_cross_validated_platt() -> None:
    X, y = make_classification(600, n_features=10, random_state=0)
    model = CalibratedModel(LogisticRegression(C=100), method="isotonic").fit(X, y)
    proba = model.predict_proba(X)
    assert proba.shape == (600, 2) and np.allclose(proba.sum(axis=1), 1)
    assert set(np.unique(model.predict(X))) <= {0, 1}
    wrapped = CalibratedModel.from_fitted(model.estimator_, model.calibrator_)
    assert np.array_equal(wrapped.predict_proba(X), proba)


def test_cross_fitted_maps_never_see_their_own_fold() -> None:
    y, scores = _overconfident(1000)
    honest = cross_fitted(scores, y, "sigmoid", seed=0)
    in_sample = ProbabilityCalibrator("sigmoid").fit(scores, y).predict(scores)
    assert honest.shape == scores.shape and ((honest > 0) & (honest < 1)).all()
    assert not np.allclose(honest, in_sample)
    assert np.abs(honest - in_sample).max() < 0.05  # two numbers: little optimism
    assert np.array_equal(cross_fitted(scores, y, "none"), scores)
    with pytest.raises(ModelError, match="both"):
        ProbabilityCalibrator().fit([0.2, 0.3], [1, 1])
    with pytest.raises(ModelError, match="Unknown calibration"):
        ProbabilityCalibrator("magic").fit([0.2, 0.3], [0, 1])

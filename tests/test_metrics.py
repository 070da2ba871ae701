"""Metrics against hand-computed confusion matrices, and the bootstrap against a naive loop."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score, roc_auc_score

from stigma_core.errors import ModelError
from stigma_core.metrics import (
    METRIC_NAMES,
    OperatingPoints,
    cohen_kappa_ci,
    confusion_counts,
    curves,
    evaluate,
    threshold_for_cost,
    threshold_for_recall,
    wilson_interval,
)

# Four stigmatising posts, six others. At 0.5: TP 2 (0.9, 0.8), FN 2 (0.4, 0.3),
# FP 2 (0.7, 0.6), TN 4.
Y = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0])
P = np.array([0.9, 0.8, 0.4, 0.3, 0.7, 0.2, 0.1, 0.1, 0.05, 0.6])


def _noisy_scores(n: int = 400, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    return y, np.clip(0.35 * y + 0.65 * rng.random(n), 0, 1).round(2)


def test_confusion_counts_hand_built() -> None:
    assert confusion_counts(Y, (P >= 0.5).astype(int)) == {"tp": 2, "fp": 2, "tn": 4, "fn": 2}


def test_evaluate_point_values_match_hand_computation() -> None:
    est = evaluate(Y, P, threshold=0.5, n_boot=50)
    assert est["false_negatives"].value == 2
    assert est["false_positives"].value == 2
    assert est["accuracy"].value == pytest.approx(0.6)
    assert est["precision"].value == pytest.approx(0.5)
    assert est["recall"].value == pytest.approx(0.5)
    assert est["predicted_positive_share"].value == pytest.approx(0.4)
    # observed 0.6, chance 0.4*0.4 + 0.6*0.6 = 0.52 -> (0.6 - 0.52) / 0.48
    assert est["kappa"].value == pytest.approx(1 / 6)
    # 20 of the 24 (positive, negative) pairs are ordered correctly
    assert est["auc"].value == pytest.approx(20 / 24)
    assert all(e.n == 10 for e in est.values())
    assert set(est) == set(METRIC_NAMES)


def test_threshold_is_inclusive_and_undefined_precision_is_nan() -> None:
    assert evaluate(Y, P, threshold=0.9, n_boot=10)["false_negatives"].value == 3
    nothing = evaluate(Y, P, threshold=0.95, n_boot=10)
    assert math.isnan(nothing["precision"].value)
    assert nothing["predicted_positive_share"].value == 0


def test_bootstrap_ci_contains_point_and_is_seeded() -> None:
    y, p = _noisy_scores()
    first = evaluate(y, p, threshold=0.5, n_boot=300, seed=7)
    again = evaluate(y, p, threshold=0.5, n_boot=300, seed=7)
    other = evaluate(y, p, threshold=0.5, n_boot=300, seed=8)
    assert first == again
    assert first["auc"] != other["auc"]
    for name, est in first.items():
        assert est.ci_low <= est.value <= est.ci_high, name
        assert est.ci_low < est.ci_high, name


def test_vectorised_bootstrap_equals_naive_resampling_loop() -> None:
    y, p = _noisy_scores(n=120)
    est = evaluate(y, p, threshold=0.5, n_boot=60, seed=11)
    draws = np.random.default_rng(11).integers(0, y.size, size=(60, y.size))
    aucs = [roc_auc_score(y[d], p[d]) for d in draws if np.unique(y[d]).size == 2]
    fns = [int(((p[d] < 0.5) & (y[d] == 1)).sum()) for d in draws]
    assert (est["auc"].ci_low, est["auc"].ci_high) == pytest.approx(
        tuple(np.percentile(aucs, [2.5, 97.5]))
    )
    assert (est["false_negatives"].ci_low, est["false_negatives"].ci_high) == pytest.approx(
        tuple(np.percentile(fns, [2.5, 97.5]))
    )


def test_threshold_for_cost_lowers_misses_as_their_cost_grows() -> None:
    y, p = _noisy_scores()
    missed = []
    for fn_cost in (0.2, 1, 3, 10, 50):
        t = threshold_for_cost(y, p, fn_cost)
        missed.append(int(((p < t) & (y == 1)).sum()))
    assert missed == sorted(missed, reverse=True)
    assert missed[-1] < missed[0]


def test_threshold_for_cost_is_the_cheapest_threshold() -> None:
    y, p = _noisy_scores(n=150)
    t = threshold_for_cost(y, p, fn_cost=4.0, fp_cost=1.0)

    def cost(thr: float) -> float:
        return 4.0 * ((p < thr) & (y == 1)).sum() + ((p >= thr) & (y == 0)).sum()

    assert cost(t) == min(cost(c) for c in np.r_[p, 1.01])


def test_threshold_for_recall_reaches_target_and_is_highest() -> None:
    y, p = _noisy_scores()
    for target in (0.5, 0.8, 0.9, 1.0):
        t = threshold_for_recall(y, p, target)
        assert ((p >= t) & (y == 1)).sum() / y.sum() >= target
        higher = p[p > t].min() if (p > t).any() else None
        if higher is not None:
            assert ((p >= higher) & (y == 1)).sum() / y.sum() < target


def test_operating_points_hand_built() -> None:
    points = OperatingPoints.from_scores(Y, P)
    assert points.thresholds[0] > 0.9
    assert list(points.tp[:4]) == [0, 1, 2, 2]  # nothing, >=0.9, >=0.8, >=0.7
    assert list(points.fp[:4]) == [0, 0, 0, 1]
    assert list(points.fn[-1:]) == [0]
    assert points.for_recall(0.5) == 0.8
    assert points.for_cost(fn_cost=100) == 0.3


def test_bad_inputs_raise_plain_errors() -> None:
    with pytest.raises(ModelError, match="0 .*or 1"):
        evaluate([0, 2], [0.1, 0.2])
    with pytest.raises(ModelError, match="must match"):
        evaluate([0, 1], [0.1])
    with pytest.raises(ModelError, match="recall target"):
        threshold_for_recall(Y, P, 1.5)
    with pytest.raises(ModelError, match="0 or more"):
        threshold_for_cost(Y, P, -1)


def test_cohen_kappa_ci_matches_sklearn_and_drops_missing_codes() -> None:
    rng = np.random.default_rng(5)
    a = rng.integers(0, 2, 200)
    b = np.where(rng.random(200) < 0.85, a, 1 - a)
    est = cohen_kappa_ci(a, b, n_boot=300, seed=1)
    assert est.value == pytest.approx(cohen_kappa_score(a, b))
    assert est.ci_low < est.value < est.ci_high
    assert est == cohen_kappa_ci(a, b, n_boot=300, seed=1)
    # 1.0 and 1 are the same code; the uncoded post is left out
    partial = cohen_kappa_ci([1.0, 0.0, np.nan, 1.0], [1, 0, 1, 0], n_boot=20)
    assert partial.n == 3
    assert partial.value == pytest.approx(cohen_kappa_score([1, 0, 1], [1, 0, 0]))


def test_wilson_interval_matches_formula() -> None:
    k, n, z = 5, 20, 1.959963984540054
    phat = k / n
    centre = (phat + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * math.sqrt(phat * (1 - phat) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    assert wilson_interval(k, n) == pytest.approx((centre - half, centre + half))
    assert all(math.isnan(v) for v in wilson_interval(0, 0))


def test_curves_run_corner_to_corner() -> None:
    c = curves(Y, P)
    assert (c["roc"]["fpr"][0], c["roc"]["tpr"][0]) == (0, 0)
    assert (c["roc"]["fpr"][-1], c["roc"]["tpr"][-1]) == (1, 1)
    assert len(c["pr"]["precision"]) == len(c["pr"]["threshold"])
    assert c["pr"]["recall"][0] == 1

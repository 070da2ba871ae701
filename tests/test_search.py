"""grid_search picks what GridSearchCV picks and gives cross_val_predict's probabilities."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_predict
from sklearn.svm import SVC

from stigma_core.kernels import prediction_kernel, training_kernel
from stigma_core.models import FAMILIES, build_pipeline, train_models
from stigma_core.search import (
    SearchSpec,
    _continued,
    _same_stages,
    grid_search,
    grid_search_many,
)

FEATURES = ["sentiment", "subjectivity", "length", "word_count", "uppercase_words"]
STAGED_GRID = {"model__n_estimators": [3, 7, 12], "model__max_depth": [2, None]}


@pytest.fixture(scope="module")
def data(sample_dir: Path) -> tuple[pd.DataFrame, np.ndarray]:
    df = pd.read_csv(sample_dir / "train.csv").sample(260, random_state=1)
    return pd.DataFrame({"text": df["text"].astype(str).to_numpy()}), df["label"].to_numpy()


def _reference(family: str, grid: dict, X: pd.DataFrame, y: np.ndarray) -> tuple[dict, np.ndarray]:
    """Plain scikit-learn: GridSearchCV, then cross_val_predict of the best setting."""
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    pipeline = build_pipeline(family, FEATURES, seed=0)
    search = GridSearchCV(pipeline, grid, scoring="roc_auc", cv=folds, n_jobs=1, refit=False,
                          error_score="raise").fit(X, y)
    best = clone(pipeline).set_params(**search.best_params_)
    oof = cross_val_predict(best, X, y, cv=folds, method="predict_proba")[:, 1]
    return search.best_params_, oof


def _ours(family: str, grid: dict, X: pd.DataFrame, y: np.ndarray, **kwargs) -> tuple:
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    result = grid_search(build_pipeline(family, FEATURES, seed=0), grid, X, y, folds, **kwargs)
    return result.best_params, result.oof_proba


PAPER_FAMILIES = ("random_forest", "gradient_boosting", "knn", "naive_bayes", "svm_rbf",
                  "svm_linear", "svm_sigmoid", "svm_poly", "logistic_regression")
"""The paper's eight families and logistic regression. (Families whose own fits are not
reproducible, e.g. a LinearSVC without a random_state, cannot be compared bit for bit.)"""
DEPTH_GRID = {"model__n_estimators": [4, 15, 30], "model__max_depth": [3, 9, 20, 40, None]}
"""Depths where a deeper model's leading trees are partly, wholly or not at all the
shallower model's (checked in test_boosting_depths_share_trees_and_stay_exact)."""
CASES = [(f, "fast", None) for f in PAPER_FAMILIES] + [
    ("logistic_regression", "paper", None),
    ("knn", "paper", None),
    ("naive_bayes", "paper", None),
    ("svm_rbf", "paper", None),
    ("svm_linear", "paper", None),
    ("svm_sigmoid", "paper", None),
    ("svm_poly", "paper", None),
    ("gradient_boosting", "staged", STAGED_GRID),
    ("gradient_boosting", "depths", DEPTH_GRID),
    ("random_forest", "staged", STAGED_GRID),
]


@pytest.mark.parametrize(("family", "which", "grid"), CASES,
                         ids=[f"{f}-{w}" for f, w, _ in CASES])
def test_same_choice_and_out_of_fold_probabilities_as_gridsearchcv(
    data: tuple[pd.DataFrame, np.ndarray], family: str, which: str, grid: dict | None
) -> None:
    X, y = data
    grid = grid or FAMILIES[family].grid(which)
    want_params, want_oof = _reference(family, grid, X, y)
    got_params, got_oof = _ours(family, grid, X, y)
    assert got_params == want_params
    assert np.array_equal(got_oof, want_oof)


def test_worker_processes_give_the_same_search(data: tuple[pd.DataFrame, np.ndarray]) -> None:
    X, y = data
    for family, grid in (("random_forest", STAGED_GRID),
                         ("logistic_regression", FAMILIES["logistic_regression"].grid("paper"))):
        one = _ours(family, grid, X, y)
        two = _ours(family, grid, X, y, n_jobs=2)
        assert one[0] == two[0] and np.array_equal(one[1], two[1])


def test_progress_moves_after_every_fit(data: tuple[pd.DataFrame, np.ndarray]) -> None:
    X, y = data
    calls: list[tuple[float, str]] = []
    _ours("logistic_regression", FAMILIES["logistic_regression"].grid("paper"), X, y,
          progress=lambda f, m: calls.append((f, m)), label="LR")
    assert len(calls) == 5 * 5  # five settings, five folds
    fractions = [f for f, _ in calls]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    pattern = r"LR: setting \d of 5, fold \d of 5, about [\d,]+ s left"
    assert all(re.fullmatch(pattern, m) for _, m in calls)
    staged: list[str] = []
    _ours("gradient_boosting", STAGED_GRID, X, y, progress=lambda f, m: staged.append(m))
    assert len(staged) == 2 * 5  # one boosted model per depth and fold covers every count


def test_train_models_reports_within_a_family(sample_dir: Path) -> None:
    df = pd.read_csv(sample_dir / "train.csv").sample(200, random_state=2)
    calls: list[tuple[float, str]] = []
    train_models(df, ["logistic_regression", "naive_bayes"], grid="paper",
                 progress=lambda f, m: calls.append((f, m)))
    fits = [f for f, m in calls if "fold" in m]
    assert len(fits) == 5 * 5 + 10 * 5
    assert all(a <= b for a, b in zip(fits, fits[1:], strict=False))
    assert max(f for f, m in calls if m.startswith("Logistic")) <= 0.5 < fits[-1]


def _fold_matrices(family: str, X: pd.DataFrame, y: np.ndarray, fold: int = 3) -> tuple:
    train, test = list(StratifiedKFold(5, shuffle=True, random_state=0).split(X, y))[fold]
    features = clone(build_pipeline(family, FEATURES, seed=0).named_steps["features"])
    return features.fit_transform(X.iloc[train], y[train]), features.transform(X.iloc[test]), \
        y[train]


def test_boosting_depths_share_trees_and_stay_exact(
    data: tuple[pd.DataFrame, np.ndarray]
) -> None:
    """A deeper model's leading trees are reused only where a fit at the shallower depth
    grows the very same trees; a continued fit equals a fresh one at every stage."""
    X, y = data
    A, B, y_train = _fold_matrices("gradient_boosting", X, y)
    fits = {d: GradientBoostingClassifier(random_state=0, n_estimators=30, max_depth=d)
            .fit(A, y_train) for d in (None, 40, 20, 9)}
    assert _same_stages(fits[None], 40, 30) == 30  # no tree of this fold reaches depth 40
    partly = _same_stages(fits[40], 20, 30)
    assert 0 < partly < 30  # fold 3: the first trees stay above depth 20, a later one not
    assert _same_stages(fits[20], 9, 30) == 0
    for deeper, depth, shared in ((None, 40, 30), (40, 20, partly)):
        got = fits[deeper] if shared == 30 else _continued(fits[deeper], depth, shared, 30,
                                                           A, y_train)
        for ours, fresh in zip(got.staged_decision_function(B),
                               fits[depth].staged_decision_function(B), strict=True):
            assert np.array_equal(ours, fresh)
    # and the trees a shallower fit grows differently are not taken for shared
    first_other = next(k for k, (a, b) in enumerate(zip(
        fits[40].estimators_[:, 0], fits[20].estimators_[:, 0], strict=True))
        if a.tree_.node_count != b.tree_.node_count
        or not np.array_equal(a.tree_.threshold, b.tree_.threshold))
    assert first_other == partly


@pytest.mark.parametrize("kernel", ["rbf", "linear", "poly", "sigmoid"])
def test_precomputed_kernels_give_libsvms_own_svm(
    data: tuple[pd.DataFrame, np.ndarray], kernel: str
) -> None:
    X, y = data
    A, B, y_train = _fold_matrices("svm_rbf", X, y, fold=0)
    for C, gamma in ((1, 1e-3), (1000, 1e-3), (10, 0.5)):
        direct = SVC(kernel=kernel, C=C, gamma=gamma).fit(A, y_train)
        shared = SVC(kernel="precomputed", C=C).fit(
            training_kernel(A, kernel, gamma), y_train)
        assert np.array_equal(direct.dual_coef_.toarray(), shared.dual_coef_)
        assert np.array_equal(direct.intercept_, shared.intercept_)
        assert np.array_equal(direct.decision_function(B), shared.decision_function(
            prediction_kernel(B, A, kernel, gamma)))


def test_families_searched_together_give_the_same_results(
    data: tuple[pd.DataFrame, np.ndarray]
) -> None:
    X, y = data
    families = {"gradient_boosting": STAGED_GRID, "svm_rbf": FAMILIES["svm_rbf"].grid("paper"),
                "knn": FAMILIES["knn"].grid("fast")}
    specs = [SearchSpec(build_pipeline(f, FEATURES, seed=0), g, f) for f, g in families.items()]
    finished: list[int] = []
    together = grid_search_many(specs, X, y, StratifiedKFold(5, shuffle=True, random_state=0),
                                n_jobs=2, done=lambda i, r: finished.append(i))
    assert sorted(finished) == [0, 1, 2]
    for (family, grid), result in zip(families.items(), together, strict=True):
        alone = _ours(family, grid, X, y)
        assert result.best_params == alone[0] and np.array_equal(result.oof_proba, alone[1])

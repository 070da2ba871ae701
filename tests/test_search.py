"""grid_search picks what GridSearchCV picks and gives cross_val_predict's probabilities."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_predict

from stigma_core.models import FAMILIES, build_pipeline, train_models
from stigma_core.search import grid_search

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


CASES = [(f, "fast", None) for f in FAMILIES] + [
    ("logistic_regression", "paper", None),
    ("knn", "paper", None),
    ("naive_bayes", "paper", None),
    ("gradient_boosting", "staged", STAGED_GRID),
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

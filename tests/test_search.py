"""grid_search picks what GridSearchCV picks and gives cross_val_predict's probabilities."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_predict
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neighbors._base import KNeighborsMixin
from sklearn.pipeline import Pipeline
from sklearn.svm import SVC

from stigma_core.kernels import prediction_kernel, training_kernel
from stigma_core.models import FAMILIES, build_pipeline, train_models
from stigma_core.search import (
    SearchSpec,
    _continued,
    _knn_shared_ok,
    _same_stages,
    _tied_votes,
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


@pytest.fixture(scope="module")
def duplicated(sample_dir: Path) -> tuple[pd.DataFrame, np.ndarray]:
    """360 posts drawn with replacement from 120 distinct ones, a quarter of the copies coded
    the other way: many held-out posts have several training posts at the very same
    distance, with different labels, so which tied post counts changes the vote."""
    df = pd.read_csv(sample_dir / "train.csv").sample(120, random_state=5)
    drawn = df.sample(360, replace=True, random_state=6)
    y = drawn["label"].to_numpy().copy()
    flip = np.random.default_rng(7).random(len(y)) < 0.25
    y[flip] = 1 - y[flip]
    return pd.DataFrame({"text": drawn["text"].astype(str).to_numpy()}), y


def _plain_knn(pipeline: Pipeline, grid: dict, X: pd.DataFrame, y: np.ndarray) -> tuple:
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    search = GridSearchCV(pipeline, grid, scoring="roc_auc", cv=folds, refit=False,
                          error_score="raise").fit(X, y)
    best = clone(pipeline).set_params(**search.best_params_)
    oof = cross_val_predict(best, X, y, cv=folds, method="predict_proba")[:, 1]
    fold_scores = np.column_stack([search.cv_results_[f"split{i}_test_score"] for i in range(5)])
    return search.best_params_, oof, fold_scores


def _other_tie_break(self: Any, dist: np.ndarray, start: int, n_neighbors: int,
                     return_distance: bool) -> Any:
    """scikit-learn's ``_kneighbors_reduce_func`` with another valid pick among tied
    posts, one that changes with k (numpy's ``argpartition`` on this machine happens to
    keep the lowest row numbers, but that is not promised: other CPUs and numpy builds
    pick otherwise)."""
    salt = (np.arange(dist.shape[1]) + 1) * (2 * n_neighbors + 1) * 2654435761 % 2**31
    order = np.lexsort((np.broadcast_to(salt, dist.shape), dist), axis=-1)
    neigh_ind = order[:, :n_neighbors]
    if not return_distance:
        return neigh_ind
    picked = dist[np.arange(dist.shape[0])[:, None], neigh_ind]
    return (np.sqrt(picked) if self.effective_metric_ == "euclidean" else picked), neigh_ind


@pytest.mark.parametrize("tie_break", ["numpy", "other"])
def test_knn_ties_read_from_scikit_learn_and_the_rest_from_one_search(
    duplicated: tuple[pd.DataFrame, np.ndarray], tie_break: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The paper grid (k = 1..25) on a corpus full of tied neighbours: every fold score,
    the choice and the out-of-fold probabilities equal GridSearchCV's bit for bit, whatever
    scikit-learn picks among tied posts (with ``other``, reading each k off the neighbours
    of the largest k changes votes)."""
    if tie_break == "other":
        monkeypatch.setattr(KNeighborsMixin, "_kneighbors_reduce_func", _other_tie_break)
    X, y = duplicated
    grid = FAMILIES["knn"].grid("paper")
    assert grid == {"model__n_neighbors": list(range(1, 26))}
    naive_wrong = tied_total = tied_known = 0
    for fold in range(5):
        A, B, y_train = _fold_matrices("knn", X, y, fold)
        distance, index = KNeighborsClassifier(25).fit(A, y_train).kneighbors(B, 26)
        is_positive = y_train[index] == 1
        for k in range(1, 26):
            model = KNeighborsClassifier(k).fit(A, y_train)
            true = model.predict_proba(B)[:, 1]
            naive = is_positive[:, :k].sum(axis=1) / k
            tied = np.flatnonzero(distance[:, k - 1] == distance[:, k])
            tied_total += tied.size
            naive_wrong += int((naive != true).sum())
            # no tie at the k-th neighbour: the first k of the largest k's are the k nearest
            assert np.array_equal(np.delete(naive, tied), np.delete(true, tied))
            # scikit-learn answers each post on its own: asking for the tied posts alone
            assert np.array_equal(model.predict_proba(B[tied])[:, 1], true[tied])
            # ties among posts of one label, all of them in the rows, vote alike
            count, known = _tied_votes(distance[tied], is_positive[tied],
                                       np.cumsum(is_positive[tied], axis=1), k, False)
            assert np.array_equal(count[known] / k, true[tied][known])
            tied_known += int(known.sum())
    assert tied_total > 1000 and 100 < tied_known < tied_total - 100
    if tie_break == "other":
        assert naive_wrong > 100
    pipeline = build_pipeline("knn", FEATURES, seed=0)
    want_params, want_oof, want_scores = _plain_knn(pipeline, grid, X, y)
    result = grid_search(pipeline, grid, X, y, StratifiedKFold(5, shuffle=True, random_state=0))
    assert np.array_equal(result.scores, want_scores)
    assert result.best_params == want_params
    assert np.array_equal(result.oof_proba, want_oof)


def test_knn_paper_grid_is_one_search_per_fold(data: tuple[pd.DataFrame, np.ndarray]) -> None:
    X, y = data
    calls: list[str] = []
    _ours("knn", FAMILIES["knn"].grid("paper"), X, y, progress=lambda f, m: calls.append(m))
    assert len(calls) == 5  # every k of a fold in one unit
    A, B, y_train = _fold_matrices("knn", X, y)
    assert A.format == "csr"  # sparse TF-IDF: the path _knn reads neighbours from
    assert _knn_shared_ok(KNeighborsClassifier(25).fit(A, y_train), B)
    assert not _knn_shared_ok(KNeighborsClassifier(25, weights="distance").fit(A, y_train), B)
    assert not _knn_shared_ok(KNeighborsClassifier(25).fit(A.toarray(), y_train), B.toarray())


@pytest.mark.parametrize("dense", [False, True], ids=["sparse", "dense"])
def test_knn_other_settings_fall_back_to_plain_fits_exactly(
    duplicated: tuple[pd.DataFrame, np.ndarray], dense: bool
) -> None:
    """Distance weights (a weighted sum whose order matters) and dense input (scikit-learn's
    Cython heaps pick among ties differently) are fitted k by k, and still equal."""
    X, y = duplicated
    grid = {"model__n_neighbors": [1, 4, 9, 25], "model__weights": ["uniform", "distance"]}
    pipeline = build_pipeline("knn", FEATURES, seed=0)
    if dense:
        pipeline.set_params(features__sparse_threshold=0.0)
    want_params, want_oof, want_scores = _plain_knn(pipeline, grid, X, y)
    result = grid_search(pipeline, grid, X, y, StratifiedKFold(5, shuffle=True, random_state=0))
    assert np.array_equal(result.scores, want_scores)
    assert result.best_params == want_params
    assert np.array_equal(result.oof_proba, want_oof)

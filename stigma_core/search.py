"""Grid search by cross-validated AUC with GridSearchCV's results, for less work.

``grid_search`` returns what ``GridSearchCV(pipeline, grid, scoring="roc_auc", cv=folds,
refit=False)`` picks (``best_params_``) and what ``cross_val_predict(best, method=
"predict_proba")`` gives on the same folds, bit for bit (tested against both), while:

- fitting the text features (preprocessing, TF-IDF, engineered features, scaler) once per
  fold instead of once per setting and fold: they do not depend on the model's settings;
- reusing the search's own fold models for the out-of-fold probabilities of the best
  setting, instead of fitting them again;
- for gradient boosting and random forests, fitting one model per fold at the largest
  ``n_estimators`` of the grid and reading the smaller ones off it: the first k stages of a
  boosted model (``staged_decision_function``) and the first k trees of a forest are
  exactly the models with ``n_estimators=k`` (same random stream, same order of sums);
- for gradient boosting, also sharing trees across ``max_depth`` (see ``_same_stages``):
  depths are fitted deepest first, and a shallower depth takes the deeper model's leading
  trees that never tried to split a node at that depth (those trees are exactly what the
  shallower fit grows), continuing from there with ``warm_start``;
- for SVMs (``CalibratedClassifierCV(SVC)``), computing each kernel matrix once per fold
  and kernel setting and sharing it across every ``C`` and all six SVC fits of the
  calibration (``stigma_core.kernels`` reproduces libsvm's kernel arithmetic, so the
  precomputed-kernel SVMs are the same to the bit);
- for k-nearest neighbours (uniform votes), searching the neighbours once per fold at the
  largest k of the grid and reading every smaller k off them where the k nearest are
  unique (or tied posts share one label), asking ``KNeighborsClassifier(n_neighbors=k)``
  itself only for the posts with a mixed-label tie at the k-th neighbour (see ``_knn``);
- running the units of work in worker processes with ``n_jobs``, several searches in one
  pool with :func:`grid_search_many` (e.g. every model family at once);
- reporting progress after each unit: ``progress(fraction, message)``.
"""

from __future__ import annotations

import copy
import heapq
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from typing import Any

import joblib
import numpy as np
from numba import njit
from scipy import sparse
from scipy.stats import rankdata
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.metrics import get_scorer, roc_auc_score
from sklearn.model_selection import ParameterGrid
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.svm import SVC

from stigma_core import kernels
from stigma_core.parallel import executor

Progress = Callable[[float, str], None]
STAGED = (GradientBoostingClassifier, RandomForestClassifier)
N_EST = "model__n_estimators"
DEPTH = "model__max_depth"
SVM_C = "model__estimator__C"
KNN_K = "model__n_neighbors"
RAND_R_MAX = 2147483647
"""The bound of the one draw each tree takes from a boosted model's random stream (sklearn's
``Splitter.init``: ``random_state.randint(0, RAND_R_MAX)``)."""


@dataclass
class SearchResult:
    """The chosen setting, the fold scores, and the out-of-fold probabilities for it.

    ``scores`` has one row per setting (``ParameterGrid`` order) and one column per fold;
    ``fit_seconds`` adds up the time of every unit of work, wherever it ran.
    """

    best_params: dict[str, Any]
    scores: np.ndarray
    oof_proba: np.ndarray
    fit_seconds: float


@dataclass
class _Unit:
    """Settings fitted together on one fold.

    ``kind``: ``"single"`` (one setting), ``"forest"`` (every ``n_estimators`` of one
    forest setting, fitted once at the largest), ``"boosting"`` (every ``n_estimators`` and
    ``max_depth`` of one boosting setting group), ``"svm"`` (every ``C`` of one kernel
    setting), ``"knn"`` (every ``n_neighbors`` of one neighbours setting).
    """

    search: int
    fold: int
    settings: list[int]
    kind: str = "single"
    weight: float = 1.0
    params: list[dict[str, Any]] = field(default_factory=list)
    chain: tuple[int, int, int] | None = None
    """Boosting units of one setting group and fold form a chain, deepest first: each
    starts from the model of the one before (``previous``), so they run in order."""
    previous: Any = None


def _rest_key(combo: dict[str, Any], skip: Sequence[str]) -> tuple:
    return tuple(sorted((k, repr(v)) for k, v in combo.items() if k not in skip))


def _groups(combos: list[dict[str, Any]], skip: Sequence[str]) -> list[list[int]]:
    """Setting indices grouped by every parameter except ``skip``, in grid order."""
    groups: dict[tuple, list[int]] = {}
    for i, combo in enumerate(combos):
        groups.setdefault(_rest_key(combo, skip), []).append(i)
    return list(groups.values())


def _boosting_chain_ok(model: GradientBoostingClassifier) -> bool:
    """Whether depths may share trees: one random draw per tree and nothing else."""
    return (model.subsample == 1.0 and model.max_leaf_nodes is None
            and model.n_iter_no_change is None and model.init is None
            and isinstance(model.random_state, (int, np.integer)))


def _svm_ok(model: Any, combos: list[dict[str, Any]]) -> bool:
    """Whether the precomputed-kernel path applies: a calibrated SVC whose kernel is one
    of libsvm's four with a numeric gamma (``"scale"`` depends on each fit's rows)."""
    if not (isinstance(model, CalibratedClassifierCV) and isinstance(model.estimator, SVC)):
        return False
    base = model.estimator
    for combo in combos:
        params = {**base.get_params(), **{k.removeprefix("model__estimator__"): v
                                          for k, v in combo.items()
                                          if k.startswith("model__estimator__")}}
        if any(k.startswith("model__") and not k.startswith("model__estimator__")
               for k in combo):
            return False
        if params["kernel"] not in kernels.KERNELS:
            return False
        if params["kernel"] != "linear" and isinstance(params["gamma"], str):
            return False
    return True


def _units(search: int, pipeline: Pipeline, combos: list[dict[str, Any]],
           n_folds: int) -> list[_Unit]:
    """The units of work of one search, fold by fold, with a rough cost for ordering."""
    model = pipeline.named_steps["model"]
    several = len(combos) > 1
    units: list[_Unit] = []
    for fold in range(n_folds):
        if (several and isinstance(model, GradientBoostingClassifier)
                and all(N_EST in c for c in combos) and _boosting_chain_ok(model)):
            for g, members in enumerate(_groups(combos, (N_EST, DEPTH))):
                by_depth: dict[Any, list[int]] = {}
                for i in members:
                    by_depth.setdefault(combos[i].get(DEPTH, model.max_depth), []).append(i)
                for depth in sorted(by_depth, key=_depth_order, reverse=True):
                    units.append(_Unit(search, fold, by_depth[depth], "boosting",
                                       weight=10.0 * len(by_depth[depth]),
                                       chain=(search, fold, g)))
        elif several and isinstance(model, STAGED) and all(N_EST in c for c in combos):
            for members in _groups(combos, (N_EST,)):
                units.append(_Unit(search, fold, members, "forest", weight=5.0 * len(members)))
        elif several and _svm_ok(model, combos):
            for members in _groups(combos, (SVM_C,)):
                units.append(_Unit(search, fold, members, "svm", weight=0.5 * len(members)))
        elif (several and isinstance(model, KNeighborsClassifier)
              and all(KNN_K in c for c in combos)):
            for members in _groups(combos, (KNN_K,)):
                units.append(_Unit(search, fold, members, "knn", weight=0.1 * len(members)))
        else:
            units.extend(_Unit(search, fold, [i]) for i in range(len(combos)))
    for unit in units:
        unit.params = [combos[i] for i in unit.settings]
    return units


_FOLD_CACHE: dict[tuple[str, int], tuple[Any, Any]] = {}


def _fold_features(token: str, pipeline: Pipeline, X: Any, y: np.ndarray,
                   train: np.ndarray, test: np.ndarray, fold: int) -> tuple[Any, Any]:
    """The features step fitted on one fold's training part: (train matrix, test matrix),
    memoised per search (``token``) and fold."""
    key = (token, fold)
    if key not in _FOLD_CACHE:
        run = token.split("-")[0]
        if len(_FOLD_CACHE) > 64 or any(not k[0].startswith(run) for k in _FOLD_CACHE):
            _FOLD_CACHE.clear()
        features = clone(pipeline.named_steps["features"])
        Xt_train = features.fit_transform(X.iloc[train], y[train])
        _FOLD_CACHE[key] = (Xt_train, features.transform(X.iloc[test]))
    return _FOLD_CACHE[key]


def _model(pipeline: Pipeline, params: dict[str, Any]) -> Any:
    """The pipeline's model step, cloned, with a grid setting applied."""
    return clone(pipeline.named_steps["model"]).set_params(
        **{k.removeprefix("model__"): v for k, v in params.items()})


Outcome = tuple[list[float], list[np.ndarray], float, Any]


def _run_unit(token: str, pipeline: Pipeline, X: Any, y: np.ndarray, train: np.ndarray,
              test: np.ndarray, unit: _Unit) -> Outcome:
    """Fit one unit; the fold score and test-part probabilities of each of its settings."""
    start = time.perf_counter()
    Xt_train, Xt_test = _fold_features(token, pipeline, X, y, train, test, unit.fold)
    y_train, y_test = y[train], y[test]
    chained = None
    if unit.kind == "boosting":
        scores, probas, chained = _boosting(pipeline, unit.params, unit.previous, Xt_train,
                                            y_train, Xt_test, y_test)
    elif unit.kind == "svm" and sparse.issparse(Xt_train):
        scores, probas = _svm(pipeline, unit.params, Xt_train, y_train, Xt_test, y_test)
    elif unit.kind == "knn":
        scores, probas = _knn(pipeline, unit.params, Xt_train, y_train, Xt_test, y_test)
    elif unit.kind == "forest":
        counts = [int(p[N_EST]) for p in unit.params]
        model = _model(pipeline, {**unit.params[0], N_EST: max(counts)})
        model.fit(Xt_train, y_train)
        positive = list(model.classes_).index(1)
        by_count = _forest_prefixes(model, Xt_test, set(counts))
        scores = [float(roc_auc_score(y_test, by_count[k][:, positive])) for k in counts]
        probas = [by_count[k][:, positive] for k in counts]
    else:
        scores, probas = _plain(pipeline, unit.params, Xt_train, y_train, Xt_test, y_test)
    return scores, probas, time.perf_counter() - start, chained


# --- gradient boosting: n_estimators read off the stages, trees shared across depths -------


@njit(cache=True)
def _first_split_beyond(left, right, n_samples, impurity, depth_limit, eps):  # pragma: no cover
    """True when a node at ``depth_limit`` or deeper went through the split search: it was
    split, or it was a leaf that had two or more posts and some impurity left (the search
    ran and found nothing)."""
    n = left.shape[0]
    depth = np.zeros(n, np.int64)
    for node in range(n):  # children always come after their parent
        if left[node] != -1:
            depth[left[node]] = depth[node] + 1
            depth[right[node]] = depth[node] + 1
        if depth[node] >= depth_limit:
            if left[node] != -1 or (n_samples[node] >= 2 and impurity[node] > eps):
                return True
    return False


def _same_stages(model: GradientBoostingClassifier, depth: int | None, upto: int) -> int:
    """How many leading trees of ``model`` a fit with ``max_depth=depth`` grows too.

    scikit-learn grows a tree depth first and takes one random draw per tree; a node is
    made a leaf before any split search (no random numbers used) when it is at
    ``max_depth``, holds fewer than two posts, or has no impurity left. A tree of a deeper
    fit in which every node at ``depth`` or below was such a leaf for the last two reasons
    is therefore exactly the tree the shallower fit grows from the same residuals; while
    the trees agree, so do the residuals of the next stage. (Conservative: two posts per
    split and one per leaf are assumed, scikit-learn's defaults; other settings only make
    fewer trees count as shared.)
    """
    if depth is None:
        return 0
    eps = float(np.finfo(np.float64).eps)
    count = 0
    for estimator in model.estimators_[:upto, 0]:
        tree = estimator.tree_
        if _first_split_beyond(tree.children_left, tree.children_right,
                               tree.n_node_samples, tree.impurity, int(depth), eps):
            break
        count += 1
    return count


def _continued(model: GradientBoostingClassifier, depth: int | None, keep: int, total: int,
               X: Any, y: np.ndarray) -> GradientBoostingClassifier:
    """The fit with ``max_depth=depth`` and ``total`` stages, given that its first ``keep``
    stages are ``model``'s: those are kept and the rest grown with ``warm_start``, the
    random stream advanced by the ``keep`` draws its trees took."""
    grown = copy.deepcopy(model)
    grown.estimators_ = grown.estimators_[:keep].copy()
    grown.train_score_ = grown.train_score_[:keep].copy()
    rng = np.random.RandomState(model.random_state)
    for _ in range(keep):
        rng.randint(0, RAND_R_MAX)
    grown._rng = rng
    grown.set_params(max_depth=depth, n_estimators=total, warm_start=True)
    grown.fit(X, y)
    return grown.set_params(warm_start=False)


def _depth_order(depth: Any) -> float:
    return np.inf if depth is None else float(depth)


def _boosting(pipeline: Pipeline, params: list[dict[str, Any]],
              previous: GradientBoostingClassifier | None, Xt_train: Any,
              y_train: np.ndarray, Xt_test: Any, y_test: np.ndarray) -> tuple[list, list, Any]:
    """Scores and probabilities of every n_estimators of one boosting depth (every setting
    in ``params`` has the same depth), read off the stages of one model: ``previous`` (the
    fold's model at the next deeper depth of the grid) when its leading trees are this
    depth's (``_same_stages``), continued from them when only some are, or a new fit.
    Also returns the model, for the next depth."""
    depth = params[0].get(DEPTH, pipeline.named_steps["model"].max_depth)
    counts = [int(p[N_EST]) for p in params]
    need = max(counts)
    shared = _same_stages(previous, depth, need) if previous is not None else 0
    if shared >= need:
        model = previous
    elif shared > 0:
        model = _continued(previous, depth, shared, need, Xt_train, y_train)
    else:
        model = _model(pipeline, {**params[0], N_EST: need}).fit(Xt_train, y_train)
    positive = list(model.classes_).index(1)
    wanted = {k - 1: k for k in counts}
    by_count = {}
    stages = zip(model.staged_decision_function(Xt_test),
                 model.staged_predict_proba(Xt_test), strict=False)
    for stage, (decision, proba) in enumerate(stages):
        if stage in wanted:
            by_count[wanted[stage]] = (float(roc_auc_score(y_test, decision)),
                                       proba[:, positive])
        if stage + 1 >= need:
            break
    return ([by_count[k][0] for k in counts], [by_count[k][1] for k in counts], model)


# --- random forests: the first k trees ------------------------------------------------------


def _forest_prefixes(forest: RandomForestClassifier, X: Any, counts: set[int]) -> dict:
    """``predict_proba`` of the forests made of the first k trees, for each k in ``counts``,
    summed in the order and dtype ``RandomForestClassifier.predict_proba`` uses."""
    Xv = forest._validate_X_predict(X)
    total = np.zeros((Xv.shape[0], forest.n_classes_), dtype=np.float64)
    out = {}
    for k, tree in enumerate(forest.estimators_, start=1):
        total += tree.predict_proba(Xv, check_input=False)
        if k in counts:
            out[k] = total / k
    return out


# --- SVMs: one kernel matrix per fold and kernel setting -----------------------------------


class _Shared:
    """Arrays handed to estimators by reference: copying (as ``clone`` does with
    parameters) returns the same object instead of copying megabytes per fit."""

    def __init__(self, train: np.ndarray, predict: np.ndarray) -> None:
        self.train = train
        self.predict = predict

    def __deepcopy__(self, memo: dict) -> _Shared:
        return self


class PrecomputedSVC(ClassifierMixin, BaseEstimator):
    """An SVC reading its kernel values from shared matrices; ``X`` holds row numbers.

    ``kernels.train[i, j]`` is the kernel libsvm computes between training rows i and j
    while fitting, ``kernels.predict[r, j]`` the one it computes to predict row r (training
    rows first, then the held-out rows) from training row j. Fitting on rows R uses
    ``train[R, R]``; predicting rows Q uses ``predict[Q, R]`` — exactly the values an SVC
    with the kernel itself would use on those rows, so the same model and predictions.
    """

    def __init__(self, kernels: _Shared | None = None, C: float = 1.0,
                 svc_params: dict[str, Any] | None = None) -> None:
        self.kernels = kernels
        self.C = C
        self.svc_params = svc_params

    def fit(self, X: np.ndarray, y: np.ndarray) -> PrecomputedSVC:
        """Fit libsvm on the kernel block of the given rows."""
        rows = np.asarray(X)[:, 0].astype(np.intp)
        self.svc_ = SVC(kernel="precomputed", C=self.C, **(self.svc_params or {}))
        self.svc_.fit(self.kernels.train[np.ix_(rows, rows)], y)
        self.rows_ = rows
        self.classes_ = self.svc_.classes_
        return self

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """libsvm's decision values for the given rows."""
        return self.svc_.decision_function(self._block(X))

    def predict(self, X: np.ndarray) -> np.ndarray:
        """libsvm's predicted classes for the given rows."""
        return self.svc_.predict(self._block(X))

    def _block(self, X: np.ndarray) -> np.ndarray:
        rows = np.asarray(X)[:, 0].astype(np.intp)
        return self.kernels.predict[np.ix_(rows, self.rows_)]


SVC_KERNEL_PARAMS = ("kernel", "gamma", "coef0", "degree")


def _svm(pipeline: Pipeline, params: list[dict[str, Any]], Xt_train: Any,
         y_train: np.ndarray, Xt_test: Any, y_test: np.ndarray) -> tuple[list, list]:
    """Every ``C`` of one kernel setting of a calibrated SVC, on kernels computed once."""
    first = _model(pipeline, params[0])
    svc = first.estimator
    gamma = svc.gamma if svc.kernel != "linear" else 0.0
    spec = {"kernel": svc.kernel, "gamma": gamma, "coef0": svc.coef0, "degree": svc.degree}
    train_kernel = kernels.training_kernel(Xt_train, **spec)
    if svc.kernel == "rbf":  # libsvm predicts with another rbf formula: every row anew
        both = sparse.vstack([Xt_train, Xt_test], format="csr")
        predict_kernel = kernels.prediction_kernel(both, Xt_train, **spec)
    else:  # the same formula: training rows are read from the training kernel
        predict_kernel = np.vstack([train_kernel,
                                    kernels.prediction_kernel(Xt_test, Xt_train, **spec)])
    shared = _Shared(train_kernel, predict_kernel)
    n_train = Xt_train.shape[0]
    rows_train = np.arange(n_train)[:, None]
    rows_test = np.arange(n_train, n_train + Xt_test.shape[0])[:, None]
    scores, probas = [], []
    for p in params:
        model = _model(pipeline, p)
        svc_params = {k: v for k, v in model.estimator.get_params().items()
                      if k not in (*SVC_KERNEL_PARAMS, "C")}
        model.set_params(estimator=PrecomputedSVC(shared, model.estimator.C, svc_params))
        model.fit(rows_train, y_train)
        positive = list(model.classes_).index(1)
        scores.append(float(get_scorer("roc_auc")(model, rows_test, y_test)))
        probas.append(model.predict_proba(rows_test)[:, positive])
    return scores, probas


# --- k-nearest neighbours: one neighbour search for every k --------------------------------


def _knn_shared_ok(model: KNeighborsClassifier, X: Any) -> bool:
    """Whether ``model`` (fitted) finds neighbours the way ``_knn`` reads them: uniform
    votes counted over ``kneighbors`` (not ``ArgKminClassMode``'s own heaps), and
    ``kneighbors`` by brute force through ``pairwise_distances_chunked`` on sparse CSR
    matrices, where each post's distances are computed from its own row alone (a sparse
    product, row norms) and its neighbours picked by ``np.argpartition`` on its own row.
    That is scikit-learn's path for sparse TF-IDF input with the Euclidean metric (its
    Cython reductions refuse sparse Euclidean input whatever the rows); any other path
    (trees, the reductions on dense input or other metrics) is left to the plain fits."""
    try:  # scikit-learn's private helpers: if they move, the plain fits run instead
        from sklearn.metrics._pairwise_distances_reduction import ArgKmin, ArgKminClassMode
        from sklearn.neighbors._classification import _adjusted_metric
    except ImportError:  # pragma: no cover
        return False
    if (model.weights != "uniform" or model._fit_method != "brute"
            or model.effective_metric_ != "euclidean" or model.outputs_2d_
            or not sparse.issparse(X) or X.format != "csr"
            or not sparse.issparse(model._fit_X)):
        return False
    metric, _ = _adjusted_metric(metric=model.metric, metric_kwargs=model.metric_params,
                                 p=model.p)
    return metric == "euclidean" and not (
        ArgKminClassMode.is_usable_for(X, model._fit_X, metric)
        or ArgKmin.is_usable_for(X, model._fit_X, model.effective_metric_))


def _knn(pipeline: Pipeline, params: list[dict[str, Any]], Xt_train: Any,
         y_train: np.ndarray, Xt_test: Any, y_test: np.ndarray) -> tuple[list, list]:
    """Every ``n_neighbors`` of one neighbours setting, from one neighbour search.

    The neighbours of each held-out post are searched once, at the largest k of the grid
    plus one. For a k where the post's k-th and (k+1)-th distances differ, the k nearest
    posts are the same set whatever algorithm picks them, so the uniform vote (the count
    of each class over k, scikit-learn's ``predict_proba``) is read off the first k. Where
    they are equal, scikit-learn's own pick among the tied posts may decide the vote: unless
    the tied posts all share one label (``_tied_votes``),
    ``KNeighborsClassifier(n_neighbors=k)`` is asked for just those posts: scikit-learn
    handles each post on its own (``_knn_shared_ok``), so the answer is the one it gives
    with all posts. Distances are compared after the square root ``kneighbors`` returns:
    equal squares stay equal, so no tie is missed (a few near-ties are sent to
    scikit-learn needlessly).
    """
    counts = [int(p[KNN_K]) for p in params]
    top = max(counts)
    base = _model(pipeline, {**params[0], KNN_K: top})
    n_train = Xt_train.shape[0]
    if top > n_train or not isinstance(base, KNeighborsClassifier):
        return _plain(pipeline, params, Xt_train, y_train, Xt_test, y_test)
    base.fit(Xt_train, y_train)
    if not _knn_shared_ok(base, Xt_test):
        return _plain(pipeline, params, Xt_train, y_train, Xt_test, y_test)
    width = min(top + 1, n_train)
    distance, index = base.kneighbors(Xt_test, n_neighbors=width)
    positive = list(base.classes_).index(1)
    is_positive = (y_train == base.classes_[positive])[index]
    positives = np.cumsum(is_positive, axis=1)
    scores, probas = [], []
    for k in counts:
        count = positives[:, k - 1].copy()
        ask = np.array([], dtype=np.intp)
        if k < width:
            tied = np.flatnonzero(distance[:, k - 1] == distance[:, k])
            count[tied], known = _tied_votes(distance[tied], is_positive[tied],
                                             positives[tied], k, width == n_train)
            ask = tied[~known]
        proba = count / np.float64(k)
        if ask.size:
            model = _model(pipeline, params[counts.index(k)]).fit(Xt_train, y_train)
            proba[ask] = model.predict_proba(Xt_test[ask])[:, positive]
        scores.append(float(roc_auc_score(y_test, proba)))
        probas.append(proba)
    return scores, probas


def _tied_votes(distance: np.ndarray, is_positive: np.ndarray, positives: np.ndarray, k: int,
                complete: bool) -> tuple[np.ndarray, np.ndarray]:
    """Positive votes among the k nearest for posts tied at the k-th neighbour, where the
    tie cannot change them, and which posts those are.

    The k nearest are every post closer than the k-th distance and some of the posts at
    it. When all posts at that distance are in the rows (a farther one follows them, or
    the rows hold every training post: ``complete``) and share one label, whichever are
    picked vote alike: the count is the closer posts' positives plus the rest of k times
    that label. Rows are sorted by distance, so the tied posts are one run.
    """
    if distance.shape[0] == 0:
        return np.zeros(0, dtype=positives.dtype), np.zeros(0, dtype=bool)
    width = distance.shape[1]
    at = distance == distance[:, k - 1][:, None]
    first = at.argmax(axis=1)
    last = width - 1 - at[:, ::-1].argmax(axis=1)
    tied_positive = np.where(at, is_positive, False).sum(axis=1)
    one_label = (tied_positive == 0) | (tied_positive == last - first + 1)
    known = one_label & (complete | (last < width - 1))
    closer = np.where(first > 0, positives[np.arange(len(first)), first - 1], 0)
    return closer + (k - first) * (tied_positive > 0), known


def _plain(pipeline: Pipeline, params: list[dict[str, Any]], Xt_train: Any,
           y_train: np.ndarray, Xt_test: Any, y_test: np.ndarray) -> tuple[list, list]:
    """Each setting fitted and scored on its own, as GridSearchCV does."""
    scores, probas = [], []
    for p in params:
        model = _model(pipeline, p).fit(Xt_train, y_train)
        positive = list(model.classes_).index(1)
        scores.append(float(get_scorer("roc_auc")(model, Xt_test, y_test)))
        probas.append(model.predict_proba(Xt_test)[:, positive])
    return scores, probas


# --- the searches ---------------------------------------------------------------------------


@dataclass
class SearchSpec:
    """One grid search for :func:`grid_search_many`: a pipeline, its grid and a label for
    progress messages."""

    pipeline: Pipeline
    grid: dict[str, list]
    label: str = ""


def grid_search(
    pipeline: Pipeline,
    grid: dict[str, list],
    X: Any,
    y: np.ndarray,
    folds: Any,
    *,
    progress: Progress | None = None,
    n_jobs: int = 1,
    label: str = "",
) -> SearchResult:
    """GridSearchCV's best setting by cross-validated AUC (ties: the first setting of the
    grid) and the out-of-fold probabilities of that setting (see the module docstring).

    ``X``: a DataFrame with ``text``; ``folds``: a splitter with ``split(X, y)``;
    ``progress(fraction, message)`` is called after each unit of work with the setting,
    fold and an estimate of the time left.
    """
    return grid_search_many([SearchSpec(pipeline, grid, label)], X, y, folds,
                            progress=progress, n_jobs=n_jobs)[0]


def grid_search_many(
    specs: Sequence[SearchSpec],
    X: Any,
    y: np.ndarray,
    folds: Any,
    *,
    progress: Progress | None = None,
    n_jobs: int = 1,
    done: Callable[[int, SearchResult], None] | None = None,
) -> list[SearchResult]:
    """Several grid searches on the same posts and folds, their units of work in one pool
    (dearest first, so the cores stay busy to the end); each result as ``grid_search``.

    ``progress(fraction, message)`` follows the units of all searches together;
    ``done(index, result)`` is called as soon as one search is complete (e.g. to start its
    final fit while others run).
    """
    splits = list(folds.split(X, y))
    all_combos = [list(ParameterGrid(spec.grid)) for spec in specs]
    units = [u for s, spec in enumerate(specs)
             for u in _units(s, spec.pipeline, all_combos[s], len(splits))]
    remaining = [sum(1 for u in units if u.search == s) for s in range(len(specs))]
    scores = [np.full((len(c), len(splits)), np.nan) for c in all_combos]
    test_proba: list[dict[tuple[int, int], np.ndarray]] = [{} for _ in specs]
    seconds = [0.0] * len(specs)
    results: list[SearchResult | None] = [None] * len(specs)
    # searches whose feature steps are alike share the per-fold features in each process
    run = uuid.uuid4().hex
    tokens = [f"{run}-{joblib.hash(spec.pipeline.named_steps['features'])}" for spec in specs]
    started = time.perf_counter()
    total_weight = sum(u.weight for u in units) or 1.0
    finished_weight = 0.0
    n_done = 0
    chains: dict[tuple[int, int, int], list[_Unit]] = {}
    ready: list[tuple[float, int, _Unit]] = []
    for i, unit in enumerate(units):
        if unit.chain is not None:
            chains.setdefault(unit.chain, []).append(unit)
            if len(chains[unit.chain]) > 1:
                continue
        # a chain's first unit counts with its whole chain: it holds up all of them
        heapq.heappush(ready, (-unit.weight, i, unit))
    for chain, members in chains.items():
        total = sum(u.weight for u in members)
        for k, (_, i, unit) in enumerate(ready):
            if unit.chain == chain:
                ready[k] = (-total, i, unit)
    heapq.heapify(ready)
    sequence = len(units)

    def finish(s: int) -> None:
        best = _best_index(scores[s])
        oof = np.empty(len(y))
        for fold, (_, test) in enumerate(splits):
            oof[test] = test_proba[s][best, fold]
        results[s] = SearchResult(best_params=all_combos[s][best], scores=scores[s],
                                  oof_proba=oof, fit_seconds=seconds[s])
        if done:
            done(s, results[s])

    def record(unit: _Unit, outcome: Outcome) -> None:
        nonlocal finished_weight, n_done, sequence
        unit_scores, unit_probas, unit_seconds, chained = outcome
        s = unit.search
        seconds[s] += unit_seconds
        n_done += 1
        finished_weight += unit.weight
        for setting, score, proba in zip(unit.settings, unit_scores, unit_probas,
                                         strict=True):
            scores[s][setting, unit.fold] = score
            test_proba[s][setting, unit.fold] = proba
        if unit.chain is not None:
            rest = chains[unit.chain]
            rest.pop(0)
            if rest:  # the next depth of the chain goes first: it holds up the rest
                rest[0].previous = chained
                sequence += 1
                heapq.heappush(ready, (-np.inf, sequence, rest[0]))
        remaining[s] -= 1
        if progress:
            elapsed = time.perf_counter() - started
            fraction = finished_weight / total_weight
            left = elapsed / fraction * (1 - fraction) if fraction else 0.0
            label = specs[s].label
            progress(n_done / len(units),
                     f"{label}{': ' if label else ''}setting {max(unit.settings) + 1} of "
                     f"{len(all_combos[s])}, fold {unit.fold + 1} of {len(splits)}, about "
                     f"{left:,.0f} s left")
        if remaining[s] == 0:
            finish(s)

    def arguments(unit: _Unit) -> tuple:
        return (tokens[unit.search], specs[unit.search].pipeline, X, y, *splits[unit.fold],
                unit)

    if n_jobs <= 1 or len(units) <= 1:
        while ready:
            unit = heapq.heappop(ready)[2]
            record(unit, _run_unit(*arguments(unit)))
    else:
        pool = executor(n_jobs)
        running: dict[Future, _Unit] = {}
        while ready or running:
            # one unit queued beyond the workers, so none waits for the next submission
            while ready and len(running) < n_jobs + 1:
                unit = heapq.heappop(ready)[2]
                running[pool.submit(_run_unit, *arguments(unit))] = unit
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                record(running.pop(future), future.result())
    _FOLD_CACHE.clear()
    return [r for r in results if r is not None]


def _best_index(scores: np.ndarray) -> int:
    """GridSearchCV's choice: the highest mean fold score (``np.average``), ties to the
    first setting (``rankdata(..., method="min")`` then ``argmin``), NaN means last."""
    means = np.average(scores, axis=1)
    if np.isnan(means).all():
        ranks = np.ones_like(means, dtype=np.int32)
    else:
        lowest = np.nanmin(means) - 1
        ranks = np.asarray(rankdata(-np.where(np.isnan(means), lowest, means),
                                    method="min"), dtype=np.int32)
    return int(ranks.argmin())

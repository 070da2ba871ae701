"""Training and comparing model families on coded posts; the rule that picks the one to keep.

A stratified train/test split; Welch t-tests on the training split choose the engineered
features that differed significantly between stigmatising and other posts; per family a grid
search by cross-validated AUC, out-of-fold probabilities, a threshold reaching the recall
target on them, a final fit and test metrics with bootstrap CIs (``train_models``). The
choice among families (``CHOICE_RULE``, ``TrainingRun.chosen``) uses only the out-of-fold
figures, so the test figures stay an honest estimate.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from time import perf_counter
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import (
    GridSearchCV,
    ParameterGrid,
    StratifiedKFold,
    train_test_split,
)
from sklearn.pipeline import Pipeline

from stigma_core.calibration import METHODS as CALIBRATIONS
from stigma_core.calibration import (
    CalibratedModel,
    ProbabilityCalibrator,
    brier_score,
    calibration_gap,
    reliability_curve,
    reviews_per_catch,
)
from stigma_core.errors import CorpusError, ModelError
from stigma_core.features import (
    FEATURE_NAMES,
    compute_features,
    significant_features,
    welch_tests,
)
from stigma_core.metrics import (
    METRIC_NAMES,
    Estimate,
    OperatingPoints,
    evaluate,
    threshold_for_recall,
)
from stigma_core.models.families import GRIDS, Family, _family, build_pipeline
from stigma_core.parallel import worker_count
from stigma_core.search import SearchResult, SearchSpec, grid_search, grid_search_many
from stigma_core.text import preprocess_many

Progress = Callable[[float, str], None]
CHOICE_RULE = (
    "Each model's threshold is set on cross-validated (out-of-fold) predictions for the "
    "training posts so that it finds at least the recall target of the stigmatising posts "
    "(service users asked to miss as few as possible). The model kept is the one with the "
    "fewest false alarms (out-of-fold false positives) at that threshold; ties go to the "
    "higher out-of-fold AUC. A model that only reaches the target by flagging every post is "
    "kept last. Test-set figures play no part in the choice, so they stay an honest estimate."
)


@dataclass
class ModelResult:
    """One trained family: its fitted pipeline, threshold and honest test figures.

    ``oof_proba`` are out-of-fold probabilities for the training posts (``y_train``), from the
    same folds as the grid search; ``threshold`` was set on them. ``test_proba`` and
    ``metrics`` are for the held-out test posts, at that threshold. ``fit_seconds`` is the
    whole family's training time: grid search, out-of-fold predictions and the final fit.
    """

    family: str
    label: str
    pipeline: Pipeline
    best_params: dict[str, Any]
    test_proba: np.ndarray
    oof_proba: np.ndarray
    y_train: np.ndarray
    threshold: float
    metrics: dict[str, Estimate]
    fit_seconds: float
    calibration: str = "none"
    """How the probabilities were calibrated on the out-of-fold scores (``none``: as the
    model gives them); ``oof_proba``, ``test_proba`` and the pipeline are all after it."""

    @property
    def brier(self) -> Estimate:
        """Brier score of the test probabilities (lower is better), with a 95% CI."""
        return brier_score(self.y_test_for_brier, self.test_proba)

    @property
    def reviews_per_catch(self) -> Estimate:
        """Test posts a team reviews per stigmatising post caught at the threshold
        (1 / precision), with a 95% CI."""
        return reviews_per_catch(self.metrics["precision"])

    y_test_for_brier: np.ndarray | None = None
    """The test labels (kept for :attr:`brier`)."""

    @property
    def oof_false_positives(self) -> int:
        """False alarms among the training posts' out-of-fold predictions at the threshold."""
        return int(((self.oof_proba >= self.threshold) & (self.y_train == 0)).sum())

    def threshold_for_cost(self, fn_cost: float, fp_cost: float = 1.0) -> float:
        """The threshold an advisory group's cost ratio picks, set on the out-of-fold scores
        (so the test posts stay unseen and nothing is refitted)."""
        return OperatingPoints.from_scores(self.y_train, self.oof_proba).for_cost(
            fn_cost, fp_cost)

    @property
    def oof_auc(self) -> float:
        """AUC of the out-of-fold probabilities."""
        return float(roc_auc_score(self.y_train, self.oof_proba))

    @property
    def flags_everything(self) -> bool:
        """True when the threshold flags every training post (no model at all, in effect)."""
        return bool((self.oof_proba >= self.threshold).all())


MIN_TEST_CLASS = 20
"""Fewest test posts of each class for the test-set figures to be worth reading."""


@dataclass
class TrainingRun:
    """Everything one call of :func:`train_models` produced, for tables, plots and saving."""

    results: dict[str, ModelResult]
    feature_table: pd.DataFrame
    selected_features: list[str]
    notes: list[str]
    seed: int
    recall_target: float
    grid: str
    X_test: pd.DataFrame
    y_test: np.ndarray
    n_train: int
    X_train: pd.DataFrame | None = None
    """The training split's posts (``text``), aligned with every result's ``oof_proba``; the
    model card's training profile is built from them (numbers only, never the text)."""

    @property
    def chosen(self) -> str:
        """The family to keep, by ``CHOICE_RULE``.

        Thresholds were set on out-of-fold predictions to reach the recall target; the model
        with the fewest out-of-fold false positives there wins, ties going to the higher
        out-of-fold AUC, then to the earlier family. A model flagging every post comes last,
        so "flag everything" (perfect recall, useless) can never beat a real model. The test
        set is not consulted.
        """
        order = list(self.results)

        def key(name: str) -> tuple[bool, int, float, int]:
            r = self.results[name]
            return (r.flags_everything, r.oof_false_positives, -r.oof_auc, order.index(name))

        return min(order, key=key)

    def small_test_warning(self) -> str | None:
        """A plain warning when the held-out test set is too small for its figures to mean
        much (fewer than ``MIN_TEST_CLASS`` posts of either class): a bootstrap interval on 6
        posts can read "1 to 1" and look certain when nothing is known. None otherwise."""
        y = np.asarray(self.y_test)
        positives, negatives = int((y == 1).sum()), int((y == 0).sum())
        if min(positives, negatives) >= MIN_TEST_CLASS:
            return None
        return (f"The test set holds only {len(y):,} posts ({positives} stigmatising, "
                f"{negatives} not): too few for these figures to mean much. An interval such "
                "as '1 to 1' here says the test posts cannot show the uncertainty, not that "
                f"there is none. Code more posts (at least {MIN_TEST_CLASS} of each kind in the "
                "test set, so about five times as many in all) before relying on them.")

    def table(self, rank_by: str = "false_negatives") -> pd.DataFrame:
        """One row per family: each test metric with its CI, threshold and fit time, ranked.

        ``false_negatives`` ranks by fewest misses then fewest false alarms;
        ``false_positives`` the other way round; any other metric ranks highest first.
        """
        if rank_by not in METRIC_NAMES:
            names = ", ".join(METRIC_NAMES)
            raise ModelError(f"Cannot rank by '{rank_by}'; choose one of {names}.")
        chosen = self.chosen
        rows = [_result_row(r, r.family == chosen) for r in self.results.values()]
        table = pd.DataFrame(rows)
        if rank_by in ("false_negatives", "false_positives"):
            other = "false_positives" if rank_by == "false_negatives" else "false_negatives"
            by, ascending = [rank_by, other], [True, True]
        else:
            by, ascending = [rank_by, "false_negatives"], [False, True]
        return table.sort_values(by, ascending=ascending, kind="stable").reset_index(drop=True)


    def reliability(self, family: str, n_bins: int = 10) -> pd.DataFrame:
        """The family's reliability curve on the test posts (see
        :func:`stigma_core.calibration.reliability_curve`; fewer bins on small test sets so
        each holds about 20 posts or more)."""
        bins = max(2, min(n_bins, len(self.y_test) // 20))
        return reliability_curve(self.y_test, self.results[family].test_proba, bins)

    def calibration_table(self) -> pd.DataFrame:
        """One row per family: how its probabilities were calibrated, the test Brier score
        and calibration gap, and the posts reviewed per stigmatising post caught at its
        threshold (chosen on CV), each with its 95% CI."""
        rows = []
        for name, result in self.results.items():
            brier, reviews = result.brier, result.reviews_per_catch
            rows.append({
                "family": name, "label": result.label, "calibration": result.calibration,
                "brier": brier.value, "brier_ci_low": brier.ci_low,
                "brier_ci_high": brier.ci_high,
                "calibration_gap": calibration_gap(self.reliability(name)),
                "reviews_per_catch": reviews.value, "reviews_ci_low": reviews.ci_low,
                "reviews_ci_high": reviews.ci_high, "n": brier.n,
            })
        return pd.DataFrame(rows).sort_values("brier", kind="stable").reset_index(drop=True)


def _result_row(result: ModelResult, chosen: bool) -> dict[str, Any]:
    """A flat table row for one result."""
    row: dict[str, Any] = {"family": result.family, "label": result.label}
    for name, est in result.metrics.items():
        row[name], row[f"{name}_ci_low"], row[f"{name}_ci_high"] = est[:3]
    row.update(
        threshold=result.threshold,
        oof_false_positives=result.oof_false_positives,
        oof_auc=result.oof_auc,
        fit_seconds=result.fit_seconds,
        chosen=chosen,
    )
    return row


def _labels(series: pd.Series) -> pd.Series:
    """Labels as floats 0/1 (NaN where missing), or a plain-words error naming bad values."""
    numeric = pd.to_numeric(series, errors="coerce").astype(float)
    bad = series.notna() & ~numeric.isin([0.0, 1.0])
    if bad.any():
        examples = ", ".join(repr(v) for v in series[bad].astype(str).unique()[:3])
        raise CorpusError(
            f"The label column holds values other than 0 and 1 (e.g. {examples}) in "
            f"{int(bad.sum())} rows. Code each post 1 (stigmatising) or 0 (not), or leave "
            "it empty to leave the post out."
        )
    return numeric


def _training_data(df: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray, list[str]]:
    """Usable (texts frame, 0/1 labels, notes) from a corpus frame with text and label."""
    if not isinstance(df, pd.DataFrame):
        raise CorpusError("Training needs a table of posts (a DataFrame).")
    missing = [c for c in ("text", "label") if c not in df.columns]
    if missing:
        raise CorpusError(
            f"The training data has no {' or '.join(repr(c) for c in missing)} column. It "
            "needs the posts ('text') and their codes ('label': 1 stigmatising, 0 not); "
            "map those columns when loading the data."
        )
    labels = _labels(df["label"])
    text = df["text"].astype("string").str.strip()
    keep = labels.notna() & text.notna() & (text != "")
    notes = []
    if not keep.all():
        notes.append(f"{int((~keep).sum())} rows without a label or text were left out.")
    y = labels[keep].to_numpy(dtype=np.int64)
    if np.unique(y).size < 2:
        raise CorpusError(
            f"All {y.size} labelled posts have the same code, so there is nothing to learn. "
            "The training data needs both stigmatising (1) and other (0) posts."
        )
    texts = df["text"][keep].astype(str).to_numpy()
    _check_learnable_words(texts)
    return pd.DataFrame({"text": texts}), y, notes


def _check_learnable_words(texts: np.ndarray) -> None:
    """CorpusError when no post keeps a word after preprocessing (posts of only emoji,
    links, numbers or stop words): TF-IDF would have an empty vocabulary."""
    if not any(preprocess_many(texts)):
        raise CorpusError(
            f"None of the {len(texts):,} posts has a word the model can learn from: after "
            "removing links, @handles, punctuation, emoji and common stop words (the, and, "
            "is...) nothing is left. Check that the text column holds the posts themselves."
        )


def _split(
    X: pd.DataFrame, y: np.ndarray, test_size: float, seed: int, cv: int
) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray, np.ndarray]:
    """Stratified train/test split, checked to leave enough of each class for ``cv`` folds."""
    if cv < 2 or not 0 < test_size < 1:
        raise ModelError("Use at least 2 folds and a test share between 0 and 1 (e.g. 0.2).")
    fewest = int(np.bincount(y).min())
    advice = (
        f"Only {fewest} posts have the rarer code. Training with {cv}-fold cross-validation "
        f"on {1 - test_size:.0%} of the data needs about {int(np.ceil(cv / (1 - test_size))) + 1}"
        " of each code; code more posts (or use fewer folds)."
    )
    if fewest < 2:
        raise ModelError(advice)
    try:
        parts = train_test_split(X, y, test_size=test_size, stratify=y, random_state=seed)
    except ValueError as err:
        raise ModelError(f"{advice} ({err})") from err
    X_train, X_test, y_train, y_test = parts
    if np.bincount(y_train, minlength=2).min() < cv or np.unique(y_test).size < 2:
        raise ModelError(advice)
    return X_train.reset_index(drop=True), X_test.reset_index(drop=True), y_train, y_test


def _select_features(
    texts: pd.Series, y: np.ndarray, notes: list[str]
) -> tuple[pd.DataFrame, list[str]]:
    """Welch t-tests on the training split's engineered features; the significant ones."""
    table = welch_tests(compute_features(texts), y)
    selected = list(significant_features(table))
    if not selected:
        selected = list(FEATURE_NAMES)
        notes.append(
            "No engineered feature differed significantly between stigmatising and other "
            "posts in the training split, so all ten are used."
        )
    return table, selected


def best_params(
    pipeline: Pipeline,
    grid: dict[str, list],
    X: pd.DataFrame,
    y: np.ndarray,
    folds: Any,
) -> dict[str, Any]:
    """Grid-search the settings by cross-validated AUC (skipped when there is one choice).

    ``folds`` is anything ``GridSearchCV`` takes as ``cv``: a splitter or a list of splits.
    """
    combos = list(ParameterGrid(grid))
    if len(combos) == 1:
        return combos[0]
    search = GridSearchCV(
        pipeline, grid, scoring="roc_auc", cv=folds, n_jobs=1, refit=False, error_score="raise"
    )
    return search.fit(X, y).best_params_


def _train_family(
    family: Family, run: dict[str, Any], folds: StratifiedKFold, progress: Progress | None = None,
    search: SearchResult | None = None,
) -> ModelResult:
    """Search, cross-predict, fit and test one family.

    The search (``stigma_core.search.grid_search``) gives GridSearchCV's best setting and
    ``cross_val_predict``'s out-of-fold probabilities for it, exactly, with fewer fits;
    ``progress`` is called after each fit.
    """
    start = perf_counter()
    X_train, y_train = run["X_train"], run["y_train"]
    pipeline = build_pipeline(family, run["selected"], run["seed"])
    n_jobs = 1 if family.in_process else run.get("n_jobs", 1)
    if family.in_process and progress:
        progress(0.0, f"{family.label}: {family.first_step}")
    if search is None:
        search = grid_search(pipeline, family.grid(run["grid"]), X_train, y_train, folds,
                             progress=progress, n_jobs=n_jobs, label=family.label)
    else:  # searched beside other families (_search_together): count its fits' time
        start -= search.fit_seconds
    params = search.best_params
    pipeline.set_params(**params)
    oof = search.oof_proba
    pipeline.fit(X_train, y_train)
    method = run.get("calibration") or family.calibration
    if method != "none":
        calibrator = ProbabilityCalibrator(method).fit(oof, y_train)
        if method == "sigmoid" and calibrator.slope_ <= 0:
            method = "none"  # scores no better than chance: a map would only reverse them
        else:
            oof = calibrator.predict(oof)
            model = pipeline.steps[-1][1]
            pipeline.steps[-1] = ("model", CalibratedModel.from_fitted(model, calibrator))
    seconds = perf_counter() - start
    test_proba = pipeline.predict_proba(run["X_test"])[:, 1]
    threshold = threshold_for_recall(y_train, oof, run["recall_target"])
    return ModelResult(
        family=family.name,
        label=family.label,
        pipeline=pipeline,
        best_params={k.removeprefix("model__"): v for k, v in params.items()},
        test_proba=test_proba,
        oof_proba=oof,
        y_train=y_train,
        threshold=threshold,
        metrics=evaluate(run["y_test"], test_proba, threshold, seed=run["seed"]),
        fit_seconds=seconds,
        calibration=method,
        y_test_for_brier=run["y_test"],
    )


def _search_together(chosen: list[Family], run: dict[str, Any], folds: StratifiedKFold,
                     progress: Progress | None) -> dict[str, SearchResult]:
    """The grid searches of every family that runs in worker processes, in one pool, when
    there are several and more than one process: the cores stay busy across families
    instead of idling at the end of each (same results as one by one; see
    ``stigma_core.search.grid_search_many``). Empty otherwise, and when a fold has no
    learnable word (the one-by-one path then raises the plain error)."""
    pooled = [f for f in chosen if not f.in_process]
    if run.get("n_jobs", 1) <= 1 or len(pooled) < 2:
        return {}
    specs = [SearchSpec(build_pipeline(f, run["selected"], run["seed"]), f.grid(run["grid"]),
                        f.label) for f in pooled]
    share = len(pooled) / len(chosen)
    report = None if progress is None else (
        lambda fraction, message: progress(fraction * share, message))
    try:
        found = grid_search_many(specs, run["X_train"], run["y_train"], folds,
                                 progress=report, n_jobs=run["n_jobs"])
    except ValueError as err:
        if "empty vocabulary" in str(err):
            return {}
        raise
    return {f.name: r for f, r in zip(pooled, found, strict=True)}


def _family_progress(progress: Progress | None, index: int, count: int) -> Progress | None:
    """``progress`` for the family at ``index`` of ``count``: its fraction mapped into the
    family's share of the whole run."""
    if progress is None:
        return None
    return lambda fraction, message: progress((index + fraction) / count, message)


def train_models(
    df: pd.DataFrame,
    families: Sequence[str | Family],
    *,
    grid: str = "fast",
    seed: int = 0,
    test_size: float = 0.2,
    cv: int = 5,
    recall_target: float = 0.9,
    progress: Progress | None = None,
    n_jobs: int | None = 1,
    calibration: str | None = None,
) -> TrainingRun:
    """Train and compare model families on a coded corpus (``text`` and 0/1 ``label``).

    Stratified train/test split; Welch t-tests on the training split choose the engineered
    features; per family a grid search by cross-validated AUC (stratified ``cv`` folds,
    seeded; its (setting, fold) fits on ``n_jobs`` processes, None = every core), out-of-fold
    probabilities on the same folds, a threshold on them
    reaching ``recall_target``, a final fit on the whole training split, and test metrics
    with bootstrap CIs. ``progress(fraction, message)`` is called before each family and
    after each fit within it ("setting i of n, fold k of 5, about N s left").

    ``calibration`` (``sigmoid``: Platt, ``isotonic`` or ``none``) maps every family's
    probabilities through a monotone curve fitted on its out-of-fold scores (so the
    threshold and the saved pipeline use calibrated probabilities); None keeps each
    family's own default (the stronger families calibrated, the paper's eight as the study
    had them). Families searched in this process (``Family.in_process``) ignore ``n_jobs``.
    """
    if calibration is not None and calibration not in CALIBRATIONS:
        raise ModelError(f"Unknown calibration '{calibration}': choose "
                         f"{', '.join(CALIBRATIONS)}.")
    chosen = list({f.name: f for f in map(_family, families)}.values())
    if not chosen:
        raise ModelError("Choose at least one model family to train.")
    if grid not in GRIDS:
        raise ModelError(f"Unknown grid '{grid}': choose 'fast' or 'paper'.")
    if not 0 < recall_target <= 1:
        raise ModelError("The recall target must be above 0 and at most 1 (e.g. 0.9).")
    X, y, notes = _training_data(df)
    X_train, X_test, y_train, y_test = _split(X, y, test_size, seed, cv)
    table, selected = _select_features(X_train["text"], y_train, notes)
    run = {
        "X_train": X_train,
        "y_train": y_train,
        "X_test": X_test,
        "y_test": y_test,
        "selected": selected,
        "seed": seed,
        "grid": grid,
        "recall_target": recall_target,
        "n_jobs": worker_count(n_jobs),
        "calibration": calibration,
    }
    folds = StratifiedKFold(cv, shuffle=True, random_state=seed)
    searches = _search_together(chosen, run, folds, progress)
    rest = [f for f in chosen if f.name not in searches]
    results = {}
    for family in chosen:
        i = len(searches) + rest.index(family) if family in rest else None
        if progress and i is not None:
            progress(i / len(chosen), f"Training {family.label} ({i + 1} of {len(chosen)})")
        try:
            results[family.name] = _train_family(
                family, run, folds,
                None if i is None else _family_progress(progress, i, len(chosen)),
                searches.get(family.name))
        except ValueError as err:
            if "empty vocabulary" not in str(err):
                raise
            raise CorpusError(
                "Too few posts have a word the model can learn from: in some part of the "
                "training data every post is only emoji, links, numbers or stop words. Add "
                "posts with words, or leave out the posts without any."
            ) from None
    if progress:
        progress(1.0, "All models trained")
    return TrainingRun(
        results=results,
        feature_table=table,
        selected_features=selected,
        notes=notes,
        seed=seed,
        recall_target=recall_target,
        grid=grid,
        X_test=X_test,
        y_test=y_test,
        n_train=len(y_train),
        X_train=X_train,
    )

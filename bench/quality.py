"""Classifier quality on real, human-coded text: every family, CV grouped by participant.

The MHStigmaInterview train split (Meng et al., ACL 2025; 3,312 answers from 684
participants) is the project's quality test. One participant writes several answers, and
answers by one person resemble each other, so every split here keeps a participant's answers
on one side: outer ``StratifiedGroupKFold(5, shuffle=True, random_state=0)``, and the same
kind of split inside each training fold. Within a training fold, as the library does:

1. Welch t-tests on the training posts choose the engineered features (no test post seen);
2. the "fast" grid is searched by inner cross-validated AUC (``GridSearchCV``);
3. inner out-of-fold probabilities at the best settings give a threshold reaching recall
   0.9 (``threshold_for_recall``), the operating point of the library's ``CHOICE_RULE``;
4. the pipeline is refitted on the whole training fold and scores the outer test posts.

Pooled over the five outer folds every post has one honest probability and one decision.
Figures get 95% CIs from a cluster bootstrap over participants; the family the library's
choice rule keeps is read, per outer fold, from ``TrainingRun.chosen`` itself.

By default the study's eight families and the logistic-regression reference (``PAPER_SET``);
the stronger families are compared with them in ``bench/models.py``.

Run: .venv/bin/python bench/quality.py  -> bench/results/quality.json (about 15 min, 2 cores)
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from common import RESULTS, machine, read_real_corpus, utc_now, write_json
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import (
    StratifiedGroupKFold,
    cross_val_predict,
)

from stigma_core.features import (
    FEATURE_NAMES,
    compute_features,
    significant_features,
    welch_tests,
)
from stigma_core.metrics import threshold_for_recall
from stigma_core.models import (
    CHOICE_RULE,
    FAMILIES,
    PAPER_SET,
    ModelResult,
    TrainingRun,
    best_params,
    build_pipeline,
)
from stigma_core.text import preprocess_many

SEED = 0
OUTER_SPLITS = 5
INNER_SPLITS = 5
RECALL_TARGET = 0.9
N_BOOT = 1000
GRID = "fast"
QUICK_FAMILIES = ("logistic_regression", "naive_bayes", "knn")
Split = tuple[np.ndarray, np.ndarray]


def grouped_folds(y: np.ndarray, groups: np.ndarray, n_splits: int) -> list[Split]:
    """Stratified folds that never split a participant (shuffled, seeded)."""
    splitter = StratifiedGroupKFold(n_splits, shuffle=True, random_state=SEED)
    return list(splitter.split(np.zeros(len(y)), y, groups))


def selected_features(texts: pd.Series, y: np.ndarray) -> list[str]:
    """Engineered features that differ significantly (Welch, p < .05) in these posts only.

    All ten when none does, as ``train_models`` does.
    """
    chosen = list(significant_features(welch_tests(compute_features(texts), y)))
    return chosen or list(FEATURE_NAMES)


def fit_family_on_fold(
    family: str,
    fold: int,
    data: pd.DataFrame,
    split: Split,
    features: list[str],
    grid: str,
) -> dict[str, Any]:
    """Search, threshold, refit and score one family on one outer fold.

    The text caches are filled for all posts before the clock starts, so ``seconds`` is the
    model work (grid search, inner out-of-fold predictions, final fit) with preprocessing
    memoised, as in a library training run after its first family.
    """
    train, test = split
    X_train = data.iloc[train][["text"]].reset_index(drop=True)
    X_test = data.iloc[test][["text"]].reset_index(drop=True)
    y_train = data["stigma"].to_numpy()[train]
    preprocess_many(data["text"])
    compute_features(data["text"])
    start = time.perf_counter()
    inner = grouped_folds(y_train, data["participant"].to_numpy()[train], INNER_SPLITS)
    pipeline = build_pipeline(family, features, SEED)
    params = best_params(pipeline, FAMILIES[family].grid(grid), X_train, y_train,
                                     inner)
    pipeline.set_params(**params)
    inner_oof = cross_val_predict(
        clone(pipeline), X_train, y_train, cv=inner, method="predict_proba"
    )[:, 1]
    pipeline.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    return {
        "family": family,
        "fold": fold,
        "params": {k.removeprefix("model__"): v for k, v in params.items()},
        "inner_oof": inner_oof,
        "threshold": threshold_for_recall(y_train, inner_oof, RECALL_TARGET),
        "test_proba": pipeline.predict_proba(X_test)[:, 1],
        "seconds": seconds,
    }


def run_all_fits(
    data: pd.DataFrame,
    folds: list[Split],
    features: list[list[str]],
    families: Sequence[str],
    jobs: int,
) -> list[dict[str, Any]]:
    """Every (family, outer fold) fit, ``jobs`` at a time, printing each as it finishes."""
    tasks = [
        delayed(fit_family_on_fold)(family, i, data, folds[i], features[i], GRID)
        for family in families
        for i in range(len(folds))
    ]
    done: list[dict[str, Any]] = []
    results: Iterator[dict[str, Any]] = Parallel(n_jobs=jobs, return_as="generator_unordered")(
        tasks
    )
    for fit in results:
        done.append(fit)
        print(
            f"  [{len(done):2d}/{len(tasks)}] {fit['family']:<20} fold {fit['fold']}  "
            f"{fit['seconds']:6.1f} s  {fit['params']}",
            flush=True,
        )
    return done


def participant_weights(groups: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    """Cluster-bootstrap weights, shape (n_boot, n_rows): participants are drawn with
    replacement and each post counts as often as its participant was drawn."""
    codes, uniques = pd.factorize(groups)
    k = len(uniques)
    draws = np.random.default_rng(seed).integers(0, k, size=(n_boot, k))
    offsets = (np.arange(n_boot) * k)[:, None]
    counts = np.bincount((draws + offsets).ravel(), minlength=n_boot * k).reshape(n_boot, k)
    return counts[:, codes]


def weighted_auc(weights: np.ndarray, y: np.ndarray, proba: np.ndarray) -> np.ndarray:
    """ROC AUC under each row of ``weights`` (weighted Mann-Whitney, ties counted half)."""
    order = np.argsort(proba, kind="stable")
    scores = proba[order]
    starts = np.flatnonzero(np.r_[True, scores[1:] != scores[:-1]])
    w = weights[:, order].astype(float)
    positive = y[order] == 1
    pos = np.add.reduceat(np.where(positive, w, 0.0), starts, axis=1)
    neg = np.add.reduceat(np.where(positive, 0.0, w), starts, axis=1)
    wins = (pos * (np.cumsum(neg, axis=1) - 0.5 * neg)).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return wins / (pos.sum(axis=1) * neg.sum(axis=1))


def decision_metrics(cells: np.ndarray) -> dict[str, np.ndarray]:
    """Accuracy, FN, FP, precision, recall and flagged share from (..., 4) counts
    ordered tn, fp, fn, tp (NaN where a rate is undefined)."""
    tn, fp, fn, tp = (cells[..., i].astype(float) for i in range(4))
    with np.errstate(invalid="ignore", divide="ignore"):
        return {
            "accuracy": (tp + tn) / (tn + fp + fn + tp),
            "false_negatives": fn,
            "false_positives": fp,
            "precision": np.where(tp + fp > 0, tp / (tp + fp), np.nan),
            "recall": tp / (tp + fn),
            "predicted_positive_share": (tp + fp) / (tn + fp + fn + tp),
        }


def with_intervals(
    y: np.ndarray, proba: np.ndarray, pred: np.ndarray, weights: np.ndarray
) -> dict[str, dict[str, float]]:
    """Each figure's value and 95% percentile cluster-bootstrap interval."""
    cells = np.eye(4)[2 * y + pred]
    points = decision_metrics(cells.sum(axis=0))
    samples = decision_metrics(weights @ cells)
    points["auc"] = np.float64(roc_auc_score(y, proba))
    samples["auc"] = weighted_auc(weights, y, proba)
    out = {}
    for name in ("auc", *decision_metrics(cells[:1]).keys()):
        finite = samples[name][np.isfinite(samples[name])]
        low, high = np.percentile(finite, [2.5, 97.5]) if finite.size else (np.nan, np.nan)
        out[name] = {"value": float(points[name]), "ci_low": float(low), "ci_high": float(high)}
    return out


def pooled_predictions(
    fits: list[dict[str, Any]], folds: list[Split], n: int
) -> tuple[np.ndarray, np.ndarray]:
    """One family's out-of-fold probabilities and decisions (each at its fold's threshold)."""
    proba, pred = np.full(n, np.nan), np.zeros(n, dtype=np.int64)
    for fit in fits:
        test = folds[fit["fold"]][1]
        proba[test] = fit["test_proba"]
        pred[test] = fit["test_proba"] >= fit["threshold"]
    assert np.isfinite(proba).all(), "a post got no out-of-fold probability"
    return proba, pred


def chosen_by_library_rule(
    fits: list[dict[str, Any]], data: pd.DataFrame, split: Split, features: list[str]
) -> str:
    """The family ``TrainingRun.chosen`` keeps from one outer fold's inner out-of-fold
    figures (the library's own ``CHOICE_RULE`` code, not a copy of it)."""
    train, test = split
    y_train = data["stigma"].to_numpy()[train]
    results = {
        fit["family"]: ModelResult(
            family=fit["family"], label=FAMILIES[fit["family"]].label, pipeline=None,
            best_params=fit["params"], test_proba=fit["test_proba"], oof_proba=fit["inner_oof"],
            y_train=y_train, threshold=fit["threshold"], metrics={}, fit_seconds=fit["seconds"],
        )
        for fit in sorted(fits, key=lambda f: list(FAMILIES).index(f["family"]))
    }
    run = TrainingRun(
        results=results, feature_table=pd.DataFrame(), selected_features=features, notes=[],
        seed=SEED, recall_target=RECALL_TARGET, grid=GRID,
        X_test=data.iloc[test][["text"]], y_test=data["stigma"].to_numpy()[test],
        n_train=len(train),
    )
    return run.chosen


def family_summary(
    fits: list[dict[str, Any]], folds: list[Split], data: pd.DataFrame, weights: np.ndarray
) -> dict[str, Any]:
    """Pooled figures with CIs, fit time and per-fold details for one family."""
    y = data["stigma"].to_numpy()
    proba, pred = pooled_predictions(fits, folds, len(y))
    fits = sorted(fits, key=lambda f: f["fold"])
    inner = []
    for fit in fits:
        y_train = y[folds[fit["fold"]][0]]
        flagged = fit["inner_oof"] >= fit["threshold"]
        inner.append({
            "fold": fit["fold"], "params": fit["params"], "threshold": fit["threshold"],
            "inner_oof_auc": float(roc_auc_score(y_train, fit["inner_oof"])),
            "inner_oof_false_positives": int((flagged & (y_train == 0)).sum()),
            "flags_every_training_post": bool(flagged.all()),
            "fit_seconds": round(fit["seconds"], 2),
        })
    seconds = [fit["seconds"] for fit in fits]
    return {
        "label": FAMILIES[fits[0]["family"]].label,
        "metrics": with_intervals(y, proba, pred, weights),
        "fit_seconds_mean_per_outer_fold": round(float(np.mean(seconds)), 2),
        "fit_seconds_total": round(float(np.sum(seconds)), 2),
        "folds": inner,
    }


def majority_baseline(y: np.ndarray, weights: np.ndarray) -> dict[str, Any]:
    """Always predicting the commoner class (here: not stigmatising), with a constant score."""
    majority = int(np.bincount(y).argmax())
    pred = np.full(len(y), majority, dtype=np.int64)
    figures = with_intervals(y, np.full(len(y), 0.5), pred, weights)
    return {"predicts": majority, "metrics": figures}


def print_summary(result: dict[str, Any]) -> None:
    """A readable table of the pooled figures, baseline and choice."""
    print(f"\nOut-of-fold figures, recall target {RECALL_TARGET}, 95% cluster-bootstrap CIs")
    head = f"{'family':<20} {'AUC':>19} {'accuracy':>19} {'FN':>15} {'FP':>15} {'recall':>6}"
    print(head + f" {'prec.':>6} {'flag%':>6} {'fit s':>7}")
    rows = {**result["families"], "majority_baseline": result["majority_baseline"]}
    for name, row in rows.items():
        m = row["metrics"]

        def fmt(key: str, digits: int = 3, m: dict = m) -> str:
            e = m[key]
            return f"{e['value']:.{digits}f} [{e['ci_low']:.{digits}f},{e['ci_high']:.{digits}f}]"

        print(
            f"{name:<20} {fmt('auc'):>19} {fmt('accuracy'):>19} {fmt('false_negatives', 0):>15}"
            f" {fmt('false_positives', 0):>15} {m['recall']['value']:6.3f}"
            f" {m['precision']['value']:6.3f} {100 * m['predicted_positive_share']['value']:6.1f}"
            f" {row.get('fit_seconds_mean_per_outer_fold', float('nan')):7.1f}"
        )
    choice = result["library_choice"]
    print(f"\nLibrary choice rule per outer fold: {choice['per_outer_fold']} -> {choice['most']}")
    print(f"Total run time {result['run_seconds']:.0f} s")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options; the defaults are the full benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help=f"only {', '.join(QUICK_FAMILIES)} and 200 bootstrap resamples")
    parser.add_argument("--families", nargs="+", choices=list(FAMILIES), default=None)
    parser.add_argument("--jobs", type=int, default=2, help="fits run in parallel (default 2)")
    parser.add_argument("--n-boot", type=int, default=None, help=f"default {N_BOOT}")
    parser.add_argument("--out", default=str(RESULTS / "quality.json"))
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the benchmark, print its summary and write the JSON."""
    args = parse_args(argv)
    families = args.families or (list(QUICK_FAMILIES) if args.quick else list(PAPER_SET))
    n_boot = args.n_boot or (200 if args.quick else N_BOOT)
    started = time.perf_counter()
    data = read_real_corpus()
    y, groups = data["stigma"].to_numpy(), data["participant"].to_numpy()
    folds = grouped_folds(y, groups, OUTER_SPLITS)
    features = [selected_features(data["text"].iloc[train], y[train]) for train, _ in folds]
    print(f"{len(data)} posts, {len(set(groups))} participants; {len(families)} families x "
          f"{OUTER_SPLITS} outer folds, {args.jobs} at a time", flush=True)
    fits = run_all_fits(data, folds, features, families, args.jobs)
    weights = participant_weights(groups, n_boot, SEED)
    by_family = {f: [fit for fit in fits if fit["family"] == f] for f in families}
    per_fold_choice = [
        chosen_by_library_rule([f for f in fits if f["fold"] == i], data, folds[i], features[i])
        for i in range(OUTER_SPLITS)
    ]
    result = {
        "benchmark": "quality",
        "date": utc_now(),
        "machine": machine(),
        "parameters": {
            "corpus": "../shared/data/mhstigma_interview_train.csv (MHStigmaInterview train "
                      "split, Meng et al., ACL 2025)",
            "rows": len(data), "participants": int(pd.Series(groups).nunique()),
            "stigma_share": round(float(y.mean()), 4),
            "families": families,
            "outer_cv": f"StratifiedGroupKFold(n_splits={OUTER_SPLITS}, shuffle=True, "
                        f"random_state={SEED}), groups = participant",
            "inner_cv": f"StratifiedGroupKFold(n_splits={INNER_SPLITS}, shuffle=True, "
                        f"random_state={SEED}) on each outer training fold, groups = "
                        "participant (stricter than the library's StratifiedKFold, which "
                        "has no groups: answers by one participant resemble each other)",
            "grid": GRID,
            "grids": {f: FAMILIES[f].fast_grid for f in families},
            "search": "GridSearchCV(scoring='roc_auc', n_jobs=1) over the fast grid on the "
                      "inner folds; skipped for one-point grids",
            "feature_selection": "Welch t-tests (p < .05) on each outer training fold only",
            "selected_features_per_outer_fold": features,
            "threshold": f"per outer fold, threshold_for_recall(inner out-of-fold "
                         f"probabilities at the best settings, target={RECALL_TARGET})",
            "choice_rule": CHOICE_RULE,
            "bootstrap": f"cluster bootstrap over participants, {n_boot} resamples, seed "
                         f"{SEED}, percentile 95% intervals; the same resamples for every "
                         "family",
            "fit_seconds": "grid search + inner out-of-fold predictions + final fit on the "
                           "outer training fold, text caches warm; "
                           f"{args.jobs} fits ran in parallel",
            "jobs": args.jobs,
        },
        "families": {f: family_summary(by_family[f], folds, data, weights) for f in families},
        "majority_baseline": majority_baseline(y, weights),
        "library_choice": {
            "per_outer_fold": per_fold_choice,
            "most": Counter(per_fold_choice).most_common(1)[0][0],
            "how": "TrainingRun.chosen applied to each outer fold's inner out-of-fold "
                   "probabilities and thresholds (test posts not consulted)",
        },
    }
    majority_acc = result["majority_baseline"]["metrics"]["accuracy"]["value"]
    for summary in result["families"].values():
        acc = summary["metrics"]["accuracy"]["value"]
        summary["accuracy_over_majority"] = round(acc / majority_acc, 3)
    result["run_seconds"] = round(time.perf_counter() - started, 1)
    write_json(result, Path(args.out))
    print_summary(result)
    return result


if __name__ == "__main__":
    main()

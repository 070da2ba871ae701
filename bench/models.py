"""Every model family side by side on real, human-coded text, grouped CV by participant.

The MHStigmaInterview train split (Meng et al., ACL 2025; 3,312 answers from 684
participants; ``../shared/data``). Outer ``StratifiedGroupKFold(5, shuffle=True,
random_state=0)`` grouped by participant, as ``bench/quality.py``. Within each outer training
fold the library's own training step runs (``stigma_core.models.training._train_family``): the
fast grid searched by ``stigma_core.search.grid_search`` on inner participant-grouped folds,
calibration fitted on the inner out-of-fold scores (the family's default), the threshold
reaching recall 0.9 set on them, the final fit, then the outer test posts are scored. The
``prompt_topic`` column is never a model input.

Figures per family, pooled over the outer folds, each with a 95% cluster-bootstrap interval
over participants (the same resamples for every family):

- AUC, Brier score (calibration: lower is better), accuracy;
- FN and FP at the threshold chosen on inner CV (what a user gets);
- FP at the recall-0.90 point of the pooled out-of-fold scores (how many false alarms the
  scores cost to find 90% of stigmatising posts; the issue's comparison), with its CI;
- posts per second scored by one fitted pipeline (fold 0) on all 3,312 posts in this
  process, embedding cache cleared (so encoding is counted).

Sentence vectors are computed once in this process and handed to the worker processes
(``embeddings.remember``), as the library's in-process cache would do in one training run;
their one-off encoding time is reported separately.

``--tune`` instead runs the small grouped-CV tuning table of the n-gram features (sublinear
tf, word and character n-gram ranges, class weights) that fixed the library's defaults.

``--cli`` times ``python -m stigma_core train`` with no --models/--grid (the recommended set)
on the real corpus -> bench/results/models_cli.json (goal: 3 minutes on 2 cores).

Run: .venv/bin/python bench/models.py  -> bench/results/models.json (about 30-40 min, 2 cores)
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from common import RESULTS, machine, read_real_corpus, utc_now, write_json
from joblib import Parallel, delayed
from quality import grouped_folds, participant_weights, selected_features, with_intervals
from sklearn.metrics import roc_auc_score

from stigma_core import embeddings
from stigma_core.models import FAMILIES, PAPER_FAMILIES, RECOMMENDED
from stigma_core.models.training import _train_family

SEED = 0
OUTER_SPLITS = 5
INNER_SPLITS = 5
RECALL_TARGET = 0.9
N_BOOT = 1000
GRID = "fast"


class FixedFolds:
    """A splitter that hands out precomputed (train, test) index pairs."""

    def __init__(self, splits: list[tuple[np.ndarray, np.ndarray]]) -> None:
        self.splits = splits

    def split(self, X: Any = None, y: Any = None, groups: Any = None) -> list:
        return list(self.splits)

    def get_n_splits(self, *args: Any) -> int:
        return len(self.splits)


def _preload(vectors_files: dict[str, str], texts: list[str]) -> None:
    """Fill this process's embedding cache from the parent's vectors, per encoder."""
    for model, path in vectors_files.items():
        if sum(key[0] == model for key in embeddings._CACHE) < len(set(texts)):
            embeddings.remember(texts, np.load(path), model)


def fit_on_fold(family: str, fold: int, data: pd.DataFrame, split: tuple, features: list[str],
                vectors_files: dict[str, str]) -> dict[str, Any]:
    """The library's training step for one family on one outer fold."""
    texts = data["text"].tolist()
    _preload(vectors_files, texts)
    train, test = split
    y = data["stigma"].to_numpy()
    groups = data["participant"].to_numpy()
    X_train = data.iloc[train][["text"]].reset_index(drop=True)
    inner = FixedFolds(grouped_folds(y[train], groups[train], INNER_SPLITS))
    run = {"X_train": X_train, "y_train": y[train],
           "X_test": data.iloc[test][["text"]].reset_index(drop=True), "y_test": y[test],
           "selected": features, "seed": SEED, "grid": GRID, "recall_target": RECALL_TARGET,
           "n_jobs": 1, "calibration": None}
    start = time.perf_counter()
    result = _train_family(FAMILIES[family], run, inner)
    seconds = time.perf_counter() - start
    out = {"family": family, "fold": fold, "params": result.best_params,
           "threshold": result.threshold, "test_proba": result.test_proba,
           "inner_oof_auc": result.oof_auc, "calibration": result.calibration,
           "seconds": seconds}
    if fold == 0:
        out["speed"] = scoring_speed(result.pipeline, data[["text"]], family)
    return out


def scoring_speed(pipeline: Any, X: pd.DataFrame, family: str) -> dict[str, float]:
    """Posts per second for ``predict_proba`` on every post, embedding cache emptied."""
    if FAMILIES[family].in_process:
        embeddings.encoder()  # the model's one-off load is not scoring
    saved = dict(embeddings._CACHE)
    embeddings.clear_cache()
    try:
        start = time.perf_counter()
        pipeline.predict_proba(X)
        seconds = time.perf_counter() - start
    finally:  # each vector back under its own model's key (MiniLM and multilingual alike)
        embeddings._CACHE.update(saved)
    return {"posts": len(X), "seconds": round(seconds, 2),
            "posts_per_second": round(len(X) / seconds, 1)}


def fp_at_recall(y: np.ndarray, proba: np.ndarray, weights: np.ndarray,
                 target: float = RECALL_TARGET) -> dict[str, float]:
    """False positives at the highest threshold whose recall reaches ``target``, on the
    pooled scores, and under each cluster-bootstrap resample (its own threshold)."""
    order = np.argsort(-proba, kind="stable")
    scores, positive = proba[order], (y[order] == 1)
    last_of_tie = np.r_[scores[1:] != scores[:-1], True]

    def one(w: np.ndarray) -> float:
        tp = np.cumsum(np.where(positive, w, 0.0))
        fp = np.cumsum(np.where(positive, 0.0, w))
        ok = (tp >= target * tp[-1]) & last_of_tie
        return float(fp[np.argmax(ok)])

    point = one(np.ones(len(y)))
    samples = np.array([one(w[order].astype(float)) for w in weights])
    low, high = np.percentile(samples, [2.5, 97.5])
    return {"value": point, "ci_low": float(low), "ci_high": float(high)}


def brier_with_ci(y: np.ndarray, proba: np.ndarray, weights: np.ndarray) -> dict[str, float]:
    """Brier score and its cluster-bootstrap 95% interval."""
    errors = (proba - y) ** 2
    samples = (weights @ errors) / weights.sum(axis=1)
    low, high = np.percentile(samples, [2.5, 97.5])
    return {"value": float(errors.mean()), "ci_low": float(low), "ci_high": float(high)}


def summary(family: str, fits: list[dict[str, Any]], folds: list, y: np.ndarray,
            weights: np.ndarray) -> dict[str, Any]:
    """Pooled figures for one family."""
    proba, pred = np.full(len(y), np.nan), np.zeros(len(y), dtype=np.int64)
    for fit in fits:
        test = folds[fit["fold"]][1]
        proba[test] = fit["test_proba"]
        pred[test] = fit["test_proba"] >= fit["threshold"]
    assert np.isfinite(proba).all()
    metrics = with_intervals(y, proba, pred, weights)
    metrics["brier"] = brier_with_ci(y, proba, weights)
    metrics["fp_at_recall_0.90"] = fp_at_recall(y, proba, weights)
    speed = next(fit["speed"] for fit in fits if fit["fold"] == 0)
    fits = sorted(fits, key=lambda f: f["fold"])
    return {"label": FAMILIES[family].label, "paper_family": family in PAPER_FAMILIES,
            "calibration": fits[0]["calibration"], "metrics": metrics, "scoring": speed,
            "fit_seconds_mean_per_outer_fold": round(float(np.mean([f["seconds"]
                                                                     for f in fits])), 2),
            "folds": [{"fold": f["fold"], "params": f["params"], "threshold": f["threshold"],
                       "inner_oof_auc": f["inner_oof_auc"]} for f in fits]}


def tune(data: pd.DataFrame, folds: list) -> list[dict[str, Any]]:
    """Pooled grouped-CV AUC and FP at recall 0.9 for a small grid of n-gram settings,
    linear SVM (C 0.1, Platt) head: the table that fixed ``WORD_NGRAMS``/``CHAR_NGRAMS``."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.compose import ColumnTransformer
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import Pipeline
    from sklearn.svm import LinearSVC

    y = data["stigma"].to_numpy()
    ones = np.ones((1, len(y)))
    grid = [
        {"sublinear": True, "words": (1, 2), "chars": (2, 5), "class_weight": None},
        {"sublinear": False, "words": (1, 2), "chars": (2, 5), "class_weight": None},
        {"sublinear": True, "words": (1, 1), "chars": (3, 5), "class_weight": None},
        {"sublinear": True, "words": (1, 3), "chars": (2, 5), "class_weight": None},
        {"sublinear": True, "words": (1, 2), "chars": (1, 6), "class_weight": None},
        {"sublinear": True, "words": (1, 2), "chars": (2, 5), "class_weight": "balanced"},
    ]
    rows = []
    for setting in grid:
        proba = np.zeros(len(y))
        for train, test in folds:
            features = ColumnTransformer([
                ("words", TfidfVectorizer(ngram_range=setting["words"], min_df=2,
                                          sublinear_tf=setting["sublinear"]), "text"),
                ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=setting["chars"],
                                          min_df=2, sublinear_tf=setting["sublinear"]),
                 "text")])
            model = CalibratedClassifierCV(LinearSVC(C=0.1,
                                                     class_weight=setting["class_weight"]),
                                           ensemble=False)
            pipe = Pipeline([("features", features), ("model", model)])
            pipe.fit(data.iloc[train][["text"]], y[train])
            proba[test] = pipe.predict_proba(data.iloc[test][["text"]])[:, 1]
        row = {**setting, "auc": round(float(roc_auc_score(y, proba)), 4),
               "fp_at_recall_0.90": fp_at_recall(y, proba, ones)["value"]}
        print(row, flush=True)
        rows.append(row)
    return rows


def encode_all(texts: list[str], folder: str,
               models: Sequence[str]) -> tuple[dict[str, str], dict[str, Any]]:
    """Sentence vectors of every distinct post from each encoder in ``models``, saved for the
    workers; timing of each one-off encoding (model load included)."""
    files: dict[str, str] = {}
    timings: dict[str, Any] = {}
    for model in models:
        reason = embeddings.unavailable_reason(model)
        if reason:
            timings[model] = {"available": False, "why": reason}
            continue
        start = time.perf_counter()
        embeddings.encoder(model)
        loaded = time.perf_counter() - start
        vectors = embeddings.embed(texts, model)
        seconds = time.perf_counter() - start - loaded
        files[model] = str(Path(folder) / f"vectors-{len(files)}.npy")
        np.save(files[model], vectors)
        distinct = len(set(texts))
        timings[model] = {"available": True, "model_load_seconds": round(loaded, 1),
                          "distinct_posts": distinct, "encode_seconds": round(seconds, 1),
                          "posts_per_second": round(distinct / seconds, 1)}
    return files, timings


def encoders_needed(families: Sequence[str]) -> list[str]:
    """The sentence encoders the families' feature steps use (all-MiniLM-L6-v2 and/or
    multilingual-e5-small)."""
    needed: list[str] = []
    for family in families:
        if not FAMILIES[family].in_process:
            continue
        features = FAMILIES[family].make_features(())
        for _, step, _ in features.transformers:
            model = getattr(step, "model", None)
            if model and model not in needed:
                needed.append(model)
    return needed


def time_cli_default() -> dict[str, Any]:
    """Wall time of ``python -m stigma_core train`` with no --models/--grid (the recommended
    set) on the real corpus, in a fresh process: model load and encoding included."""
    import json
    import subprocess
    import sys

    from common import REAL_CORPUS, REPO

    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "model.skops"
        command = [sys.executable, "-m", "stigma_core", "train", "--data", str(REAL_CORPUS),
                   "--text-col", "text", "--label-col", "stigma", "--out", str(out)]
        load_start = os.getloadavg()
        before = os.times()
        start = time.perf_counter()
        done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=True)
        seconds = time.perf_counter() - start
        after = os.times()
        cpu = (after.children_user - before.children_user
               + after.children_system - before.children_system)
        report = json.loads(out.with_suffix(".metrics.json").read_text(encoding="utf-8"))
    result = {"benchmark": "models-cli-default", "date": utc_now(), "machine": machine(),
              "cores_available": len(os.sched_getaffinity(0)),
              "load_average_start": load_start, "load_average_end": os.getloadavg(),
              "command": "python -m stigma_core train --data mhstigma_interview_train.csv "
                         "--text-col text --label-col stigma --out model.skops",
              "seconds": round(seconds, 1), "goal_seconds": 180,
              "cpu_seconds_reaped_children": round(cpu, 1),
              "cpu_note": "CPU time of the CLI process and the worker processes it reaped "
                          "(loky workers still alive at its exit are not counted)",
              "families": list(report["models"]), "chosen": report["chosen"],
              "test": {name: {"auc": m["test_metrics"]["auc"], "brier": m["test_brier"],
                              "false_positives": m["test_metrics"]["false_positives"],
                              "false_negatives": m["test_metrics"]["false_negatives"],
                              "fit_seconds": m["fit_seconds"]}
                       for name, m in report["models"].items()},
              "last_line": done.stdout.strip().splitlines()[0]}
    write_json(result, RESULTS / "models_cli.json")
    print(result)
    return result


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run every family (or ``--families``), print a table and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", nargs="+", choices=list(FAMILIES), default=None)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--n-boot", type=int, default=N_BOOT)
    parser.add_argument("--tune", action="store_true", help="only the n-gram tuning table")
    parser.add_argument("--cli", action="store_true",
                        help="only time the CLI's default training on the real corpus")
    parser.add_argument("--out", default=str(RESULTS / "models.json"))
    args = parser.parse_args(argv)
    if args.cli:
        return time_cli_default()
    started = time.perf_counter()
    load_start = os.getloadavg()
    data = read_real_corpus()[["participant", "text", "stigma"]]
    y, groups = data["stigma"].to_numpy(), data["participant"].to_numpy()
    folds = grouped_folds(y, groups, OUTER_SPLITS)
    if args.tune:
        rows = tune(data, folds)
        write_json({"benchmark": "models-tuning", "date": utc_now(), "machine": machine(),
                    "load_average_start": load_start, "load_average_end": os.getloadavg(),
                    "protocol": "pooled out-of-fold scores, outer participant-grouped 5-fold",
                    "rows": rows}, RESULTS / "models_tuning.json")
        return {"rows": rows}
    # multilingual_lr is measured by bench/multilingual.py (it encodes every post again, ~12 min)
    families = args.families or [name for name in FAMILIES if not FAMILIES[name].unavailable
                                 and name != "multilingual_lr"]
    features = [selected_features(data["text"].iloc[train], y[train]) for train, _ in folds]
    with tempfile.TemporaryDirectory() as folder:
        vectors_files, encoding = encode_all(data["text"].tolist(), folder,
                                             encoders_needed(families))
        print(f"{len(data)} posts; {len(families)} families x {OUTER_SPLITS} folds; "
              f"embeddings: {encoding}", flush=True)
        tasks = [delayed(fit_on_fold)(f, i, data, folds[i], features[i], vectors_files)
                 for f in families for i in range(OUTER_SPLITS)]
        fits = []
        for fit in Parallel(n_jobs=args.jobs, return_as="generator_unordered")(tasks):
            fits.append(fit)
            print(f"  [{len(fits):2d}/{len(tasks)}] {fit['family']:<20} fold {fit['fold']} "
                  f"{fit['seconds']:6.1f} s {fit['params']}", flush=True)
    weights = participant_weights(groups, args.n_boot, SEED)
    results = {f: summary(f, [x for x in fits if x["family"] == f], folds, y, weights)
               for f in families}
    paper = {f: r for f, r in results.items() if r["paper_family"]}
    reference = (min(paper, key=lambda f: paper[f]["metrics"]["fp_at_recall_0.90"]["value"])
                 if paper else None)
    best_auc = max(results, key=lambda f: results[f]["metrics"]["auc"]["value"])
    fewest = min(results, key=lambda f: results[f]["metrics"]["fp_at_recall_0.90"]["value"])
    goal = {"best_auc_family": best_auc,
            "best_auc": results[best_auc]["metrics"]["auc"]["value"],
            "auc_goal_0.90_met": results[best_auc]["metrics"]["auc"]["value"] >= 0.90,
            "paper_reference": reference,
            "paper_reference_how": "the paper family with the fewest FP at recall 0.90 "
                                   "(the most generous reading of 'the paper pipeline')",
            "fewest_fp_family": fewest}
    if reference:
        ref_fp = results[reference]["metrics"]["fp_at_recall_0.90"]["value"]
        best_fp = results[fewest]["metrics"]["fp_at_recall_0.90"]["value"]
        goal.update(paper_reference_fp=ref_fp, fewest_fp=best_fp,
                    fp_ratio=round(best_fp / ref_fp, 3), fp_goal_half_met=best_fp <= ref_fp / 2)
    result = {
        "benchmark": "models", "date": utc_now(), "machine": machine(),
        "load_average_start": load_start, "load_average_end": os.getloadavg(),
        "note": "the 2-core machine was shared with other work during the run: fit times "
                "and posts/s are noisy (load averages recorded)",
        "parameters": {
            "corpus": "../shared/data/mhstigma_interview_train.csv (MHStigmaInterview train "
                      "split, Meng et al., ACL 2025); prompt_topic not used",
            "rows": len(data), "participants": int(pd.Series(groups).nunique()),
            "outer_cv": f"StratifiedGroupKFold({OUTER_SPLITS}, shuffle=True, random_state="
                        f"{SEED}), groups = participant",
            "inner_cv": f"StratifiedGroupKFold({INNER_SPLITS}) on each outer training fold",
            "training_step": "stigma_core.models.training._train_family (grid_search on the "
                             "fast grid, family's default calibration on inner out-of-fold "
                             "scores, threshold for recall 0.9 on them, final fit)",
            "grids": {f: FAMILIES[f].fast_grid for f in families},
            "bootstrap": f"cluster bootstrap over participants, {args.n_boot} resamples",
            "recommended": list(RECOMMENDED), "jobs": args.jobs},
        "embeddings": encoding,
        "families": results,
        "goal": goal,
        "run_seconds": round(time.perf_counter() - started, 1),
    }
    write_json(result, Path(args.out))
    print_table(result)
    return result


def print_table(result: dict[str, Any]) -> None:
    """The side-by-side table."""
    def fmt(e: dict, digits: int = 3) -> str:
        return f"{e['value']:.{digits}f} [{e['ci_low']:.{digits}f},{e['ci_high']:.{digits}f}]"

    print(f"\n{'family':<20} {'AUC':>21} {'Brier':>21} {'FP@rec.90':>19} {'FN':>5} {'FP':>5}"
          f" {'posts/s':>8}")
    for name, row in sorted(result["families"].items(),
                            key=lambda kv: -kv[1]["metrics"]["auc"]["value"]):
        m = row["metrics"]
        print(f"{name:<20} {fmt(m['auc']):>21} {fmt(m['brier']):>21} "
              f"{fmt(m['fp_at_recall_0.90'], 0):>19} {m['false_negatives']['value']:5.0f} "
              f"{m['false_positives']['value']:5.0f} "
              f"{row['scoring']['posts_per_second']:8.1f}")
    print(result["goal"], f"\nrun {result['run_seconds']:.0f} s")


if __name__ == "__main__":
    main()

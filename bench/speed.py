"""Training and scoring speed of stigma_core against the naive way of doing the same work.

(a) Training: ``train_models(grid="paper")`` with the paper's nine families at the paper's
scale (746 posts, a stratified sample of the real corpus), on every core (``n_jobs=None``,
all families' units in one pool) and in one process (``n_jobs=1``), beside plain
scikit-learn in the same run: per family ``GridSearchCV(refit=False)`` +
``cross_val_predict`` + a final fit on the library's own pipelines, folds and grids (the
same work without the library's sharing); best parameters and out-of-fold probabilities are
compared. Wall and CPU seconds (this process and its worker processes) and the load average
are recorded: the machine is shared. With ``--naive`` also the naive baseline: the same split,
features, folds, grids and estimators in plain scikit-learn, with
each post preprocessed (NLTK ``TweetTokenizer`` + simplemma, no memo) and its features
computed (``TextBlob(text).sentiment`` and per-row regexes) inside every fit and every
scoring, as ``FunctionTransformer`` steps in a ``GridSearchCV`` (``refit=True``), then
``cross_val_predict`` for the threshold. Both are single-process (``n_jobs=1``).

(b) Scoring: a fitted logistic-regression bundle scores 100,000 posts with
``stigma_core.scale.score_frame``, on a corpus drawn from the real texts with replacement
(repetition, like retweets) and on one where every post is distinct (a unique token
appended), against naive per-row scoring: per post, uncached preprocessing and TextBlob
features and ``predict_proba`` on a one-row frame, through the same fitted model. The naive
loop is timed on 2,000 posts and extrapolated linearly (said so in the JSON). Caches are
cleared before every timed run, so the library is measured cold.

Scoring runs first so its peak memory is not hidden under training's.
The paper's families are named in ``PAPER_FAMILIES`` (the registry holds newer ones too).

``--part training --families knn --repeats 5`` times one family alone, five times over
(medians per family), e.g. for a change to one family's search.

Run: .venv/bin/python bench/speed.py  -> bench/results/speed.json
"""

from __future__ import annotations

import argparse
import copy
import html
import os
import re
import statistics
import time
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import simplemma
from common import REPO, RESULTS, machine, peak_rss_mib, read_real_corpus, utc_now, write_json
from sklearn.base import clone
from sklearn.model_selection import (
    GridSearchCV,
    ParameterGrid,
    StratifiedKFold,
    cross_val_predict,
    train_test_split,
)
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer
from textblob import TextBlob

from stigma_core import features as feats
from stigma_core import sentiment
from stigma_core import text as textmod
from stigma_core.metrics import evaluate, threshold_for_recall
from stigma_core.models import FAMILIES, TrainingRun, build_pipeline, train_models
from stigma_core.parallel import warm_up
from stigma_core.persist import ModelBundle, bundle_from_run
from stigma_core.privacy import EMAIL_RE, URL_RE
from stigma_core.scale import score_frame

SEED = 0
PAPER_SCALE = 746
PAPER_FAMILIES = ["random_forest", "gradient_boosting", "knn", "naive_bayes", "svm_rbf",
                  "svm_linear", "svm_sigmoid", "svm_poly", "logistic_regression"]
TEST_SIZE = 0.2
CV = 5
RECALL_TARGET = 0.9
SCORE_ROWS = 100_000
NAIVE_SCORE_ROWS = 2_000
REPEATS = 3
FALLBACK_CORPUS = REPO / "sample_data" / "train.csv"
HANDLE_DROP_RE = textmod._HANDLE_DROP_RE
APOSTROPHES_RE = textmod._APOSTROPHES_RE
NOT_WORD_RE = textmod._NOT_WORD_RE


# --- the naive baseline: per-row, uncached, plain scikit-learn ---------------------------


@cache
def tweet_tokenizer() -> Any:
    """One NLTK ``TweetTokenizer`` (building it per post would be a straw man)."""
    from nltk.tokenize import TweetTokenizer

    return TweetTokenizer()


def naive_preprocess(text: str) -> str:
    """The paper's preprocessing of one post, step by step with no memo anywhere in this code
    (the same steps as ``stigma_core.text.preprocess``; simplemma keeps its own cache)."""
    text = html.unescape(text).lower()
    for pattern in (EMAIL_RE, URL_RE, HANDLE_DROP_RE):
        text = pattern.sub(" ", text)
    text = NOT_WORD_RE.sub(" ", APOSTROPHES_RE.sub("", text))
    kept = [t for t in tweet_tokenizer().tokenize(text) if t not in textmod.STOP_WORDS]
    lemmas = [simplemma.lemmatize(t, lang="en").lower() for t in kept]
    return " ".join(lemma for lemma in lemmas if lemma not in textmod.STOP_WORDS)


@cache
def punctuation_re() -> re.Pattern[str]:
    """The punctuation marks the library counts, as one compiled pattern."""
    return re.compile(feats._punctuation_class())


def naive_row_features(text: str) -> dict[str, float]:
    """The ten engineered features of one post, computed on their own, TextBlob included."""
    sentiment = TextBlob(text).sentiment
    words = re.findall(r"\S+", text)
    letters = len(re.sub(feats.NOT_LETTERS, "", text))
    length = len(text)
    return {
        "sentiment": sentiment.polarity,
        "subjectivity": sentiment.subjectivity,
        "length": length,
        "punctuation_ratio": len(punctuation_re().findall(text)) / length if length else 0.0,
        "uppercase_words": sum(
            w.isupper() and len(re.sub(feats.NOT_LETTERS, "", w)) >= 2 for w in words
        ),
        "avg_word_length": letters / len(words) if words else 0.0,
        "word_count": len(words),
        "char_count": length - len(re.findall(r"\s", text)),
        "hashtag_count": len(re.findall(feats.HASHTAG, text)),
        "numeric_count": len(re.findall(r"\d", text)),
    }


def naive_preprocess_column(X: Any) -> list[str]:
    """``naive_preprocess`` for every post, one at a time."""
    return [naive_preprocess(t) for t in X]


def naive_feature_matrix(X: Any, columns: Sequence[str] = feats.FEATURE_NAMES) -> np.ndarray:
    """The chosen features for every post, one post at a time, as a float array."""
    rows = [naive_row_features(t) for t in X]
    return np.array([[row[c] for c in columns] for row in rows], dtype=float)


def naive_pipeline(family: str, columns: Sequence[str], seed: int = SEED) -> Pipeline:
    """The library's pipeline with its text steps swapped for the naive per-row ones: same
    TF-IDF settings, scaler and estimator, so only the text work differs."""
    pipeline = build_pipeline(family, columns, seed)
    return pipeline.set_params(
        features__tfidf__prep=FunctionTransformer(naive_preprocess_column),
        features__engineered__calc=FunctionTransformer(
            naive_feature_matrix, kw_args={"columns": tuple(columns)}
        ),
    )


def naive_train_family(
    family: str,
    split: dict[str, Any],
    columns: list[str],
    grid_points: int | None,
) -> dict[str, Any]:
    """The naive training of one family: GridSearchCV over the paper grid (or ``grid_points``
    of its points, spread evenly), cross_val_predict for the threshold, a final fit, test.

    Returns the measured seconds and, for a partial grid, the linear extrapolation of the
    search to the whole grid (the out-of-fold and final fits are measured, never scaled).
    """
    grid = FAMILIES[family].grid("paper")
    points = list(ParameterGrid(grid))
    chosen = points if grid_points is None else spread(points, grid_points)
    folds = StratifiedKFold(CV, shuffle=True, random_state=SEED)
    X, y = split["X_train"], split["y_train"]
    search = GridSearchCV(
        naive_pipeline(family, columns),
        grid if len(chosen) == len(points) else [{k: [v] for k, v in p.items()} for p in chosen],
        scoring="roc_auc", cv=folds, n_jobs=1, refit=False, error_score="raise",
    )
    start = time.perf_counter()
    search.fit(X, y)
    search_s = time.perf_counter() - start
    best = naive_pipeline(family, columns).set_params(**search.best_params_)
    oof = cross_val_predict(clone(best), X, y, cv=folds, method="predict_proba")[:, 1]
    best.fit(X, y)
    rest_s = time.perf_counter() - start - search_s
    threshold = threshold_for_recall(y, oof, RECALL_TARGET)
    test_proba = best.predict_proba(split["X_test"])[:, 1]
    test_auc = evaluate(split["y_test"], test_proba, threshold, seed=SEED)["auc"].value
    scale = len(points) / len(chosen)
    return {
        "grid_points": len(points),
        "grid_points_measured": len(chosen),
        "search_s_measured": round(search_s, 2),
        "oof_and_final_fit_s": round(rest_s, 2),
        "seconds": round(search_s * scale + rest_s, 2),
        "extrapolated": len(chosen) < len(points),
        "best_params": {k.removeprefix("model__"): v for k, v in search.best_params_.items()},
        "test_auc": test_auc,
    }


def spread(points: list[dict[str, Any]], k: int) -> list[dict[str, Any]]:
    """``k`` grid points evenly spread over the grid (cheap and dear settings alike)."""
    if k >= len(points):
        return points
    return [points[i] for i in np.linspace(0, len(points) - 1, k).round().astype(int)]


def naive_score_rows(pipeline: Pipeline, texts: Sequence[str], column: int) -> np.ndarray:
    """Score posts one at a time: a one-row frame per post through ``predict_proba``."""
    return np.array(
        [pipeline.predict_proba(pd.DataFrame({"text": [t]}))[0, column] for t in texts]
    )


def naive_scoring_pipeline(bundle: ModelBundle) -> Pipeline:
    """A copy of the bundle's fitted pipeline whose text steps are the naive per-row ones
    (same fitted vocabulary, scaler and model, so the probabilities must match)."""
    pipeline = copy.deepcopy(bundle.pipeline)
    fitted = pipeline.named_steps["features"].named_transformers_
    fitted["tfidf"].steps[0] = ("prep", FunctionTransformer(naive_preprocess_column))
    if "engineered" in fitted:
        columns = tuple(fitted["engineered"].named_steps["calc"].columns)
        fitted["engineered"].steps[0] = (
            "calc", FunctionTransformer(naive_feature_matrix, kw_args={"columns": columns}),
        )
    return pipeline


# --- shared set-up ------------------------------------------------------------------------


def clear_text_caches() -> None:
    """Empty the library's memo caches so the next timing starts cold."""
    textmod.clear_caches()
    sentiment.clear_caches()
    feats.text_sentiment.cache_clear()


def warm_one_off_imports() -> None:
    """Pay one-off costs (nltk import, TextBlob lexicon, punctuation table) before any
    timing, for both sides alike; then clear the caches this filled."""
    naive_preprocess("warm up")
    naive_row_features("Warm up!")
    textmod.preprocess("warm up")
    feats.compute_features(["Warm up!"])
    clear_text_caches()


def corpus_and_source() -> tuple[pd.DataFrame, str]:
    """The labelled posts (``text``, ``label``) and where they came from (real or fallback)."""
    real = read_real_corpus(required=False)
    if real is not None:
        frame = real.rename(columns={"stigma": "label"})[["text", "label"]]
        return frame, "../shared/data/mhstigma_interview_train.csv"
    sample = pd.read_csv(FALLBACK_CORPUS)[["text", "label"]].dropna()
    print(f"Real corpus absent: falling back to {FALLBACK_CORPUS} (synthetic sample data).")
    return sample, "sample_data/train.csv (fallback: the real corpus was absent)"


def stratified_sample(df: pd.DataFrame, n: int) -> pd.DataFrame:
    """``n`` posts keeping the label shares (seeded); all of them when there are fewer."""
    if len(df) <= n:
        return df.reset_index(drop=True)
    keep, _ = train_test_split(df, train_size=n, stratify=df["label"], random_state=SEED)
    return keep.reset_index(drop=True)


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Seconds taken by ``fn()`` and its result."""
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


# --- (b) scoring --------------------------------------------------------------------------


def scoring_corpora(texts: np.ndarray, rows: int) -> dict[str, pd.DataFrame]:
    """``rows`` posts drawn with replacement from ``texts`` (repeated), and the same draw with
    a distinct token appended to each post (unique)."""
    picks = texts[np.random.default_rng(SEED).integers(0, len(texts), rows)]
    unique = [f"{t} ref{i:06d}" for i, t in enumerate(picks)]
    return {
        "repeated": pd.DataFrame({"text": picks}),
        "unique": pd.DataFrame({"text": unique}),
    }


def fit_scoring_bundle(corpus: pd.DataFrame) -> ModelBundle:
    """A logistic-regression bundle (fast grid) trained on the whole corpus, as a user would."""
    run = train_models(corpus, ["logistic_regression"], grid="fast", seed=SEED)
    return bundle_from_run(run, "logistic_regression", {"data": "speed benchmark corpus"})


def time_library_scoring(
    bundle: ModelBundle, frame: pd.DataFrame, repeats: int
) -> tuple[list[float], pd.DataFrame]:
    """Seconds for ``score_frame`` on the whole frame, each run with cold caches, and the
    scored frame."""
    runs = []
    for _ in range(repeats):
        clear_text_caches()
        seconds, scored = timed(lambda: score_frame(bundle, frame))
        runs.append(seconds)
    return runs, scored


def scoring_benchmark(corpus: pd.DataFrame, rows: int, naive_rows: int, repeats: int) -> dict:
    """Posts per second, library vs naive, on the repeated and the unique corpus."""
    bundle = fit_scoring_bundle(corpus)
    naive = naive_scoring_pipeline(bundle)
    column = list(bundle.pipeline.classes_).index(1)
    out: dict[str, Any] = {
        "model": {"family": "logistic_regression", "grid": "fast",
                  "best_params": bundle.card["best_params"],
                  "trained_on_rows": bundle.card["n_train"],
                  "selected_features": bundle.card["selected_features"]},
        "peak_rss_mib_before_scoring": peak_rss_mib(),
    }
    for name, frame in scoring_corpora(corpus["text"].to_numpy(object), rows).items():
        warm_one_off_imports()
        runs, scored = time_library_scoring(bundle, frame, repeats)
        rss = peak_rss_mib()
        sample = frame["text"].iloc[:naive_rows].tolist()
        clear_text_caches()
        naive_s, naive_proba = timed(lambda s=sample: naive_score_rows(naive, s, column))
        library_proba = scored["stigma_probability"].to_numpy()[:naive_rows]
        agree = float(np.abs(naive_proba - library_proba).max())
        ours = rows / statistics.median(runs)
        theirs = naive_rows / naive_s
        out[name] = {
            "rows": rows,
            "distinct_posts": int(frame["text"].nunique()),
            "library": {"method": "score_frame, caches cleared before each run",
                        "runs_s": [round(s, 3) for s in runs],
                        "median_s": round(statistics.median(runs), 3),
                        "posts_per_s": round(ours, 1)},
            "naive": {"method": "per row: uncached preprocessing, TextBlob + regex features, "
                                "predict_proba on a 1-row frame (same fitted model)",
                      "measured_rows": naive_rows, "measured_s": round(naive_s, 3),
                      "extrapolated_s_for_all_rows": round(naive_s * rows / naive_rows, 1),
                      "posts_per_s": round(theirs, 1)},
            "speedup_vs_naive": round(ours / theirs, 1),
            "max_abs_probability_difference_on_measured_rows": agree,
            "peak_rss_mib_after_library_scoring": rss,
        }
        print(f"  scoring {name:<8} library {ours:10,.0f} posts/s   naive {theirs:8,.1f} posts/s"
              f"   x{ours / theirs:,.0f}   peak RSS {rss:,.0f} MiB", flush=True)
    return out


# --- (a) training -------------------------------------------------------------------------


def tree_cpu_s() -> float:
    """CPU seconds (user + system) so far of this process and its live children."""
    import psutil

    me = psutil.Process()
    total = 0.0
    for p in [me, *me.children(recursive=True)]:
        try:
            total += sum(p.cpu_times()[:2])
        except psutil.Error:
            pass
    return total


def library_training(sample: pd.DataFrame, families: list[str], n_jobs: int | None = 1
                     ) -> tuple[float, TrainingRun, dict[str, Any]]:
    """Wall seconds of one ``train_models(grid="paper")`` call over all families (cold
    caches), the run, and facts about it: CPU seconds, progress calls, longest gap."""
    marks: list[float] = []
    clear_text_caches()
    # one process: its own CPU time (idle workers of an earlier run may exit meanwhile and
    # take their CPU seconds out of a process-tree sum)
    clock = time.process_time if n_jobs == 1 else tree_cpu_s
    cpu = clock()
    seconds, run = timed(lambda: train_models(
        sample, families, grid="paper", seed=SEED, test_size=TEST_SIZE, cv=CV,
        recall_target=RECALL_TARGET, n_jobs=n_jobs,
        progress=lambda fraction, message: marks.append(time.perf_counter()),
    ))
    cpu = clock() - cpu
    gaps = np.diff(marks) if len(marks) > 1 else np.array([0.0])
    facts = {"seconds": round(seconds, 1), "cpu_s": round(cpu, 1),
             "progress_calls": len(marks),
             "longest_gap_between_progress_calls_s": round(float(gaps.max()), 2)}
    return seconds, run, facts


def plain_train_family(family: str, run: TrainingRun) -> dict[str, Any]:
    """Plain scikit-learn on the library's pipeline: GridSearchCV (refit=False) over the
    paper grid, cross_val_predict of the best setting, a final fit."""
    folds = StratifiedKFold(CV, shuffle=True, random_state=SEED)
    X, y = run.X_train, run.results[family].y_train
    pipeline = build_pipeline(family, run.selected_features, SEED)
    grid = FAMILIES[family].grid("paper")
    cpu, start = time.process_time(), time.perf_counter()
    if len(list(ParameterGrid(grid))) == 1:
        params = next(iter(ParameterGrid(grid)))
    else:
        params = GridSearchCV(pipeline, grid, scoring="roc_auc", cv=folds, n_jobs=1,
                              refit=False, error_score="raise").fit(X, y).best_params_
    pipeline.set_params(**params)
    oof = cross_val_predict(clone(pipeline), X, y, cv=folds, method="predict_proba")[:, 1]
    pipeline.fit(X, y)
    ours = run.results[family]
    same_oof = (bool(np.array_equal(oof, ours.oof_proba)) if ours.calibration == "none"
                else "not comparable: the library calibrates this family's probabilities")
    return {"seconds": round(time.perf_counter() - start, 2),
            "cpu_s": round(time.process_time() - cpu, 2),
            "best_params": {k.removeprefix("model__"): v for k, v in params.items()},
            "same_best_params": {k.removeprefix("model__"): v for k, v in params.items()}
            == ours.best_params,
            "same_oof_probabilities": same_oof}


def naive_split(sample: pd.DataFrame) -> dict[str, Any]:
    """The same stratified train/test split ``train_models`` makes."""
    X = pd.DataFrame({"text": sample["text"].astype(str).to_numpy()})
    y = sample["label"].to_numpy(dtype=np.int64)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=TEST_SIZE, stratify=y, random_state=SEED
    )
    return {"X_train": X_train.reset_index(drop=True), "X_test": X_test.reset_index(drop=True),
            "y_train": y_train, "y_test": y_test}


def naive_selected_features(split: dict[str, Any]) -> list[str]:
    """Welch-significant features of the training posts, computed row by row."""
    table = pd.DataFrame(
        [naive_row_features(t) for t in split["X_train"]["text"]]
    )[list(feats.FEATURE_NAMES)]
    chosen = feats.significant_features(feats.welch_tests(table, split["y_train"]))
    return list(chosen) or list(feats.FEATURE_NAMES)


def training_benchmark(
    sample: pd.DataFrame, families: list[str], grid_points: int | None, naive: bool,
    repeats: int = 1,
) -> dict[str, Any]:
    """Library (every core, one process) vs plain GridSearchCV (and, with ``naive``, the
    naive per-row pipeline) over the paper grids, family by family. With ``repeats`` > 1
    the one-process library run and each family's plain run are repeated (alternating, so
    both see the same spells of load) and the per-family figures are medians."""
    warm_one_off_imports()
    warm_up(None)
    load_before = [round(v, 2) for v in os.getloadavg()]
    every_s, every_run, every = library_training(sample, families, n_jobs=None)
    print(f"  library, every core: {every_s:.1f} s ({every['cpu_s']} CPU s)", flush=True)
    ours_s, run, one = library_training(sample, families, n_jobs=1)
    print(f"  library, one process: {ours_s:.1f} s ({one['cpu_s']} CPU s)", flush=True)
    library_runs = {f: [run.results[f].fit_seconds] for f in families}
    plain_runs: dict[str, list[dict[str, Any]]] = {f: [] for f in families}
    for repeat in range(repeats):
        if repeat:
            _, again, _ = library_training(sample, families, n_jobs=1)
            for f in families:
                library_runs[f].append(again.results[f].fit_seconds)
        for family in families:
            plain_runs[family].append(plain_train_family(family, run))
    plain = {}
    for family in families:
        runs = plain_runs[family]
        plain[family] = {**runs[0],
                         "seconds": statistics.median(r["seconds"] for r in runs),
                         "cpu_s": statistics.median(r["cpu_s"] for r in runs),
                         "runs_s": [r["seconds"] for r in runs]}
        print(f"  {family:<20} library {statistics.median(library_runs[family]):7.2f} s   "
              f"plain GridSearchCV {plain[family]['seconds']:8.2f} s"
              f"{f' (medians of {repeats})' if repeats > 1 else ''}", flush=True)
    plain_s = sum(p["runs_s"][0] for p in plain.values())
    plain_cpu = sum(plain_runs[f][0]["cpu_s"] for f in families)
    per_family = {
        f: {"library_one_process_s": round(statistics.median(library_runs[f]), 2),
            "library_one_process_runs_s": [round(v, 3) for v in library_runs[f]],
            "plain_gridsearchcv_s": plain[f]["seconds"],
            "plain_gridsearchcv_runs_s": plain[f]["runs_s"],
            "plain_gridsearchcv_cpu_s": plain[f]["cpu_s"],
            "speedup_one_process_vs_plain": round(plain[f]["seconds"]
                                                  / statistics.median(library_runs[f]), 2),
            "same_best_params_as_plain": plain[f]["same_best_params"],
            "same_oof_probabilities_as_plain": plain[f]["same_oof_probabilities"],
            "every_core_same_as_one_process": (
                every_run.results[f].best_params == run.results[f].best_params
                and bool(np.array_equal(every_run.results[f].oof_proba,
                                        run.results[f].oof_proba))
                and bool(np.array_equal(every_run.results[f].test_proba,
                                        run.results[f].test_proba))),
            "library_best_params": run.results[f].best_params,
            "library_test_auc": run.results[f].metrics["auc"].value}
        for f in families
    }
    out: dict[str, Any] = {
        "posts": len(sample),
        "train_posts": run.n_train,
        "repeats": repeats,
        "selected_features": run.selected_features,
        "load_average_before": load_before,
        "library_every_core": every,
        "library_one_process": one,
        "plain_gridsearchcv": {"seconds": round(plain_s, 1), "cpu_s": round(plain_cpu, 1),
                               "scope": "per family search + out-of-fold + final fit; "
                                        "the library totals add the split, Welch tests "
                                        "and test metrics"},
        "speedup_every_core_vs_plain_wall": round(plain_s / every_s, 2),
        "speedup_every_core_vs_plain_cpu": round(plain_cpu / every["cpu_s"], 2),
        "speedup_one_process_vs_plain_wall": round(plain_s / ours_s, 2),
        "all_same_as_plain": all(p["same_best_params"] and p["same_oof_probabilities"]
                                 is not False for p in plain.values()),
        "chosen_family": run.chosen,
        "per_family": per_family,
        "load_average_after": [round(v, 2) for v in os.getloadavg()],
    }
    if naive:
        start = time.perf_counter()
        split = naive_split(sample)
        columns = naive_selected_features(split)
        runs = {f: naive_train_family(f, split, columns, grid_points) for f in families}
        overhead = time.perf_counter() - start - sum(
            n["search_s_measured"] + n["oof_and_final_fit_s"] for n in runs.values())
        naive_total = sum(n["seconds"] for n in runs.values()) + overhead
        out["naive"] = {"total_s": round(naive_total, 1),
                        "is_extrapolated": any(n["extrapolated"] for n in runs.values()),
                        "speedup_every_core_vs_naive": round(naive_total / every_s, 2),
                        "per_family": runs}
    return out


# --- command line -------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options; the defaults are the full benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="10,000 posts to score, 300 naive rows, logistic regression and "
                             "naive Bayes only, one run each")
    parser.add_argument("--part", choices=("all", "scoring", "training"), default="all")
    parser.add_argument("--families", nargs="+", choices=list(FAMILIES), default=None)
    parser.add_argument("--naive", action="store_true",
                        help="also time the naive per-row training pipeline (slow)")
    parser.add_argument("--naive-grid-points", type=int, default=None,
                        help="time the naive search on this many grid points per family and "
                             "extrapolate linearly (default: the whole grid)")
    parser.add_argument("--repeats", type=int, default=1,
                        help="training: repeat the one-process library run and each "
                             "family's plain run this many times; per-family medians")
    parser.add_argument("--out", default=str(RESULTS / "speed.json"))
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the benchmark, print its summary and write the JSON."""
    args = parse_args(argv)
    quick = args.quick
    families = args.families or (["logistic_regression", "naive_bayes"] if quick
                                 else PAPER_FAMILIES)
    rows, naive_rows = (10_000, 300) if quick else (SCORE_ROWS, NAIVE_SCORE_ROWS)
    repeats = 1 if quick else REPEATS
    started = time.perf_counter()
    corpus, source = corpus_and_source()
    result: dict[str, Any] = {
        "benchmark": "speed",
        "date": utc_now(),
        "machine": machine(),
        "parameters": {
            "corpus": source, "corpus_rows": len(corpus), "seed": SEED,
            "training": {"posts": PAPER_SCALE, "sample": "stratified by label, seed 0",
                         "grid": "paper", "families": families, "test_size": TEST_SIZE,
                         "cv": f"StratifiedKFold({CV}, shuffle=True, random_state={SEED})",
                         "n_jobs": "None (every core) and 1", "recall_target": RECALL_TARGET,
                         "naive_grid_points": args.naive_grid_points or "all",
                         "library_s": "ModelResult.fit_seconds: grid search + out-of-fold "
                                      "predictions + final fit, per family; total = the whole "
                                      "train_models call (split, Welch tests, test metrics)",
                         "naive_s": "the same scope per family; the total adds the naive "
                                    "split, Welch tests and test metrics"},
            "scoring": {"rows": rows, "naive_rows_measured": naive_rows, "repeats": repeats,
                        "corpora": "repeated: real texts drawn with replacement; unique: the "
                                   "same draw with ' ref<6-digit index>' appended to each"},
            "caches": "the library's lru caches (preprocess, lemma, sentiment) cleared before "
                      "every timed library run; simplemma's own internal cache is left alone "
                      "(it serves both sides)",
        },
    }
    if args.part in ("all", "scoring"):
        print(f"Scoring {rows:,} posts ({source})", flush=True)
        result["scoring"] = scoring_benchmark(corpus, rows, naive_rows, repeats)
    if args.part in ("all", "training"):
        sample = stratified_sample(corpus, PAPER_SCALE)
        print(f"Training on {len(sample)} posts, paper grids, {len(families)} families",
              flush=True)
        result["training"] = training_benchmark(sample, families, args.naive_grid_points,
                                                args.naive, args.repeats)
    result["peak_rss_mib_end"] = peak_rss_mib()
    result["run_seconds"] = round(time.perf_counter() - started, 1)
    write_json(result, Path(args.out))
    print_summary(result)
    return result


def print_summary(result: dict[str, Any]) -> None:
    """The headline figures in a few lines."""
    print()
    if "training" in result:
        t = result["training"]
        print(f"Training, paper grids, {t['posts']} posts: every core "
              f"{t['library_every_core']['seconds']} s, one process "
              f"{t['library_one_process']['seconds']} s, plain GridSearchCV "
              f"{t['plain_gridsearchcv']['seconds']} s -> x{t['speedup_every_core_vs_plain_wall']}"
              f" (same as plain: {t['all_same_as_plain']}; load {t['load_average_before']})")
    if "scoring" in result:
        for name in ("repeated", "unique"):
            s = result["scoring"][name]
            print(f"Scoring {s['rows']:,} {name} posts: library {s['library']['posts_per_s']:,}"
                  f" posts/s, naive {s['naive']['posts_per_s']:,} posts/s -> "
                  f"x{s['speedup_vs_naive']:,}; peak RSS "
                  f"{s['peak_rss_mib_after_library_scoring']:,} MiB")
    print(f"Total run time {result['run_seconds']:.0f} s")


if __name__ == "__main__":
    main()

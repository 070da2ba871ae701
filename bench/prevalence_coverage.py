"""Does the prevalence interval hold? Coverage and width, simulated and on real text.

Three parts, one run:

1. **Simulation.** Corpora of 400-10,000 posts whose stigma share (5-60%) is not the one the
   model was built for, scored by a miscalibrated model (every probability pushed up by a
   logit of 1) of random quality (from useless to good); in each, 200 random posts are coded.
   For each interval: how often it covers the corpus's true share (goal 93-97% for a 95%
   interval) and its mean width. Compared: the library's (``assisted_prevalence``, finite
   population), the coded sample alone (Wilson, the naive baseline), ``ppi_py``'s interval
   for the uncoded rest scaled by (N - n)/N, and ``ppi_py`` treating the coded posts as a
   separate sample.
2. **Real text.** A fast logistic regression trained on the synthetic sample
   (``sample_data/train.csv``) is applied to random "corpora" of 829 posts of the real
   MHStigmaInterview train split, 200 of each coded with their true codes. The first 5 draws
   are the test suite's acceptance check. Compared with the coded
   sample alone and with the model card's correction (no coded posts); figures for the first
   5, the first 50 and all 1,000 draws (the corpora overlap, so draws are not independent:
   50 draws pin coverage down only to about +-3 points). The same again with a
   model trained on half the real participants and applied to the other half's posts, where
   the model is good and should narrow the interval.
3. **Similarity.** ``shift.similarity`` AUCs: the sample model against the sample corpus and
   the real corpus; the real-half model against the other half.

Run: .venv/bin/python bench/prevalence_coverage.py -> bench/results/coverage.json (about 1 min)
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from common import REPO, RESULTS, machine, read_real_corpus, utc_now, write_json
from ppi_py import ppi_mean_ci
from sklearn.model_selection import GroupShuffleSplit

from stigma_core.assisted import assisted_prevalence, corpus_prevalence
from stigma_core.crossfit import cross_fitted_scores
from stigma_core.metrics import wilson_interval
from stigma_core.models import train_models
from stigma_core.persist import ModelBundle, bundle_from_run
from stigma_core.scale import score_texts
from stigma_core.shift import similarity

SEED = 0
N_CODED = 200
CORPUS_SIZES = (400, 829, 2_000, 10_000)
BIAS = 1.0
REAL_CORPUS = 829
ACCEPTANCE_DRAWS = 5
SHOWN_DRAWS = 50
Interval = tuple[float, float]


# --- intervals compared ---------------------------------------------------------------------


def library(proba: np.ndarray, labels: np.ndarray, coded: np.ndarray) -> Interval:
    """The library's interval (finite population: the coded posts are in the corpus)."""
    found = assisted_prevalence(proba, labels, coded_index=coded)
    return found.ci_low, found.ci_high


def coded_only(proba: np.ndarray, labels: np.ndarray, coded: np.ndarray) -> Interval:
    """The naive baseline: the coded sample's share with its Wilson interval, model unused."""
    return wilson_interval(int(labels.sum()), len(labels))


def ppi_py_scaled(proba: np.ndarray, labels: np.ndarray, coded: np.ndarray) -> Interval:
    """ppi_py's PPI++ interval for the uncoded rest, scaled by (N - n) / N, codes added."""
    rest = np.ones(len(proba), bool)
    rest[coded] = False
    low, high = ppi_mean_ci(labels, proba[coded], proba[rest], alpha=0.05)
    n_rest = int(rest.sum())
    return tuple(float((labels.sum() + n_rest * v[0]) / len(proba)) for v in (low, high))


def ppi_py_plain(proba: np.ndarray, labels: np.ndarray, coded: np.ndarray) -> Interval:
    """ppi_py's PPI++ interval over the whole corpus, coded posts not counted as known."""
    low, high = ppi_mean_ci(labels, proba[coded], proba, alpha=0.05)
    return float(low[0]), float(high[0])


METHODS: dict[str, Callable[[np.ndarray, np.ndarray, np.ndarray], Interval]] = {
    "library (assisted_prevalence, finite population)": library,
    "coded sample alone (Wilson)": coded_only,
    "ppi_py interval for the rest scaled by (N - n)/N": ppi_py_scaled,
    "ppi_py over the whole corpus (no finite-population step)": ppi_py_plain,
}


def summarise(hits: list[bool], widths: list[float]) -> dict[str, float]:
    """Coverage and mean width of a list of intervals."""
    return {"coverage": round(float(np.mean(hits)), 4),
            "mean_width": round(float(np.mean(widths)), 4),
            "median_width": round(float(np.median(widths)), 4)}


# --- 1. simulation --------------------------------------------------------------------------


def simulated_corpus(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, dict]:
    """One corpus: true codes and a miscalibrated model's probabilities, with its settings."""
    settings = {"n": int(rng.choice(CORPUS_SIZES)), "prevalence": float(rng.uniform(0.05, 0.6)),
                "separation": float(rng.uniform(0.0, 2.5))}
    truth = (rng.random(settings["n"]) < settings["prevalence"]).astype(int)
    logit = settings["separation"] * (2 * truth - 1) + rng.normal(0, 1, settings["n"]) + BIAS
    return truth, 1 / (1 + np.exp(-logit)), settings


def simulation(n_corpora: int, seed: int) -> dict[str, Any]:
    """Coverage and width of every method over ``n_corpora`` simulated corpora."""
    rng = np.random.default_rng(seed)
    hits: dict[str, list[bool]] = {name: [] for name in METHODS}
    widths: dict[str, list[float]] = {name: [] for name in METHODS}
    by_size: dict[int, list[bool]] = {size: [] for size in CORPUS_SIZES}
    model_bias = []
    for _ in range(n_corpora):
        truth, proba, settings = simulated_corpus(rng)
        coded = rng.choice(len(truth), N_CODED, replace=False)
        model_bias.append(proba.mean() - truth.mean())
        for name, method in METHODS.items():
            low, high = method(proba, truth[coded], coded)
            hits[name].append(low <= truth.mean() <= high)
            widths[name].append(high - low)
        by_size[settings["n"]].append(hits[next(iter(METHODS))][-1])
    return {
        "corpora": n_corpora,
        "design": f"corpus size drawn from {list(CORPUS_SIZES)}; true share U(0.05, 0.6); "
                  f"model logit = s x (2y - 1) + N(0, 1) + {BIAS} with s ~ U(0, 2.5) (0 = "
                  f"useless); {N_CODED} random posts coded; 95% intervals",
        "model_mean_probability_minus_truth": round(float(np.mean(model_bias)), 4),
        "methods": {name: summarise(hits[name], widths[name]) for name in METHODS},
        "library_coverage_by_corpus_size": {str(size): round(float(np.mean(h)), 4)
                                            for size, h in by_size.items() if h},
    }


# --- 2. real text ---------------------------------------------------------------------------


def fast_model(coded: pd.DataFrame, name: str) -> ModelBundle:
    """A fast-grid logistic regression bundle, as ``train --grid fast`` makes."""
    run = train_models(coded[["text", "label"]], ["logistic_regression"], grid="fast",
                       seed=SEED)
    return bundle_from_run(run, card_extra={"data": name})


def real_draws(
    bundle: ModelBundle, posts: pd.DataFrame, draws: int, with_card_correction: bool
) -> dict[str, Any]:
    """Coverage and widths over ``draws`` random corpora of ``REAL_CORPUS`` posts.

    Draw ``d`` uses ``numpy.random.default_rng(d)``: the corpus's rows, then the coded rows
    within it, exactly as the acceptance test does.
    """
    proba = score_texts(bundle, posts["text"])
    truth = posts["stigma"].to_numpy()
    rows_out = []
    for draw in range(draws):
        rng = np.random.default_rng(draw)
        rows = rng.choice(len(posts), REAL_CORPUS, replace=False)
        coded = rng.choice(REAL_CORPUS, N_CODED, replace=False)
        share = float(truth[rows].mean())
        row: dict[str, Any] = {"draw": draw, "true_share": round(share, 4)}
        for key, method in (("library", library), ("coded_only", coded_only)):
            row[key] = method(proba[rows], truth[rows][coded], coded)
        if with_card_correction:
            result = corpus_prevalence(bundle, proba[rows], seed=draw,
                                       texts=posts["text"].iloc[rows] if draw == 0 else None)
            overall = result["overall"]
            row["card_correction"] = (overall["ci_low"], overall["ci_high"])
            row["card_corrected"] = overall["corrected"]
            if draw == 0:
                row["card_warning"] = overall["warning"]
        rows_out.append(row)
    methods = [m for m in ("library", "coded_only", "card_correction") if m in rows_out[0]]

    def figures(part: list[dict[str, Any]]) -> dict[str, Any]:
        return {m: summarise([r[m][0] <= r["true_share"] <= r[m][1] for r in part],
                             [r[m][1] - r[m][0] for r in part]) for m in methods}

    return {
        "draws": draws,
        "first_5": figures(rows_out[:ACCEPTANCE_DRAWS]),
        "first_5_hits": sum(r["library"][0] <= r["true_share"] <= r["library"][1]
                            for r in rows_out[:ACCEPTANCE_DRAWS]),
        "first_50": figures(rows_out[:SHOWN_DRAWS]),
        "all": figures(rows_out),
        "per_draw_first_50": [{k: ([round(x, 4) for x in v] if isinstance(v, tuple) else v)
                               for k, v in r.items()} for r in rows_out[:SHOWN_DRAWS]],
    }


# --- main -----------------------------------------------------------------------------------


def coding_loop_draws(real: pd.DataFrame, n_draws: int) -> dict[str, Any]:
    """The in-app loop: 200 random posts of a real 829-post corpus are coded, the model is
    trained on exactly those, and prevalence comes from the same posts. Cross-fitting (the
    library) against the naive reuse of the model's own scores on its training posts."""
    rng = np.random.default_rng(SEED + 1)
    hits: dict[str, list[bool]] = {"cross-fitted": [], "naive in-sample": []}
    widths: dict[str, list[float]] = {"cross-fitted": [], "naive in-sample": []}
    for draw in range(n_draws):
        corpus = real.iloc[rng.choice(len(real), REAL_CORPUS, replace=False)].reset_index(
            drop=True).rename(columns={"stigma": "label"})
        index = rng.choice(len(corpus), N_CODED, replace=False)
        coded = corpus.iloc[index]
        run = train_models(coded[["text", "label"]], ["logistic_regression"], grid="fast",
                           seed=draw)
        bundle = bundle_from_run(run)
        coded_scores, corpus_scores = cross_fitted_scores(
            bundle, coded["text"], coded["label"], coded["text"], corpus["text"], seed=draw)
        truth = corpus["label"].mean()
        full = score_texts(bundle, corpus["text"])
        for name, (all_scores, own) in {"cross-fitted": (corpus_scores, coded_scores),
                                        "naive in-sample": (full, full[index])}.items():
            found = assisted_prevalence(all_scores, coded["label"], own, coded_index=index)
            hits[name].append(found.ci_low <= truth <= found.ci_high)
            widths[name].append(found.width)
    return {"draws": n_draws, "coded_posts": N_CODED, "corpus_posts": REAL_CORPUS,
            "methods": {name: summarise(hits[name], widths[name]) for name in hits}}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", type=int, default=2_000,
                        help="simulated corpora (default 2000; at least 200)")
    parser.add_argument("--draws", type=int, default=1_000,
                        help="real-text draws (default 1000; figures for the first 5, 50, all)")
    parser.add_argument("--loop-draws", type=int, default=100,
                        help="coding-loop draws: model trained on the coded sample (default 100)")
    parser.add_argument("--out", default=str(RESULTS / "coverage.json"))
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the benchmark, print its summary and write the JSON."""
    args = parse_args(argv)
    started = time.perf_counter()
    simulated = simulation(max(args.corpora, 200), SEED)
    real = read_real_corpus()
    sample = pd.read_csv(REPO / "sample_data" / "train.csv")
    sample_corpus = pd.read_csv(REPO / "sample_data" / "corpus.csv")["text"]
    sample_model = fast_model(sample, "train.csv")
    synthetic = real_draws(sample_model, real, args.draws, with_card_correction=True)
    split = GroupShuffleSplit(n_splits=1, train_size=0.5, random_state=SEED)
    train_rows, other_rows = next(split.split(real, groups=real["participant"]))
    real_model = fast_model(real.iloc[train_rows].rename(columns={"stigma": "label"}),
                            "real half")
    other_half = real.iloc[other_rows].reset_index(drop=True)
    trained_on_real = real_draws(real_model, other_half, args.draws, with_card_correction=True)
    loop = coding_loop_draws(real, args.loop_draws)
    checks = {
        "sample model vs sample corpus": similarity(sample_model, sample_corpus),
        "sample model vs real corpus": similarity(sample_model, real["text"]),
        "real-half model vs other participants' posts": similarity(real_model,
                                                                    other_half["text"]),
    }
    result = {
        "benchmark": "coverage",
        "date": utc_now(),
        "machine": machine(),
        "seconds": round(time.perf_counter() - started, 1),
        "parameters": {"coded_posts": N_CODED, "real_corpus_posts": REAL_CORPUS,
                       "alpha": 0.05, "seed": SEED,
                       "real_data": "../shared/data/mhstigma_interview_train.csv "
                                    "(MHStigmaInterview train split, Meng et al., ACL 2025)"},
        "simulation": simulated,
        "real_text_model_trained_on_synthetic_sample": synthetic,
        "real_text_model_trained_on_other_real_participants": {
            "train_posts": len(train_rows), "corpus_pool_posts": len(other_rows),
            **trained_on_real},
        "real_text_model_trained_on_the_coded_sample": loop,
        "similarity": {name: {"verdict": s.verdict, "auc": s.auc, "ci_low": s.ci_low,
                              "ci_high": s.ci_high, "most_different": list(s.most_different)}
                       for name, s in checks.items()},
    }
    path = write_json(result, Path(args.out))
    print_summary(result)
    print(f"Wrote {path}")
    return result


def print_summary(result: dict[str, Any]) -> None:
    """The headline figures, for the terminal."""
    sim = result["simulation"]
    print(f"Simulation, {sim['corpora']} corpora:")
    for name, figures in sim["methods"].items():
        print(f"  {name:<58} coverage {figures['coverage']:.3f}  width "
              f"{figures['mean_width']:.3f}")
    for key in ("real_text_model_trained_on_synthetic_sample",
                "real_text_model_trained_on_other_real_participants"):
        part = result[key]
        print(f"{key} (first 5 hits: {part['first_5_hits']}/5):")
        for window in ("first_5", "first_50", "all"):
            for name, figures in part[window].items():
                print(f"  {window:<7} {name:<16} coverage {figures['coverage']:.3f}  width "
                      f"{figures['mean_width']:.3f}")
    loop = result["real_text_model_trained_on_the_coded_sample"]
    for name, figures in loop["methods"].items():
        print(f"coding loop ({loop['draws']} draws) {name:<16} coverage "
              f"{figures['coverage']:.3f}  width {figures['mean_width']:.3f}")
    for name, s in result["similarity"].items():
        print(f"Similarity {name}: {s['verdict']} (AUC {s['auc']:.3f}, "
              f"{s['ci_low']:.3f}-{s['ci_high']:.3f})")


if __name__ == "__main__":
    main()

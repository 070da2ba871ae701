"""Attribution type on real, human-coded text: per-class F1 with CIs, with and without the
question topic, and the question alone.

The MHStigmaInterview train split (Meng et al., ACL 2025) codes each stigmatising answer
with the attribution it makes (responsibility, fear/dangerousness, social distance, anger,
coercion segregation, helping, pity). Participants answered a question probing one
attribution, and the coded type follows the question in about 90% of stigmatising answers,
so three input sets are scored side by side on the same folds:

- ``text``: the answer alone (what the app has for a social-media post);
- ``text+topic``: the answer and the question's topic (one-hot);
- ``topic``: the question alone, each topic mapped to its most common type in the training
  folds (no model of the text at all: the baseline the others must beat).

Folds: ``StratifiedGroupKFold(5, shuffle=True, random_state=0)`` grouped by participant over
the stigmatising answers; CIs: 95% percentile bootstrap over participants (1,000 draws).
The naive baseline for the ratio is the most frequent type for every answer, scored the
same way. The machine is shared (2 cores, six people): the load average is recorded.

Run: .venv/bin/python bench/attribution.py -> bench/results/attribution.json (a few minutes)
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

import numpy as np
from common import RESULTS, machine, read_real_corpus, utc_now, write_json

from stigma_core import attribution

SEED = 0
FOLDS = 5


def scores_dict(scores: attribution.AttributionScores, seconds: float) -> dict[str, Any]:
    """JSON-ready figures of one input set."""
    return {
        "macro_f1": dict(zip(("value", "ci_low", "ci_high"), scores.summary["macro_f1"],
                             strict=True)),
        "accuracy": dict(zip(("value", "ci_low", "ci_high"), scores.summary["accuracy"],
                             strict=True)),
        "per_class": scores.per_class.round(4).to_dict(orient="records"),
        "seconds": round(seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--boot", type=int, default=1000)
    args = parser.parse_args()
    df = read_real_corpus()
    load_before = os.getloadavg()
    result: dict[str, Any] = {
        "date": utc_now(), "machine": machine(), "load_average_before": load_before,
        "corpus": "../shared/data/mhstigma_interview_train.csv (MHStigmaInterview train "
                  "split, Meng et al. ACL 2025)",
        "folds": f"StratifiedGroupKFold({FOLDS}, shuffle=True, random_state={SEED}) by "
                 "participant, stigmatising answers only",
        "ci": f"95% percentile bootstrap over participants, {args.boot} draws",
        "model": "multinomial logistic regression (C=10, balanced class weights) over TF-IDF "
                 "word 1-2-grams of the preprocessed text (sublinear tf)",
    }
    coded = attribution.coded_types(df, "attribution", "stigma")
    result["n_answers"] = int(len(coded))
    result["n_participants"] = int(coded["participant"].nunique())
    result["type_follows_question_share"] = attribution.topic_agreement(
        df, "prompt_topic", "attribution", "stigma")
    runs = {}
    for inputs in ("text", "text+topic", "topic"):
        start = time.perf_counter()
        scores = attribution.cross_validate(
            df, "attribution", label_col="stigma", group_col="participant",
            topic_col="prompt_topic", inputs=inputs, folds=FOLDS, seed=SEED, n_boot=args.boot)
        runs[inputs] = scores_dict(scores, time.perf_counter() - start)
        print(inputs, runs[inputs]["macro_f1"], flush=True)
    majority = coded["attribution"].value_counts().index[0]
    per_class, summary = attribution.score_with_cis(
        coded["attribution"].to_numpy(), np.full(len(coded), majority, dtype=object),
        coded["participant"].to_numpy(), n_boot=args.boot, seed=SEED)
    runs["most_frequent_type"] = {
        "type": majority,
        "macro_f1": dict(zip(("value", "ci_low", "ci_high"), summary["macro_f1"], strict=True)),
        "accuracy": dict(zip(("value", "ci_low", "ci_high"), summary["accuracy"], strict=True)),
    }
    result["runs"] = runs
    result["macro_f1_ratio_text_vs_most_frequent"] = (
        runs["text"]["macro_f1"]["value"] / runs["most_frequent_type"]["macro_f1"]["value"])
    result["load_average_after"] = os.getloadavg()
    path = write_json(result, RESULTS / "attribution.json")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()

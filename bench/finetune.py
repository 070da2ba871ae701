"""The fine-tuned encoder family (``finetuned_minilm``) on real, human-coded text, grouped CV.

Same corpus and outer folds as ``bench/models.py`` (MHStigmaInterview train split, Meng et
al., ACL 2025; ``StratifiedGroupKFold(5, shuffle=True, random_state=0)`` by participant;
``prompt_topic`` never an input). Per outer fold the library's ``FineTunedClassifier`` (its
defaults: two networks, 3 epochs, learning rate 1e-4, batches of 16, 128 word pieces; the
options below replace them) is fitted on the training posts and scores the test posts.

``bench/models.py`` runs each family's whole training step inside every outer fold (inner CV
for calibration and the threshold): for this family that is 30 fine-tunings per network,
over an hour for one network and about two and a half hours for the default two, on 2 cores.
Here calibration and threshold are cross-fitted over the outer folds instead: the Platt map
and the recall-0.90 threshold applied to fold k are fitted on the out-of-fold scores of the
other four folds, so no fold's own labels touch its figures. AUC and FP at the recall-0.90
point of the pooled scores need neither and are computed as in ``bench/models.py``; each
figure has a 95% cluster-bootstrap interval over participants (the same resamples as there).

``--with-stack`` adds, on the same folds, the two-encoder stack (``bench/context_ceiling.py``'s
text-alone stack, the design of ``stacked_two_encoders``) and a soft vote of the two: the mean
of their probabilities, as ``VotingClassifier(voting="soft")`` computes it (it did no better
than the fine-tuned model alone, so the library does not offer it).

With more than one network (``--n-models``, the default two) each is also scored alone.

Run: .venv/bin/python bench/finetune.py [--with-stack] [--learning-rate R] [--epochs E]
[--n-models K] [--out FILE] -> bench/results/finetune.json
(about 30 minutes on 2 cores with two networks, 20 with one; 10 more with --with-stack).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
from common import RESULTS, machine, read_real_corpus, utc_now, write_json
from context_ceiling import figures as ranking_figures
from models import brier_with_ci
from quality import grouped_folds, participant_weights
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from stigma_core.finetune import FineTunedClassifier
from stigma_core.metrics import threshold_for_recall

SEED = 0
SPLITS = 5
N_BOOT = 1000
RECALL = 0.9


def fine_tuned_scores(texts: list[str], y: np.ndarray, folds: list,
                      **params: Any) -> tuple[np.ndarray, list]:
    """Out-of-fold logits of each network of the fine-tuned family (``params`` replacing its
    defaults), shape (networks, posts), and per fold its fit and scoring times."""
    model = FineTunedClassifier(random_state=SEED, **params)
    logits = np.zeros((model.n_models, len(y)))
    timings = []
    for k, (train, test) in enumerate(folds):
        start = time.perf_counter()
        model.fit([texts[i] for i in train], y[train])
        fitted = time.perf_counter() - start
        start = time.perf_counter()
        logits[:, test] = model.member_logits([texts[i] for i in test])
        scored = time.perf_counter() - start
        timings.append({"fold": k, "train_posts": len(train), "fit_s": round(fitted, 1),
                        "scored_posts": len(test), "scoring_posts_per_s": round(len(test)
                                                                               / scored, 1),
                        "auc": float(roc_auc_score(y[test], logits[:, test].mean(axis=0)))})
        print(f"fold {k}: AUC {timings[-1]['auc']:.3f}, fit {fitted:.0f} s", flush=True)
    return logits, timings


def cross_fitted(scores: np.ndarray, y: np.ndarray, folds: list) -> tuple[np.ndarray, np.ndarray]:
    """Platt-calibrated probabilities and a 0/1 decision per post, both fitted for fold k on
    the other folds' scores only (the decision: the threshold reaching recall 0.90 there)."""
    proba = np.zeros(len(y))
    flagged = np.zeros(len(y), dtype=bool)
    for _, test in folds:
        other = np.setdiff1d(np.arange(len(y)), test)
        platt = LogisticRegression().fit(scores[other, None], y[other])
        proba[test] = platt.predict_proba(scores[test, None])[:, 1]
        threshold = threshold_for_recall(y[other], platt.predict_proba(scores[other, None])[:, 1],
                                         RECALL)
        flagged[test] = proba[test] >= threshold
    return proba, flagged


def figures(y: np.ndarray, scores: np.ndarray, folds: list,
            weights: np.ndarray) -> dict[str, Any]:
    """AUC, FP at the pooled recall-0.90 point, Brier, accuracy, FN and FP at the cross-fitted
    threshold, each with its cluster-bootstrap 95% interval."""
    proba, flagged = cross_fitted(scores, y, folds)

    def counted(hits: np.ndarray) -> dict[str, float]:
        samples = weights @ hits.astype(float)
        lo, hi = np.percentile(samples, [2.5, 97.5])
        return {"value": float(hits.sum()), "ci_low": float(lo), "ci_high": float(hi)}

    right = flagged == (y == 1)
    accuracy = (weights @ right.astype(float)) / weights.sum(axis=1)
    return {**ranking_figures(y, scores, weights),
            "brier": brier_with_ci(y, proba, weights),
            "accuracy": {"value": float(right.mean()),
                         "ci_low": float(np.percentile(accuracy, 2.5)),
                         "ci_high": float(np.percentile(accuracy, 97.5))},
            "false_negatives": counted((y == 1) & ~flagged),
            "false_positives": counted((y == 0) & flagged)}


def stack_scores(texts: list[str], y: np.ndarray, groups: np.ndarray,
                 folds: list) -> np.ndarray:
    """The two-encoder stack's out-of-fold probabilities on the same folds."""
    import pandas as pd
    from context_ceiling import members, stacked_scores

    from stigma_core import embeddings, multilingual

    minilm, e5 = embeddings.embed(texts), multilingual.embed(texts)
    proba, _ = stacked_scores(members(pd.Series(texts), minilm, e5, None), y, groups, folds)
    return proba


def main() -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--with-stack", action="store_true")
    parser.add_argument("--learning-rate", type=float, help="instead of the default")
    parser.add_argument("--epochs", type=int, help="instead of the default")
    parser.add_argument("--n-models", type=int, help="instead of the default")
    parser.add_argument("--out", default=str(RESULTS / "finetune.json"))
    args = parser.parse_args()
    params = {k: v for k, v in (("learning_rate", args.learning_rate), ("epochs", args.epochs),
                                ("n_models", args.n_models)) if v is not None}
    started, load_start = time.perf_counter(), os.getloadavg()
    data = read_real_corpus()
    texts = data["text"].astype(str).tolist()
    y, groups = data["stigma"].to_numpy(), data["participant"].to_numpy()
    folds = grouped_folds(y, groups, SPLITS)
    weights = participant_weights(groups, N_BOOT, SEED)
    members, timings = fine_tuned_scores(texts, y, folds, **params)
    logits = members.mean(axis=0)
    rows = {"finetuned_minilm": {**figures(y, logits, folds, weights), "folds": timings}}
    if len(members) > 1:
        rows.update({f"network_{k}_alone": figures(y, m, folds, weights)
                     for k, m in enumerate(members)})
    if args.with_stack:
        stack = stack_scores(texts, y, groups, folds)
        rows["stacked_two_encoders_design"] = figures(y, stack, folds, weights)
        vote = (1 / (1 + np.exp(-logits)) + stack) / 2
        rows["soft_vote_with_stack"] = figures(y, vote, folds, weights)
    for name, row in rows.items():
        print(f"{name:<30} AUC {row['auc']['value']:.3f} ({row['auc']['ci_low']:.3f}-"
              f"{row['auc']['ci_high']:.3f})  FP@0.90 {row['fp_at_recall_0.90']['value']:.0f}",
              flush=True)
    result = {"benchmark": "finetune", "date": utc_now(), "machine": machine(),
              "load_average_start": load_start, "load_average_end": os.getloadavg(),
              "corpus": "MHStigmaInterview train split (Meng et al., ACL 2025), n = "
                        f"{len(y)} answers ({int(y.sum())} stigmatising), "
                        f"{len(set(groups))} participants",
              "folds": f"StratifiedGroupKFold({SPLITS}, shuffle=True, random_state={SEED}) by "
                       "participant, the same as bench/models.py",
              "calibration_and_threshold": "cross-fitted: Platt map and recall-0.90 threshold "
                                           "for each fold fitted on the other folds' scores",
              "bootstrap": f"cluster bootstrap over participants, {N_BOOT} resamples",
              "model": FineTunedClassifier(random_state=SEED, **params).get_params(),
              "rows": rows, "run_seconds": round(time.perf_counter() - started, 1)}
    write_json(result, Path(args.out))
    return result


if __name__ == "__main__":
    main()

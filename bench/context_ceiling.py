"""How much of the gap to AUC 0.90 is the question a post answers?

In the real corpus (MHStigmaInterview train split, Meng et al., ACL 2025) every text answers
an interview question, and the same words mean opposite things under different questions:
"Yes, I would" is stigmatising after "Would you be afraid of Avery?" and not after "Would you
help Avery?". The library's models read the text alone (social-media posts carry no question
column), so this script measures, on the same participant-grouped folds as ``bench/models.py``:

- **text alone**: the stack of a linear SVM on word + character n-grams and RBF SVMs on
  all-MiniLM-L6-v2 and multilingual-e5-small vectors (the ``stacked_two_encoders`` design);
- **text and the question's topic** (``prompt_topic``, seven values): n-gram weights learnt
  per topic (each word column copied once per topic), the MiniLM vectors crossed with the
  topic likewise, the e5 vectors beside a topic indicator; stacked the same way.

Both stacks combine their members by a logistic regression on inner participant-grouped
out-of-fold scores. This is a ceiling study, not a model the app offers: it says how far text
alone can go on this corpus, and what a context column would be worth.

Run: .venv/bin/python bench/context_ceiling.py -> bench/results/context_ceiling.json
(about 10 minutes on 2 cores; sentence vectors are encoded once at the start.)
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from common import RESULTS, machine, read_real_corpus, utc_now, write_json
from models import fp_at_recall
from quality import grouped_folds, participant_weights, weighted_auc
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.svm import SVC, LinearSVC

from stigma_core import embeddings, multilingual
from stigma_core.models.families import ngram_features

SEED = 0
SPLITS = 5
N_BOOT = 1000
TOPIC_WEIGHT = 2.0
"""How strongly the per-topic copies of the word columns count against the shared ones
(tried 1 and 2 by grouped CV: 2 gave 0.886 vs 0.882 AUC for the n-gram member alone)."""

Member = tuple[Callable[[np.ndarray, np.ndarray], tuple[Any, Any]], Callable[[], Any]]


def crossed(X: Any, topics: np.ndarray, weight: float = 1.0) -> sp.csr_matrix:
    """``X``, one copy of ``X`` per topic (zero outside that topic's rows) and the topic
    indicators: a linear model on this learns shared and per-topic weights together."""
    X = sp.csr_matrix(X)
    copies = [weight * (sp.diags(topics[:, j]) @ X) for j in range(topics.shape[1])]
    return sp.hstack([X, *copies, sp.csr_matrix(topics)]).tocsr()


def members(texts: pd.Series, minilm: np.ndarray, e5: np.ndarray,
            topics: np.ndarray | None) -> dict[str, Member]:
    """The stack's members: for each, a feature maker (train rows, test rows) and a model."""

    def ngrams(train: np.ndarray, test: np.ndarray) -> tuple[Any, Any]:
        step = ngram_features()
        frame = texts.to_frame("text")
        a, b = step.fit_transform(frame.iloc[train]), step.transform(frame.iloc[test])
        if topics is None:
            return a, b
        words = len(step.named_transformers_["words"].vocabulary_)
        return (sp.hstack([a[:, words:], crossed(a[:, :words], topics[train], TOPIC_WEIGHT)]),
                sp.hstack([b[:, words:], crossed(b[:, :words], topics[test], TOPIC_WEIGHT)]))

    def rows(vectors: np.ndarray, how: str) -> Callable[[np.ndarray, np.ndarray], tuple]:
        def make(train: np.ndarray, test: np.ndarray) -> tuple[Any, Any]:
            if topics is None:
                return vectors[train], vectors[test]
            if how == "crossed":
                return crossed(vectors[train], topics[train]), crossed(vectors[test], topics[test])
            return np.c_[vectors[train], topics[train]], np.c_[vectors[test], topics[test]]
        return make

    if topics is None:
        return {"ngrams": (ngrams, lambda: LinearSVC(C=0.1, random_state=SEED)),
                "minilm": (rows(minilm, ""), lambda: SVC(C=4, kernel="rbf")),
                "e5": (rows(e5, ""), lambda: SVC(C=4, kernel="rbf"))}
    return {"ngrams": (ngrams, lambda: LogisticRegression(C=4, max_iter=3000,
                                                          class_weight="balanced")),
            "minilm": (rows(minilm, "crossed"), lambda: LogisticRegression(C=4, max_iter=3000)),
            "e5": (rows(e5, "beside"), lambda: SVC(C=4, kernel="rbf"))}


def stacked_scores(stack: dict[str, Member], y: np.ndarray, groups: np.ndarray,
                   folds: list) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Out-of-fold stack probabilities, and each member's out-of-fold scores."""
    proba = np.zeros(len(y))
    alone = {name: np.zeros(len(y)) for name in stack}
    for train, test in folds:
        inner = grouped_folds(y[train], groups[train], SPLITS)
        z_train = np.zeros((len(train), len(stack)))
        z_test = np.zeros((len(test), len(stack)))
        for j, (name, (features, model)) in enumerate(stack.items()):
            for a, b in inner:
                Xa, Xb = features(train[a], train[b])
                z_train[b, j] = model().fit(Xa, y[train[a]]).decision_function(Xb)
            Xa, Xb = features(train, test)
            z_test[:, j] = model().fit(Xa, y[train]).decision_function(Xb)
            alone[name][test] = z_test[:, j]
        combiner = LogisticRegression().fit(z_train, y[train])
        proba[test] = combiner.predict_proba(z_test)[:, 1]
    return proba, alone


def figures(y: np.ndarray, scores: np.ndarray, weights: np.ndarray) -> dict[str, Any]:
    """AUC and FP at recall 0.90, each with its participant-cluster bootstrap 95% CI."""
    samples = weighted_auc(weights, y, scores)
    low, high = np.percentile(samples[np.isfinite(samples)], [2.5, 97.5])
    return {"auc": {"value": float(roc_auc_score(y, scores)), "ci_low": float(low),
                    "ci_high": float(high)},
            "fp_at_recall_0.90": fp_at_recall(y, scores, weights)}


def main() -> dict[str, Any]:
    """Both stacks on the same folds; print and write the figures."""
    started, load_start = time.perf_counter(), os.getloadavg()
    data = read_real_corpus()
    texts = data["text"].astype(str).reset_index(drop=True)
    y, groups = data["stigma"].to_numpy(), data["participant"].to_numpy()
    names = sorted(data["prompt_topic"].unique())
    topics = (data["prompt_topic"].to_numpy()[:, None] == np.asarray(names)).astype(float)
    minilm = embeddings.embed(texts.tolist())
    e5 = multilingual.embed(texts.tolist())
    folds = grouped_folds(y, groups, SPLITS)
    weights = participant_weights(groups, N_BOOT, SEED)
    rows = {}
    for label, topic_input in (("text alone", None), ("text and the question's topic", topics)):
        proba, alone = stacked_scores(members(texts, minilm, e5, topic_input), y, groups, folds)
        rows[label] = {"stack": figures(y, proba, weights),
                       "members": {k: figures(y, v, weights) for k, v in alone.items()}}
        stack = rows[label]["stack"]
        print(f"{label:<32} AUC {stack['auc']['value']:.3f} "
              f"({stack['auc']['ci_low']:.3f}-{stack['auc']['ci_high']:.3f})  FP@0.90 "
              f"{stack['fp_at_recall_0.90']['value']:.0f}", flush=True)
    result = {"benchmark": "context-ceiling", "date": utc_now(), "machine": machine(),
              "load_average_start": load_start, "load_average_end": os.getloadavg(),
              "corpus": "MHStigmaInterview train split (Meng et al., ACL 2025), n = "
                        f"{len(y)} answers ({int(y.sum())} stigmatising), "
                        f"{len(set(groups))} participants",
              "folds": f"StratifiedGroupKFold({SPLITS}, shuffle=True, random_state={SEED}) by "
                       "participant, the same as bench/models.py; inner folds likewise",
              "bootstrap": f"cluster bootstrap over participants, {N_BOOT} resamples",
              "topics": names, "rows": rows,
              "run_seconds": round(time.perf_counter() - started, 1)}
    write_json(result, RESULTS / "context_ceiling.json")
    return result


if __name__ == "__main__":
    main()

"""Cross-fitting: fair scores for coded posts the model itself was trained on.

Prediction-powered prevalence (``assisted``) measures the model's error on a coded random
sample of the corpus. That only works when the model never saw those posts: on its own
training posts a model looks better than it is, and the interval would be too narrow. In the
coding loop the same coded posts usually train the model, so:

* ``trained_on`` says which posts a model trained on, from the keys its card keeps (hashes of
  the training texts, ``persist``); no text is stored in the model file;
* ``coded_sample_prevalence`` puts it together for a scored corpus and a coded sample;
* ``cross_fitted_scores`` refits copies of the model (same pipeline, same settings) leaving
  out one fold of the coded training posts at a time (Zrnic & Candès 2024, cross-prediction).
  Every coded post is scored by a fold model that never saw it, and the corpus by the average
  of the fold models, so coded and corpus scores come from the same kind of model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.base import clone
from sklearn.model_selection import StratifiedKFold

from stigma_core.assisted import DEFAULT_MIN_CODED, CodedPosts, corpus_prevalence, match_coded_posts
from stigma_core.coding.sampling import post_keys
from stigma_core.errors import CorpusError
from stigma_core.persist import ModelBundle
from stigma_core.scale import score_texts

DEFAULT_FOLDS = 5


def trained_on(bundle: ModelBundle, texts: Sequence[object]) -> np.ndarray:
    """True for each post the model was trained on (False for all when the card does not say,
    e.g. model files from older versions)."""
    keys = set((bundle.card or {}).get("training_keys") or ())
    return np.array([key in keys for key in post_keys(texts)], dtype=bool)


def knows_training_posts(bundle: ModelBundle) -> bool:
    """True when the model file records which posts it trained on."""
    return bool((bundle.card or {}).get("training_keys"))


def cross_fitted_scores(
    bundle: ModelBundle, train_texts: Sequence[object], train_labels: ArrayLike,
    coded_texts: Sequence[object], corpus_texts: Sequence[object], *,
    folds: int = DEFAULT_FOLDS, seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """(scores of the coded posts, scores of the corpus posts) from fold models.

    ``train_*`` is the model's training data (it must hold every coded post the model trained
    on). The coded posts found in it are split into ``folds`` folds; fold model k is a copy of
    ``bundle.pipeline`` refitted on the training data without fold k, and scores fold k. Coded
    posts outside the training data, and the corpus, get the mean score of the fold models.
    """
    train = pd.DataFrame({"text": [str(t).strip() for t in train_texts],
                          "label": np.asarray(train_labels, dtype=float)})
    if train["label"].isna().any() or not train["label"].isin((0, 1)).all():
        raise CorpusError("The training posts need a 0/1 code each to refit the model.")
    coded = pd.Series([str(t).strip() for t in coded_texts])
    position = {text: i for i, text in enumerate(train["text"])}
    in_train = np.array([text in position for text in coded], dtype=bool)
    coded_scores = np.zeros(len(coded))
    corpus_scores = np.zeros(len(corpus_texts))
    outside = np.zeros(int((~in_train).sum()))
    for members in _fold_members(train, coded[in_train], position, folds, seed):
        fold_model = _refit(bundle, train.drop(index=members), seed)
        held = np.flatnonzero(in_train)[np.isin(coded[in_train].map(position), members)]
        coded_scores[held] = score_texts(fold_model, coded.iloc[held])
        corpus_scores += score_texts(fold_model, corpus_texts) / folds
        if len(outside):
            outside += score_texts(fold_model, coded[~in_train]) / folds
    coded_scores[~in_train] = outside
    return coded_scores, corpus_scores


def _fold_members(train: pd.DataFrame, coded_in_train: pd.Series, position: dict[str, int],
                  folds: int, seed: int) -> list[np.ndarray]:
    """Training-row positions of the coded posts, split into stratified folds."""
    rows = np.array(sorted({position[t] for t in coded_in_train}), dtype=int)
    labels = train["label"].to_numpy(int)[rows]
    smallest = min(int((labels == 1).sum()), int((labels == 0).sum()))
    if len(rows) == 0 or smallest < 2:
        raise CorpusError("Cross-fitting needs at least two coded posts of each kind among "
                          "the model's training posts.")
    splitter = StratifiedKFold(min(folds, smallest), shuffle=True, random_state=seed)
    return [rows[part] for _, part in splitter.split(rows, labels)]


def _refit(bundle: ModelBundle, train: pd.DataFrame, seed: int) -> ModelBundle:
    """A copy of the model (same pipeline and settings) fitted on ``train``."""
    pipeline = clone(bundle.pipeline)
    pipeline.fit(train[["text"]], train["label"].to_numpy(int))
    return ModelBundle(pipeline=pipeline, threshold=bundle.threshold, metrics={},
                       card={"refit_seed": seed})


def coded_sample_prevalence(
    bundle: ModelBundle, corpus_texts: Sequence[object], predicted_all: ArrayLike,
    coded_texts: Sequence[object], coded_labels: ArrayLike, *,
    train_texts: Sequence[object] | None = None, train_labels: ArrayLike | None = None,
    groups: ArrayLike | None = None, min_coded: int = DEFAULT_MIN_CODED, seed: int = 0,
) -> dict[str, Any]:
    """``assisted.corpus_prevalence`` from a coded random sample of the corpus, scored fairly.

    When the model trained on none of the coded posts, they and the corpus are scored by the
    model itself. When it trained on some, they are scored by cross-fitting, which needs the
    model's training data (``train_texts``/``train_labels``); without it those coded posts
    cannot be used and ``CorpusError`` says so. The result's ``scoring`` says which was done.
    """
    seen = trained_on(bundle, coded_texts)
    positions = match_coded_posts(corpus_texts, coded_texts)
    if not seen.any():
        corpus_scores = score_texts(bundle, corpus_texts)
        coded_scores = score_texts(bundle, coded_texts)
        scoring = "the model itself (it never trained on the coded posts)"
    elif train_texts is None or train_labels is None:
        raise CorpusError(
            f"The model was trained on {int(seen.sum())} of the coded posts, so it cannot judge "
            "them. Load its training data (the coded posts) to refit it leaving each coded "
            "post out, or code a fresh random sample the model never saw.")
    else:
        coded_scores, corpus_scores = cross_fitted_scores(
            bundle, train_texts, train_labels, coded_texts, corpus_texts, seed=seed)
        scoring = (f"cross-fitting: {int(seen.sum())} coded posts the model trained on were "
                   "scored by refitted copies that never saw them")
    found = positions >= 0
    coded = CodedPosts(labels=np.asarray(coded_labels, dtype=int), proba=coded_scores,
                       index=positions if found.all() else None,
                       unmatched=int((~found).sum()))
    result = corpus_prevalence(bundle, corpus_scores, predicted_all, coded=coded,
                               groups=groups if found.all() else None, min_coded=min_coded,
                               seed=seed)
    result["scoring"] = scoring
    return result

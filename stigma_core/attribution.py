"""What a stigmatising post attributes to the person: responsibility, danger, distance…

Attribution theory (Corrigan's attribution model, as coded in the MHStigmaInterview corpus of
Meng et al., ACL 2025) sorts stigmatising statements by what they attribute to a person with
a mental illness: **responsibility** (it is their own fault), **fear/dangerousness**, **social
distance** (keep away), **anger**, **coercion segregation** (force treatment, lock away),
withholding **helping**, and **pity**. This module learns that type from coded stigmatising
posts: a multi-class logistic regression over TF-IDF of the preprocessed text (the paper's
preprocessing, ``stigma_core.text``), word unigrams and bigrams, classes weighted by their
rarity; optionally with a one-hot "question topic" input where the posts answer questions.

Honest scoring (``cross_validate``): out-of-fold predictions from folds grouped by author
(one participant's answers never sit on both sides), per-class precision, recall and F1, and
macro-F1 and accuracy, each with a 95% CI from a bootstrap over authors (the clusters). In
the interview corpus the attribution type follows the question asked in about 90% of the
stigmatising answers, so a score with the question as an input mostly measures the question:
``compare_inputs`` reports text alone, text with the question, and the question alone (each
question mapped to its most common type in the training folds) side by side.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

from stigma_core.errors import CorpusError, ModelError
from stigma_core.text import TextPreprocessor

ATTRIBUTION_TYPES: tuple[str, ...] = (
    "responsibility", "fear/dangerousness", "social distance", "anger",
    "coercion segregation", "helping", "pity",
)
NOT_STIGMA = frozenset({"", "none", "no", "na", "n/a", "not stigmatising", "not stigma", "0"})
TYPE_COLUMNS = ("attribution", "group_attribution")
"""Where a loaded corpus keeps the type: its own ``attribution`` column, or one mapped as a
group column (``group_`` prefix) on the Data page."""
DEFAULT_C = 10.0
MIN_PER_CLASS = 3
"""Types with fewer coded posts than this are left out of training (named in the notes)."""


def type_column(df: pd.DataFrame) -> str | None:
    """The column holding attribution types in ``df`` (see ``TYPE_COLUMNS``), or None."""
    return next((c for c in TYPE_COLUMNS if c in df.columns), None)


def attribution_pipeline(topic_col: str | None = None, seed: int = 0,
                         C: float = DEFAULT_C) -> Pipeline:
    """The unfitted classifier: a frame with ``text`` (and ``topic_col``) in, types out."""
    branches: list[tuple[str, Any, Any]] = [(
        "words",
        Pipeline([("prep", TextPreprocessor()),
                  ("vec", TfidfVectorizer(token_pattern=r"\S+", ngram_range=(1, 2),
                                          sublinear_tf=True, min_df=1))]),
        "text")]
    if topic_col is not None:
        branches.append(("topic", OneHotEncoder(handle_unknown="ignore"), [topic_col]))
    return Pipeline([
        ("features", ColumnTransformer(branches)),
        ("model", LogisticRegression(C=C, class_weight="balanced", max_iter=3000,
                                     random_state=seed)),
    ])


def coded_types(df: pd.DataFrame, type_col: str | None = None,
                label_col: str | None = "label") -> pd.DataFrame:
    """The stigmatising posts with a type: ``text``, ``attribution`` (lower-cased, trimmed)
    and every other column of ``df``. Posts coded not stigmatising (``label_col`` 0, or a
    type such as "none") and posts without a type are left out."""
    type_col = type_col or type_column(df)
    if type_col is None or type_col not in df.columns:
        raise CorpusError("The posts have no attribution column (the type of stigma: "
                          f"{', '.join(ATTRIBUTION_TYPES)}). Map one when loading the data.")
    if "text" not in df.columns:
        raise CorpusError("The posts have no 'text' column.")
    types = df[type_col].astype("string").str.strip().str.lower()
    keep = types.notna() & ~types.isin(NOT_STIGMA) & df["text"].notna()
    if label_col is not None and label_col in df.columns:
        keep &= pd.to_numeric(df[label_col], errors="coerce").eq(1)
    out = df[keep].copy()
    out["attribution"] = types[keep].to_numpy()
    return out.reset_index(drop=True)


@dataclass
class AttributionModel:
    """A fitted attribution classifier, the types it knows, and what it was trained on."""

    pipeline: Pipeline
    classes: list[str]
    n_train: int
    topic_col: str | None = None
    notes: list[str] = field(default_factory=list)

    def predict(self, df: pd.DataFrame) -> pd.DataFrame:
        """``attribution`` (most likely type) and ``attribution_probability`` per post of a
        frame with ``text`` (and the topic column when the model uses one)."""
        frame = _inputs(df, self.topic_col)
        proba = self.pipeline.predict_proba(frame)
        best = proba.argmax(axis=1)
        classes = np.asarray(self.pipeline.classes_, dtype=object)
        return pd.DataFrame({"attribution": classes[best],
                             "attribution_probability": proba[np.arange(len(best)), best]},
                            index=df.index)


def _inputs(df: pd.DataFrame, topic_col: str | None) -> pd.DataFrame:
    """The model's input frame: ``text`` as strings, and the topic column when used."""
    frame = pd.DataFrame({"text": df["text"].astype(str).to_numpy()})
    if topic_col is not None:
        if topic_col not in df.columns:
            raise CorpusError(f"The attribution model needs the column {topic_col!r} "
                              "(the question each post answers).")
        frame[topic_col] = df[topic_col].astype(str).to_numpy()
    return frame


def _usable(coded: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Coded posts of types with at least ``MIN_PER_CLASS`` posts, and notes on the rest."""
    counts = coded["attribution"].value_counts()
    rare = counts[counts < MIN_PER_CLASS]
    notes = []
    if len(rare):
        notes.append("Left out, too few coded posts to learn from: " + ", ".join(
            f"{name} ({n})" for name, n in rare.items()) + ".")
    kept = coded[~coded["attribution"].isin(rare.index)].reset_index(drop=True)
    if kept["attribution"].nunique() < 2:
        raise ModelError("An attribution model needs at least two types with "
                         f"{MIN_PER_CLASS} or more coded stigmatising posts each.")
    return kept, notes


def train(df: pd.DataFrame, type_col: str | None = None, *, label_col: str | None = "label",
          topic_col: str | None = None, seed: int = 0) -> AttributionModel:
    """Fit the attribution classifier on the stigmatising posts of ``df`` with a type."""
    coded, notes = _usable(coded_types(df, type_col, label_col))
    pipeline = attribution_pipeline(topic_col, seed)
    pipeline.fit(_inputs(coded, topic_col), coded["attribution"].to_numpy())
    return AttributionModel(pipeline, [str(c) for c in pipeline.classes_], len(coded),
                            topic_col, notes)


# --- honest scores ----------------------------------------------------------------------------


@dataclass
class AttributionScores:
    """Cross-validated scores of one input set.

    ``per_class``: ``type, n, precision, recall, f1, f1_ci_low, f1_ci_high``; ``summary``:
    ``macro_f1`` and ``accuracy`` as ``(value, ci_low, ci_high)``; ``predicted``: the
    out-of-fold type of each coded post; ``n_groups``: authors (bootstrap clusters).
    """

    inputs: str
    per_class: pd.DataFrame
    summary: dict[str, tuple[float, float, float]]
    predicted: np.ndarray
    truth: np.ndarray
    n_groups: int
    folds: int
    n_boot: int


def _folds(coded: pd.DataFrame, group_col: str | None, folds: int, seed: int) -> list:
    """Stratified folds, grouped by ``group_col`` (an author) when given."""
    y = coded["attribution"].to_numpy()
    if group_col is not None:
        if group_col not in coded.columns:
            raise CorpusError(f"No column {group_col!r} to group the folds by.")
        splitter = StratifiedGroupKFold(folds, shuffle=True, random_state=seed)
        return list(splitter.split(coded, y, coded[group_col].astype(str).to_numpy()))
    return list(StratifiedKFold(folds, shuffle=True, random_state=seed).split(coded, y))


def _topic_alone(train_rows: pd.DataFrame, test_rows: pd.DataFrame, topic_col: str
                 ) -> np.ndarray:
    """Each test post's question mapped to the type most common for it in the training rows
    (the overall most common type for a question not seen there)."""
    table = train_rows.groupby(topic_col)["attribution"].agg(lambda s: s.value_counts().index[0])
    fallback = train_rows["attribution"].value_counts().index[0]
    return test_rows[topic_col].map(table).fillna(fallback).to_numpy(dtype=object)


def cross_validate(df: pd.DataFrame, type_col: str | None = None, *,
                   label_col: str | None = "label", group_col: str | None = None,
                   topic_col: str | None = None, inputs: str = "text", folds: int = 5,
                   seed: int = 0, n_boot: int = 1000) -> AttributionScores:
    """Out-of-fold per-class F1 (with bootstrap CIs over authors) for one input set:
    ``"text"``, ``"text+topic"`` or ``"topic"`` (the question alone, no text)."""
    if inputs not in ("text", "text+topic", "topic"):
        raise ModelError("inputs must be 'text', 'text+topic' or 'topic'.")
    if inputs != "text" and topic_col is None:
        raise ModelError(f"Scoring with inputs {inputs!r} needs the topic column.")
    coded, _ = _usable(coded_types(df, type_col, label_col))
    fewest = int(coded["attribution"].value_counts().min())
    if fewest < folds:
        raise ModelError(f"The rarest attribution type has {fewest} coded posts: "
                         f"{folds}-fold cross-validation needs at least {folds} of each.")
    predicted = np.empty(len(coded), dtype=object)
    for train_idx, test_idx in _folds(coded, group_col, folds, seed):
        train_rows, test_rows = coded.iloc[train_idx], coded.iloc[test_idx]
        if inputs == "topic":
            predicted[test_idx] = _topic_alone(train_rows, test_rows, topic_col)
            continue
        topic = topic_col if inputs == "text+topic" else None
        model = attribution_pipeline(topic, seed).fit(
            _inputs(train_rows, topic), train_rows["attribution"].to_numpy())
        predicted[test_idx] = model.predict(_inputs(test_rows, topic))
    truth = coded["attribution"].to_numpy(dtype=object)
    groups = (coded[group_col].astype(str).to_numpy() if group_col is not None
              else np.arange(len(coded)).astype(str))
    per_class, summary = score_with_cis(truth, predicted, groups, n_boot=n_boot, seed=seed)
    return AttributionScores(inputs, per_class, summary, predicted, truth,
                             int(pd.Series(groups).nunique()), folds, n_boot)


def score_with_cis(truth: Sequence[object], predicted: Sequence[object],
                   groups: Sequence[object], *, n_boot: int = 1000, seed: int = 0,
                   alpha: float = 0.05) -> tuple[pd.DataFrame, dict[str, tuple]]:
    """Per-class precision, recall and F1, macro-F1 and accuracy, with percentile CIs from a
    bootstrap over ``groups`` (whole authors resampled, so their posts move together)."""
    truth = np.asarray(truth, dtype=object)
    predicted = np.asarray(predicted, dtype=object)
    classes = sorted(set(truth.tolist()))
    index = {c: i for i, c in enumerate(classes)}
    k = len(classes)
    t = np.array([index[c] for c in truth])
    p = np.array([index.get(c, -1) for c in predicted])
    group_codes, _ = pd.factorize(pd.Series(list(groups), dtype=object))
    n_groups = int(group_codes.max()) + 1

    def scores(weights: np.ndarray) -> np.ndarray:
        """[precision, recall, f1] per class, then macro-F1 and accuracy, for row weights."""
        hit = (t == p).astype(float) * weights
        tp = np.bincount(t, weights=hit, minlength=k)
        true_n = np.bincount(t, weights=weights, minlength=k)
        known = p >= 0
        pred_n = np.bincount(p[known], weights=weights[known], minlength=k)
        with np.errstate(invalid="ignore", divide="ignore"):
            precision = np.where(pred_n > 0, tp / pred_n, 0.0)
            recall = np.where(true_n > 0, tp / true_n, np.nan)
            f1 = np.where(precision + recall > 0,
                          2 * precision * recall / (precision + recall), 0.0)
            f1 = np.where(true_n > 0, f1, np.nan)
        accuracy = hit.sum() / weights.sum()
        return np.concatenate([precision, recall, f1, [np.nanmean(f1), accuracy]])

    point = scores(np.ones(len(t)))
    rng = np.random.default_rng(seed)
    draws = np.empty((n_boot, point.size))
    for b in range(n_boot):
        picks = np.bincount(rng.integers(0, n_groups, n_groups), minlength=n_groups)
        draws[b] = scores(picks[group_codes].astype(float))
    with np.errstate(all="ignore"):
        low = np.nanquantile(draws, alpha / 2, axis=0)
        high = np.nanquantile(draws, 1 - alpha / 2, axis=0)
    per_class = pd.DataFrame({
        "type": classes, "n": np.bincount(t, minlength=k),
        "precision": point[:k], "recall": point[k:2 * k], "f1": point[2 * k:3 * k],
        "f1_ci_low": low[2 * k:3 * k], "f1_ci_high": high[2 * k:3 * k],
    }).sort_values("n", ascending=False, kind="stable").reset_index(drop=True)
    summary = {"macro_f1": (point[-2], low[-2], high[-2]),
               "accuracy": (point[-1], low[-1], high[-1])}
    return per_class, summary


def topic_agreement(df: pd.DataFrame, topic_col: str, type_col: str | None = None,
                    label_col: str | None = "label") -> float:
    """Share of coded stigmatising posts whose type is the one most common for their
    question: how far the question alone gives the type away."""
    coded = coded_types(df, type_col, label_col)
    usual = coded.groupby(topic_col)["attribution"].agg(lambda s: s.value_counts().index[0])
    return float((coded[topic_col].map(usual) == coded["attribution"]).mean())


def compare_inputs(df: pd.DataFrame, type_col: str | None = None, *, topic_col: str,
                   label_col: str | None = "label", group_col: str | None = None,
                   folds: int = 5, seed: int = 0, n_boot: int = 1000
                   ) -> dict[str, AttributionScores]:
    """Scores for the text alone, the text with the question, and the question alone."""
    return {inputs: cross_validate(df, type_col, label_col=label_col, group_col=group_col,
                                   topic_col=topic_col, inputs=inputs, folds=folds, seed=seed,
                                   n_boot=n_boot)
            for inputs in ("text", "text+topic", "topic")}

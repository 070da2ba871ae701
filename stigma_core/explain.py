"""Why a model calls a post stigmatising: per-post word weights and a model's strongest terms.

Two methods, both read off the fitted model itself, never made up:

- **Coefficients** (linear models). When the model's log-odds of "stigmatising" is exactly a
  linear function of its feature columns — logistic regression, a linear SVM (or any linear
  estimator) behind Platt (sigmoid) calibration fitted once (``ensemble=False``), and either
  of those behind ``stigma_core.calibration.CalibratedModel``'s Platt scaling — each
  feature's contribution to a post is ``weight × value`` in log-odds, with
  ``weight = coefficient × calibration slope``. The contributions plus the intercept add up to
  the model's own log-odds for the post. Feature columns are mapped back to the words of the
  post through the fitted pipeline: every TF-IDF / count vectorizer found in it (with the
  steps before it, such as ``TextPreprocessor``) is run on each word of the post alone, so a
  word owns the columns it produces (its lemma, its character n-grams). A column several words
  produce (a repeated word) is split evenly between them; a word n-gram goes to the words
  producing its parts; columns no single word produces (character n-grams across a space,
  the engineered features, embedding dimensions) stay post-level: listed, not marked.
- **Occlusion** (every other model: forests, kernels, nearest neighbours, embeddings,
  ensembles, isotonic calibration). Each distinct word of the post is removed (all its
  occurrences) and the post scored again with the model's own ``predict_proba``; the word's
  weight is how much the probability of "stigmatising" drops without it (in probability
  points, split evenly between its occurrences). Every variant of a post is scored in one
  batch.

A model's strongest terms each way come from its coefficients (linear) or, otherwise, from
occlusion averaged over posts supplied by the caller (a word must occur in ``min_posts`` of
them to be ranked).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.special import logit

from stigma_core.errors import ModelError

WORD_RE = re.compile(r"\S+")
COEFFICIENTS = "coefficients"
OCCLUSION = "occlusion"
UNITS = {COEFFICIENTS: "log-odds", OCCLUSION: "probability points"}
MAX_WORDS = 400
"""Occlusion scores at most this many distinct words of a post (later ones get no weight)."""
_EDGE_PUNCT = re.compile(r"^[^\w@#]+|[^\w]+$")


@dataclass
class _TextBlock:
    """A vectorizer inside the fitted feature steps: its feature-name prefix, the fitted
    transformers its input passes through first, and the vectorizer itself."""

    prefix: str
    before: list[Any]
    vectorizer: Any


@dataclass
class _LinearView:
    """The model as ``log-odds = head(frame) @ weights + intercept``."""

    head: Any
    weights: np.ndarray
    intercept: float
    names: np.ndarray
    blocks: list[_TextBlock]
    index: dict[str, int] = field(default_factory=dict)


@dataclass
class PostExplanation:
    """One post's explanation.

    ``words``: one row per word occurrence in the post (``start``, ``end`` character offsets
    into ``text``, ``word``, ``weight``; positive pushes toward stigmatising; NaN where not
    assessed). ``features``: for coefficients, one row per non-zero feature column
    (``feature``, ``kind``, ``value``, ``coefficient``, ``weight``, ``words`` that produce
    it); for occlusion, one row per distinct word removed (``feature``, ``kind`` "word",
    ``weight``, ``probability_without``). ``baseline``: the intercept (log-odds) or the
    post's own probability (occlusion). ``unit``: "log-odds" or "probability points".
    """

    text: str
    probability: float
    method: str
    unit: str
    baseline: float
    words: pd.DataFrame
    features: pd.DataFrame

    def top_words(self, n: int = 5, toward: bool = True) -> pd.DataFrame:
        """The ``n`` words pushing hardest toward (``toward``) or away from stigmatising,
        one row per distinct word with its summed weight."""
        per_word = (self.words.dropna(subset=["weight"])
                    .assign(key=lambda f: f["word"].map(word_key))
                    .groupby("key", sort=False)["weight"].sum())
        per_word = per_word[per_word > 0] if toward else -per_word[per_word < 0]
        top = per_word.sort_values(ascending=False, kind="stable").head(n)
        return pd.DataFrame({"word": top.index, "weight": top.to_numpy() * (1 if toward else -1)})

    def segments(self) -> list[tuple[str, float | None]]:
        """The post cut into pieces ``(text, weight)``, weight None between words, so a view
        can mark each word by its weight and rebuild the post exactly."""
        out: list[tuple[str, float | None]] = []
        at = 0
        for row in self.words.itertuples(index=False):
            if row.start > at:
                out.append((self.text[at:row.start], None))
            weight = None if pd.isna(row.weight) else float(row.weight)
            out.append((self.text[row.start:row.end], weight))
            at = row.end
        if at < len(self.text):
            out.append((self.text[at:], None))
        return out


def word_key(word: str) -> str:
    """A word as ranked across posts: lower case, without leading/trailing punctuation
    (``"Dangerous!"`` and ``dangerous`` are one word; ``#mh`` and ``@user`` keep their sign)."""
    return _EDGE_PUNCT.sub("", str(word).lower()) or str(word).lower()


class Explainer:
    """Explains one fitted model (a pipeline taking a frame with a ``text`` column).

    ``method`` is ``"coefficients"`` when the model is linear in features that the fitted
    pipeline maps back to words (see the module docstring), else ``"occlusion"``; pass
    ``method="occlusion"`` to force occlusion on any model.
    """

    def __init__(self, model: Any, method: str = "auto") -> None:
        if not hasattr(model, "predict_proba"):
            raise ModelError("This model gives no probabilities, so it cannot be explained.")
        if method not in ("auto", COEFFICIENTS, OCCLUSION):
            raise ModelError(f"Unknown explanation method {method!r}: use 'auto', "
                             "'coefficients' or 'occlusion'.")
        self.model = model
        self.linear = None if method == OCCLUSION else linear_view(model)
        if method == COEFFICIENTS and self.linear is None:
            raise ModelError("This model is not linear in word features, so it has no "
                             "coefficients to read: use occlusion.")
        self.method = COEFFICIENTS if self.linear is not None else OCCLUSION
        self._word_columns: dict[str, list[int]] = {}

    # --- one post / many posts ---------------------------------------------------------

    def post(self, text: str) -> PostExplanation:
        """The explanation of one post."""
        return self.posts([text])[0]

    def posts(self, texts: Sequence[str]) -> list[PostExplanation]:
        """Explanations of many posts (the linear method transforms them in one batch)."""
        texts = ["" if t is None or (isinstance(t, float) and np.isnan(t)) else str(t)
                 for t in texts]
        if not texts:
            return []
        if self.linear is not None:
            return self._linear_posts(texts)
        return [self._occlusion_post(text) for text in texts]

    def _proba(self, texts: list[str]) -> np.ndarray:
        """The model's probability of "stigmatising" for each text."""
        return np.asarray(self.model.predict_proba(pd.DataFrame({"text": texts}))[:, 1],
                          dtype=float)

    # --- coefficients ----------------------------------------------------------------------

    def _linear_posts(self, texts: list[str]) -> list[PostExplanation]:
        view = self.linear
        X = sparse.csr_matrix(view.head.transform(pd.DataFrame({"text": texts})))
        proba = self._proba(texts)
        out = []
        for i, text in enumerate(texts):
            row = X.getrow(i)
            cols, values = row.indices, row.data
            keep = values != 0
            cols, values = cols[keep], values[keep]
            out.append(self._linear_post(text, float(proba[i]), cols, values))
        return out

    def _linear_post(self, text: str, proba: float, cols: np.ndarray,
                     values: np.ndarray) -> PostExplanation:
        view = self.linear
        spans = [(m.start(), m.end(), m.group()) for m in WORD_RE.finditer(text)]
        produced = [set(self._columns_of(word)) for _, _, word in spans]
        owners: dict[int, list[int]] = {}
        for w, columns in enumerate(produced):
            for c in columns:
                owners.setdefault(c, []).append(w)
        word_weight = np.zeros(len(spans))
        rows = []
        for c, value in zip(cols.tolist(), values.tolist(), strict=True):
            weight = float(view.weights[c] * value)
            who = owners.get(c) or self._ngram_owners(c, produced)
            for w in who:
                word_weight[w] += weight / len(who)
            name, kind = self._split_name(c)
            rows.append({"feature": name, "kind": kind, "value": float(value),
                         "coefficient": float(view.weights[c]), "weight": weight,
                         "words": " ".join(dict.fromkeys(spans[w][2] for w in who))})
        features = pd.DataFrame(rows, columns=["feature", "kind", "value", "coefficient",
                                               "weight", "words"])
        features = features.reindex(features["weight"].abs().sort_values(
            ascending=False, kind="stable").index).reset_index(drop=True)
        words = pd.DataFrame({"start": [s[0] for s in spans], "end": [s[1] for s in spans],
                              "word": [s[2] for s in spans], "weight": word_weight})
        return PostExplanation(text, proba, COEFFICIENTS, UNITS[COEFFICIENTS], view.intercept,
                               words, features)

    def _columns_of(self, word: str) -> list[int]:
        """Feature columns one word produces on its own, through every vectorizer block."""
        if word in self._word_columns:
            return self._word_columns[word]
        view = self.linear
        columns = []
        for block in view.blocks:
            data: Any = pd.Series([word], name="text")
            for step in block.before:
                data = step.transform(data)
            doc = data[0] if not isinstance(data, pd.Series) else data.iloc[0]
            for term in block.vectorizer.build_analyzer()(str(doc)):
                c = view.index.get(block.prefix + term)
                if c is not None:
                    columns.append(c)
        if len(self._word_columns) < 100_000:
            self._word_columns[word] = columns
        return columns

    def _ngram_owners(self, column: int, produced: list[set[int]]) -> list[int]:
        """Words producing the parts of a word n-gram column (none for other columns)."""
        name = str(self.linear.names[column])
        for block in self.linear.blocks:
            if not name.startswith(block.prefix) or block.vectorizer.analyzer != "word":
                continue
            parts = name[len(block.prefix):].split(" ")
            if len(parts) < 2:
                return []
            part_cols = {self.linear.index.get(block.prefix + p) for p in parts} - {None}
            return [w for w, cols in enumerate(produced) if cols & part_cols]
        return []

    def _split_name(self, column: int) -> tuple[str, str]:
        """A feature column's readable name and kind (word, word n-gram, characters,
        engineered or other)."""
        name = str(self.linear.names[column])
        for block in self.linear.blocks:
            if name.startswith(block.prefix) and name[len(block.prefix):] and (
                    block.prefix + name[len(block.prefix):]) in self.linear.index:
                term = name[len(block.prefix):]
                analyzer = block.vectorizer.analyzer
                if analyzer in ("char", "char_wb"):
                    return term, "characters"
                return term, "word n-gram" if " " in term else "word"
        short = name.split("__")[-1]
        from stigma_core.features import FEATURE_NAMES

        return short, "engineered" if short in FEATURE_NAMES else "other"

    # --- occlusion -------------------------------------------------------------------------

    def _occlusion_post(self, text: str) -> PostExplanation:
        spans = [(m.start(), m.end(), m.group()) for m in WORD_RE.finditer(text)]
        groups: dict[str, list[int]] = {}
        for i, (_, _, word) in enumerate(spans):
            groups.setdefault(word, []).append(i)
        distinct = list(groups)[:MAX_WORDS]
        variants = [_without(text, [spans[i][:2] for i in groups[word]]) for word in distinct]
        proba = self._proba([text, *variants])
        full, without = float(proba[0]), proba[1:]
        weights = np.full(len(spans), np.nan)
        for word, p in zip(distinct, without, strict=True):
            weights[groups[word]] = (full - float(p)) / len(groups[word])
        words = pd.DataFrame({"start": [s[0] for s in spans], "end": [s[1] for s in spans],
                              "word": [s[2] for s in spans], "weight": weights})
        features = pd.DataFrame({
            "feature": distinct, "kind": "word",
            "weight": [full - float(p) for p in without],
            "probability_without": without.astype(float),
        })
        features = features.reindex(features["weight"].abs().sort_values(
            ascending=False, kind="stable").index).reset_index(drop=True)
        return PostExplanation(text, full, OCCLUSION, UNITS[OCCLUSION], full, words, features)

    # --- the model's strongest terms -------------------------------------------------------

    def terms(self, top: int = 15, texts: Sequence[str] | None = None, min_posts: int = 3,
              include_features: bool = False) -> pd.DataFrame:
        """The model's ``top`` strongest terms toward and away from stigmatising.

        Columns ``direction`` ("toward" / "away"), ``term``, ``kind``, ``weight`` (coefficient
        in log-odds per unit of the feature for linear models; mean probability drop when the
        word is removed, for occlusion), ``n_posts`` (posts with the word; occlusion only).
        Linear models rank their word columns (``include_features`` adds engineered and other
        columns, whose units differ); other models need ``texts`` to average occlusion over.
        """
        if top < 1:
            raise ModelError("Ask for at least one term each way.")
        if self.linear is not None:
            table = self._linear_terms(include_features)
        else:
            if texts is None or len(texts) == 0:
                raise ModelError("This model has no coefficients: give some posts to measure "
                                 "its strongest words on (by removing each word in turn).")
            table = self._occlusion_terms(texts, min_posts)
        return _each_way(table, top)

    def _linear_terms(self, include_features: bool) -> pd.DataFrame:
        names = [self._split_name(c) for c in range(len(self.linear.names))]
        table = pd.DataFrame({"term": [n for n, _ in names], "kind": [k for _, k in names],
                              "weight": self.linear.weights.astype(float)})
        if not include_features:
            table = table[table["kind"].isin(["word", "word n-gram", "characters"])]
        return table.assign(n_posts=np.nan)

    def _occlusion_terms(self, texts: Sequence[str], min_posts: int) -> pd.DataFrame:
        sums: dict[str, float] = {}
        counts: dict[str, int] = {}
        for explanation in self.posts(texts):
            per_post = (explanation.features.assign(key=lambda f: f["feature"].map(word_key))
                        .groupby("key")["weight"].sum())
            for key, weight in per_post.items():
                sums[key] = sums.get(key, 0.0) + float(weight)
                counts[key] = counts.get(key, 0) + 1
        keys = [k for k in sums if counts[k] >= min_posts]
        return pd.DataFrame({"term": keys, "kind": "word",
                             "weight": [sums[k] / counts[k] for k in keys],
                             "n_posts": [counts[k] for k in keys]})


def _each_way(table: pd.DataFrame, top: int) -> pd.DataFrame:
    """The ``top`` most positive and most negative rows of a (term, kind, weight) table."""
    toward = table[table["weight"] > 0].sort_values("weight", ascending=False, kind="stable")
    away = table[table["weight"] < 0].sort_values("weight", ascending=True, kind="stable")
    parts = [toward.head(top).assign(direction="toward"), away.head(top).assign(direction="away")]
    out = pd.concat(parts, ignore_index=True)
    return out[["direction", "term", "kind", "weight", "n_posts"]]


def _without(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` with the character spans removed (and the space after each)."""
    pieces, at = [], 0
    for start, end in sorted(spans):
        pieces.append(text[at:start])
        at = end
        while at < len(text) and text[at] == " ":
            at += 1
    pieces.append(text[at:])
    return "".join(pieces)


# --- reading a linear model out of a fitted pipeline ------------------------------------------


def linear_view(model: Any) -> _LinearView | None:
    """The model as features @ weights + intercept in log-odds, or None when it is not.

    Unwraps pipelines (the last step is the estimator, the steps before it the features) and
    calibration fitted once with the sigmoid method; reads ``coef_`` / ``intercept_`` of a
    binary linear estimator. Returns None (use occlusion) for anything else, or when the
    feature steps contain no vectorizer whose columns can be named.
    """
    try:
        found = _affine(model)
        if found is None:
            return None
        head, weights, intercept = found
        if head is None:
            return None
        names = np.asarray(head.get_feature_names_out(), dtype=object)
        if names.size != weights.size:
            return None
        blocks = _blocks(head, "", [])
        if not blocks:
            return None
    except (AttributeError, TypeError, ValueError, NotImplementedError):
        return None
    view = _LinearView(head, weights, intercept, names, blocks)
    view.index = {str(n): i for i, n in enumerate(names)}
    return view


LOGISTIC_ESTIMATORS = frozenset({"LogisticRegression", "LogisticRegressionCV"})
"""Linear estimators whose own ``predict_proba`` is the logistic of their decision function
(any linear estimator qualifies behind sigmoid calibration)."""


def _affine(model: Any, calibrated: bool = False) -> tuple[Any, np.ndarray, float] | None:
    """(feature head or None, weights, intercept) with log-odds = head(X) @ w + b (the
    decision function instead of log-odds when ``calibrated``: the caller rescales it)."""
    from sklearn.pipeline import Pipeline

    if isinstance(model, Pipeline):
        inner = _affine(model.steps[-1][1], calibrated)
        if inner is None:
            return None
        head, weights, intercept = inner
        front = model[:-1] if len(model.steps) > 1 else None
        if head is not None and front is not None:
            from sklearn.pipeline import make_pipeline

            head = make_pipeline(front, head)
        return (head if head is not None else front), weights, intercept
    platt = getattr(model, "calibrator_", None)
    if platt is not None and hasattr(model, "estimator_"):
        # stigma_core.calibration.CalibratedModel: q = expit(slope * logit(p) + intercept),
        # linear in log-odds when the inner p is itself a logistic of a linear score
        if getattr(platt, "method", None) != "sigmoid":
            return None
        inner = _affine(model.estimator_, calibrated=False)
        if inner is None:
            return None
        head, weights, intercept = inner
        slope = float(platt.slope_)
        return head, weights * slope, intercept * slope + float(platt.intercept_)
    fitted = getattr(model, "calibrated_classifiers_", None)
    if fitted is not None:
        if len(fitted) != 1 or len(fitted[0].calibrators) != 1:
            return None
        calibrator = fitted[0].calibrators[0]
        if type(calibrator).__name__ != "_SigmoidCalibration":
            return None
        inner = _affine(fitted[0].estimator, calibrated=True)
        if inner is None:
            return None
        head, weights, intercept = inner
        slope = -float(calibrator.a_)
        return head, weights * slope, intercept * slope - float(calibrator.b_)
    coef = getattr(model, "coef_", None)
    if coef is None or len(getattr(model, "classes_", ())) != 2:
        return None
    if sparse.issparse(coef):
        coef = coef.toarray()
    coef = np.asarray(coef, dtype=float)
    if coef.ndim != 2 or coef.shape[0] != 1:
        return None
    if getattr(model, "kernel", "linear") != "linear":
        return None
    if not calibrated and type(model).__name__ not in LOGISTIC_ESTIMATORS:
        return None
    intercept = float(np.ravel(getattr(model, "intercept_", [0.0]))[0])
    return None, coef[0], intercept


def _blocks(step: Any, prefix: str, before: list[Any]) -> list[_TextBlock]:
    """Every vectorizer inside fitted feature steps, with its name prefix and the steps
    before it (follows pipelines, column transformers and feature unions)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import FeatureUnion, Pipeline

    if hasattr(step, "vocabulary_") and hasattr(step, "build_analyzer"):
        return [_TextBlock(prefix, list(before), step)]
    if isinstance(step, Pipeline):
        found, seen = [], list(before)
        for _, sub in step.steps:
            if sub in (None, "passthrough"):
                continue
            found += _blocks(sub, prefix, seen)
            seen = [*seen, sub]
        return found
    if isinstance(step, ColumnTransformer):
        verbose = getattr(step, "verbose_feature_names_out", True)
        found = []
        for name, sub, _ in step.transformers_:
            if sub in ("drop", "passthrough"):
                continue
            found += _blocks(sub, prefix + (f"{name}__" if verbose else ""), list(before))
        return found
    if isinstance(step, FeatureUnion):
        verbose = getattr(step, "verbose_feature_names_out", True)
        found = []
        for name, sub in step.transformer_list:
            if sub in ("drop", "passthrough"):
                continue
            found += _blocks(sub, prefix + (f"{name}__" if verbose else ""), list(before))
        return found
    return []


def explain_post(model: Any, text: str, method: str = "auto") -> PostExplanation:
    """Why ``model`` scores ``text`` as it does (see :class:`Explainer`)."""
    return Explainer(model, method).post(text)


def model_terms(model: Any, top: int = 15, texts: Sequence[str] | None = None,
                min_posts: int = 3) -> pd.DataFrame:
    """The model's strongest terms each way (see :meth:`Explainer.terms`)."""
    return Explainer(model).terms(top, texts, min_posts)


def log_odds(probability: float) -> float:
    """The log-odds of a probability (for checking that contributions add up)."""
    return float(logit(np.clip(probability, 1e-15, 1 - 1e-15)))

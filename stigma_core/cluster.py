"""Scoring on a Dask cluster, when one machine is not enough.

``python -m stigma_core score|prevalence --engine dask [--scheduler tcp://HOST:8786]`` scores
on the workers of an existing Dask cluster, or, with no scheduler, on a ``LocalCluster`` of
worker processes started here (one per core, one thread each, bounded memory). The fitted
pipeline travels to every worker once (``Client.scatter(..., broadcast=True)``) and each
worker is warmed up as the local worker processes are (libraries imported, compiled code and
the sentiment lexicon loaded: ``parallel.warm_worker``); then chunks of distinct posts go out
as tasks and their probabilities come back in order. Chunks and code are the same as in one
process, so the probabilities are identical.

``score_dask_frame`` does the same for a ``dask.dataframe`` the caller already has (e.g.
``dd.read_parquet("s3://bucket/posts/")``): one task per partition, the model scattered once.

Workers need this package installed (``pip install -e .`` of this repository, or the same
wheel) and, for ``dd.read_*`` paths, access to the files.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from stigma_core.errors import ModelError
from stigma_core.parallel import warm_worker, worker_count
from stigma_core.scale import PREDICTED, PROBABILITY, _positive_column, score_chunk, score_texts

if TYPE_CHECKING:  # workers import this module: persist pulls in much they never use
    from stigma_core.persist import ModelBundle

LOG_LENGTH = 10
"""Messages and transitions Dask keeps for its developers (``distributed.admin.low-level-
log-length``, 1,000 by default), in the client and in a local scheduler. Each message that
sends a task holds the task's chunk of posts, so with the default the scoring process kept up
to a thousand chunks per worker: hundreds of MiB, growing with the corpus (bench/scale.py's
Dask rows, 1M to 5M posts); a probe sending 1,200 chunks grew from 360 to 1,980 MiB, with 10
it stayed at 170."""
MAX_LOCAL_WORKERS = 8
LOCAL_MEMORY_LIMIT = "2GiB"
"""Per worker of a LocalCluster: a worker over it is paused, then restarted, by Dask."""


@contextmanager
def dask_client(
    scheduler: str | None = None, n_workers: int | None = None, *, timeout: str = "30s"
) -> Iterator[Any]:
    """A ``distributed.Client`` for the cluster at ``scheduler`` (e.g. ``tcp://host:8786``,
    given up after ``timeout``), or for a ``LocalCluster`` of ``n_workers`` processes
    (default: every core, at most ``MAX_LOCAL_WORKERS``) started for the duration of the
    block; either way keeping ``LOG_LENGTH`` messages, not the posts of a thousand tasks."""
    try:
        import dask
        from distributed import Client, LocalCluster
    except ImportError as err:  # pragma: no cover - depends on the installation
        raise ModelError(
            "The Dask engine needs dask and distributed: pip install 'dask[distributed]'."
        ) from err
    with dask.config.set({"distributed.admin.low-level-log-length": LOG_LENGTH}):
        if scheduler:
            try:
                client = Client(scheduler, timeout=timeout)
            except OSError as err:
                raise ModelError(
                    f"Cannot reach the Dask scheduler at {scheduler} ({err}). Start one with "
                    "`dask scheduler` and workers with `dask worker SCHEDULER_ADDRESS`, or "
                    "leave out --scheduler to use a local cluster."
                ) from err
            with client:
                yield client
            return
        workers = min(worker_count(n_workers), MAX_LOCAL_WORKERS)
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                          memory_limit=LOCAL_MEMORY_LIMIT, dashboard_address=None,
                          silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
            yield client


def _score_on_worker(pipeline: Any, texts: list[str], column: int) -> np.ndarray:
    """One chunk's probabilities, on a worker holding the scattered pipeline."""
    return score_chunk(pipeline, texts, column)


class _DaskJob:
    """Chunks of one batch of distinct posts submitted to the cluster, not yet collected."""

    def __init__(self, futures: list[Any]) -> None:
        self.futures = futures

    def done(self) -> bool:
        """Whether every chunk is scored (collecting will not wait)."""
        return all(future.done() for future in self.futures)

    def collect(self, report: Callable[[int], None] | None = None) -> np.ndarray:
        """The probabilities, in the posts' order, once every chunk is scored."""
        parts = [np.asarray(future.result()) for future in self.futures]
        if report:
            report(sum(map(len, parts)))
        return np.concatenate(parts) if parts else np.zeros(0)


def warm_cluster(client: Any) -> int:
    """Warm up every worker of ``client`` now (``parallel.warm_worker``, as the local pool's
    ``warm_up`` does), one ordinary task pinned to each worker, so the worker's task thread
    does it and not its event loop. Returns how many workers answered. Without it each
    worker paid for imports, compiled code and the lexicon in its first chunks."""
    workers = list(client.scheduler_info().get("workers", {}))
    futures = [client.submit(warm_worker, False, workers=[address], allow_other_workers=False,
                             pure=False) for address in workers]
    return len(client.gather(futures))


class DaskScorer:
    """A fitted pipeline scattered to every worker of ``client`` once, the workers warmed
    up (``warm_cluster``; ``warm=False`` skips it), and the means to score chunks of
    distinct posts there (pass it as ``cluster=`` to the ``scale`` functions)."""

    def __init__(self, client: Any, bundle: ModelBundle, window: int | None = None,
                 *, warm: bool = True) -> None:
        self.client = client
        self.bundle = bundle
        self.model = client.scatter(bundle.pipeline, broadcast=True, hash=False)
        workers = max(1, len(client.scheduler_info().get("workers", {})))
        self.window = window or 2 * workers
        self.warmed = warm_cluster(client) if warm else 0

    def submit(self, texts: list[str], column: int, chunk_size: int) -> _DaskJob:
        """Send ``texts`` to the cluster in chunks of ``chunk_size`` without waiting (a
        stream keeps a few batches in flight this way)."""
        return _DaskJob([self.client.submit(_score_on_worker, self.model,
                                            texts[start : start + chunk_size], column,
                                            pure=False)
                         for start in range(0, len(texts), chunk_size)])

    def score_chunks(
        self, chunks: Sequence[list[str]], column: int, report: Callable[[int], None]
    ) -> Iterator[np.ndarray]:
        """The probabilities of each chunk, in order, with at most ``window`` chunks in
        flight (so memory on the client stays bounded)."""
        pending: list[Any] = []
        done = 0
        submitted = 0
        for _ in range(len(chunks)):
            while submitted < len(chunks) and len(pending) < self.window:
                pending.append(self.client.submit(_score_on_worker, self.model,
                                                  chunks[submitted], column, pure=False))
                submitted += 1
            result = np.asarray(pending.pop(0).result())
            done += len(result)
            report(done)
            yield result


def _score_partition(part: pd.DataFrame, pipeline: Any, text_col: str, column: int,
                     threshold: float) -> pd.DataFrame:
    """One partition with its probabilities and predictions (rows without text: NaN and a
    missing prediction)."""
    proba = score_texts(_Local(pipeline), part[text_col], n_jobs=1)
    out = part.copy()
    out[PROBABILITY] = proba
    out[PREDICTED] = pd.array(np.where(np.isnan(proba), 0, proba >= threshold), dtype="Int64")
    out.loc[np.isnan(proba), PREDICTED] = pd.NA
    return out


class _Local:
    """The bits of a ModelBundle ``score_texts`` needs, around a bare pipeline."""

    def __init__(self, pipeline: Any) -> None:
        self.pipeline = pipeline


def score_dask_frame(bundle: ModelBundle, ddf: Any, text_col: str, client: Any) -> Any:
    """``ddf`` (a ``dask.dataframe.DataFrame``) with ``stigma_probability`` and
    ``stigma_predicted`` (nullable ``Int64``) added, lazily: one task per partition, the
    pipeline scattered to the workers once."""
    column = _positive_column(bundle)
    model = client.scatter(bundle.pipeline, broadcast=True, hash=False)
    meta = ddf._meta.assign(**{PROBABILITY: pd.Series(dtype=float),
                               PREDICTED: pd.Series(dtype="Int64")})
    return ddf.map_partitions(_score_partition, model, text_col, column, bundle.threshold,
                              meta=meta)

"""Worker processes for the library: how many, and the shared pool.

Tokenising and model fitting hold the GIL, so the library uses processes (loky, the pool
joblib uses, reused between calls) rather than threads. Each worker gets one BLAS/OpenMP/
numba thread, so the workers do not fight over the cores.
"""

from __future__ import annotations

import os
from typing import Any

from stigma_core.errors import ModelError

WORKER_IDLE_S = 120
"""Idle workers stay this long for the next call, then exit."""


def worker_count(n_jobs: int | None) -> int:
    """Processes to use: ``None`` or -1 = every core this process may run on; k > 0 = k."""
    if hasattr(os, "sched_getaffinity"):
        available = len(os.sched_getaffinity(0))
    else:  # pragma: no cover - not Linux
        available = os.cpu_count() or 1
    if n_jobs is None or n_jobs == -1:
        return max(1, available)
    if n_jobs < 1:
        raise ModelError("n_jobs must be a positive number of processes, or -1 / None for all.")
    return int(n_jobs)


WORKER_MEMORY_GROWTH = 4 * 2**30
"""loky restarts a worker whose memory grew by 300 MB, taking it for a leak; the library's
workers grow by design (imports, the model, bounded memos), so the limit is raised to this."""


def _allow_memory_growth() -> None:
    """Worker initializer: raise loky's leak limit (see ``WORKER_MEMORY_GROWTH``), so that
    warm workers are not replaced by cold ones in the middle of a job."""
    from joblib.externals.loky import process_executor

    process_executor._MAX_MEMORY_LEAK_SIZE = WORKER_MEMORY_GROWTH


def executor(workers: int) -> Any:
    """loky's reusable process pool of ``workers`` processes."""
    from joblib.externals.loky import get_reusable_executor

    threads = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                      "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")}
    return get_reusable_executor(max_workers=workers, timeout=WORKER_IDLE_S, env=threads,
                                 initializer=_allow_memory_growth)


def warm_worker(training: bool = True) -> int:
    """Worker task (a local pool's process or a Dask worker): import what scoring (and,
    with ``training``, model search) needs and load the compiled code, so the first real
    task does not pay for it; a short pause lets every worker take one. Scoring alone leaves
    out ``stigma_core.search`` (about 55 MB per worker: it pulls in the statistics and
    plotting libraries)."""
    import time

    from stigma_core.features import character_counts
    from stigma_core.sentiment import sentiment_many
    from stigma_core.text import _tokenizer, preprocess_many

    if training:
        import stigma_core.search  # noqa: F401 - the import is the point
    # one tiny call each: loads the compiled (numba) code, parses the sentiment lexicon and
    # builds the tokenizer, about half a second per process that the first real chunk would
    # otherwise pay
    sentiment_many(["warm up :)"])
    character_counts(["warm up #now"])
    preprocess_many(["warm up"])
    _tokenizer()
    time.sleep(0.2)
    return os.getpid()


def warm_up(n_jobs: int | None = None, *, training: bool = True) -> int:
    """Start the worker processes and import the libraries in them now (a few seconds),
    e.g. while a user picks a file; ``training=False`` readies them for scoring only (less
    memory). Returns how many distinct workers answered."""
    workers = worker_count(n_jobs)
    pool = executor(workers)
    return len(set(pool.map(warm_worker, [training] * workers)))

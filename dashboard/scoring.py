"""Scoring a big corpus on the Prevalence page without freezing it: in the background, in
chunks, with a progress bar, a Cancel button, and the page's last results kept meanwhile.

A corpus of up to ``BACKGROUND_ROWS`` rows is scored as before, inside the page run
(``dashboard.cached.scored_corpus``: a few seconds, cached). A bigger one is scored by a
background thread ``CHUNK_ROWS`` rows at a time (``stigma_core.scale.score_frame`` on every
core: the worker processes do the tokenising, so the thread mostly waits and the server stays
free for other sessions), while a fragment polls the job every ``POLL_S`` seconds to move the
bar. Cancel stops the job between two pieces of work; the page then keeps showing the last
corpus this session scored to the end (or nothing, with a button to start again). The scores
are the same as the in-page path's: chunks of rows are scored independently, post by post.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import cached, state

BACKGROUND_ROWS = int(os.environ.get("STIGMA_BACKGROUND_ROWS", "20000"))
"""Corpora with more rows than this are scored in the background (the variable lowers it,
e.g. to watch the background path on the sample corpus)."""
CHUNK_ROWS = int(os.environ.get("STIGMA_SCORING_CHUNK_ROWS", "50000"))
"""Rows scored per step of the background job (progress also moves within a step)."""
STEP_PAUSE_S = float(os.environ.get("STIGMA_SCORING_STEP_PAUSE_S", "0"))
"""Seconds the background job waits after each step (0: none). For watching the panel in a
demo or a browser test whatever the machine's speed: the sample corpus scores in seconds."""
POLL_S = 0.5
"""How often the progress panel looks at the job."""


class Cancelled(Exception):
    """Raised inside the job when its Cancel button was pressed."""


@dataclass
class ScoringJob:
    """One background scoring of a corpus by a model: its progress, and its result.

    Written by the job's thread, read by the page; each field is replaced whole, so a reader
    never sees half an update.
    """

    key: str
    rows: int
    fraction: float = 0.0
    message: str = "Starting…"
    status: str = "running"
    """``running``, ``done``, ``cancelled`` or ``failed``."""
    result: pd.DataFrame | None = None
    error: str | None = None
    started: float = field(default_factory=time.monotonic)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)

    def cancel(self) -> None:
        """Ask the job to stop at its next step (the page does not wait for it)."""
        self._stop.set()
        if self.status == "running":
            self.status = "cancelled"
            self.message = "Cancelled"

    @property
    def cancelled(self) -> bool:
        """Whether Cancel was pressed."""
        return self._stop.is_set()


def score_in_chunks(job: ScoringJob, bundle: Any, corpus: pd.DataFrame,
                    chunk_rows: int | None = None, n_jobs: int | None = None) -> None:
    """The job's work: ``cached.score``'s frame (scores, then sentiment and subjectivity),
    built ``chunk_rows`` rows at a time, updating ``job`` and stopping when it is cancelled.
    Runs in the job's thread; never raises (a failure is kept in ``job.error``)."""
    from stigma_core import features, scale
    from stigma_core.errors import CorpusError, ModelError

    total = len(corpus)
    chunk_rows = chunk_rows or CHUNK_ROWS
    parts = []

    def check(done: float, message: str) -> None:
        if job.cancelled:
            raise Cancelled
        job.fraction = min(max(done / total, 0.0), 1.0) if total else 1.0
        job.message = message

    try:
        for start in range(0, total, chunk_rows):
            piece = corpus.iloc[start : start + chunk_rows]
            check(start, f"Scored {start:,} of {total:,} posts")
            size = len(piece)

            def within(f: float, _message: str, s: int = start, n: int = size) -> None:
                check(s + f * n * 0.8, f"Scored {s + int(f * n):,} of {total:,} posts")

            scored = scale.score_frame(bundle, piece, n_jobs=n_jobs, progress=within)
            check(start + 0.8 * len(piece), f"Scored {start + len(piece):,} of {total:,} "
                  "posts; measuring their sentiment…")
            mood = features.compute_features(scored["text"],
                                             columns=("sentiment", "subjectivity"))
            parts.append(pd.concat([scored, mood.set_axis(scored.index)], axis=1))
            if STEP_PAUSE_S:
                time.sleep(STEP_PAUSE_S)
        check(total, f"Scored all {total:,} posts")
        job.result = pd.concat(parts) if parts else corpus.iloc[:0]
        job.status = "done"
    except Cancelled:
        job.status = "cancelled"
        job.message = "Cancelled"
    except (CorpusError, ModelError) as err:
        job.error, job.status = str(err), "failed"
    except Exception as err:  # noqa: BLE001 - shown on the page, not lost in a thread
        job.error, job.status = f"Scoring failed: {err}", "failed"


def corpus_key(model_id: str | None, corpus: pd.DataFrame) -> str:
    """What a scored frame depends on: the model and the corpus's posts and columns."""
    digest = hashlib.sha1(pd.util.hash_pandas_object(corpus, index=True).to_numpy())
    digest.update(",".join(map(str, corpus.columns)).encode())
    return f"{model_id}:{digest.hexdigest()}"


def start(bundle: Any, corpus: pd.DataFrame, key: str) -> ScoringJob:
    """A new background job for ``corpus``, running (any other job of the session stops)."""
    old = state.get(state.SCORING_JOB)
    if old is not None and old.status == "running":
        old.cancel()
    job = ScoringJob(key=key, rows=len(corpus))
    threading.Thread(target=score_in_chunks, args=(job, bundle, corpus), daemon=True,
                     name=f"stigma-scoring-{key[:12]}").start()
    state.put(state.SCORING_JOB, job)
    return job


def _with_countries(scored: pd.DataFrame) -> pd.DataFrame:
    """Countries resolved with the user's overrides, as ``cached.scored_corpus`` does."""
    if "location" in scored:
        located = cached.countries(scored["location"], state.get(state.OVERRIDES, {}))
        scored = scored.assign(country=located)
    return scored


@st.fragment(run_every=POLL_S)
def _panel() -> None:
    """Progress bar and Cancel button of the running job; a full rerun once it ends."""
    job: ScoringJob | None = state.get(state.SCORING_JOB)
    if job is None or job.status != "running":
        st.rerun()
        return
    seconds = time.monotonic() - job.started
    st.progress(job.fraction, text=f"{job.message} ({seconds:,.0f} s)")
    if st.button("Cancel scoring", key="prev_cancel_scoring"):
        job.cancel()
        st.rerun()


def scored_corpus(corpus: pd.DataFrame) -> pd.DataFrame | None:
    """The corpus scored by the model in use, as ``cached.scored_corpus`` gives it; for a big
    corpus from the background job: while it runs (or after it was cancelled or failed) the
    last corpus scored to the end in this session, or None when there is none yet."""
    if len(corpus) <= BACKGROUND_ROWS:
        return cached.scored_corpus(corpus)
    key = corpus_key(state.get(state.MODEL_ID), corpus)
    last = state.get(state.SCORED_LAST)
    if last is not None and last[0] == key:
        return _with_countries(last[1])
    job: ScoringJob | None = state.get(state.SCORING_JOB)
    if job is None or job.key != key:
        job = start(state.get(state.MODEL), corpus, key)
    if job.status == "done":
        state.put(state.SCORED_LAST, (key, job.result))
        return _with_countries(job.result)
    if job.status == "running":
        st.info(f"Scoring {len(corpus):,} posts in the background — you can keep using the "
                "dashboard" + (" (the results below are the previous corpus's until it "
                               "finishes)." if last is not None else "."))
        _panel()
    else:
        if job.status == "failed":
            st.error(job.error)
        else:
            st.warning("Scoring was cancelled" + (": the results below are the previous ones."
                                                  if last is not None else "."))
        if st.button("Score this corpus again", key="prev_rescore"):
            start(state.get(state.MODEL), corpus, key)
            st.rerun()
    return None if last is None else _with_countries(last[1])

"""Scoring a big corpus on Prevalence: in the background, with progress and Cancel, the page's
last results kept (AppTest; the threshold for "big" is lowered so the sample corpus counts)."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
from app_support import open_app

from dashboard import scoring, state
from stigma_core import features, scale


def _bar(at: object) -> float | None:
    """The progress bar's value (0-1) on the page, None when there is none."""
    bars = at.get("progress")
    return bars[0].value / 100 if bars else None


def _run_until(at: object, done: object, limit_s: float = 180) -> None:
    end = time.monotonic() + limit_s
    while not done(at):
        assert time.monotonic() < end, "the background scoring did not get there in time"
        time.sleep(0.3)
        at.run()
        assert not at.exception, [e.value for e in at.exception]


DELAY_S = {"step": 0.25}


@pytest.fixture
def slow_big_scoring(monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: PT004
    """Every corpus above 1,000 rows counts as big, scored 400 rows at a time, each step
    slowed (``DELAY_S``) so the bar can be seen moving."""
    monkeypatch.setattr(scoring, "BACKGROUND_ROWS", 1_000)
    monkeypatch.setattr(scoring, "CHUNK_ROWS", 400)
    real = scale.score_frame

    def slow(*args: object, **kwargs: object) -> pd.DataFrame:
        time.sleep(DELAY_S["step"])
        return real(*args, **kwargs)

    monkeypatch.setattr(scale, "score_frame", slow)


def test_progress_moves_and_cancel_keeps_the_previous_results(slow_big_scoring: None) -> None:
    at = open_app("pages/prevalence.py")
    at.button(key="prev_quick").click().run()
    assert not at.exception, [e.value for e in at.exception]
    # a big corpus: no results yet, a progress bar and a Cancel button instead
    assert "in the background" in at.info[-1].value
    assert at.button(key="prev_cancel_scoring")
    _run_until(at, lambda a: a.metric)  # scored to the end: the page shows its figures
    first_key = at.session_state[state.SCORED_LAST][0]
    posts_scored = next(m.value for m in at.metric if m.label == "Posts scored")

    # another model: a new background scoring starts, the previous figures stay meanwhile
    DELAY_S["step"] = 2.0  # 15 steps: half a minute, time enough to watch and cancel
    at.session_state[state.MODEL_ID] = "another-model"
    at.run()
    seen = [_bar(at)]
    _run_until(at, lambda a: (seen.append(_bar(a)) or True) and len(
        [v for v in seen if v is not None and v > 0]) >= 2, limit_s=60)
    moving = [v for v in seen if v is not None]
    assert moving[-1] > moving[0]  # the bar advanced between polls
    assert next(m.value for m in at.metric if m.label == "Posts scored") == posts_scored
    assert "previous corpus" in at.info[-1].value

    at.button(key="prev_cancel_scoring").click().run()
    assert not at.exception, [e.value for e in at.exception]
    job = at.session_state[state.SCORING_JOB]
    assert job.status == "cancelled" and job.result is None
    assert any("cancelled: the results below are the previous ones" in w.value
               for w in at.warning)
    assert next(m.value for m in at.metric if m.label == "Posts scored") == posts_scored
    assert at.session_state[state.SCORED_LAST][0] == first_key
    assert not at.get("progress")
    time.sleep(1.0)  # a cancelled job stays stopped
    assert job.status == "cancelled" and job.result is None


def test_chunked_background_scoring_equals_scoring_in_one_go(sample_dir) -> None:
    from stigma_core.models import train_models
    from stigma_core.persist import bundle_from_run

    train = pd.read_csv(sample_dir / "train.csv").sample(300, random_state=0)
    bundle = bundle_from_run(train_models(train, ["logistic_regression"]),
                             "logistic_regression", {"data": "test"})
    corpus = pd.read_csv(sample_dir / "corpus.csv").head(1_300)
    job = scoring.ScoringJob(key="k", rows=len(corpus))
    scoring.score_in_chunks(job, bundle, corpus, chunk_rows=500, n_jobs=1)
    assert job.status == "done" and job.fraction == 1.0
    whole = scale.score_frame(bundle, corpus, n_jobs=1)
    mood = features.compute_features(whole["text"], columns=("sentiment", "subjectivity"))
    want = pd.concat([whole, mood.set_axis(whole.index)], axis=1)
    pd.testing.assert_frame_equal(job.result, want)
    assert np.isfinite(job.result["stigma_probability"].dropna()).all()


def test_cancel_stops_the_job_between_steps(sample_dir) -> None:
    job = scoring.ScoringJob(key="k", rows=10)
    job.cancel()
    scoring.score_in_chunks(job, object(), pd.DataFrame({"text": ["a"] * 10}), chunk_rows=5)
    assert job.status == "cancelled" and job.result is None

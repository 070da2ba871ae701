"""Shared fixtures: where the real, human-coded corpus lives and the CI rule for it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
REAL_CORPUS = SHARED_DATA / "mhstigma_interview_train.csv"
SAMPLE_DATA = REPO / "sample_data"


@pytest.fixture(scope="session")
def real_corpus_path() -> Path:
    """Path to MHStigmaInterview (train split); skip when absent, fail under CI=true."""
    if REAL_CORPUS.exists():
        return REAL_CORPUS
    reason = f"real corpus not found at {REAL_CORPUS} (expected in ../shared/data)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}; under CI=true the real-data tests must run")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    return SAMPLE_DATA

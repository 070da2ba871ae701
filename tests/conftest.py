"""Shared fixtures: where the real, human-coded corpus lives and the CI rule for it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
REAL_CORPUS = SHARED_DATA / "mhstigma_interview_train.csv"
SAMPLE_DATA = REPO / "sample_data"


@pytest.fixture(scope="session", autouse=True)
def own_coding_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Every test codes into a throw-away SQLite file, never the user's own database (a test
    may point STIGMA_CODING_DB elsewhere with monkeypatch)."""
    saved = {key: os.environ.get(key) for key in ("STIGMA_CODING_DB", "DATABASE_URL")}
    os.environ["STIGMA_CODING_DB"] = str(tmp_path_factory.mktemp("coding") / "coding.sqlite")
    os.environ.pop("DATABASE_URL", None)
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session", autouse=True)
def own_tab_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The model files that let a chosen model survive a reload (dashboard/resume.py) go to a
    throw-away folder, never the machine's shared temp folder (a test may point
    STIGMA_SESSION_DIR elsewhere with monkeypatch)."""
    saved = os.environ.get("STIGMA_SESSION_DIR")
    os.environ["STIGMA_SESSION_DIR"] = str(tmp_path_factory.mktemp("tabs"))
    yield
    if saved is None:
        os.environ.pop("STIGMA_SESSION_DIR", None)
    else:
        os.environ["STIGMA_SESSION_DIR"] = saved


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


def _postgres_admin_url() -> str:
    """The PostgreSQL server `make test` starts (STIGMA_TEST_POSTGRES), or the local default."""
    return os.environ.get("STIGMA_TEST_POSTGRES", "postgresql:///postgres")


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """URL of a reachable PostgreSQL admin database; skip when none runs, fail under CI=true."""
    from sqlalchemy import create_engine, text

    from stigma_core.coding.store import normalise_url

    url = normalise_url(_postgres_admin_url())
    try:
        engine = create_engine(url)
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as err:  # noqa: BLE001 - any failure to connect means "no server here"
        reason = f"no PostgreSQL server at {url} ({type(err).__name__}); run `make postgres`"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason}; under CI=true the PostgreSQL tests must run")
        pytest.skip(reason)
    return url


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    import uuid

    from sqlalchemy import create_engine, text

    name = f"stigma_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    base = postgres_server.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def coding_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh coding database of each kind: a SQLite file, and a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'coding.sqlite'}"
    return request.getfixturevalue("postgres_url")

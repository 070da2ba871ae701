"""Helpers shared by the quality and speed benchmarks: the real corpus, machine facts, JSON.

Both benchmarks run on the MHStigmaInterview train split (Meng et al., ACL 2025) kept beside
the repository in ``../shared/data``; both record the machine and library versions with
their figures, because timings and even scores mean little without them.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import resource
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pandas as pd

from stigma_core.persist import to_plain

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
REAL_CORPUS = REPO.parent / "shared" / "data" / "mhstigma_interview_train.csv"
REAL_COLUMNS = ("id", "participant", "prompt_topic", "text", "stigma", "attribution")
PACKAGES = ("scikit-learn", "numpy", "pandas", "scipy", "textblob", "simplemma", "nltk")


def read_real_corpus(path: Path = REAL_CORPUS, *, required: bool = True) -> pd.DataFrame | None:
    """The MHStigmaInterview train split as a frame (``text``, ``stigma``, ``participant``…).

    When the file is missing, exits with a message saying where it should be (``required``)
    or returns None so the caller can fall back and say so.
    """
    if not path.is_file():
        if required:
            sys.exit(
                f"The real corpus is not at {path}. Put mhstigma_interview_train.csv in "
                "../shared/data beside the repository (see ../shared/data/README.md)."
            )
        return None
    df = pd.read_csv(path)
    missing = [c for c in REAL_COLUMNS if c not in df.columns]
    if missing:
        sys.exit(f"{path} lacks the columns {', '.join(missing)}; is it the right file?")
    return df


def cpu_name() -> str:
    """The processor's model name from /proc/cpuinfo (or whatever platform knows)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def machine() -> dict[str, Any]:
    """Platform, CPU, Python and the versions of the packages the figures depend on."""
    versions = {}
    for package in PACKAGES:
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = "not installed"
    return {
        "platform": platform.platform(),
        "cpu": cpu_name(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "packages": versions,
    }


def utc_now() -> str:
    """The current time, UTC, ISO 8601 to the second."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def peak_rss_mib() -> float:
    """This process's peak resident memory so far, in MiB (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def write_json(result: dict[str, Any], path: Path) -> Path:
    """Write ``result`` as indented JSON (numpy values unwrapped, NaN as null)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(to_plain(result), indent=2, ensure_ascii=False) + "\n")
    return path

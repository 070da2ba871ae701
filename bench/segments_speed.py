"""Time to find the Insights page's segments on the sample corpus, one thread vs the default.

The Segments tab's first visit clusters the corpus (``stigma_core.segments.find_segments``:
TF-IDF, SVD, MiniBatchKMeans for each k, silhouettes). It now runs with one thread
(``threadpoolctl``); the baseline in the same run lets OpenMP and BLAS use their default
threads, as the code did before. Both must give the same labels (checked). Alternating runs,
``--repeats`` each, with the load average recorded: under load the default threads spin.

Run: .venv/bin/python bench/segments_speed.py [--repeats 3] -> bench/results/segments_speed.json
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]
from common import RESULTS, machine, utc_now, write_json  # noqa: E402

from stigma_core import segments  # noqa: E402


def default_threads(texts: pd.Series) -> segments.Segmentation:
    """``find_segments`` with the thread limit lifted: the library's default threads."""
    from threadpoolctl import threadpool_limits

    original = segments.threadpool_limits
    segments.threadpool_limits = lambda limits=None: threadpool_limits(limits=None)
    try:
        return segments.find_segments(texts)
    finally:
        segments.threadpool_limits = original


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    texts = pd.read_csv(REPO / "sample_data" / "corpus.csv")["text"]
    labels = segments.find_segments(texts).labels  # first-call costs, not timed
    load_before = os.getloadavg()
    times: dict[str, list[float]] = {"one_thread": [], "default_threads": []}
    for _ in range(args.repeats):
        for name, run in (("one_thread", segments.find_segments), ("default_threads",
                                                                   default_threads)):
            start = time.perf_counter()
            found = run(texts)
            times[name].append(round(time.perf_counter() - start, 3))
            assert (found.labels == labels).all(), "the labels must not depend on threads"
    result = {
        "benchmark": "segments_speed", "started": utc_now(), "machine": machine(),
        "posts": len(texts), "repeats": args.repeats,
        "load_average_before": [round(v, 2) for v in load_before],
        "load_average_after": [round(v, 2) for v in os.getloadavg()],
        "seconds": times,
        "median_s": {name: statistics.median(v) for name, v in times.items()},
        "same_labels": True,
    }
    result["speedup"] = round(result["median_s"]["default_threads"]
                              / result["median_s"]["one_thread"], 1)
    path = write_json(result, RESULTS / "segments_speed.json")
    print(f"{result['median_s']} (x{result['speedup']}), load {result['load_average_before']}"
          f" -> {path}")


if __name__ == "__main__":
    main()

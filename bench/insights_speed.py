"""Domain/theme lexicon tagging throughput on 1M posts, distinct and with realistic repetition,
vs a naive per-post loop (one regular expression per lexicon entry, per post).

The posts are the sample corpus's English posts (synthetic, tweet-like, 10-40 words):
* **distinct**: 1,000,000 different texts (each sample post with a different number appended),
  so the per-distinct-text cache never helps — the worst case;
* **with repetition**: 500,000 distinct originals plus 500,000 repeats of them (retweets,
  copy-pasted posts) drawn with Zipf-like popularity (p ~ 1/rank^1.1), shuffled: half the
  volume repeats, as on Twitter where retweets are about half of what is posted.

``tag_domains`` and ``tag_themes`` run in this one process (one core); ``tag_frame`` tags both
from one tokenisation. The previous matcher (``_decide(_token_scores(...))``: every match
collected as a tuple, then summed — what ``tag_frame`` ran before the fast path) is timed on the
same 1M distinct posts in the same run, and its tags are checked equal to the fast path's.
A two-process run (the distinct posts split in halves, forked ``ProcessPoolExecutor`` workers)
shows what the second core adds. The naive loop is timed on a
2,000-post sample and extrapolated to 1M (said so in the JSON). Wall and CPU seconds are both
recorded, with the load average: on a shared machine the wall time counts others' work too.

Run: .venv/bin/python bench/insights_speed.py  -> bench/results/insights_speed.json
"""

from __future__ import annotations

import multiprocessing
import os
import re
import statistics
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd
from common import REPO, RESULTS, machine, peak_rss_mib, utc_now, write_json

from stigma_core import insights
from stigma_core.insights import tagger

N_POSTS = 1_000_000
N_POOL = 500_000
ZIPF_EXPONENT = 1.1
NAIVE_SAMPLE = 2_000
REPEATS = 3
SEED = 0
OUT = RESULTS / "insights_speed.json"
SAMPLE = REPO / "sample_data" / "corpus.csv"


def sample_posts() -> np.ndarray:
    """The sample corpus's non-empty, non-retweet posts."""
    corpus = pd.read_csv(SAMPLE, keep_default_na=False)
    posts = corpus.loc[(corpus["text"].str.strip() != "") & ~corpus["is_retweet"], "text"]
    return posts.drop_duplicates().to_numpy(dtype=object)


def distinct_posts(base: np.ndarray, n: int, rng: np.random.Generator) -> list[str]:
    """``n`` different texts: random sample posts, each with its own number appended."""
    picks = rng.integers(0, len(base), n)
    return [f"{base[i]} {j}" for j, i in enumerate(picks)]


def repeated_posts(base: np.ndarray, rng: np.random.Generator) -> list[str]:
    """N_POOL distinct originals and N_POSTS - N_POOL Zipf-popular repeats of them, shuffled."""
    pool = distinct_posts(base, N_POOL, rng)
    weights = 1.0 / np.arange(1, N_POOL + 1) ** ZIPF_EXPONENT
    draws = rng.choice(N_POOL, N_POSTS - N_POOL, p=weights / weights.sum())
    posts = pool + [pool[i] for i in draws]
    return [posts[i] for i in rng.permutation(len(posts))]


def timed(function, *args) -> tuple[float, object]:
    start = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - start, result


def best_of(function, *args) -> dict:
    """Median and all runs (wall seconds) of REPEATS calls, and the median CPU seconds of this
    process: on a shared machine the wall time also counts other people's work, CPU time
    does not."""
    runs, cpu = [], []
    for _ in range(REPEATS):
        start_cpu = time.process_time()
        runs.append(round(timed(function, *args)[0], 3))
        cpu.append(round(time.process_time() - start_cpu, 3))
    return {"median_s": statistics.median(runs), "runs_s": runs,
            "median_cpu_s": statistics.median(cpu),
            "posts_per_cpu_s": round(N_POSTS / statistics.median(cpu))}


_SHARED: list[str] = []  # the posts, inherited by forked workers (not pickled to them)


def _both(bounds: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    tags = insights.tag_frame(_SHARED[bounds[0]:bounds[1]])
    return tags["domain"].to_numpy(), tags["theme"].to_numpy()


def two_processes(texts: list[str]) -> float:
    """Seconds to tag both kinds with the posts split over two forked worker processes (the
    pool's start-up excluded: a long-lived server would keep it; the tags come back pickled)."""
    _SHARED[:] = texts
    half = len(texts) // 2
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork")) as pool:
        list(pool.map(_both, [(0, 100), (100, 200)]))  # start and import the workers
        start = time.perf_counter()
        parts = list(pool.map(_both, [(0, half), (half, len(texts))]))
        seconds = time.perf_counter() - start
    assert sum(len(domain) for domain, _ in parts) == len(texts)
    return seconds


def previous_tag_frame(texts: list[str]) -> list[tuple[str, str]]:
    """Both kinds per distinct text with the plain trie matcher ``tag_frame`` used before the
    fast path (same tokenisation and distinct-text handling, minus pandas)."""
    matchers = [tagger._matcher(kind, None) for kind in ("domain", "theme")]
    out = []
    for text in texts:
        tokens = insights.tokenize(text)
        out.append(tuple(tagger._decide(tagger._token_scores(tokens, m), m)
                         for m in matchers))
    return out


def naive_tagger(kind: str):
    """The obvious first version: for each post, for each entry, a word-boundary regex."""
    patterns = [(label, re.compile(r"(?<!\w)" + re.escape(term) + r"(?!\w)"), weight)
                for label, terms in insights.LEXICON[kind].items()
                for term, weight in terms.items()]
    order = insights.PRIORITY[kind]

    def tag_one(text: str) -> str:
        lowered = text.lower()
        scores = dict.fromkeys(order, 0.0)
        for label, pattern, weight in patterns:
            if pattern.search(lowered):
                scores[label] += weight
        best = max(order, key=lambda c: (scores[c], -order.index(c)))
        return best if scores[best] >= insights.MIN_SCORE else insights.FALLBACK[kind]

    return lambda texts: [tag_one(t) for t in texts]


def main() -> int:
    load_start = [round(v, 2) for v in os.getloadavg()]
    rng = np.random.default_rng(SEED)
    base = sample_posts()
    distinct = distinct_posts(base, N_POSTS, rng)
    repeated = repeated_posts(base, rng)
    n_repeated_distinct = len(set(repeated))
    print(f"load average before: {os.getloadavg()}")
    print(f"{len(base):,} sample posts; {N_POSTS:,} distinct; {N_POSTS:,} with repetition "
          f"({n_repeated_distinct:,} distinct)")

    results: dict[str, dict] = {}
    for name, texts in (("distinct", distinct), ("with_repetition", repeated)):
        part = {}
        for label, function in (("tag_domains", insights.tag_domains),
                                ("tag_themes", insights.tag_themes),
                                ("tag_frame_both", insights.tag_frame)):
            timing = best_of(function, texts)
            timing["posts_per_s"] = round(N_POSTS / timing["median_s"])
            part[label] = timing
            print(f"{name:16s} {label:15s} {timing['median_s']:7.2f} s  "
                  f"{timing['posts_per_s']:>12,} posts/s  "
                  f"{timing['posts_per_cpu_s']:>12,} posts/CPU-s")
        results[name] = part
    results["with_repetition"]["distinct_texts"] = n_repeated_distinct

    start_cpu, start = time.process_time(), time.perf_counter()
    before = previous_tag_frame(distinct)
    previous = {"seconds": round(time.perf_counter() - start, 3),
                "cpu_s": round(time.process_time() - start_cpu, 3)}
    previous["posts_per_s"] = round(N_POSTS / previous["seconds"])
    previous["posts_per_cpu_s"] = round(N_POSTS / previous["cpu_s"])
    fast = insights.tag_frame(distinct)
    previous["identical_tags"] = bool(
        [d for d, _ in before] == fast["domain"].tolist()
        and [t for _, t in before] == fast["theme"].tolist())
    assert previous["identical_tags"], "the fast path's tags differ from the previous matcher's"
    print(f"previous matcher, both kinds, distinct: {previous['posts_per_s']:,} posts/s "
          f"({previous['posts_per_cpu_s']:,}/CPU-s); identical tags: "
          f"{previous['identical_tags']}")

    two = two_processes(distinct)
    results["distinct"]["tag_frame_both_two_processes"] = {
        "seconds": round(two, 3), "posts_per_s": round(N_POSTS / two)}
    print(f"distinct, both kinds, 2 processes: {two:.2f} s ({N_POSTS / two:,.0f} posts/s)")

    naive = {}
    sample = distinct[:NAIVE_SAMPLE]
    for kind in ("domain", "theme"):
        seconds, _ = timed(naive_tagger(kind), sample)
        naive[kind] = {"measured_posts": NAIVE_SAMPLE, "measured_s": round(seconds, 3),
                       "extrapolated_1m_s": round(seconds * N_POSTS / NAIVE_SAMPLE, 1),
                       "posts_per_s": round(NAIVE_SAMPLE / seconds)}
        print(f"naive {kind}: {NAIVE_SAMPLE / seconds:,.0f} posts/s "
              f"(~{seconds * N_POSTS / NAIVE_SAMPLE:,.0f} s for 1M, extrapolated)")
    speedup = {kind: round(naive[kind]["extrapolated_1m_s"]
                           / results["distinct"][f"tag_{kind}s"]["median_s"], 1)
               for kind in ("domain", "theme")}

    write_json({
        "benchmark": "insights_speed",
        "date": utc_now(),
        "machine": machine(),
        "corpus": {"posts": N_POSTS, "source": "sample_data/corpus.csv (synthetic) English "
                   "originals", "sample_posts": len(base),
                   "distinct_originals_with_repetition": N_POOL,
                   "zipf_exponent": ZIPF_EXPONENT, "seed": SEED},
        "lexicon_entries": {kind: int(sum(len(t) for t in insights.LEXICON[kind].values()))
                            for kind in ("domain", "theme")},
        "one_process": results,
        "naive_per_post_regex_loop": {
            "method": "one compiled word-boundary regex per lexicon entry, searched in every "
                      f"post; timed on {NAIVE_SAMPLE:,} distinct posts and extrapolated "
                      "linearly to 1M",
            **naive},
        "speedup_vs_naive_distinct": speedup,
        "previous_matcher_both_kinds_distinct": {
            "method": "the trie matcher before the fast path (match tuples collected, then "
                      "summed; _decide per post), one run on the same 1M distinct posts",
            **previous},
        "speedup_vs_previous_matcher_both_kinds_cpu": round(
            results["distinct"]["tag_frame_both"]["posts_per_cpu_s"]
            / previous["posts_per_cpu_s"], 2),
        "goal": ">= 50,000 posts/s on 2 cores on 1M posts",
        "load_average_1_5_15_min": {"start": load_start,
                                    "end": [round(v, 2) for v in os.getloadavg()]},
        "peak_rss_mib": peak_rss_mib(),
    }, OUT)
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

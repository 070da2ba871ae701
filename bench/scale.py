"""Scoring throughput and peak memory at scale, and training time against plain GridSearchCV.

(a) Scoring, end to end (read a CSV, score, write Parquet): corpora of 100k and 1M rows (5M
with ``--sizes``) drawn from the real texts, once with realistic repetition (rows drawn with
replacement from the 3,312 distinct posts, like retweets), once with no repetition (each
row gets a distinct " ref<index>" token, so every post is new), once as tweets (each real
text given a new @handle, a hashtag and a new t.co link: two runs never seen before in every
post) and once as new posts from a large vocabulary (300,000 words under a Zipf law, like a
big real corpus: most words rare, a few everywhere; ``--corpora`` picks), scored by

- the paper-style naive pipeline: the same fitted model with its text steps swapped for
  per-row ones (TextBlob per post, features per post, uncached preprocessing), then
  scikit-learn's ``predict_proba`` on the batch; timed on a 2,000-row sample and
  extrapolated linearly (said so in the JSON), probabilities checked against the library's;
- ``scale.score_file`` in one process (``n_jobs=1``);
- ``scale.score_file`` on every core (``n_jobs=None``: loky worker processes);
- ``scale.score_file`` on a Dask ``LocalCluster`` (one worker process per core), cluster
  start-up timed apart.

Each engine runs in a fresh Python process (three times at 100k rows, the median reported;
once at larger sizes); its peak memory is the largest sum of resident memory over that
process and all its children (worker processes included), sampled every 0.1 s with psutil
(beside it the peak sum of proportional memory, PSS, which counts shared pages once in all),
and its CPU seconds are summed over the same processes. The probabilities written by the
three library engines are compared.

(b) Training: ``train_models(grid="paper")``, all nine families, 746 posts (stratified
sample of the real corpus, as bench/speed.py), with ``n_jobs=1`` and with every core, beside
plain scikit-learn in the same run: per family ``GridSearchCV(refit=False)`` +
``cross_val_predict`` for the threshold + a final fit, on the same pipelines and folds (the
library's former way), the three interleaved family by family. Best parameters and
out-of-fold probabilities are compared; wall and CPU seconds are recorded.

Run: .venv/bin/python bench/scale.py  -> bench/results/scale.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from common import RESULTS, machine, read_real_corpus, utc_now, write_json

REPO = Path(__file__).resolve().parent.parent
SEED = 0
NAIVE_ROWS = 2_000
REPEATS = 3
"""Runs per engine at 100k rows or fewer (the median is reported); one at larger sizes."""
PAPER_SCALE = 746
ENGINES = ("one_process", "all_cores", "dask_local")


# --- memory of a process tree -------------------------------------------------------------


class PeakMemory:
    """Largest total resident memory of this process and its children, sampled in a thread;
    also the CPU seconds they used (last sample of each process, summed).

    Two sums: resident memory (RSS; a page shared by several processes, such as the
    libraries' code every worker maps, counts once per process: an upper bound), sampled
    every ``interval``; and proportional memory (PSS, from ``/proc/<pid>/smaps_rollup``: a
    shared page counts as a share in each, so the sum is the physical memory the tree holds),
    sampled every ``PSS_EVERY`` intervals and at the end. Reading PSS walks each process's
    page tables: about 14 ms of CPU for five processes, which at every interval took some 14%
    of a core from the run being measured."""

    PSS_EVERY = 10

    def __init__(self, interval: float = 0.1) -> None:
        import psutil

        self.process = psutil.Process()
        self.interval = interval
        self.peak = 0
        self.peak_pss = 0
        self.cpu: dict[int, float] = {}
        self._start_cpu = sum(self.process.cpu_times()[:2])
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _total(self, with_pss: bool = True) -> int:
        import psutil

        total = pss = 0
        for p in [self.process, *self.process.children(recursive=True)]:
            try:
                total += p.memory_info().rss
                if with_pss:
                    pss += getattr(p.memory_full_info(), "pss", 0)
                self.cpu[p.pid] = sum(p.cpu_times()[:2])
            except psutil.Error:
                pass
        self.peak_pss = max(self.peak_pss, pss)
        return total

    @property
    def cpu_s(self) -> float:
        """CPU seconds (user + system) of the process tree while measured."""
        return round(sum(self.cpu.values()) - self._start_cpu, 1)

    def _run(self) -> None:
        tick = 0
        while not self._stop.is_set():
            self.peak = max(self.peak, self._total(with_pss=tick % self.PSS_EVERY == 0))
            tick += 1
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._total())

    @property
    def mib(self) -> float:
        return round(self.peak / 2**20, 1)

    @property
    def pss_mib(self) -> float:
        return round(self.peak_pss / 2**20, 1)


def tree_cpu_s() -> float:
    """CPU seconds (user + system) so far of this process and its live children."""
    import psutil

    me = psutil.Process()
    total = 0.0
    for p in [me, *me.children(recursive=True)]:
        try:
            total += sum(p.cpu_times()[:2])
        except psutil.Error:
            pass
    return total


# --- corpora and model ----------------------------------------------------------------------


def real_texts() -> pd.DataFrame:
    real = read_real_corpus()
    return real.rename(columns={"stigma": "label"})[["text", "label"]]


CORPORA = ("realistic_repetition", "no_repetition", "large_vocabulary", "social_media")
HASHTAGS = ("mentalhealth", "stigma", "endthestigma", "depression", "anxiety", "bellletstalk")
"""Hashtags of the ``social_media`` corpus (a few, used again and again, as campaigns do)."""
VOCABULARY = 300_000
"""Words in the ``large_vocabulary`` corpus: the real corpus's words, then made-up ones."""


def zipf_vocabulary(texts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``VOCABULARY`` words, the real corpus's words first (most common) and made-up
    seven-letter words after them, and each word's Zipf probability (exponent 1.05)."""
    words = list(dict.fromkeys(w for t in texts for w in str(t).split()))
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    made_up = ["w" + "".join(row) for row in
               letters[np.random.default_rng(SEED).integers(0, 26, (VOCABULARY - len(words), 7))]]
    weights = 1.0 / np.arange(1, VOCABULARY + 1) ** 1.05
    return np.array(words + made_up, dtype=object), weights / weights.sum()


def zipf_posts(vocabulary: tuple[np.ndarray, np.ndarray], n: int,
               rng: np.random.Generator) -> list[str]:
    """``n`` new posts of 8-39 words drawn from ``zipf_vocabulary``'s law: like a large
    real corpus, most words are rare and a few are everywhere, so per-word memos must keep
    the common ones."""
    words, probabilities = vocabulary
    lengths = rng.integers(8, 40, n)
    picks = words[rng.choice(len(words), int(lengths.sum()), p=probabilities)]
    bounds = np.r_[0, np.cumsum(lengths)]
    return [" ".join(picks[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def social_media_posts(texts: np.ndarray, rng: np.random.Generator) -> list[str]:
    """Each text as a tweet: "@handle text #hashtag https://t.co/xxxxxxxxxx", the handle (8
    characters of [a-z0-9_]) and the link (10 of [A-Za-z0-9]) drawn anew for each post, so
    every post brings two runs never seen before, as a real stream does."""
    handle_chars = np.array(list("abcdefghijklmnopqrstuvwxyz0123456789_"))
    link_chars = np.array(list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"))
    handles = ["".join(row) for row in handle_chars[rng.integers(0, 37, (len(texts), 8))]]
    links = ["".join(row) for row in link_chars[rng.integers(0, 62, (len(texts), 10))]]
    tags = rng.integers(0, len(HASHTAGS), len(texts))
    return [f"@{h} {t} #{HASHTAGS[g]} https://t.co/{k}"
            for h, t, g, k in zip(handles, texts, tags.tolist(), links, strict=True)]


def write_corpus(texts: np.ndarray, rows: int, kind: str, path: Path) -> None:
    """``rows`` posts written as CSV in slices (bounded memory), seeded: drawn with
    replacement from ``texts`` (``realistic_repetition``), the same with a distinct token
    appended to each (``no_repetition``) or, as tweets are written, with a new @handle
    before and a hashtag and a new t.co link after (``social_media``), or new posts from a
    large Zipf vocabulary (``large_vocabulary``, see ``zipf_posts``)."""
    rng = np.random.default_rng(SEED)
    vocabulary = zipf_vocabulary(texts) if kind == "large_vocabulary" else None
    step = 250_000
    for start in range(0, rows, step):
        n = min(step, rows - start)
        if vocabulary is not None:
            picks = zipf_posts(vocabulary, n, rng)
        else:
            picks = texts[rng.integers(0, len(texts), n)]
        if kind == "no_repetition":
            picks = [f"{t} ref{start + i:07d}" for i, t in enumerate(picks)]
        if kind == "social_media":
            picks = social_media_posts(picks, rng)
        frame = pd.DataFrame({"id": np.arange(start, start + n), "text": picks})
        frame.to_csv(path, index=False, mode="w" if start == 0 else "a", header=start == 0)


def fit_bundle(path: Path) -> None:
    """Logistic regression (fast grid) on the whole real corpus, saved as bench/speed.py's."""
    from stigma_core.models import train_models
    from stigma_core.persist import bundle_from_run, save_model

    run = train_models(real_texts(), ["logistic_regression"], grid="fast", seed=SEED)
    save_model(bundle_from_run(run, "logistic_regression", {"data": "scale benchmark"}), path)


# --- one engine, in its own process -----------------------------------------------------------


def run_engine(engine: str, model: str, corpus: str, out: str) -> dict[str, Any]:
    """Score ``corpus`` into ``out`` with one engine; seconds and peak memory."""
    from stigma_core.persist import load_model
    from stigma_core.scale import score_file

    bundle = load_model(model)
    result: dict[str, Any] = {}
    with PeakMemory() as memory:
        if engine == "dask_local":
            from stigma_core.cluster import DaskScorer, dask_client

            start = time.perf_counter()
            with dask_client() as client:
                scorer = DaskScorer(client, bundle)
                result["cluster_start_s"] = round(time.perf_counter() - start, 2)
                start = time.perf_counter()
                summary = score_file(bundle, corpus, "text", out, cluster=scorer)
                result["seconds"] = round(time.perf_counter() - start, 2)
        else:
            n_jobs = 1 if engine == "one_process" else None
            if n_jobs is None:
                from stigma_core.parallel import warm_up

                start = time.perf_counter()
                result["workers"] = warm_up(n_jobs, training=False)
                result["pool_start_s"] = round(time.perf_counter() - start, 2)
            start = time.perf_counter()
            summary = score_file(bundle, corpus, "text", out, n_jobs=n_jobs)
            result["seconds"] = round(time.perf_counter() - start, 2)
    result.update(rows=summary.rows, flagged=summary.flagged, peak_mib=memory.mib,
                  peak_pss_mib=memory.pss_mib, cpu_s=memory.cpu_s)
    return result


def run_naive(model: str, corpus: str, rows: int) -> dict[str, Any]:
    """The paper-style pipeline on the first ``rows`` rows, and the library's probabilities
    for the same rows (to check they agree)."""
    sys.path.insert(0, str(REPO / "bench"))
    import speed

    from stigma_core.persist import load_model
    from stigma_core.scale import score_texts

    bundle = load_model(model)
    texts = pd.read_csv(corpus, nrows=rows)["text"].astype(str).tolist()
    naive = speed.naive_scoring_pipeline(bundle)
    speed.warm_one_off_imports()
    column = list(bundle.pipeline.classes_).index(1)
    start, cpu = time.perf_counter(), time.process_time()
    proba = naive.predict_proba(pd.DataFrame({"text": texts}))[:, column]
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    ours = score_texts(bundle, texts, n_jobs=1)
    return {"measured_rows": rows, "measured_s": round(seconds, 3),
            "posts_per_s": round(rows / seconds, 1), "cpu_s": round(cpu, 3),
            "posts_per_cpu_s": round(rows / cpu, 1),
            "max_abs_probability_difference": float(np.abs(proba - ours).max())}


def in_fresh_process(kind: str, *args: str) -> dict[str, Any]:
    """Run ``--child kind args`` in a new interpreter and read its JSON answer."""
    done = subprocess.run([sys.executable, __file__, "--child", kind, *args],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{kind} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- (a) scoring --------------------------------------------------------------------------------


def scoring_benchmark(sizes: list[int], folder: Path, engines: list[str],
                      corpora: list[str]) -> dict[str, Any]:
    model = folder / "model.skops"
    fit_bundle(model)
    texts = real_texts()["text"].astype(str).to_numpy(object)
    out: dict[str, Any] = {}
    for rows in sizes:
        for corpus_kind in corpora:
            corpus = folder / f"corpus_{rows}_{corpus_kind}.csv"
            write_corpus(texts, rows, corpus_kind, corpus)
            entry: dict[str, Any] = {"rows": rows, "file_mib": round(corpus.stat().st_size
                                                                    / 2**20, 1)}
            naive = in_fresh_process("naive", str(model), str(corpus), str(NAIVE_ROWS))
            naive["extrapolated_s_for_all_rows"] = round(
                naive["measured_s"] * rows / NAIVE_ROWS, 1)
            naive["method"] = ("per row: TextBlob sentiment, regex features, uncached "
                               "preprocessing; predict_proba on the batch; timed on the first "
                               f"{NAIVE_ROWS:,} rows and extrapolated linearly")
            entry["naive"] = naive
            outputs = {}
            repeats = REPEATS if rows <= 100_000 else 1
            for engine in engines:
                target = folder / f"scored_{engine}.parquet"
                runs = [in_fresh_process("engine", engine, str(model), str(corpus),
                                         str(target)) for _ in range(repeats)]
                result = sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]
                result["runs_s"] = [r["seconds"] for r in runs]
                result["posts_per_s"] = round(rows / result["seconds"], 1)
                result["posts_per_cpu_s"] = round(rows / max(result["cpu_s"], 1e-9), 1)
                result["speedup_vs_naive"] = round(result["posts_per_s"]
                                                   / naive["posts_per_s"], 1)
                entry[engine] = result
                outputs[engine] = pd.read_parquet(target, columns=["stigma_probability"])[
                    "stigma_probability"].to_numpy()
                print(f"  {rows:>9,} {corpus_kind:<21} {engine:<12} "
                      f"{result['posts_per_s']:>10,.0f} posts/s  peak {result['peak_mib']:>7,.0f}"
                      f" MiB (PSS {result['peak_pss_mib']:,.0f})  "
                      f"(naive {naive['posts_per_s']:,.0f} posts/s)", flush=True)
            first = outputs[engines[0]]
            entry["probabilities_identical_across_engines"] = all(
                np.array_equal(first, o, equal_nan=True) for o in outputs.values())
            out[f"{rows}_{corpus_kind}"] = entry
            corpus.unlink()
    return out


# --- (b) training ---------------------------------------------------------------------------


def plain_train_family(family: str, run: Any) -> dict[str, Any]:
    """The former way: GridSearchCV (refit=False), cross_val_predict, final fit."""
    from sklearn.base import clone
    from sklearn.model_selection import (
        GridSearchCV,
        ParameterGrid,
        StratifiedKFold,
        cross_val_predict,
    )

    from stigma_core.models import FAMILIES, build_pipeline

    folds = StratifiedKFold(5, shuffle=True, random_state=SEED)
    X, y = run.X_train, run.results[family].y_train
    pipeline = build_pipeline(family, run.selected_features, SEED)
    grid = FAMILIES[family].grid("paper")
    start = time.perf_counter()
    combos = list(ParameterGrid(grid))
    if len(combos) == 1:
        params = combos[0]
    else:
        params = GridSearchCV(pipeline, grid, scoring="roc_auc", cv=folds, n_jobs=1,
                              refit=False, error_score="raise").fit(X, y).best_params_
    pipeline.set_params(**params)
    oof = cross_val_predict(clone(pipeline), X, y, cv=folds, method="predict_proba")[:, 1]
    pipeline.fit(X, y)
    seconds = time.perf_counter() - start
    ours = run.results[family]
    return {"seconds": round(seconds, 2),
            "same_best_params": {k.removeprefix("model__"): v for k, v in params.items()}
            == ours.best_params,
            "same_oof_probabilities": bool(np.array_equal(oof, ours.oof_proba))}


def training_benchmark(posts: int) -> dict[str, Any]:
    """Family by family, interleaved so the three ways share the machine's conditions: the
    library on one process, plain scikit-learn, the library on every core."""
    from sklearn.model_selection import train_test_split

    from stigma_core.models import FAMILIES, train_models
    from stigma_core.parallel import warm_up
    from stigma_core.text import clear_caches

    corpus = real_texts()
    sample, _ = train_test_split(corpus, train_size=posts, stratify=corpus["label"],
                                 random_state=SEED)
    families = list(FAMILIES)
    warm_up(None)
    per_family: dict[str, Any] = {}
    for family in families:
        entry: dict[str, Any] = {}
        runs = {}
        for label, n_jobs in (("library_one_process", 1), ("plain_gridsearchcv", 0),
                              ("library_all_cores", None)):
            clear_caches()
            marks: list[float] = []
            cpu, start = tree_cpu_s(), time.perf_counter()
            if n_jobs == 0:
                check = plain_train_family(family, runs["library_one_process"])
            else:
                runs[label] = train_models(
                    sample, [family], grid="paper", seed=SEED, n_jobs=n_jobs,
                    progress=lambda f, m, marks=marks: marks.append(time.perf_counter()))
            seconds, cpu = time.perf_counter() - start, tree_cpu_s() - cpu
            entry[label] = {"seconds": round(seconds, 2), "cpu_s": round(cpu, 2)}
            if n_jobs != 0:
                gaps = np.diff([start, *marks])
                entry[label]["progress_calls"] = len(marks)
                entry[label]["longest_gap_between_progress_calls_s"] = round(
                    float(gaps.max()), 2)
        one, every = runs["library_one_process"].results[family], runs[
            "library_all_cores"].results[family]
        entry["same_as_plain"] = check["same_best_params"] and check["same_oof_probabilities"]
        entry["cores_give_same_results"] = (
            one.best_params == every.best_params
            and bool(np.array_equal(one.oof_proba, every.oof_proba))
            and bool(np.array_equal(one.test_proba, every.test_proba)))
        entry["best_params"] = one.best_params
        per_family[family] = entry
        print(f"  training {family:<20} " + "  ".join(
            f"{k} {entry[k]['seconds']:6.1f} s ({entry[k]['cpu_s']:6.1f} cpu s)"
            for k in ("library_one_process", "plain_gridsearchcv", "library_all_cores")),
            flush=True)
    totals = {k: {"seconds": round(sum(e[k]["seconds"] for e in per_family.values()), 1),
                  "cpu_s": round(sum(e[k]["cpu_s"] for e in per_family.values()), 1)}
              for k in ("library_one_process", "plain_gridsearchcv", "library_all_cores")}
    plain = totals["plain_gridsearchcv"]
    return {
        "posts": posts, "families": families, "grid": "paper",
        "method": "per family, interleaved: train_models([family], n_jobs=1); plain "
                  "GridSearchCV(refit=False) + cross_val_predict + final fit on the same "
                  "pipelines (this version's text features), folds and grid; "
                  "train_models([family], n_jobs=None). Seconds are wall time; cpu_s the CPU "
                  "time of this process and its worker processes",
        "totals": totals,
        "speedup_one_process_wall": round(plain["seconds"]
                                          / totals["library_one_process"]["seconds"], 2),
        "speedup_one_process_cpu": round(plain["cpu_s"]
                                         / totals["library_one_process"]["cpu_s"], 2),
        "speedup_all_cores_wall": round(plain["seconds"]
                                        / totals["library_all_cores"]["seconds"], 2),
        "all_same_as_plain": all(e["same_as_plain"] for e in per_family.values()),
        "all_cores_same": all(e["cores_give_same_results"] for e in per_family.values()),
        "per_family": per_family,
    }


# --- command line -------------------------------------------------------------------------------


def child(argv: list[str]) -> None:
    """Entry point of the fresh processes: print one JSON line."""
    kind, *args = argv
    if kind == "engine":
        result = run_engine(*args)
    else:
        model, corpus, rows = args
        result = run_naive(model, corpus, int(rows))
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--engines", nargs="+", choices=ENGINES, default=list(ENGINES))
    parser.add_argument("--corpora", nargs="+", choices=CORPORA, default=list(CORPORA))
    parser.add_argument("--part", choices=("all", "scoring", "training"), default="all")
    parser.add_argument("--train-posts", type=int, default=PAPER_SCALE)
    parser.add_argument("--out", default=str(RESULTS / "scale.json"))
    parser.add_argument("--merge", action="store_true",
                        help="keep the other part's results already in --out")
    parser.add_argument("--child", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    started = time.perf_counter()
    result: dict[str, Any] = {"benchmark": "scale", "date": utc_now(), "machine": machine(),
                              "parameters": {"sizes": args.sizes, "engines": args.engines,
                                             "corpora": args.corpora,
                                             "naive_rows": NAIVE_ROWS, "seed": SEED,
                                             "model": "logistic_regression, fast grid, trained "
                                                      "on the whole real corpus"}}
    result["load_average_before"] = [round(v, 2) for v in os.getloadavg()]
    if args.part in ("all", "scoring"):
        with tempfile.TemporaryDirectory(prefix="stigma-scale-") as folder:
            result["scoring"] = scoring_benchmark(args.sizes, Path(folder), args.engines,
                                                  args.corpora)
    if args.part in ("all", "training"):
        result["training"] = training_benchmark(args.train_posts)
    result["run_seconds"] = round(time.perf_counter() - started, 1)
    result["load_average_after"] = [round(v, 2) for v in os.getloadavg()]
    if args.merge and Path(args.out).is_file():
        kept = json.loads(Path(args.out).read_text())
        for part in ("scoring", "training"):
            if part not in result and part in kept:
                result[part] = kept[part]
                result[f"{part}_date"] = kept.get(f"{part}_date", kept.get("date"))
        if "scoring" in result and "scoring" in kept and result.get("scoring") is not kept[
                "scoring"]:
            # sizes run before (e.g. 100k and 1M) are kept beside the ones run now (5M)
            result["scoring"] = {**kept["scoring"], **result["scoring"]}
    for part in ("scoring", "training"):
        if part in result:
            result.setdefault(f"{part}_date", result["date"])
    write_json(result, Path(args.out))
    print(f"Wrote {args.out} ({result['run_seconds']:.0f} s)")


if __name__ == "__main__":
    main()

"""Coding database: the rater screen's round trip per post, and writes under 10 raters at once.

Two measurements, on SQLite (a file) and on PostgreSQL (the local server `make postgres`
starts; skipped with a note when none runs):

* **Round trip per post** — what one click on the rater screen costs in our compute: save the
  code (which, in the same transaction, adds a third rater or verifier when needed) and fetch
  the next post and the progress. Naive baseline in the same run: after each code, recompute
  the whole project's final labels to decide whether a third rater is needed (what a store
  without per-post escalation would do).
* **10 raters at once** — ten processes code their queues concurrently; throughput, per-code
  latency, and a check that no code was lost (codes stored == codes written).

Run: .venv/bin/python bench/coding.py  -> bench/results/coding.json
"""

from __future__ import annotations

import multiprocessing as mp
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from common import RESULTS, machine, utc_now, write_json
from sqlalchemy import create_engine, text

from stigma_core.coding.store import CodingStore

POSTS = 300
RATERS = tuple(f"R{i:02d}" for i in range(10))
OUT = RESULTS / "coding.json"


def _texts(n: int) -> list[str]:
    return [f"benchmark post {i}: people with psychosis are {('fine', 'dangerous')[i % 2]}"
            for i in range(n)]


def _project(url: str, raters: tuple[str, ...]) -> CodingStore:
    store = CodingStore(url)
    store.create_project("bench", seed=0)
    store.add_raters("bench", raters)
    store.add_posts("bench", _texts(POSTS))
    return store


def _percentiles(values: list[float]) -> dict[str, float]:
    ms = sorted(v * 1000 for v in values)
    return {"n": len(ms), "median_ms": round(statistics.median(ms), 2),
            "p95_ms": round(ms[int(0.95 * (len(ms) - 1))], 2), "max_ms": round(ms[-1], 2)}


def round_trip(url: str, naive: bool) -> dict[str, float]:
    """Seconds per click for rater R1 coding all of their posts (two raters in the project)."""
    store = _project(url, ("R1", "R2"))
    times = []
    item = store.next_item("bench", "R1")
    while item is not None:
        start = time.perf_counter()
        store.save_code("bench", "R1", item.assignment_id, item.post_id % 2)
        if naive:
            store.final_labels("bench")
        item = store.next_item("bench", "R1")
        store.progress("bench", "R1")
        times.append(time.perf_counter() - start)
    store.dispose()
    return _percentiles(times)


def _worker(url: str, rater: str, barrier: object, out: object) -> None:
    store = CodingStore(url)
    barrier.wait()
    latencies, start = [], time.perf_counter()
    while (item := store.next_item("bench", rater)) is not None:
        t0 = time.perf_counter()
        store.save_code("bench", rater, item.assignment_id, (item.post_id + len(rater)) % 2)
        latencies.append(time.perf_counter() - t0)
    out.put((rater, latencies, time.perf_counter() - start))
    store.dispose()


def concurrent(url: str) -> dict[str, object]:
    """Ten rater processes coding at once."""
    _project(url, RATERS).dispose()
    context = mp.get_context("spawn")
    barrier, out = context.Barrier(len(RATERS)), context.Queue()
    workers = [context.Process(target=_worker, args=(url, r, barrier, out)) for r in RATERS]
    for worker in workers:
        worker.start()
    results = [out.get(timeout=600) for _ in workers]
    for worker in workers:
        worker.join()
    latencies = [x for _, lat, _ in results for x in lat]
    wall = max(seconds for _, _, seconds in results)
    store = CodingStore(url)
    stored = len(store.codes("bench"))
    store.dispose()
    return {"raters": len(RATERS), "codes_written": len(latencies), "codes_stored": stored,
            "lost": len(latencies) - stored, "wall_s": round(wall, 2),
            "codes_per_s": round(len(latencies) / wall, 1), "save_latency": _percentiles(latencies)}


def page_round_trip(folder: Path, clicks: int = 40) -> dict[str, float]:
    """Seconds per click on the Coding page itself (AppTest: the whole page script reruns,
    app.py and sidebar included, as on the server; the browser's drawing is not included)."""
    import sys
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from app_support import open_app

    os.environ["STIGMA_CODING_DB"] = str(folder / "page.sqlite")
    os.environ.pop("DATABASE_URL", None)
    _project(f"sqlite:///{folder / 'page.sqlite'}", ("R1", "R2")).dispose()
    at = open_app("pages/coding.py")
    at.selectbox(key="coding_rater").set_value("R1").run()
    times = []
    for _ in range(clicks):
        start = time.perf_counter()
        at.button(key="code_btn_1").click().run()
        times.append(time.perf_counter() - start)
    return _percentiles(times)


def _postgres() -> tuple[str, str] | None:
    """(admin URL, fresh database name) when a local PostgreSQL answers."""
    admin = os.environ.get("STIGMA_TEST_POSTGRES", "postgresql+psycopg:///postgres")
    admin = admin.replace("postgresql://", "postgresql+psycopg://")
    try:
        engine = create_engine(admin, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return admin, engine
    except Exception:  # noqa: BLE001 - no server: the PostgreSQL rows are skipped
        return None


def _fresh_postgres(admin: str, engine: object) -> str:
    name = f"stigma_bench_{uuid.uuid4().hex[:10]}"
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    return f"{admin.rsplit('/', 1)[0]}/{name}"


def main() -> None:
    result = {"date": utc_now(), "machine": machine(), "posts": POSTS, "databases": {}}
    folder = Path(tempfile.mkdtemp())
    urls = {"sqlite": lambda: f"sqlite:///{folder / (uuid.uuid4().hex + '.sqlite')}"}
    server = _postgres()
    if server:
        urls["postgresql"] = lambda: _fresh_postgres(*server)
    else:
        result["note"] = "no PostgreSQL server answered; run `make postgres` first"
    for name, make_url in urls.items():
        ours = round_trip(make_url(), naive=False)
        naive = round_trip(make_url(), naive=True)
        result["databases"][name] = {
            "round_trip": ours, "naive_round_trip": naive,
            "naive_over_ours": round(naive["median_ms"] / ours["median_ms"], 1),
            "ten_raters": concurrent(make_url()),
        }
        print(name, result["databases"][name], flush=True)
    result["page_round_trip_sqlite"] = page_round_trip(folder)
    print("page", result["page_round_trip_sqlite"], flush=True)
    write_json(result, OUT)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()

"""Load: many browser sessions scoring at once — does the dashboard stay responsive, lose nothing?

A bounded load test against a local server only (127.0.0.1, a free port, stopped at the end):
``--sessions`` browser contexts (default 10, at most 20) each open the Prevalence page at the
same moment and press "Train the quick demo model" — which trains the quick model (shared,
``st.cache_resource``) and scores the sample corpus (5,742 posts, per session, since each
session's model has its own id) — then wait for the figures. Meanwhile an HTTP probe asks
``/_stcore/health`` every ``--probe-interval`` seconds. The whole run is capped by
``--budget`` seconds; whatever is not drawn by then counts as lost.

Measured per session: seconds from the burst's start to the Prevalence page drawn (button
shown), from the click to the scores drawn ("Posts scored" metric, script state notRunning),
and in all; whether it drew its figures (Plotly charts), how many posts it scored, and
whether an exception box appeared. The health probe's latencies (and failures) show how
responsive the server stays. Nothing is asserted: timings belong here, not in the tests
(tests/test_browser_privacy.py runs a small functional version: 3 sessions, no timings).

Run: .venv/bin/python bench/load.py [--sessions 10] [--budget 600]
     -> bench/results/load.json
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
for _path in (REPO, REPO / "tests", REPO / "bench"):  # not installed packages
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import numpy as np  # noqa: E402
import streamlit  # noqa: E402
from browser_support import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    free_port,
    start_dashboard,
    stop,
    wait_healthy,
)
from common import machine, utc_now, write_json  # noqa: E402
from playwright.async_api import async_playwright  # noqa: E402

OUT = REPO / "bench" / "results" / "load.json"
MAX_SESSIONS = 20
QUICK_MODEL = "Train the quick demo model on the synthetic sample"
DRAWN = '[data-testid="stApp"][data-test-script-state="notRunning"]'
SCREENSHOTS = REPO / "tests" / "artifacts"


def summary(values: list[float], digits: int = 3) -> dict[str, float | int] | None:
    """Median, p90, p99, min and max (rounded) with the sample size; None when empty."""
    if not values:
        return None
    ordered = np.sort(np.asarray(values, dtype=float))
    return {"median": round(float(np.median(ordered)), digits),
            "p90": round(float(np.percentile(ordered, 90)), digits),
            "p99": round(float(np.percentile(ordered, 99)), digits),
            "min": round(float(ordered[0]), digits), "max": round(float(ordered[-1]), digits),
            "n": int(ordered.size)}


def health_once(url: str, timeout: float) -> float | None:
    """Milliseconds for one health check; None when it failed or timed out."""
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=timeout) as reply:
            ok = reply.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None
    return (time.perf_counter() - start) * 1000 if ok else None


async def probe_health(url: str, interval: float, stop_event: asyncio.Event,
                       found: dict[str, list]) -> None:
    """Ask the health endpoint every ``interval`` seconds until told to stop."""
    while not stop_event.is_set():
        latency = await asyncio.to_thread(health_once, url, 5.0)
        found["latencies_ms" if latency is not None else "failures"].append(
            latency if latency is not None else time.monotonic())
        try:
            await asyncio.wait_for(stop_event.wait(), timeout=interval)
        except TimeoutError:
            pass


async def _journey(page: Any, url: str, start: asyncio.Event, t0: list[float],
                   result: dict[str, Any]) -> None:
    """Prevalence -> quick model -> scores and figures drawn, filling ``result``."""
    await start.wait()
    await page.goto(f"{url}/prevalence")
    button = page.get_by_role("button", name=QUICK_MODEL)
    await button.wait_for(state="visible")
    result["page_drawn_s"] = round(time.monotonic() - t0[0], 3)
    clicked = time.monotonic()
    await button.click()
    metric = page.get_by_test_id("stMetric").filter(has_text="Posts scored")
    await metric.wait_for(state="visible")
    await page.locator(DRAWN).wait_for(state="attached")
    await page.locator(".js-plotly-plot").first.wait_for(state="visible")
    done = time.monotonic()
    result["click_to_scores_s"] = round(done - clicked, 3)
    result["total_s"] = round(done - t0[0], 3)
    text = await metric.inner_text()
    posts = re.search(r"\d[\d,]*", text.split("\n", 1)[-1])
    result["posts_scored"] = int(posts.group(0).replace(",", "")) if posts else None
    result["plotly_charts"] = await page.locator(".js-plotly-plot").count()
    result["exceptions"] = await page.get_by_test_id("stException").count()
    result["drew_figures"] = result["plotly_charts"] > 0 and result["exceptions"] == 0


async def one_session(browser: Any, url: str, index: int, start: asyncio.Event,
                      t0: list[float], limit_s: float) -> dict[str, Any]:
    """One user in a fresh browser context; gives up (with a screenshot) after ``limit_s``
    seconds from the burst's start."""
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    page.set_default_timeout(limit_s * 1000)
    result: dict[str, Any] = {"session": index, "drew_figures": False}
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        await asyncio.wait_for(_journey(page, url, start, t0, result), timeout=limit_s)
        if index == 0:
            await page.screenshot(path=str(SCREENSHOTS / "load_session_0.png"))
    except Exception as err:  # noqa: BLE001 - a lost session is a result, not a crash
        result["error"] = f"{type(err).__name__}: {(str(err) or 'timed out').splitlines()[0]}"
        await page.screenshot(path=str(SCREENSHOTS / f"load_lost_{index}.png"))
    finally:
        await context.close()
    return result


async def warm_up(browser: Any, url: str) -> float:
    """One visit to the first page, as the first user after a server start makes: seconds
    until it is drawn."""
    context = await browser.new_context()
    page = await context.new_page()
    page.set_default_timeout(300_000)
    started = time.monotonic()
    await page.goto(url)
    await page.get_by_role("heading", name="In use: sample train.csv").wait_for()
    await page.locator(DRAWN).wait_for(state="attached")
    await context.close()
    return round(time.monotonic() - started, 3)


async def burst(url: str, sessions: int, budget_s: float, interval: float,
                cold: bool) -> dict[str, Any]:
    """Open every session at once, probe health meanwhile; all within ``budget_s``. Unless
    ``cold``, one visit to the first page comes before (the server has served someone)."""
    health: dict[str, list] = {"latencies_ms": [], "failures": []}
    idle = [latency for latency in (health_once(url, 5.0) for _ in range(20)) if latency]
    async with async_playwright() as driver:
        browser = await driver.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                               args=CHROMIUM_ARGS)
        version = browser.version
        warm_up_s = None if cold else await warm_up(browser, url)
        start, stop_probe, t0 = asyncio.Event(), asyncio.Event(), [0.0]
        probe = asyncio.create_task(probe_health(url, interval, stop_probe, health))
        own_limit_s = max(budget_s - 15.0, 10.0)  # give up, and say where, within the budget
        tasks = [asyncio.create_task(one_session(browser, url, i, start, t0, own_limit_s))
                 for i in range(sessions)]
        await asyncio.sleep(1.0)  # every context open before the burst
        t0[0] = time.monotonic()
        start.set()
        done, pending = await asyncio.wait(tasks, timeout=budget_s)
        for task in pending:
            task.cancel()
        wall = time.monotonic() - t0[0]
        stop_probe.set()
        await probe
        await browser.close()
    results = [task.result() if task in done else
               {"session": i, "error": "did not finish within the budget", "drew_figures": False}
               for i, task in enumerate(tasks)]
    return {"results": results, "wall_s": wall, "warm_up_s": warm_up_s,
            "health": health, "idle_health_ms": idle, "chromium": version}


def report(found: dict[str, Any], args: argparse.Namespace, log: Path) -> dict[str, Any]:
    """The JSON figures: per session, summaries, health during load, what was lost."""
    results = found["results"]
    drew = [r for r in results if r.get("drew_figures")]
    scored = {r.get("posts_scored") for r in drew}
    log_text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
    return {
        "benchmark": "load",
        "date": utc_now(),
        "machine": {**machine(), "streamlit": streamlit.__version__,
                    "chromium": found["chromium"], "load_average_at_start": os.getloadavg()},
        "parameters": {"sessions": args.sessions, "budget_s": args.budget, "cold": args.cold,
                       "probe_interval_s": args.probe_interval, "page": "Prevalence",
                       "action": QUICK_MODEL, "corpus": "sample_data/corpus.csv",
                       "server": "127.0.0.1, fresh process, fresh $HOME (empty caches); "
                       "unless cold, one visit to the first page before the burst"},
        "summary": {
            "sessions_drawn": len(drew),
            "sessions_lost": len(results) - len(drew),
            "every_session_drew_its_figures": len(drew) == args.sessions,
            "posts_scored_per_session": sorted(s for s in scored if s is not None),
            "warm_up_first_page_s": found["warm_up_s"],
            "burst_wall_s": round(found["wall_s"], 3),
            "page_drawn_s": summary([r["page_drawn_s"] for r in results
                                     if "page_drawn_s" in r]),
            "click_to_scores_s": summary([r["click_to_scores_s"] for r in drew]),
            "total_s": summary([r["total_s"] for r in drew]),
            "health_ms_idle": summary(found["idle_health_ms"], 1),
            "health_ms_during_load": summary(found["health"]["latencies_ms"], 1),
            "health_failures_during_load": len(found["health"]["failures"]),
            "server_tracebacks": log_text.count("Traceback"),
        },
        "sessions": results,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=10,
                        help=f"browser sessions at once (1-{MAX_SESSIONS}, default 10)")
    parser.add_argument("--budget", type=float, default=600.0,
                        help="seconds the burst may take before unfinished sessions count "
                        "as lost (default 600)")
    parser.add_argument("--probe-interval", type=float, default=0.25,
                        help="seconds between health checks (default 0.25)")
    parser.add_argument("--cold", action="store_true",
                        help="no visit before the burst: every session is among the server's "
                        "first (default: one visit to the first page first)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    args.sessions = max(1, min(args.sessions, MAX_SESSIONS))
    args.budget = max(30.0, min(args.budget, 1800.0))
    if not CHROMIUM.exists():
        sys.exit(f"Debian chromium not found at {CHROMIUM} (`make browser` installs it).")
    with tempfile.TemporaryDirectory(prefix="stigma-load-") as scratch:
        home, log = Path(scratch) / "home", Path(scratch) / "streamlit.log"
        home.mkdir()
        port = free_port()
        process = start_dashboard(port, log, home=home,
                                  env={"STIGMA_SESSION_DIR": str(Path(scratch) / "tabs")})
        try:
            url = f"http://127.0.0.1:{port}"
            wait_healthy(process, url)
            found = asyncio.run(burst(url, args.sessions, args.budget, args.probe_interval,
                                      args.cold))
        finally:
            stop(process)
        result = report(found, args, log)
    path = write_json(result, args.out)
    figures = result["summary"]
    print(f"{figures['sessions_drawn']}/{args.sessions} sessions drew their figures in "
          f"{figures['burst_wall_s']:.1f} s; click to scores "
          f"{figures['click_to_scores_s']}; health during load "
          f"{figures['health_ms_during_load']} ms ({figures['health_failures_during_load']} "
          f"failed).\nWritten: {path}")


if __name__ == "__main__":
    main()

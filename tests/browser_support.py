"""Helpers for the real-browser tests: run the dashboard on a free port, drive Debian Chromium.

Kept apart from the tests so bench/ can reuse them (e.g. to time a cold start).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "tests" / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
START_TIMEOUT_S = 60.0


def free_port() -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_dashboard(port: int, log_path: Path, home: Path | None = None,
                    env: dict[str, str] | None = None) -> subprocess.Popen:
    """The dashboard (`python -m dashboard.serve`, as `make run`) headless on `port`, output
    to `log_path`.

    `home` replaces $HOME for the server, and with it Streamlit's disk cache (~/.streamlit);
    `env` adds variables (e.g. STIGMA_CODING_DB, the coding database to use).
    """
    command = [
        sys.executable, "-m", "dashboard.serve",
        "--server.headless", "true", "--server.port", str(port),
        "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
    ]
    log = log_path.open("w")
    return subprocess.Popen(command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, "PYTHONUNBUFFERED": "1",
                                 **({"HOME": str(home)} if home else {}), **(env or {})})


def wait_healthy(process: subprocess.Popen, url: str, timeout: float = START_TIMEOUT_S) -> float:
    """Seconds until `url`/_stcore/health answers ok; RuntimeError if the server dies or hangs."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {process.returncode} before it was up")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                if reply.status == 200:
                    return time.monotonic() - start
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise RuntimeError(f"streamlit did not answer {url}/_stcore/health within {timeout:.0f} s")


def stop(process: subprocess.Popen) -> None:
    """Stop the server we started (terminate, then kill if it lingers)."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def choose_fast_models(page: object) -> None:
    """On Model lab: families logistic regression and naive Bayes only, the small grids."""
    families = page.get_by_test_id("stMultiSelect").first
    families.get_by_role("button", name="Clear all").click()
    for label in ("Logistic regression", "Naive Bayes"):
        families.get_by_role("combobox").fill(label)
        page.get_by_role("option", name=label).first.click()
    page.keyboard.press("Escape")
    page.get_by_text("Small grids (quick)").click()


def require_chromium() -> None:
    """Skip when Debian Chromium is missing; under CI=true that is a failure, never a skip."""
    import pytest

    if not CHROMIUM.exists():
        reason = f"Debian chromium not found at {CHROMIUM} (install it with `make browser`)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)


@contextmanager
def running_dashboard(log_name: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """The dashboard on a free port (its log in tests/artifacts/``log_name``), its URL
    yielded; always stopped afterwards."""
    require_chromium()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    port = free_port()
    process = start_dashboard(port, ARTIFACTS / log_name, env=env)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(process, url)
        yield url
    finally:
        stop(process)


@contextmanager
def chromium_browser() -> Iterator[object]:
    """Debian Chromium, headless, driven by Playwright; closed afterwards."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                         args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def settle(tab: object, timeout_ms: int = 60_000, pause_ms: int = 500) -> None:
    """Wait until the script has finished its run, then ``pause_ms`` for the page to draw."""
    from playwright.sync_api import expect

    expect(tab.locator('[data-testid="stApp"][data-test-script-state="notRunning"]')
           ).to_be_attached(timeout=timeout_ms)
    tab.wait_for_timeout(pause_ms)


def go_to(tab: object, name: str, timeout_ms: int = 60_000) -> None:
    """Open a page through the sidebar navigation (keeps the session)."""
    from playwright.sync_api import expect

    tab.get_by_test_id("stSidebarNav").get_by_role("link", name=name).click()
    expect(tab.get_by_role("heading", name=name, exact=True)).to_be_visible()
    settle(tab, timeout_ms)

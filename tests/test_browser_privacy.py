"""Real-browser privacy checks: `streamlit run app.py` driven with Debian Chromium (Playwright).

- Presenter mode survives a reload and a page switch (it lives in the URL), also when the
  reload is the first visit to a freshly started server; while it is on the Data page shows
  no post text and no profile location.
- The chosen model survives a reload (a per-tab token in the URL names its file on the server).
- Two browsers uploading different files each see only their own data.
- Three browsers scoring at once all get their result, with no exception (the bounded load
  test with timings is bench/load.py; no timing is asserted here).
Screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import browser_support as support
import pandas as pd
import pytest
from browser_support import (
    ARTIFACTS,
    chromium_browser,
    free_port,
    running_dashboard,
    start_dashboard,
    stop,
    wait_healthy,
)

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

pytestmark = pytest.mark.browser
TIMEOUT_MS = 120_000
expect.set_options(timeout=60_000)  # busy 2-core machine; speed is measured in bench/, not here
SAMPLE_POST = "Does anyone know a good therapist near Toronto?"  # first post of sample train.csv
SAMPLE_LOCATION = "Melbourne, Victoria"  # its author's profile location
QUICK_MODEL = "Train the quick demo model on the synthetic sample"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The dashboard on a free port, with its own folder for the tabs' model files."""
    tabs = tmp_path_factory.mktemp("tabs")
    with running_dashboard("streamlit_privacy.log", env={"STIGMA_SESSION_DIR": str(tabs)}
                           ) as url:
        yield url


@pytest.fixture(scope="module")
def browser(server: str) -> Iterator[object]:
    """One Chromium; each test opens its own contexts (separate browsers, as far as the
    server can tell: no shared cookies or storage)."""
    with chromium_browser() as chromium:
        yield chromium


def new_tab(browser: object) -> object:
    """A page in a fresh browser context."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    tab.set_default_timeout(TIMEOUT_MS)
    return tab


def settle(tab: object) -> None:
    """Wait until the script has finished its run and the page has drawn."""
    support.settle(tab, TIMEOUT_MS)


def presenter_switch(tab: object) -> object:
    """The sidebar's presenter toggle (its state; click its label to switch it)."""
    return tab.get_by_test_id("stSidebar").get_by_role("switch", name="Presenter mode")


def preview_cells(tab: object) -> tuple[list[str], list[str]]:
    """Column headers and cell texts of the Data page's preview (its accessible table)."""
    grid = tab.get_by_test_id("stDataFrame").last
    expect(grid.locator("table td").first).to_be_attached()
    return grid.locator("table th").all_text_contents(), grid.locator(
        "table td").all_text_contents()


def shot(tab: object, name: str, show: object | None = None) -> None:
    """A screenshot under tests/artifacts/, scrolled to ``show`` when given (the app scrolls
    inside its own container, so a full-page shot shows only the top)."""
    if show is not None:
        show.scroll_into_view_if_needed()
        tab.wait_for_timeout(500)
    tab.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_presenter_mode_survives_a_reload_and_a_page_switch(browser, server) -> None:
    tab = new_tab(browser)
    try:
        tab.goto(server)
        expect(tab.get_by_role("heading", name="In use: sample train.csv")).to_be_visible()
        settle(tab)
        headers, cells = preview_cells(tab)
        assert "text" in headers and any(SAMPLE_POST in c for c in cells)  # shown before
        tab.get_by_test_id("stSidebar").get_by_text("Presenter mode").click()
        expect(tab.get_by_text("Presenter mode: post text is hidden")).to_be_visible()
        settle(tab)
        assert "presenter_mode=true" in tab.url
        tab.reload()
        expect(tab.get_by_role("heading", name="In use: sample train.csv")).to_be_visible()
        settle(tab)
        expect(presenter_switch(tab)).to_be_checked()
        expect(tab.get_by_text("Presenter mode: post text is hidden")).to_be_visible()
        headers, cells = preview_cells(tab)
        assert not {"text", "location", "id"} & set(headers) and "platform" in headers
        assert not any(SAMPLE_POST in c or SAMPLE_LOCATION in c for c in cells)
        assert SAMPLE_POST not in tab.get_by_test_id("stMain").inner_text()
        shot(tab, "6_presenter_after_reload", tab.get_by_test_id("stDataFrame").last)
        tab.get_by_test_id("stSidebarNav").get_by_role("link", name="Report").click()
        expect(tab.get_by_role("heading", name="Report", exact=True)).to_be_visible()
        settle(tab)
        expect(presenter_switch(tab)).to_be_checked()
        assert "presenter_mode=true" in tab.url and "/report" in tab.url
        expect(tab.get_by_text("Presenter mode is on")).to_be_visible()
        shot(tab, "6_presenter_report")
    finally:
        tab.context.close()


def test_a_reload_after_a_server_restart_keeps_presenter_mode(browser, tmp_path) -> None:
    """The first session of a fresh server opens a deep link (a reload after a restart):
    the page still runs inside app.py, with its sidebar, and presenter mode is on."""
    port = free_port()
    process = start_dashboard(port, ARTIFACTS / "streamlit_privacy_fresh.log",
                              env={"STIGMA_SESSION_DIR": str(tmp_path / "tabs")})
    tab = None
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(process, url)
        tab = new_tab(browser)
        tab.goto(f"{url}/data?presenter_mode=true")
        expect(tab.get_by_role("heading", name="In use: sample train.csv")).to_be_visible()
        settle(tab)
        expect(presenter_switch(tab)).to_be_checked()
        expect(tab.get_by_test_id("stSidebarNav").get_by_role("link", name="Model lab")
               ).to_be_visible()  # app.py's navigation, not the bare pages/ folder
        headers, cells = preview_cells(tab)
        assert "text" not in headers and "location" not in headers
        assert not any(SAMPLE_POST in c for c in cells)
        shot(tab, "6_presenter_fresh_server", tab.get_by_test_id("stDataFrame").last)
    finally:
        if tab is not None:
            tab.context.close()
        stop(process)


def test_the_chosen_model_survives_a_reload(browser, server) -> None:
    tab = new_tab(browser)
    try:
        tab.goto(f"{server}/prevalence")
        tab.get_by_role("button", name=QUICK_MODEL).click()
        expect(tab.get_by_test_id("stMetric").filter(has_text="Posts scored")).to_be_visible()
        settle(tab)
        expect(tab.get_by_test_id("stSidebar")).to_contain_text("quick default")
        assert re.search(r"[?&]tab=[0-9a-f]{32}", tab.url), tab.url
        tab.reload()
        expect(tab.get_by_test_id("stMetric").filter(has_text="Posts scored")).to_be_visible()
        settle(tab)
        expect(tab.get_by_test_id("stSidebar")).to_contain_text(
            "Model: Logistic regression (fast reference), quick default")
        expect(tab.get_by_role("button", name=QUICK_MODEL)).to_have_count(0)
        shot(tab, "6_model_after_reload")
    finally:
        tab.context.close()


def _upload(tab: object, server: str, path: Path) -> None:
    """Data page -> My own file -> upload -> load with the guessed mapping."""
    tab.goto(server)
    expect(tab.get_by_role("heading", name="In use: sample train.csv")).to_be_visible()
    settle(tab)
    tab.get_by_text("My own file").click()
    settle(tab)
    tab.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(path))
    tab.get_by_role("button", name="Load with this mapping").click()
    expect(tab.get_by_role("heading", name=f"In use: {path.name}")).to_be_visible()
    settle(tab)


def _posts(word: str, n: int = 12) -> pd.DataFrame:
    """Posts that each carry a word no other upload has."""
    return pd.DataFrame({
        "text": [f"{word} post {i}: people with depression deserve support and care"
                 for i in range(n)],
        "label": [i % 2 for i in range(n)],
        "user_location": [f"{word}ville {i}" for i in range(n)],
    })


def test_two_browsers_with_different_uploads_never_see_each_other(browser, server,
                                                                  tmp_path) -> None:
    files = {}
    for word in ("Alphaword", "Betaword"):
        files[word] = tmp_path / f"{word.lower()}.csv"
        _posts(word).to_csv(files[word], index=False)
    tabs = {word: new_tab(browser) for word in files}
    try:
        for word, tab in tabs.items():  # one after the other: both sessions stay open
            _upload(tab, server, files[word])
        for word, tab in tabs.items():  # each session runs again after both uploads
            nav = tab.get_by_test_id("stSidebarNav")
            nav.get_by_role("link", name="Report").click()
            expect(tab.get_by_role("heading", name="Report", exact=True)).to_be_visible()
            nav.get_by_role("link", name="Data").click()
            expect(tab.get_by_role("heading", name=f"In use: {files[word].name}")).to_be_visible()
            settle(tab)
        for word, tab in tabs.items():
            other = next(w for w in files if w != word)
            sidebar = tab.get_by_test_id("stSidebar")
            expect(sidebar).to_contain_text(f"{files[word].name} — 12 rows, 12 labelled")
            assert files[other].name not in sidebar.inner_text()
            headers, cells = preview_cells(tab)
            assert sum(c.startswith(f"{word} post") for c in cells) == 12, cells
            assert not any(other in c for c in cells)
            assert other not in tab.get_by_test_id("stMain").inner_text()
            shot(tab, f"7_isolated_{word.lower()}", tab.get_by_test_id("stDataFrame").last)
    finally:
        for tab in tabs.values():
            tab.context.close()


def _score_in_own_browser(server: str, index: int) -> dict[str, object]:
    """One user: open Prevalence, train the quick model, wait for the scores."""
    with chromium_browser() as chromium:
        tab = chromium.new_page(viewport={"width": 1400, "height": 1000})
        tab.set_default_timeout(TIMEOUT_MS * 2)
        tab.goto(f"{server}/prevalence")
        tab.get_by_role("button", name=QUICK_MODEL).click()
        scored = tab.get_by_test_id("stMetric").filter(has_text="Posts scored")
        expect(scored).to_be_visible(timeout=TIMEOUT_MS * 2)
        settle(tab)
        expect(tab.locator(".js-plotly-plot").first).to_be_visible(timeout=TIMEOUT_MS * 2)
        result = {"posts": scored.inner_text(),
                  "exceptions": tab.get_by_test_id("stException").count(),
                  "plots": tab.locator(".js-plotly-plot").count()}
        tab.screenshot(path=str(ARTIFACTS / f"8_concurrent_{index}.png"))
        return result


def test_three_browsers_scoring_at_once_all_get_their_result(server) -> None:
    with ThreadPoolExecutor(max_workers=3) as pool:  # Playwright's sync API: one per thread
        results = list(pool.map(lambda i: _score_in_own_browser(server, i), range(3)))
    for result in results:
        assert result["exceptions"] == 0
        assert re.search(r"\d[\d,]+", str(result["posts"]))
        assert result["plots"] >= 1
    assert len({r["posts"] for r in results}) == 1  # the same corpus, scored alike

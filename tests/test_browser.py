"""Real-browser test: `streamlit run app.py`, driven with Debian Chromium through Playwright.

One journey, as a first-time user would take it: Data (sample loaded) -> Model lab (train two
fast models, move the cost slider, keep the model) -> Prevalence (the maps and charts draw,
offline) -> Report (the HTML report downloads). Screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import browser_support as support
import pytest
from browser_support import (
    ARTIFACTS,
    choose_fast_models,
    chromium_browser,
    running_dashboard,
)

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

pytestmark = pytest.mark.browser
TIMEOUT_MS = 60_000
# A page's first visit imports its modules; on a busy 2-core machine that can pass Playwright's
# 5 s default. How fast pages open is measured in bench/cold_start.py, not asserted here.
expect.set_options(timeout=30_000)


@pytest.fixture(scope="module")
def dashboard_url() -> Iterator[str]:
    """The dashboard running on a free port; always stopped afterwards."""
    with running_dashboard("streamlit.log") as url:
        yield url


@pytest.fixture(scope="module")
def page(dashboard_url: str) -> Iterator[object]:
    """One Chromium page for the whole journey (the session state must carry over)."""
    with chromium_browser() as browser:
        context = browser.new_context(viewport={"width": 1400, "height": 1000},
                                      accept_downloads=True)
        tab = context.new_page()
        tab.set_default_timeout(TIMEOUT_MS)
        yield tab


def go_to(tab: object, name: str) -> None:
    """Open a page through the sidebar navigation (keeps the session)."""
    support.go_to(tab, name, TIMEOUT_MS)


def settle(tab: object) -> None:
    """Wait until the script has finished its run and the page has drawn."""
    support.settle(tab, TIMEOUT_MS)


def shot(tab: object, name: str) -> None:
    """A full-page screenshot under tests/artifacts/."""
    tab.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_first_visit_data_page_shows_the_sample(page: object, dashboard_url: str) -> None:
    page.goto(dashboard_url)
    expect(page.get_by_role("heading", name="In use: sample train.csv")).to_be_visible()
    settle(page)
    expect(page.get_by_text("800 rows, 800 labelled")).to_be_visible()
    expect(page.get_by_test_id("stMetric").filter(has_text="Posts kept")).to_contain_text("800")
    expect(page.get_by_test_id("stDataFrame").first).to_be_visible()
    shot(page, "1_data")


def test_model_lab_trains_and_the_cost_slider_moves_the_counts(page: object) -> None:
    go_to(page, "Model lab")
    choose_fast_models(page)
    page.get_by_role("button", name="Train", exact=True).click()
    expect(page.get_by_role("heading", name="Compare the models")).to_be_visible()
    settle(page)
    expect(page.locator(".js-plotly-plot").first).to_be_visible()
    model = page.get_by_test_id("stSelectbox").filter(has_text="Model")
    box = model.get_by_role("combobox")
    box.scroll_into_view_if_needed()
    page.wait_for_timeout(500)  # let the charts above finish resizing before clicking
    box.click()
    page.get_by_role("option", name="Logistic regression (fast reference)").click()
    settle(page)
    missed = page.get_by_test_id("stMetric").filter(has_text="Missed stigmatising posts")
    before = missed.inner_text()
    page.get_by_role("slider").focus()
    for _ in range(5):  # 5 -> 10: a miss now costs ten false alarms
        page.keyboard.press("ArrowRight")
    settle(page)
    expect(missed).not_to_have_text(before)
    expect(page.get_by_text("For every 100 posts, your team reviews about")).to_be_visible()
    page.get_by_label(re.compile("^Who made this choice")).fill("browser test group")
    page.get_by_role("button", name="Use this model and threshold").click()
    expect(page.get_by_text("are now in use")).to_be_visible()
    settle(page)
    expect(page.get_by_test_id("stSidebar")).to_contain_text(
        "Logistic regression (fast reference) at threshold")
    shot(page, "2_model_lab")


def test_prevalence_draws_the_maps_offline(page: object) -> None:
    go_to(page, "Prevalence")
    expect(page.get_by_test_id("stMetric").filter(has_text="Posts scored")).to_be_visible()
    page.get_by_role("tab", name="Countries").click()
    choropleth = page.locator(".js-plotly-plot .choroplethlocation")
    expect(choropleth.first).to_be_attached()
    assert choropleth.count() > 20  # country shapes came from static/, not a CDN
    expect(page.get_by_text("Greyed out, fewer than 30 posts")).to_be_visible()
    assert page.get_by_test_id("stDeckGlJsonChart").count() == 0  # its own tab, drawn there
    shot(page, "3_prevalence_countries")
    world = page.locator(".js-plotly-plot").filter(has=page.locator(".choroplethlocation"))
    world.screenshot(path=str(ARTIFACTS / "3_choropleth.png"))
    page.get_by_role("tab", name="Column map").click()
    deck = page.get_by_test_id("stDeckGlJsonChart")
    expect(deck.locator("canvas").first).to_be_visible()
    assert page.locator(".choroplethlocation").count() == 0
    expect(page.get_by_role("img", name=re.compile("^Colour key: 0% to"))).to_be_visible()
    shot(page, "3_prevalence_column_map")
    deck.scroll_into_view_if_needed()
    page.wait_for_timeout(1500)  # deck.gl draws on the next animation frames
    deck.screenshot(path=str(ARTIFACTS / "3_pydeck.png"))
    page.get_by_role("tab", name="Overview").click()
    expect(page.locator(".js-plotly-plot").first).to_be_visible()
    shot(page, "3_prevalence_overview")


def test_report_builds_and_downloads(page: object) -> None:
    go_to(page, "Report")
    page.get_by_role("button", name="Build the report").click()
    expect(page.get_by_text("Report ready")).to_be_visible()
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download the HTML report").click()
    path = download_info.value.path()
    html = open(path, encoding="utf-8").read()
    assert "<h2>Model card and decision</h2>" in html and "Prevalence" in html
    shot(page, "4_report")
    saved = ARTIFACTS / "report.html"
    saved.write_text(html, encoding="utf-8")
    opened = page.context.new_page()  # the file alone, as a funder would open it, offline
    try:
        opened.goto(saved.as_uri())
        expect(opened.locator("figure.chart img").first).to_be_visible()  # static SVG figures
        assert opened.locator("figure.chart img").count() >= 3
        expect(opened.get_by_role("heading", name="Model card and decision")).to_be_visible()
        opened.screenshot(path=str(ARTIFACTS / "4_report_file.png"), full_page=True)
    finally:
        opened.close()

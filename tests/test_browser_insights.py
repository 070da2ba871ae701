"""Real-browser test of the Insights page: `streamlit run app.py`, Debian Chromium through
Playwright, on the sample corpus, in normal and presenter mode. Screenshots go to
tests/artifacts/ (7_insights_*.png) for a person to look at.
"""

from __future__ import annotations

from collections.abc import Iterator

import browser_support as support
import pytest
from browser_support import (
    ARTIFACTS,
    chromium_browser,
    running_dashboard,
)

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

pytestmark = pytest.mark.browser
TIMEOUT_MS = 90_000
expect.set_options(timeout=60_000)  # a first visit imports scikit-learn and clusters the posts


@pytest.fixture(scope="module")
def dashboard_url() -> Iterator[str]:
    """The dashboard on a free port of its own; always stopped afterwards."""
    with running_dashboard("streamlit_insights.log") as url:
        yield url


@pytest.fixture(scope="module")
def page(dashboard_url: str) -> Iterator[object]:
    """One Chromium tab for both modes (the session carries over)."""
    with chromium_browser() as browser:
        # tall: Streamlit scrolls inside its own pane, so a screenshot shows one viewport
        context = browser.new_context(viewport={"width": 1400, "height": 2600})
        tab = context.new_page()
        tab.set_default_timeout(TIMEOUT_MS)
        yield tab


def settle(tab: object) -> None:
    """Wait until the script has finished its run and the page has drawn."""
    support.settle(tab, TIMEOUT_MS, pause_ms=800)


def open_tab(tab: object, name: str) -> None:
    """Click one of the page's tabs and let its charts draw."""
    tab.get_by_role("tab", name=name).click()
    tab.wait_for_timeout(800)


def shot(tab: object, name: str) -> None:
    tab.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_insights_on_the_sample_corpus(page: object, dashboard_url: str) -> None:
    page.goto(dashboard_url)
    settle(page)
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Insights").click()
    expect(page.get_by_role("heading", name="Insights", exact=True)).to_be_visible()
    settle(page)
    charts = page.locator(".js-plotly-plot")
    expect(charts.first).to_be_visible()
    expect(page.get_by_text("Where the talk sits: domain (n = 5,742 posts)")).to_be_visible()
    expect(page.get_by_text("never infers gender, age or any other trait")).to_be_visible()
    shot(page, "7_insights_overview")
    open_tab(page, "Platforms")
    expect(page.get_by_text("The domain mix does not clearly differ across platforms")
           ).to_be_visible()
    shot(page, "7_insights_platforms")
    open_tab(page, "Segments")
    expect(page.get_by_text("segments (the number with the best silhouette")).to_be_visible()
    examples = page.get_by_text("Example posts nearest each segment's centre")
    expect(examples).to_be_visible()
    examples.click()
    expect(page.get_by_test_id("stText").first).to_be_visible()
    shot(page, "7_insights_segments")
    open_tab(page, "What to do")
    expect(page.get_by_text("Awareness vs actionable advice by domain")).to_be_visible()
    expect(page.get_by_text("help-seeking posts, grouped by the question-topic")).to_be_visible()
    shot(page, "7_insights_what_to_do")


def test_presenter_mode_hides_the_example_posts(page: object) -> None:
    page.get_by_test_id("stSidebar").get_by_text("Presenter mode").click()
    settle(page)
    open_tab(page, "Segments")
    expect(page.get_by_text("Presenter mode: example posts are hidden.")).to_be_visible()
    assert page.get_by_text("Example posts nearest each segment's centre").count() == 0
    assert page.get_by_test_id("stText").count() == 0
    shot(page, "7_insights_presenter_segments")
    open_tab(page, "What to do")
    expect(page.get_by_text("Presenter mode: examples hidden.")).to_be_visible()
    shot(page, "7_insights_presenter_what_to_do")


def test_taggers_trained_on_a_coding_project(page: object, dashboard_url: str) -> None:
    """A coding project's settled domain/theme codes train the taggers; the page says so."""
    import os

    import pandas as pd
    from browser_support import REPO

    from stigma_core import insights
    from stigma_core.coding.store import CodingStore

    coded = pd.read_csv(REPO / "sample_data" / "train.csv", keep_default_na=False)
    coded = coded.assign(domain=insights.normalise_tags(coded["domain"], "domain"),
                         theme=insights.normalise_tags(coded["theme"], "theme"))
    coded = coded.groupby(["domain", "theme"]).head(6).reset_index(drop=True)
    truth = {t.strip(): (d, h) for t, d, h in coded[["text", "domain", "theme"]].itertuples(
        index=False)}
    store = CodingStore(f"sqlite:///{os.environ['STIGMA_CODING_DB']}")  # the server's too
    store.create_project("Browser codes", verify_share=0.0, schemes=["domain", "theme"])
    store.add_raters("Browser codes", ["R1", "R2"])
    store.add_posts("Browser codes", coded["text"])
    for rater in ("R1", "R2"):
        for item in store.queue("Browser codes", rater):
            domain, theme = truth[item.text]
            store.save_code("Browser codes", rater, item.assignment_id, 0, domain=domain,
                            theme=theme)
    n = len(store.scheme_labels("Browser codes", "domain"))
    store.dispose()
    tab = page.context.browser.new_context(viewport={"width": 1400, "height": 2600}).new_page()
    tab.set_default_timeout(TIMEOUT_MS)
    tab.goto(dashboard_url)
    settle(tab)
    tab.get_by_test_id("stSidebarNav").get_by_role("link", name="Insights").click()
    expect(tab.get_by_text("Tags from the word lists")).to_be_visible()
    settle(tab)
    open_tab(tab, "Word lists and coding")
    expect(tab.get_by_text(f"domain {n:,} posts, theme {n:,} posts")).to_be_visible()
    tab.get_by_role("button", name="Train the taggers on this project").click()
    expect(tab.get_by_text(f"Domain: a tagger trained on {n:,} coded posts from coding "
                           "project 'Browser codes'", exact=False)).to_be_visible()
    settle(tab)
    open_tab(tab, "Word lists and coding")
    expect(tab.get_by_text("Domain tagger", exact=False).first).to_be_visible()
    shot(tab, "7_insights_trained_from_project")
    tab.context.close()

"""Real-browser test of the Validation page's audit sections: the flagged-posts browser marks
the words behind each call, presenter mode hides the posts, the fairness chart draws.
Screenshots go to tests/artifacts/ (7_validation_*.png)."""

from __future__ import annotations

from collections.abc import Iterator

import browser_support as support
import pytest
from browser_support import ARTIFACTS, choose_fast_models, chromium_browser, running_dashboard

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

pytestmark = pytest.mark.browser
TIMEOUT_MS = 90_000
expect.set_options(timeout=60_000)


@pytest.fixture(scope="module")
def page() -> Iterator[object]:
    """The dashboard with the fast models trained and logistic regression in use."""
    with running_dashboard("streamlit_validation.log") as url, chromium_browser() as browser:
        tab = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        tab.set_default_timeout(TIMEOUT_MS)
        tab.goto(url)
        support.settle(tab, TIMEOUT_MS)
        support.go_to(tab, "Model lab", TIMEOUT_MS)
        choose_fast_models(tab)
        tab.get_by_role("button", name="Train", exact=True).click()
        expect(tab.get_by_role("heading", name="Compare the models")).to_be_visible()
        support.settle(tab, TIMEOUT_MS)
        model = tab.get_by_test_id("stSelectbox").filter(has_text="Model")
        model.get_by_role("combobox").scroll_into_view_if_needed()
        tab.wait_for_timeout(500)
        model.get_by_role("combobox").click()
        tab.get_by_role("option", name="Logistic regression (fast reference)").click()
        support.settle(tab, TIMEOUT_MS)
        tab.get_by_label("Who made this choice", exact=False).fill("browser test group")
        tab.get_by_role("button", name="Use this model and threshold").click()
        expect(tab.get_by_text("are now in use")).to_be_visible()
        support.go_to(tab, "Validation", TIMEOUT_MS)
        yield tab


def test_flagged_posts_browser_marks_the_words_behind_each_call(page: object) -> None:
    heading = page.get_by_role("heading", name="Why the model flags posts")
    expect(heading).to_be_visible()
    marks = page.locator("mark")
    expect(marks.first).to_be_visible()
    assert "stigmatising" in marks.first.get_attribute("title")
    heading.scroll_into_view_if_needed()
    page.wait_for_timeout(800)
    page.screenshot(path=str(ARTIFACTS / "7_validation_terms.png"))
    page.get_by_text("Flagged posts:").scroll_into_view_if_needed()
    page.mouse.wheel(0, 250)
    page.wait_for_timeout(800)
    page.screenshot(path=str(ARTIFACTS / "7_validation_flagged.png"))
    fairness = page.get_by_role("heading", name="Fairness: does the model miss more stigma in "
                                               "some groups?")
    fairness.scroll_into_view_if_needed()
    chart = page.locator(".js-plotly-plot").last
    expect(chart).to_be_visible()
    chart.scroll_into_view_if_needed()
    page.wait_for_timeout(800)
    page.screenshot(path=str(ARTIFACTS / "7_validation_fairness.png"))


def test_presenter_mode_hides_the_flagged_posts(page: object) -> None:
    page.get_by_test_id("stSidebar").get_by_text("Presenter mode").click()
    support.settle(page, TIMEOUT_MS)
    expect(page.get_by_text("Flagged posts are hidden in presenter mode")).to_be_visible()
    # the previous run's marked posts leave the page once the presenter run has replaced them
    expect(page.locator("mark")).to_have_count(0, timeout=TIMEOUT_MS)
    page.get_by_text("Flagged posts are hidden in presenter mode").scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    page.screenshot(path=str(ARTIFACTS / "7_validation_presenter.png"))

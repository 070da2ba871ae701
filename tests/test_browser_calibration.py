"""Model lab in a real browser: the reliability diagram and Brier table draw (screenshot)."""

from __future__ import annotations

import pytest
from browser_support import (
    ARTIFACTS,
    choose_fast_models,
    chromium_browser,
    running_dashboard,
    settle,
)

pytestmark = pytest.mark.browser


def test_reliability_diagram_draws_in_the_browser() -> None:
    from playwright.sync_api import expect

    with running_dashboard("calibration_server.log") as url, chromium_browser() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url)
        settle(page)
        page.get_by_test_id("stSidebarNav").get_by_role("link", name="Model lab").click()
        expect(page.get_by_role("heading", name="Model lab", exact=True)).to_be_visible(
            timeout=60_000)
        settle(page)
        choose_fast_models(page)
        page.get_by_role("button", name="Train", exact=True).click()
        heading = page.get_by_role("heading", name="Can the probabilities be taken at their word?")
        expect(heading).to_be_visible(timeout=120_000)
        settle(page)
        plot = page.locator(".js-plotly-plot").filter(
            has_text="Do the model's probabilities come true?")
        plot.scroll_into_view_if_needed()
        expect(plot).to_be_visible()
        expect(plot.locator(".scatterlayer .trace")).to_have_count(3)  # diagonal + 2 models
        expect(page.get_by_text("Brier score (95% CI; lower is better)")).to_be_attached()
        page.wait_for_timeout(800)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        heading.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "model_lab_calibration.png"))
        workload = page.get_by_text("Measured on 160 held-out test posts")
        workload.scroll_into_view_if_needed()
        expect(workload).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "model_lab_workload.png"))

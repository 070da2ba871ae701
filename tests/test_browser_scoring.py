"""Prevalence in a real browser with the background path forced on the sample corpus: the
progress bar and Cancel button, then the results (screenshots in tests/artifacts/)."""

from __future__ import annotations

import pytest
from browser_support import ARTIFACTS, chromium_browser, running_dashboard, settle

pytestmark = pytest.mark.browser


def test_background_scoring_shows_progress_then_results() -> None:
    from playwright.sync_api import expect

    env = {"STIGMA_BACKGROUND_ROWS": "1000", "STIGMA_SCORING_CHUNK_ROWS": "300"}
    with running_dashboard("browser_scoring.log", env=env) as url, \
            chromium_browser() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url)
        settle(page)
        page.get_by_test_id("stSidebarNav").get_by_role("link", name="Prevalence").click()
        settle(page)
        page.get_by_role("button", name="Train the quick demo model").click()
        cancel = page.get_by_role("button", name="Cancel scoring")
        expect(cancel).to_be_visible(timeout=120_000)
        expect(page.get_by_text("in the background")).to_be_visible()
        expect(page.get_by_test_id("stProgress")).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "8_prevalence_scoring_progress.png"))
        expect(page.get_by_text("Posts scored").first).to_be_visible(timeout=180_000)
        settle(page)
        assert page.get_by_role("button", name="Cancel scoring").count() == 0
        page.screenshot(path=str(ARTIFACTS / "8_prevalence_scored.png"))

"""Prevalence in a real browser with the background path forced on the sample corpus: the
progress bar and Cancel button, then the results (screenshots in tests/artifacts/)."""

from __future__ import annotations

import re

import pytest
from browser_support import ARTIFACTS, chromium_browser, running_dashboard, settle

pytestmark = pytest.mark.browser


def test_background_scoring_shows_progress_then_results() -> None:
    from playwright.sync_api import expect

    # 100 posts a step and a 0.4 s pause after each: about 23 s for the sample corpus on any
    # machine (it scores in well under a second on a quiet one), so the panel can be watched
    env = {"STIGMA_BACKGROUND_ROWS": "1000", "STIGMA_SCORING_CHUNK_ROWS": "100",
           "STIGMA_SCORING_STEP_PAUSE_S": "0.4"}
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
        expect(page.get_by_text(re.compile(r"Scored [1-9][0-9,]* of 5,742"))).to_be_visible()
        # the bar shows whole percents: it moves once 58 of the 5,742 posts are scored
        bar = page.get_by_role("progressbar").first
        expect(bar).not_to_have_attribute("aria-valuenow", "0", timeout=30_000)
        assert int(bar.get_attribute("aria-valuenow")) > 0
        page.screenshot(path=str(ARTIFACTS / "8_prevalence_scoring_progress.png"))
        cancel.click()
        expect(page.get_by_text("Scoring was cancelled")).to_be_visible(timeout=30_000)
        assert page.get_by_text("Posts scored").count() == 0  # nothing scored before
        page.get_by_role("button", name="Score this corpus again").click()
        expect(page.get_by_text("Posts scored").first).to_be_visible(timeout=180_000)
        settle(page)
        assert page.get_by_role("button", name="Cancel scoring").count() == 0
        page.screenshot(path=str(ARTIFACTS / "8_prevalence_scored.png"))

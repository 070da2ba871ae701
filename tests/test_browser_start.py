"""A fresh server whose first sessions all start at the same instant on deep links (a room of
people reloading ``/report?presenter_mode=true`` after a restart): every one of them gets the
app's frame — the sidebar navigation and the presenter switch, on — never a bare page file.

Streamlit runs a bare page file, without app.py, for sessions that start before app.py's
``st.navigation`` has run once, because a ``pages/`` folder sits beside app.py (its old
multipage mode); the server is started by ``python -m dashboard.serve``, which turns that mode
off before the first session.
"""

from __future__ import annotations

import pytest
from browser_support import (
    ARTIFACTS,
    chromium_browser,
    free_port,
    require_chromium,
    start_dashboard,
    stop,
    wait_healthy,
)

pytestmark = pytest.mark.browser
SESSIONS = 5
TIMEOUT_MS = 90_000


def test_sessions_starting_with_a_fresh_server_all_get_the_app_frame(tmp_path) -> None:
    from playwright.sync_api import expect

    require_chromium()
    port = free_port()
    process = start_dashboard(port, ARTIFACTS / "streamlit_start.log",
                              env={"STIGMA_SESSION_DIR": str(tmp_path / "tabs")})
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(process, url)
        with chromium_browser() as browser:
            tabs = [browser.new_context().new_page() for _ in range(SESSIONS)]
            for tab, page in zip(tabs, ["report", "prevalence", "data", "insights", "report"],
                                 strict=True):
                tab.goto(f"{url}/{page}?presenter_mode=true", wait_until="commit")
            for tab in tabs:
                expect(tab.get_by_test_id("stSidebarNav").get_by_role("link", name="Model lab")
                       ).to_be_visible(timeout=TIMEOUT_MS)
                expect(tab.get_by_role("switch", name="Presenter mode")).to_be_checked(
                    timeout=TIMEOUT_MS)
    finally:
        stop(process)

"""Tabs that draw only the open one.

Plain ``st.tabs`` runs and sends every tab's content on each rerun, and the browser draws it
all when the page opens: on Prevalence that meant two maps drawn for a tab nobody looked at,
on Insights some fifteen charts (bench/tab_switch.py). Here a tab's view runs only while it is
open; switching tabs reruns just the tabs (a fragment), not the page above them. The open tab
is remembered under ``key`` in the session, so a test can open one by setting it.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st


@st.fragment
def lazy_tabs(views: dict[str, Callable[[], None]], key: str) -> None:
    """Tabs named by ``views``' keys; only the open tab's view (its value) is called."""
    tabs = st.tabs(list(views), key=key, on_change="rerun")
    for tab, draw in zip(tabs, views.values(), strict=True):
        if tab.open:
            with tab:
                draw()

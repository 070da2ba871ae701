"""The one-click start of a coding project, shared by Model lab and Prevalence."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from dashboard import cached, state


def start_coding(project: str, texts: Sequence[str], n: int, why: str) -> None:
    """Draw ``n`` random posts of ``texts`` into ``project`` (created with raters R1-R3 if
    new), make it the open project, and go to the Coding page saying ``why``."""
    from stigma_core.coding.store import DEFAULT_RATERS

    store = cached.current_coding_store()
    project = project[:200]
    added = store.draw_into(project, texts, n)
    state.put(state.CODING_PROJECT, project)
    state.flash(f"Project {project!r} holds {added} more random posts for raters "
                f"{', '.join(DEFAULT_RATERS)} (add or rename raters under Set up). {why}")
    st.switch_page("pages/coding.py")

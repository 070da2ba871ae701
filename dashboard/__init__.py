"""The dashboard's UI helpers: session state, cached library calls, figure builders.

Pages import from here and from ``stigma_core``; nothing in ``stigma_core`` imports this.
"""

from __future__ import annotations


def _run_every_page_through_app_py() -> None:
    """Make a page opened straight from its URL run inside app.py, even on a fresh server.

    Why: because a ``pages/`` folder sits beside app.py, Streamlit's first session after a
    server start that asks for a page other than the first (a bookmark, or a reload of
    ``/report?presenter_mode=true`` after a restart) runs that page's file alone, the old
    multipage way: no sidebar, no presenter or privacy switch, no sample data — raw posts
    on a projector. Streamlit switches to app.py's ``st.navigation`` only once app.py has run
    in some session. Every page imports this package first, so here the old way is turned
    off for good and the page asks for a rerun, which Streamlit now sends through app.py to
    the same page. (Sessions whose first run had already started the old way, at the very
    same moment, stay so until their next click; ``state.presenter`` reads the URL for them.)
    """
    from streamlit.runtime.pages_manager import PagesManager

    if not PagesManager.uses_pages_directory:
        return
    PagesManager.uses_pages_directory = False
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    if get_script_run_ctx() is not None:
        import streamlit as st

        st.rerun()


_run_every_page_through_app_py()

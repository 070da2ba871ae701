"""Start the dashboard: ``python -m dashboard.serve [streamlit options]`` (what ``make run``
and the browser tests do) — ``streamlit run app.py`` with Streamlit's old ``pages/`` folder
mode turned off before the first session.

Why: a ``pages/`` folder sits beside app.py (the house layout), so Streamlit treats the app
as an old-style multipage app until app.py's ``st.navigation`` has run once in some session.
Sessions of a fresh server that start at that same moment on a deep link (a room reloading
``/report?presenter_mode=true`` after a restart) would run the bare page file: no sidebar, no
presenter switch, raw posts on a projector. Setting the flag here, in the server's own process
before it accepts a connection, closes that window (``tests/test_browser_start.py``).
``dashboard/__init__.py`` still corrects it for servers started with plain ``streamlit run``.
"""

from __future__ import annotations

import sys
from pathlib import Path

APP = Path(__file__).resolve().parents[1] / "app.py"


def main(options: list[str] | None = None) -> None:
    """Run the dashboard server with ``options`` (``--server.port 8501``...)."""
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.web import cli

    PagesManager.uses_pages_directory = False
    sys.argv = ["streamlit", "run", str(APP), *(sys.argv[1:] if options is None else options)]
    cli.main()


if __name__ == "__main__":
    main()

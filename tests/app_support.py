"""Helpers for the AppTest page tests: open the dashboard, train the fast models, read state."""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # the dashboard package sits beside app.py, not installed
    sys.path.insert(0, str(REPO))
APP = REPO / "app.py"
TIMEOUT_S = 240  # first runs load the samples and fit models on 2 cores
FAST_FAMILIES = ["logistic_regression", "naive_bayes"]


def _run_app_py_every_time() -> None:
    """Make AppTest run app.py on every rerun, as the live server does.

    AppTest (Streamlit 1.67) resets ``PagesManager.uses_pages_directory`` before each run,
    and because a ``pages/`` folder exists it then takes the legacy multipage path, which
    runs only the current page file from the second run on: app.py (sidebar, sample
    loading) would be skipped. The live server sets the flag to False once st.navigation
    has run; this does the same for every PagesManager AppTest builds.
    """
    original = PagesManager.__init__
    if getattr(original, "runs_app_py", False):
        return

    def init(self: PagesManager, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    init.runs_app_py = True
    PagesManager.__init__ = init


_run_app_py_every_time()


def open_app(page: str | None = None) -> AppTest:
    """The dashboard after its first run (sample data loaded), optionally on another page."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT_S).run()
    assert not at.exception, [e.value for e in at.exception]
    if page:
        at.switch_page(page).run()
        assert not at.exception, [e.value for e in at.exception]
    return at


def open_tab(at: AppTest, key: str, name: str) -> AppTest:
    """Open the page's tab ``name`` (``dashboard.tabs.lazy_tabs`` under ``key``), as a click on
    it would: only the open tab is drawn."""
    at.session_state[key] = name
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def train_fast(at: AppTest) -> AppTest:
    """On Model lab: train logistic regression and naive Bayes with the small grids."""
    at.switch_page("pages/model_lab.py").run()
    at.multiselect(key="lab_families").set_value(FAST_FAMILIES)
    at.radio(key="lab_grid").set_value("fast")
    at.button(key="lab_train").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def use_model(at: AppTest, decided_by: str = "test advisory group") -> AppTest:
    """On Model lab after training: record who decided, and keep the model shown."""
    at.text_input(key="decided_by").input(decided_by).run()
    at.button(key="lab_use").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(elements: object) -> list[str]:
    """The `.value` of each element (markdown, captions, errors...)."""
    return [str(e.value) for e in elements]


def sidebar_text(at: AppTest) -> str:
    """Everything the sidebar's markdown says, joined."""
    return "\n".join(texts(at.sidebar.markdown))


def metric(at: AppTest, label: str) -> str:
    """The value shown by the st.metric with this label."""
    return next(m.value for m in at.metric if m.label == label)


def _typed_arrays(value: object) -> object:
    """Plotly's JSON with its base64 typed arrays ({"dtype", "bdata"}) turned back into lists."""
    if isinstance(value, dict):
        if set(value) >= {"dtype", "bdata"}:
            flat = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
            return flat.reshape(value["shape"]).tolist() if "shape" in value else flat.tolist()
        return {k: _typed_arrays(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_typed_arrays(v) for v in value]
    return value


def figures(at: AppTest) -> list[go.Figure]:
    """Every Plotly figure on the page, decoded (numbers as plain lists again)."""
    return [go.Figure(_typed_arrays(json.loads(chart.proto.spec)))
            for chart in at.get("plotly_chart")]

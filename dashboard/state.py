"""Every session-state key the dashboard uses lives here, with small typed accessors.

Why one place: pages share the loaded dataset, the training run, the chosen model and the
privacy switches; naming the keys once keeps pages from drifting apart or clobbering each other.
Widgets that matter to one page only use keys prefixed with that page's name (``lab_``,
``prev_``, ``val_``, ``rep_``, ``data_``, ``map_``, ``code_``).
"""

from __future__ import annotations

import uuid
from typing import Any

import pandas as pd
import streamlit as st

from stigma_core.privacy import mask_series

# Data: the labelled set models learn from, and the corpus the chosen model scores.
DATASET = "dataset"
DATASET_NAME = "dataset_name"
CORPUS = "corpus"
CORPUS_NAME = "corpus_name"
# Models: the last training run, and the model chosen (trained here or loaded from a file).
RUN = "training_run"
MODEL = "model"
MODEL_NAME = "model_name"
MODEL_ID = "model_id"
# Location -> country corrections typed on the Prevalence page.
OVERRIDES = "location_overrides"
# The last HTML report built on the Report page.
REPORT = "report_html"
# A message to show once after a rerun (e.g. "dataset loaded").
FLASH = "flash"
# Coding: the project open on the Coding page and who is coding on this browser.
CODING_PROJECT = "coding_project"
CODING_RATER = "coding_rater"

# Widget keys shared across pages; widgets use persist_state="session" so values survive a
# page switch, and DEFAULTS as their starting values.
PRESENTER = "presenter_mode"
PRIVACY = "privacy_mode"
COST_RATIO = "cost_ratio"
DECIDED_BY = "decided_by"
DEFAULTS: dict[str, Any] = {
    PRESENTER: False,
    PRIVACY: True,
    COST_RATIO: 5,
    DECIDED_BY: "",
}
TEXT_COLUMNS = ("text", "post", "snippet")


def get(key: str, default: Any = None) -> Any:
    """The session value under `key` (one of this module's constants)."""
    return st.session_state.get(key, default)


def put(key: str, value: Any) -> None:
    """Store `value` under `key` (one of this module's constants)."""
    st.session_state[key] = value


def set_frame(key: str, name_key: str, frame: pd.DataFrame, name: str) -> None:
    """Make `frame` the current training set or corpus, under a display name."""
    st.session_state[key] = frame
    st.session_state[name_key] = name


def set_model(bundle: Any, name: str) -> None:
    """Make `bundle` the chosen model; the id keys every cache that depends on it."""
    st.session_state[MODEL] = bundle
    st.session_state[MODEL_NAME] = name
    st.session_state[MODEL_ID] = uuid.uuid4().hex


def presenter() -> bool:
    """True when no raw post may appear on screen or in a report."""
    return bool(st.session_state.get(PRESENTER, False))


def privacy() -> bool:
    """True when handles, URLs and e-mails are masked in every post shown or exported."""
    return bool(st.session_state.get(PRIVACY, True))


def visible_posts(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` as it may be shown: text dropped in presenter mode, masked in privacy mode."""
    text_cols = [c for c in frame.columns if str(c).lower() in TEXT_COLUMNS]
    if presenter():
        return frame.drop(columns=text_cols)
    if not privacy():
        return frame
    return frame.assign(**{col: mask_series(frame[col]) for col in text_cols})


def flash(message: str) -> None:
    """Queue a success message for the next run (after st.rerun)."""
    st.session_state[FLASH] = message


def show_flash() -> None:
    """Show the queued message once, as a success note."""
    message = st.session_state.pop(FLASH, None)
    if message:
        st.success(message)

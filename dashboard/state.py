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

from stigma_core.privacy import drop_personal_text, mask_frame, post_identifier_columns

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
# Prevalence: the background scoring of a big corpus (dashboard/scoring.py) and the last
# corpus scored to the end ((key, frame)), shown while a new scoring runs or if it is cancelled.
SCORING_JOB = "prev_scoring_job"
SCORED_LAST = "prev_scored_last"
# The last HTML report built on the Report page.
REPORT = "report_html"
# A message to show once after a rerun (e.g. "dataset loaded").
FLASH = "flash"
# Coding: the project open on the Coding page and who is coding on this browser.
CODING_PROJECT = "coding_project"
CODING_RATER = "coding_rater"
# Insights: words added to the lexicon this session (kind -> class -> {term: weight}), trained
# taggers ({"id", "domain", "theme"}), and which tags are used ("lexicon" or "trained" widget).
INSIGHT_TERMS = "ins_added_terms"
INSIGHT_TAGGERS = "ins_taggers"
INSIGHT_SOURCE = "ins_source"
# Surviving a browser reload (dashboard/resume.py): this tab's token (also in the URL), the
# id of the model last written under it, and whether this session has read the URL yet.
TAB_TOKEN = "tab_token"
SAVED_MODEL_ID = "saved_model_id"
RESUMED = "resumed_from_url"

# Widget keys shared across pages; widgets use persist_state="session" so values survive a
# page switch, and DEFAULTS as their starting values. The presenter toggle is also bound to
# the URL (?presenter_mode=true), so presenter mode survives a browser reload.
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
    """True when no raw post may appear on screen or in a report.

    Read from the sidebar toggle; when it has not been drawn in this session (a page run on
    its own before app.py, see dashboard/__init__.py), from the URL, where the toggle keeps
    presenter mode (``?presenter_mode=true``), so a reload never shows raw posts by mistake.
    """
    if PRESENTER in st.session_state:
        return bool(st.session_state[PRESENTER])
    return str(st.query_params.get(PRESENTER, "")).lower() in ("true", "1")


def privacy() -> bool:
    """True when handles, URLs and e-mails are masked in every post shown or exported."""
    return bool(st.session_state.get(PRIVACY, True))


def visible_posts(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` as it may be shown on screen, put in a report or downloaded.

    Presenter mode drops the post, every column of free text about a person (location,
    bio, author...: ``privacy.personal_text_columns`` states the rule) and what leads to the
    original post (its id, exact times: ``privacy.post_identifier_columns``). Privacy mode masks
    handles, e-mails, links and phone numbers in every text column that is left, not only
    the post: a profile can name a person as well as a post can.
    """
    if presenter():
        frame = drop_personal_text(frame, also=post_identifier_columns(frame))
    if privacy():
        frame = mask_frame(frame)
    return frame


def flash(message: str) -> None:
    """Queue a success message for the next run (after st.rerun)."""
    st.session_state[FLASH] = message


def show_flash() -> None:
    """Show the queued message once, as a success note."""
    message = st.session_state.pop(FLASH, None)
    if message:
        st.success(message)

"""What survives a browser reload: presenter mode, and the chosen model.

Why: Streamlit keeps a session's state only while the browser tab stays connected; a reload
starts a fresh session. Two things must not be lost that way. Presenter mode, or a projector
would suddenly show raw posts: its sidebar toggle is bound to the URL (``bind="query-params"``
in app.py, ``?presenter_mode=true``), which Streamlit keeps across page switches and reloads.
And the chosen model (minutes of training and an advisory group's decision): it is written,
as a model file (``persist.to_bytes``: skops, trusted types only), to a private folder on the
server, named by a random token this tab carries in its URL (``?tab=<32 hex digits>``). After
a reload the token finds the file and the model is opened again with ``persist.from_bytes``
and all its checks.

What does not survive: uploaded posts and training runs. Posts are personal data and are never
written to disk by the dashboard; after a reload the sample data opens again. The privacy
switch returns to on, its safe default. Anyone holding a tab's full URL on the same server gets
its model (not its posts); model files older than ``KEEP_DAYS`` are deleted.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from pathlib import Path

import streamlit as st

from dashboard import state

TOKEN_PARAM = "tab"
TOKEN_RE = re.compile(r"[0-9a-f]{32}")
STORE_ENV = "STIGMA_SESSION_DIR"
KEEP_DAYS = 7


def store_dir() -> Path:
    """The private folder holding the tabs' model files (``$STIGMA_SESSION_DIR`` when set)."""
    configured = os.environ.get(STORE_ENV)
    folder = Path(configured) if configured else (
        Path(tempfile.gettempdir()) / f"stigma-lens-tabs-{os.getuid()}")
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def _model_path(token: str) -> Path:
    """Where the model of the tab with this (checked) token is kept."""
    return store_dir() / f"{token}.skops"


def _name_path(token: str) -> Path:
    """Where the display name of that model is kept."""
    return store_dir() / f"{token}.name"


def _url_token() -> str | None:
    """The token in this tab's URL, when it is well formed (nothing else names a file)."""
    token = st.query_params.get(TOKEN_PARAM)
    return token if isinstance(token, str) and TOKEN_RE.fullmatch(token) else None


def _tab_token() -> str:
    """This tab's token: the one it came with, or a new random one."""
    token = state.get(state.TAB_TOKEN)
    if token is None:
        token = _url_token() or os.urandom(16).hex()
        state.put(state.TAB_TOKEN, token)
    return token


def restore() -> None:
    """Once per session, before any page draws: reopen the model this tab's URL names.

    A missing, stale or damaged file is not an error the user must act on: the model is
    simply not restored (a damaged one says so once).
    """
    if state.get(state.RESUMED):
        return
    state.put(state.RESUMED, True)
    token = _url_token()
    if token is None or state.get(state.MODEL) is not None:
        return
    state.put(state.TAB_TOKEN, token)
    path = _model_path(token)
    if not path.is_file():
        return
    from stigma_core import persist
    from stigma_core.errors import ModelError
    try:
        bundle = persist.from_bytes(path.read_bytes())
    except ModelError:
        state.flash("The model chosen before the reload could not be reopened; choose it again.")
        return
    name_file = _name_path(token)
    name = name_file.read_text(encoding="utf-8") if name_file.is_file() else "model"
    state.set_model(bundle, name)
    state.put(state.SAVED_MODEL_ID, state.get(state.MODEL_ID))


def _write_atomically(path: Path, data: bytes) -> None:
    """Write through a temporary file of this write's own, so a reload never reads half a
    model and two runs of one session writing at once never rename each other's file away
    (a shared ``.part`` name gave a FileNotFoundError when a user clicked on quickly)."""
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=path.name + ".",
                                     suffix=".part", delete=False) as partial:
        partial.write(data)
    os.replace(partial.name, path)


def _forget_old_files() -> None:
    """Delete tab files not written for ``KEEP_DAYS`` days."""
    cutoff = time.time() - KEEP_DAYS * 86400
    for path in store_dir().iterdir():
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except OSError:  # another server process may have removed it first
            continue


def remember() -> None:
    """On every run: keep this tab's model on disk (once per new model) and its token in the
    URL (page switches may drop query parameters that no widget is bound to)."""
    model_id = state.get(state.MODEL_ID)
    if model_id is None:
        return
    token = _tab_token()
    if state.get(state.SAVED_MODEL_ID) != model_id:
        from stigma_core import persist
        from stigma_core.errors import ModelError
        try:
            data = persist.to_bytes(state.get(state.MODEL))
        except ModelError:  # an unsaveable model still works in this session
            return
        _forget_old_files()
        _write_atomically(_model_path(token), data)
        _write_atomically(_name_path(token), str(state.get(state.MODEL_NAME)).encode("utf-8"))
        state.put(state.SAVED_MODEL_ID, model_id)
    if st.query_params.get(TOKEN_PARAM) != token:
        st.query_params[TOKEN_PARAM] = token

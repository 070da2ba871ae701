"""Data page: load a coded training set or a corpus to score, map its columns, see what was kept."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import cached, state
from stigma_core import io
from stigma_core.errors import CorpusError

ROLES = {
    "Coded training set (to train models)": (state.DATASET, state.DATASET_NAME),
    "Corpus to score (for prevalence)": (state.CORPUS, state.CORPUS_NAME),
}
SAMPLES = {
    "Coded training set — 800 posts, two raters each": cached.SAMPLE_TRAIN,
    "Corpus to score — 5,934 posts from many countries": cached.SAMPLE_CORPUS,
}
UPLOAD_TYPES = ["csv", "tsv", "txt", "json", "jsonl", "ndjson", "parquet", "xlsx"]
FIELDS = {
    "text": "Post text (required)",
    "label": "Label: 1 stigmatising, 0 not",
    "location": "User location (free text)",
    "country": "Country (code or name)",
    "platform": "Platform",
    "date": "Date",
    "retweet": "Retweet flag",
    "id": "Post id",
    "lang": "Language code (e.g. en; blank: detected)",
}
DROP_REASONS = {
    "empty_text": "Empty posts",
    "other_language": "Not in English",
    "duplicate_rows": "Exact duplicate rows",
}
NONE = "— none —"
PREVIEW_ROWS = 50


def pick_sample(key: str, name_key: str) -> None:
    """Choose one of the sample files; the button makes it current."""
    label = st.selectbox("Sample file", list(SAMPLES), key="data_sample")
    if st.button("Use this sample", key="data_use_sample"):
        filename = SAMPLES[label]
        state.set_frame(key, name_key, cached.load_sample(filename), f"sample {filename}")
        state.flash(f"Loaded the sample {filename}.")
        st.rerun()


def _choice(columns: list[str], field: str, guess: str | None, file_id: str) -> str | None:
    """One mapping selectbox, pre-filled with the guessed column."""
    options = [NONE, *columns]
    index = options.index(guess) if guess in options else 0
    picked = st.selectbox(FIELDS[field], options, index=index, key=f"map_{field}_{file_id}")
    return None if picked == NONE else picked


def mapping_form(raw: pd.DataFrame, file_id: str) -> tuple[dict, str | None, bool] | None:
    """The column mapping (guesses pre-filled); returns it once the user presses Load."""
    guess = io.guess_mapping(list(raw.columns))
    columns = [str(c) for c in raw.columns]
    with st.form(f"mapping_{file_id}"):
        st.markdown("**Which column holds what?** Our guesses are filled in; fix any wrong.")
        left, right = st.columns(2)
        mapping = {}
        for i, field in enumerate(FIELDS):
            with left if i % 2 == 0 else right:
                mapping[field] = _choice(columns, field, getattr(guess, field), file_id)
        mapping["raters"] = st.multiselect(
            "Rater columns (one per rater, 1/0 codes)", columns, default=guess.raters)
        mapping["groups"] = st.multiselect(
            "Other group columns (e.g. topic)", columns, default=guess.groups)
        english = st.checkbox(
            "Keep only English posts", value=True,
            help="Uses the language column where it gives a code; detects the rest offline.")
        dedupe = st.checkbox("Drop exact duplicate rows", value=True)
        if not st.form_submit_button("Load with this mapping", type="primary"):
            return None
    return mapping, ("en" if english else None), dedupe


def upload(key: str, name_key: str) -> None:
    """Upload a file, map its columns, and make it current; the old data stays on failure."""
    uploaded = st.file_uploader(
        "A CSV, TSV, JSON/JSONL, Parquet or Excel file", type=UPLOAD_TYPES, key="data_upload")
    if uploaded is None:
        return
    try:
        raw = cached.read_upload(uploaded.getvalue(), uploaded.name)
    except CorpusError as err:
        st.error(f"{err}\n\nThe data loaded before stays in use.")
        return
    st.caption(f"{uploaded.name}: {len(raw):,} rows, {raw.shape[1]} columns.")
    submitted = mapping_form(raw, uploaded.file_id)
    if submitted is None:
        return
    mapping, language, dedupe = submitted
    try:
        frame = cached.canonicalise(raw, mapping, language, dedupe)
    except CorpusError as err:
        st.error(f"{err}\n\nThe data loaded before stays in use.")
        return
    state.set_frame(key, name_key, frame, uploaded.name)
    state.flash(f"Loaded {uploaded.name}: {len(frame):,} posts kept.")
    st.rerun()


def kept_and_dropped(report: dict) -> None:
    """What the loader kept and dropped, and why, in counts."""
    a, b, c = st.columns(3)
    a.metric("Rows read", f"{report['n_input']:,}")
    b.metric("Posts kept", f"{report['n_kept']:,}")
    c.metric("Rows dropped", f"{report['n_input'] - report['n_kept']:,}")
    dropped = pd.DataFrame(
        [(DROP_REASONS.get(k, k), v) for k, v in report["dropped"].items()],
        columns=["Reason dropped", "Rows"],
    )
    st.table(dropped.set_index("Reason dropped"))
    for note in report.get("notes", []):
        st.caption(note)


def current(key: str, name_key: str) -> None:
    """Summary, column list and preview of the current data in this role."""
    frame = state.get(key)
    if frame is None:
        st.info("Nothing loaded in this role yet.")
        return
    st.subheader(f"In use: {state.get(name_key)}")
    report = frame.attrs.get("load_report")
    if report:
        kept_and_dropped(report)
    if "label" in frame:
        labelled = frame["label"].dropna()
        share = labelled.mean() if len(labelled) else float("nan")
        st.write(f"{len(labelled):,} labelled posts; {share:.0%} coded stigmatising "
                 f"(n = {len(labelled):,}).")
    st.caption("Columns: " + ", ".join(map(str, frame.columns)))
    shown = state.visible_posts(frame.head(PREVIEW_ROWS))
    st.markdown(f"**Preview** (first {len(shown):,} of {len(frame):,} rows)")
    if state.presenter():
        st.caption("Presenter mode: post text is hidden, and so are profile columns (location, "
                   "bio, author...).")
    st.dataframe(shown, hide_index=True, column_config=date_columns(shown))


def date_columns(frame: pd.DataFrame) -> dict[str, object]:
    """Column settings that show dates without a time where every value of a date-time column
    falls at midnight (a file that held dates only)."""
    config = {}
    for column in frame.columns:
        times = frame[column].dropna() if pd.api.types.is_datetime64_any_dtype(
            frame[column]) else ()
        if len(times) and (times == times.dt.normalize()).all():
            config[column] = st.column_config.DatetimeColumn(format="YYYY-MM-DD")
    return config


st.title("Data")
st.write("Load the posts to work on — a coded set to train models on, or a corpus to score — "
         "and see what was kept, what was dropped and why.")
state.show_flash()
role = st.radio("Load as", list(ROLES), horizontal=True, key="data_role")
role_key, role_name_key = ROLES[role]
source = st.radio("From", ["A sample file", "My own file"], horizontal=True, key="data_source")
if source == "A sample file":
    pick_sample(role_key, role_name_key)
else:
    upload(role_key, role_name_key)
cached.open_sample(role_key)
current(role_key, role_name_key)

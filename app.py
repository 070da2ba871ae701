"""Stigma Lens dashboard — entry point: `python -m dashboard.serve` (`make run`), which is
`streamlit run app.py` with one start-up fix (see dashboard/serve.py).

Sets up the shared frame (page navigation, the sidebar with the current dataset and model,
presenter and privacy switches) and opens on the sample data, so a first-time visitor sees
real results without uploading anything. Each page lives in pages/ and holds layout only.
Presenter mode and the chosen model survive a browser reload (dashboard/resume.py): both are
restored here, before any page draws.
"""

from __future__ import annotations

import streamlit as st

from dashboard import cached, resume, state

PAGES = [
    st.Page("pages/data.py", title="Data", icon=":material/table_view:", default=True),
    st.Page("pages/coding.py", title="Coding", icon=":material/rate_review:"),
    st.Page("pages/features.py", title="Features", icon=":material/query_stats:"),
    st.Page("pages/model_lab.py", title="Model lab", icon=":material/model_training:"),
    st.Page("pages/validation.py", title="Validation", icon=":material/fact_check:"),
    st.Page("pages/prevalence.py", title="Prevalence", icon=":material/public:"),
    st.Page("pages/insights.py", title="Insights", icon=":material/insights:"),
    st.Page("pages/report.py", title="Report", icon=":material/summarize:"),
]


# A kept model flagging at least this share of test posts is called out on every page (one
# slider move can make a model that flags everything, and later pages showed it silently).
# (A comment, not a docstring: Streamlit's magic would draw a bare string in app.py.)
FLAGS_NEARLY_ALL = 0.9


def _dataset_lines() -> list[str]:
    """Plain lines describing the loaded training set, corpus and model."""
    lines = []
    dataset = state.get(state.DATASET)
    if dataset is not None:
        labelled = int(dataset["label"].notna().sum()) if "label" in dataset else 0
        lines.append(
            f"**Training set:** {state.get(state.DATASET_NAME)} — {len(dataset):,} rows, "
            f"{labelled:,} labelled"
        )
    corpus = state.get(state.CORPUS)
    if corpus is not None:
        lines.append(f"**Corpus:** {state.get(state.CORPUS_NAME)} — {len(corpus):,} rows")
    else:
        lines.append(f"**Corpus:** sample {cached.SAMPLE_CORPUS}, opened when a page needs it")
    model = state.get(state.MODEL_NAME)
    lines.append(f"**Model:** {model}" if model else "**Model:** none yet (train one in Model lab)")
    flagged = _flagged_share(state.get(state.MODEL))
    if flagged is not None and flagged >= FLAGS_NEARLY_ALL:
        lines.append(f":warning: This model flags {flagged:.0%} of all its test posts "
                     "(stigmatising or not): nearly every post is called stigmatising. Its "
                     "figures say little; a lower cost ratio in Model lab gives a model that "
                     "tells posts apart.")
    return lines


def _flagged_share(bundle: object) -> float | None:
    """The share of held-out test posts the kept model flags (from its model file)."""
    share = ((getattr(bundle, "metrics", None) or {}).get("predicted_positive_share") or {})
    value = share.get("value") if isinstance(share, dict) else None
    return None if value is None else float(value)


def sidebar() -> None:
    """The shared sidebar: what is loaded, and the presenter and privacy switches."""
    with st.sidebar:
        for line in _dataset_lines():
            st.markdown(line)
        st.toggle(
            "Presenter mode",
            key=state.PRESENTER,
            value=state.DEFAULTS[state.PRESENTER],
            persist_state="session",
            bind="query-params",  # kept in the URL, so a reload keeps presenter mode on
            help="Hide every raw post and profile (location, bio, author): tables show "
            "counts, charts and no free text about a person. Stays on after a reload.",
        )
        st.toggle(
            "Mask handles, links, e-mails and phone numbers",
            key=state.PRIVACY,
            value=state.DEFAULTS[state.PRIVACY],
            persist_state="session",
            help="@handles become @user, links <url>, e-mail addresses <email> and phone "
            "numbers <phone> in every column shown or exported (posts, locations, bios...).",
        )
        st.caption("Sample posts are synthetic. Nothing leaves this computer.")


st.set_page_config(page_title="Stigma Lens", page_icon=":material/search:", layout="wide")
resume.restore()
resume.remember()
cached.open_sample(state.DATASET)
cached.prepare_places_later()
navigation = st.navigation(PAGES)
sidebar()
navigation.run()

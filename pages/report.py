"""Report page: one downloadable HTML report of this analysis, and the scored posts as files."""

from __future__ import annotations

import time
from datetime import datetime

import pandas as pd
import streamlit as st

from dashboard import cached, report, state
from stigma_core import export
from stigma_core.errors import CorpusError, ModelError

REPORT_SECONDS = "rep_build_seconds"
REPORT_MODES = "rep_built_modes"  # (presenter, privacy) the kept report was built with


def scored_or_none() -> pd.DataFrame | None:
    """The scored corpus when a model and a corpus are loaded, else None (with a note)."""
    if state.get(state.MODEL) is None:
        st.info("No model is chosen yet, so the report has no prevalence section and there are "
                "no scored posts to download. Choose one in Model lab or on Prevalence.")
        return None
    try:
        return cached.scored_corpus(cached.open_sample(state.CORPUS))
    except (CorpusError, ModelError) as err:
        st.error(str(err))
        return None


def build_report(scored: pd.DataFrame | None, title: str, min_n: int) -> None:
    """Render the report from the session's results and keep it for the download button."""
    started = time.perf_counter()
    with st.spinner("Building the report (the figures are drawn by the browser engine: a few "
                    "seconds)…"):
        html = report.render_html(
            report.sections(scored, min_n), title=title, created=datetime.now(),
            presenter_mode=state.presenter(), privacy_mode=state.privacy())
    state.put(state.REPORT, html)
    state.put(REPORT_SECONDS, time.perf_counter() - started)
    state.put(REPORT_MODES, (state.presenter(), state.privacy()))


def downloads(scored: pd.DataFrame) -> None:
    """The scored posts as CSV and Parquet: personal details masked in every column, or posts
    and profiles left out in presenter mode (``state.visible_posts``, remembered between
    reruns); each file is made when its button is clicked."""
    shown = report.scored_posts_view(scored)
    st.markdown(f"**Scored posts** ({len(shown):,} rows; columns: {', '.join(shown.columns)})")
    left, right = st.columns(2)
    kinds = {"csv": "CSV, opens in a spreadsheet", "parquet": "Parquet, for data tools"}
    for column, fmt in zip((left, right), kinds, strict=True):
        column.download_button(
            f"Download scored posts ({kinds[fmt]})",
            data=lambda fmt=fmt: cached.table_file(shown, fmt), on_click="ignore",
            file_name=f"scored_posts.{fmt}", mime=export.MIME_TYPES[fmt], key=f"rep_{fmt}")


st.title("Report")
st.write("Download one self-contained HTML report of this analysis — a one-page summary, then "
         "figures, tables, the model card and the trade-off chosen and who chose it — and the "
         "scored posts as CSV or Parquet. The report opens offline in any browser and prints "
         "to PDF on A4 or Letter (the browser's Print, then Save as PDF).")
if state.presenter():
    st.caption("Presenter mode is on: the report and the downloads leave out every raw post and "
               "profile (location, bio, author).")
elif state.privacy():
    st.caption("Privacy mode is on: handles, links, e-mails and phone numbers are masked in "
               "every column of the report and the downloads.")
report_title = st.text_input("Report title", "Stigma Lens report", key="rep_title")
minimum = st.slider("Minimum posts per group for an estimate", 5, 200, 30, key="rep_min_n")
posts = scored_or_none()
if st.button("Build the report", type="primary", key="rep_build"):
    build_report(posts, report_title, minimum)
built = state.get(state.REPORT)
if built and state.get(REPORT_MODES) != (state.presenter(), state.privacy()):
    # never offer a report built before presenter mode went on (it may hold raw posts)
    st.info("Presenter or privacy mode changed since the report was built: build it again.")
    built = None
if built:
    st.success(f"Report ready ({len(built.encode()) / 1e6:.2f} MB, built in "
               f"{state.get(REPORT_SECONDS, 0):.1f} s; opens offline in any browser).")
    st.download_button("Download the HTML report", built, file_name="stigma_lens_report.html",
                       mime="text/html", key="rep_download", type="primary")
if posts is not None:
    downloads(posts)

"""Validation page: does the model agree with service-user raters as well as they agree?"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import cached, charts, slides, state
from stigma_core import validation
from stigma_core.errors import CorpusError, ModelError

SAMPLE = "A sample batch"
UPLOAD = "My own batch"
PROJECT = "A coding project"


def choose_batch() -> tuple[pd.DataFrame, str] | None:
    """A sample batch or an uploaded one (text plus one column per rater), with its name."""
    source = st.radio("Rater batch", [SAMPLE, UPLOAD, PROJECT], horizontal=True,
                      key="val_source")
    if source == SAMPLE:
        name = st.selectbox("Sample batch", cached.SAMPLE_BATCHES, key="val_sample")
        return cached.read_sample_table(name), name
    if source == PROJECT:
        return coding_batch()
    uploaded = st.file_uploader("A batch with a text column and one column per rater",
                                type=["csv", "tsv", "json", "jsonl", "parquet", "xlsx"],
                                key="val_upload")
    if uploaded is None:
        return None
    try:
        return cached.read_upload(uploaded.getvalue(), uploaded.name), uploaded.file_id
    except CorpusError as err:
        st.error(str(err))
        return None


def coding_batch() -> tuple[pd.DataFrame, str] | None:
    """The codes of a project on the Coding page: one column per rater (blind codes) and one
    ``agree_<rater>`` column per rater's unblind reviews."""
    store = cached.current_coding_store()
    names = store.projects()
    if not names:
        st.info("No coding project yet: create one on the Coding page.")
        return None
    current = state.get(state.CODING_PROJECT)
    name = st.selectbox("Coding project", names,
                        index=names.index(current) if current in names else 0, key="val_project")
    batch = store.rater_columns(name)
    if batch.filter(like="rater_").notna().sum().sum() == 0:
        st.info("Nobody has coded a post of this project yet.")
        return None
    return batch.drop(columns=["post_id"]), f"project_{name}"


def blind(scored: pd.DataFrame, raters: list[str]) -> None:
    """Model vs each rater and rater vs rater: kappa with 95% CI, misses per rater."""
    st.subheader("Blind validation")
    st.caption("Raters coded the posts without seeing the model's call.")
    table = cached.blind_validation(scored, tuple(raters))
    shown = pd.DataFrame({
        "Pair": table["first"] + " vs " + table["second"],
        "Posts (n)": table["n"],
        "Kappa (95% CI)": [charts.ci_text(k, lo, hi) for k, lo, hi in zip(
            table["kappa"], table["kappa_ci_low"], table["kappa_ci_high"], strict=True)],
        "Agreement (%)": table["percent_agreement"].round(1),
        "Model missed (FN)": table["fn"],
        "Model false alarms (FP)": table["fp"],
    })
    st.dataframe(shown, hide_index=True)
    slides.chart(charts.kappa_figure(table), key="val_kappa")


def unblind(scored: pd.DataFrame, columns: list[str], batch_id: str) -> None:
    """Share of the model's calls each rater agreed with, when shown them."""
    st.subheader("Unblind validation")
    agree = st.multiselect("Columns where a rater said whether they agree with the model's call "
                           "(yes/no, 1/0, agree/disagree)", columns, key=f"val_agree_{batch_id}",
                           default=[c for c in columns if c.startswith("agree_")])
    if not agree:
        st.caption("No agreement columns chosen: this batch was coded blind only.")
        return
    try:
        table = validation.unblind_validation(scored, agree)
    except CorpusError as err:
        st.error(str(err))
        return
    table = table.assign(**{"Agreed (95% CI)": [
        charts.ci_text(s, lo, hi, percent=True) for s, lo, hi in
        zip(table["share_agreed"], table["ci_low"], table["ci_high"], strict=True)]})
    st.dataframe(table[["rater", "model_call", "n", "agreed", "Agreed (95% CI)"]],
                 hide_index=True)


def prevalence(scored: pd.DataFrame, raters: list[str]) -> None:
    """Share called stigmatising by the model, by each rater and by their majority."""
    st.subheader("Prevalence: model vs raters")
    table = validation.prevalence_model_vs_raters(scored, raters)
    slides.chart(charts.source_prevalence_figure(table), key="val_sources")


st.title("Validation")
st.write("Check the model against service-user raters on posts it never saw: does it agree "
         "with each rater about as well as the raters agree with each other?")
bundle = state.get(state.MODEL)
if bundle is None:
    st.info("Choose a model first: train one in Model lab and press 'Use this model', or open "
            "a saved model there.")
    st.stop()
chosen = choose_batch()
if chosen is None:
    st.stop()
batch, batch_key = chosen
columns = [str(c) for c in batch.columns]
text_guess = "text" if "text" in columns else columns[0]
text_col = st.selectbox("Column holding the post", columns, index=columns.index(text_guess),
                        key=f"val_text_{batch_key}")
rater_guess = [c for c in columns if c.lower().startswith("rater")]
raters = st.multiselect("Rater columns (1 stigmatising, 0 not)", columns, default=rater_guess,
                        key=f"val_raters_{batch_key}")
if not raters:
    st.info("Choose at least one rater column.")
    st.stop()
if text_col != "text":
    batch = batch.drop(columns="text", errors="ignore").rename(columns={text_col: "text"})
try:
    scored = cached.score(state.get(state.MODEL_ID), batch, bundle)
    blind(scored, raters)
    unblind(scored, [c for c in columns if c not in raters and c != text_col
                     and c not in ("drawn_by", "model_call")], batch_key)
    prevalence(scored, raters)
except (CorpusError, ModelError) as err:
    st.error(str(err))
st.caption(f"Model: {state.get(state.MODEL_NAME)} — batch of {len(batch):,} posts.")

"""Features page: how the ten engineered features differ between stigmatising and other posts."""

from __future__ import annotations

import streamlit as st

from dashboard import cached, charts, slides, state
from stigma_core.errors import CorpusError
from stigma_core.features import FEATURE_NAMES, significant_features

st.title("Features")
st.write("See how the ten features of each post (sentiment, length, hashtags…) differ between "
         "stigmatising and other posts, and which differ enough to enter the models.")

dataset = state.get(state.DATASET)
if dataset is None or "label" not in dataset or dataset["label"].notna().sum() == 0:
    st.info("Load a coded training set (with a label column) on the Data page first.")
    st.stop()

labelled = dataset[dataset["label"].notna()]
try:
    table = cached.feature_tests(dataset)
except CorpusError as err:
    st.error(str(err))
    st.stop()
values = cached.feature_frame(labelled["text"])
chosen = significant_features(table)

n_stigma, n_other = int(table["n_stigma"].iloc[0]), int(table["n_other"].iloc[0])
st.markdown(
    f"**{len(chosen)} of {len(FEATURE_NAMES)} features differ significantly** (Welch t-test, "
    f"p < 0.05; n = {n_stigma:,} stigmatising and {n_other:,} other posts) and enter the "
    f"models with the words: {', '.join(chosen) if chosen else 'none'}."
)
st.caption("Model lab repeats these tests on its training split only, so its choice can "
           "differ slightly from this table, which uses every labelled post.")

kind = st.radio("Chart", ["Box plots", "Violin plots"], horizontal=True, key="features_kind")
slides.chart(
    charts.feature_distributions(values, labelled["label"], violin=kind == "Violin plots"),
    key="features_distributions", width="stretch",
)

st.subheader("Welch t-tests, stigmatising minus other")
st.dataframe(charts.welch_display(table), width="stretch")

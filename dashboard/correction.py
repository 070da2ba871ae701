"""The Prevalence page's choice of error rates for the correction: a coded random sample of
the corpus (prediction-powered, valid for any corpus) or the model's own, with the check of
whether the corpus is like the model's training data and a one-click coding sample."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import cached, charts, state
from dashboard.coding import start_coding
from stigma_core import shift
from stigma_core.errors import CorpusError

CARD_SOURCE = "The model's own error rates (measured on its training data)"
CODED_PREFIX = "A coded random sample of this corpus: "
SAMPLE_SIZE = 200
"""Posts in the coding sample the page offers to start."""


def error_source(scored: pd.DataFrame) -> dict | None:
    """Where the correction's error rates come from: a coded random sample of this corpus
    (prediction-powered, valid for any corpus) or the model's own; returns the coded-sample
    result, or None when the model's own rates are used (with the similarity check)."""
    bundle = state.get(state.MODEL)
    samples = cached.coded_samples(scored["text"])
    options = [CARD_SOURCE] + [f"{CODED_PREFIX}{name} ({len(frame)} coded posts)"
                               for name, frame in samples.items()]
    if samples:  # keyed by the samples on offer, so a newly coded one becomes the default
        choice = st.radio("Correct for the model's errors using", options,
                          index=len(options) - 1, key=f"prev_source_{len(samples)}")
    else:
        choice = CARD_SOURCE
        st.caption(f"Corrected for the model's errors using {CARD_SOURCE[0].lower()}"
                   f"{CARD_SOURCE[1:]}. A coded random sample of this corpus gives a figure "
                   "valid for it (Coding page).")
    if choice == CARD_SOURCE:
        similar(scored, bundle)
        return None
    if shift.is_synthetic_sample(bundle):
        st.warning(shift.SYNTHETIC_MODEL_WARNING)
    name = list(samples)[options.index(choice) - 1]
    try:
        result = cached.coded_prevalence(state.get(state.MODEL_ID), scored, samples[name],
                                         state.get(state.DATASET), None, bundle)
    except CorpusError as err:
        st.error(str(err))
        return None
    return {**result, "sample": samples[name]}


def similar(scored: pd.DataFrame, bundle: object) -> None:
    """Is the corpus like the model's training data? If not, say so and offer coding."""
    found = cached.similarity(state.get(state.MODEL_ID), scored["text"], bundle)
    if found["auc"] is not None:
        auc = charts.ci_text(found["auc"], found["ci_low"], found["ci_high"])
        st.caption(f"Is this corpus like the model's training data? **{found['verdict']}** — a "
                   f"classifier tells them apart with AUC {auc} (0.5 = not at all; n = "
                   f"{found['n_corpus']:,} corpus and {found['n_training']:,} training posts).")
    if not (found["warning"] or found["verdict"] != "alike"):
        return
    if found["synthetic_sample"]:  # its warning already says what to do instead
        st.warning(found["warning"])
    else:
        st.warning(f"{found['detail']} The corrected share below uses error rates measured on "
                   "the model's training data, and they only carry over to posts like those. "
                   f"{shift.coding_advice(SAMPLE_SIZE)}")
    if st.button(f"Start coding {SAMPLE_SIZE} random posts of this corpus",
                 key="prev_code_sample"):
        start_coding(f"Prevalence check: {state.get(state.CORPUS_NAME)}", scored["text"],
                     SAMPLE_SIZE, "When they are coded, Prevalence uses them.")


def coded_overview(result: dict) -> None:
    """The prevalence from the coded sample: estimate, interval, where it comes from."""
    overall = result["overall"]
    coded = result["coded"]
    a, b, c = st.columns(3)
    a.metric("Posts scored", f"{overall['n']:,}")
    b.metric("Flagged by the model (raw)", f"{overall['raw']:.1%}")
    b.caption("What the model alone says; it leans toward its own errors.")
    c.metric("From the coded sample", f"{overall['corrected']:.1%}")
    interval = charts.ci_text(overall["corrected"], overall["ci_low"], overall["ci_high"],
                              percent=True)
    c.caption(f"With 95% CI: {interval}; n = {overall['n']:,} posts, {coded['n_coded']} coded "
              "posts")
    if overall["warning"]:
        st.warning(overall["warning"])
    st.caption(f"Read the figure from the coded sample: people coded a random sample of this "
               f"corpus ({coded['n_coded']} posts: {coded['coded_share']:.1%} stigmatising), and "
               f"the model's scores on every post narrow the interval (prediction-powered "
               f"inference). Scores from {result['scoring']}.")


def coded_groups(scored: pd.DataFrame, result: dict) -> None:
    """The coded-sample estimate by platform and by country, where the sample allows."""
    for by, title in (("platform", "By platform"), ("country", "By country")):
        if by not in scored:
            continue
        table = cached.coded_prevalence(state.get(state.MODEL_ID), scored, result["sample"],
                                        state.get(state.DATASET), by, state.get(state.MODEL))
        rows = pd.DataFrame(table["groups"])
        if rows.empty:
            continue
        st.markdown(f"**{title}, from the coded sample**")
        st.dataframe(charts.coded_group_table(rows, title.split()[-1].capitalize()),
                     hide_index=True)

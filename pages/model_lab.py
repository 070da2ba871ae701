"""Model lab page: train and compare classifiers, then set the missed-post : false-alarm trade."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import cached, charts, state
from stigma_core import persist
from stigma_core.coding.store import database_url
from stigma_core.errors import CorpusError, ModelError
from stigma_core.metrics import OperatingPoints, confusion_counts
from stigma_core.models import CHOICE_RULE, FAMILIES, TrainingRun

GRIDS = {"paper": "The paper's grids (thorough, slow)", "fast": "Small grids (quick)"}


def short_name(family: str) -> str:
    """'Random forest' for 'random_forest': the family's label without its explanation."""
    return FAMILIES[family].label.split(" (")[0]


def train_form(dataset: pd.DataFrame) -> None:
    """Families, grid and seed; the button trains with a progress bar."""
    families = st.multiselect("Model families", list(FAMILIES), default=list(FAMILIES),
                              format_func=lambda f: FAMILIES[f].label, key="lab_families")
    grid = st.radio("Hyper-parameter grid", list(GRIDS), format_func=GRIDS.get,
                    horizontal=True, key="lab_grid")
    seed = st.number_input("Random seed", 0, 1_000_000, 0, key="lab_seed")
    if not st.button("Train", type="primary", key="lab_train"):
        return
    try:
        run = cached.train(dataset, tuple(families), grid, int(seed))
    except (CorpusError, ModelError) as err:
        st.error(str(err))
        return
    state.put(state.RUN, run)
    st.success(f"Trained {len(run.results)} model(s).")


def uncoded(dataset: pd.DataFrame | None) -> None:
    """No labels to learn from: send the user to coding, with the posts already drawn."""
    name = state.get(state.DATASET_NAME) or "this file"
    st.warning(f"The training set ({name}) has no labels, so no model can learn from it yet. "
               "People with lived experience code a random sample of its posts on the Coding "
               "page; the settled codes then come back here as the training set.")
    if dataset is None or dataset.empty:
        st.page_link("pages/data.py", label="Load posts on the Data page")
        return
    n = min(200, len(dataset))
    if st.button(f"Start coding {n} random posts of it", type="primary", key="lab_start_coding"):
        from stigma_core.coding import sampling
        store = cached.coding_store(database_url())
        project = f"Coding {name}"[:200]
        if project not in store.projects():
            store.create_project(project)
            store.add_raters(project, ["R1", "R2", "R3"])
        store.add_posts(project, sampling.draw_random(dataset["text"], n, seed=0))
        state.put(state.CODING_PROJECT, project)
        state.flash(f"Project {project!r} holds {n} random posts for raters R1, R2 and R3 "
                    "(add or rename raters under Set up).")
        st.switch_page("pages/coding.py")


def load_form() -> None:
    """Open a model file saved earlier (checked for unsafe content before use)."""
    uploaded = st.file_uploader("Open a saved model (.skops)", type=["skops"], key="lab_load")
    if uploaded is None or state.get(state.MODEL_NAME) == uploaded.name:
        return
    try:
        bundle = persist.from_bytes(uploaded.getvalue())
    except ModelError as err:
        st.error(str(err))
        return
    state.set_model(bundle, uploaded.name)
    state.flash(f"Opened {uploaded.name}; it is now the model in use.")
    st.rerun()


def comparison(run: TrainingRun) -> None:
    """Side-by-side table, curves and confusion matrices of every model trained."""
    st.subheader("Compare the models")
    shown = charts.model_table(run.table(), len(run.y_test))
    st.dataframe(shown, hide_index=True)
    st.caption(f"{shown.attrs['caption']} {CHOICE_RULE}")
    st.plotly_chart(charts.curves_figure(run.results, run.y_test))
    columns = st.columns(min(len(run.results), 3))
    for i, result in enumerate(run.results.values()):
        counts = confusion_counts(run.y_test, result.test_proba >= result.threshold)
        with columns[i % len(columns)]:
            st.plotly_chart(charts.confusion_figure(counts, short_name(result.family)),
                            key=f"confusion_{result.family}")


@st.fragment
def decision(run: TrainingRun) -> None:
    """The advisory group's panel: cost ratio -> threshold -> missed/false-alarm counts.

    A fragment: moving the slider reruns this panel only, not the comparison above it.
    """
    st.subheader("Decide: how much worse is a missed stigmatising post?")
    family = st.selectbox("Model", list(run.results), index=list(run.results).index(run.chosen),
                          format_func=lambda f: FAMILIES[f].label, key="lab_family")
    result = run.results[family]
    ratio = st.slider("One missed stigmatising post costs as much as this many wrongly "
                      "flagged posts", 1, 50, value=state.DEFAULTS[state.COST_RATIO],
                      key=state.COST_RATIO, persist_state="session")
    threshold = OperatingPoints.from_scores(result.y_train, result.oof_proba).for_cost(ratio)
    counts = confusion_counts(run.y_test, result.test_proba >= threshold)
    positives, negatives = counts["tp"] + counts["fn"], counts["tn"] + counts["fp"]
    a, b, c = st.columns(3)
    a.metric("Threshold", f"{threshold:.3f}")
    b.metric("Missed (FN)", f"{counts['fn']} of {positives}")
    c.metric("False alarms (FP)", f"{counts['fp']} of {negatives}")
    missed = round(100 * counts["fn"] / positives) if positives else 0
    flagged = round(100 * counts["fp"] / negatives) if negatives else 0
    st.markdown(f"**Out of 100 stigmatising posts, this model misses {missed}; out of 100 "
                f"other posts, it wrongly flags {flagged}.** (Held-out test set, n = "
                f"{positives + negatives:,}; the threshold is set on the training posts' "
                "cross-validated scores, so nothing is refitted.)")
    st.plotly_chart(charts.confusion_figure(
        counts, f"{short_name(family)} at threshold {threshold:.3f}"),
                    key="confusion_decision")
    who = st.text_input("Who made this choice? (e.g. 'lived-experience advisory group')",
                        value=state.DEFAULTS[state.DECIDED_BY], key=state.DECIDED_BY,
                        persist_state="session")
    if st.button("Use this model and threshold", type="primary", key="lab_use"):
        bundle = cached.decided_bundle(run, family, threshold, ratio, who,
                                       state.get(state.DATASET_NAME))
        state.set_model(bundle, f"{family} (threshold {threshold:.3f})")
        state.flash("This model and threshold are now in use for Validation and Prevalence.")
        st.rerun()


def save_current() -> None:
    """Download the model in use as a file colleagues can open."""
    bundle = state.get(state.MODEL)
    if bundle is None:
        return
    st.download_button(
        f"Download the model in use: {state.get(state.MODEL_NAME)}",
        cached.model_bytes(state.get(state.MODEL_ID), bundle),
        file_name="stigma_model.skops", mime="application/octet-stream", key="lab_download",
    )


st.title("Model lab")
st.write("Train classifiers on the coded posts, compare them side by side, and decide with the "
         "advisory group how to trade missed stigmatising posts against false alarms.")
state.show_flash()
data = state.get(state.DATASET)
labelled = data is not None and "label" in data and data["label"].notna().any()
if not labelled:
    uncoded(data)
else:
    with st.expander("Train models", expanded=state.get(state.RUN) is None):
        train_form(data)
with st.expander("Open a saved model"):
    load_form()
training = state.get(state.RUN)
if training is None and labelled:
    st.info("No models trained in this session yet: press Train above (the quick grids "
            "with logistic regression and naive Bayes take seconds).")
else:
    comparison(training)
    decision(training)
save_current()

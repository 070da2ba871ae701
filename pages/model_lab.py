"""Model lab page: train and compare classifiers, then set the missed-post : false-alarm trade."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import cached, charts, slides, state
from dashboard.coding import start_coding
from stigma_core import decision as decision_lib
from stigma_core import persist
from stigma_core.calibration import reviews_per_catch
from stigma_core.errors import CorpusError, ModelError
from stigma_core.metrics import confusion_counts, evaluate
from stigma_core.models import (
    CHOICE_RULE,
    FAMILIES,
    MOST_ACCURATE,
    MOST_ACCURATE_COST,
    PAPER_SET,
    TrainingRun,
    available_families,
    recommended_families,
    unavailable_families,
)

GRIDS = {"paper": "The paper's grids (thorough, slow)", "fast": "Small grids (quick)"}


def short_name(family: str) -> str:
    """'Random forest' for 'random_forest': the family's label without its explanation."""
    return FAMILIES[family].label.split(" (")[0]


def train_form(dataset: pd.DataFrame) -> None:
    """Families, grid and seed; the button trains with a progress bar."""
    families = st.multiselect("Model families", available_families(), default=list(PAPER_SET),
                              format_func=lambda f: FAMILIES[f].label, key="lab_families")
    recommended = ", ".join(short_name(f) for f in recommended_families())
    st.caption(f"Selected at first: the study's eight families and a logistic-regression "
               f"reference, as in the paper. Stronger on real coded posts (measured by "
               f"cross-validation that keeps each author's posts together): {recommended}, on "
               f"the small grids." + (f" Most accurate, and slow ({MOST_ACCURATE_COST}): "
                                      f"{short_name(MOST_ACCURATE)}."
                                      if MOST_ACCURATE in available_families() else ""))
    for family, why in unavailable_families().items():
        st.caption(f"Not available here: {FAMILIES[family].label}. {why}")
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
        start_coding(f"Coding {name}", dataset["text"], n,
                     "Their settled codes come back to Model lab as the training set.")


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
    if warning := run.small_test_warning():
        st.warning(warning)
    shown = charts.model_table(run.table(), len(run.y_test))
    st.dataframe(shown, hide_index=True)
    st.caption(f"{shown.attrs['caption']} {CHOICE_RULE}")
    slides.chart(charts.curves_figure(run.results, run.y_test), key="lab_curves")
    columns = st.columns(min(len(run.results), 3))
    for i, result in enumerate(run.results.values()):
        counts = confusion_counts(run.y_test, result.test_proba >= result.threshold)
        with columns[i % len(columns)]:
            slides.chart(charts.confusion_figure(counts, short_name(result.family)),
                         key=f"confusion_{result.family}")
    calibration(run)


def calibration(run: TrainingRun) -> None:
    """Reliability diagram and Brier score per model: can its probabilities be believed?"""
    st.subheader("Can the probabilities be taken at their word?")
    st.write("When a model says a post is 70% likely to be stigmatising, about 70 of every 100 "
             "such posts should really be: a 70% must mean 70%. The Brier score sums up how "
             "far its probabilities are from what came true (0 is perfect; always saying 50% "
             "scores 0.25).")
    st.dataframe(charts.calibration_display(run.calibration_table()), hide_index=True,
                 key="lab_calibration_table")
    curves = {family: run.reliability(family) for family in run.results}
    labels = {family: short_name(family) for family in run.results}
    slides.chart(charts.reliability_figure(curves, labels), key="lab_reliability")
    st.caption(f"Held-out test set, n = {len(run.y_test):,} posts. Posts reviewed per "
               "stigmatising post caught: everything a model flags at its threshold (set on "
               "the training posts' cross-validated scores to find 9 in 10) divided by the "
               "stigmatising posts among them.")


@st.fragment
def decision(run: TrainingRun) -> None:
    """The advisory group's panel: cost ratio -> what the model then does, in plain words.

    A fragment: moving the slider reruns this panel only, not the comparison above it.
    """
    st.subheader("Decide: how much worse is a missed stigmatising post?")
    family = st.selectbox("Model", list(run.results), index=list(run.results).index(run.chosen),
                          format_func=lambda f: FAMILIES[f].label, key="lab_family")
    result = run.results[family]
    ratio = st.slider("One missed stigmatising post costs as much as this many wrongly "
                      "flagged posts", 1, 50, value=state.DEFAULTS[state.COST_RATIO],
                      key=state.COST_RATIO, persist_state="session")
    threshold = result.threshold_for_cost(ratio)
    chosen = decision_lib.describe(run.y_test, result.test_proba, threshold)
    positives, negatives = chosen.tp + chosen.fn, chosen.fp + chosen.tn
    a, b, c = st.columns(3)
    a.metric("Stigmatising posts found", f"{chosen.tp} of {positives}")
    b.metric("Missed stigmatising posts", f"{chosen.fn} of {positives}")
    c.metric("Wrongly flagged posts", f"{chosen.fp} of {negatives}")
    workload = reviews_per_catch(evaluate(run.y_test, result.test_proba, threshold,
                                          seed=run.seed)["precision"])
    st.markdown("\n".join(f"- **{sentence}**" for sentence in chosen.sentences))
    for warning in chosen.warnings:
        st.warning(warning)
    jump = decision_lib.jump_note(result.y_train, result.oof_proba, run.y_test,
                                  result.test_proba, ratio)
    if jump:
        st.info(jump)
    st.caption(f"Measured on {positives + negatives:,} held-out test posts the model never "
               f"trained on. The line between 'flag' and 'leave' is set on the training posts' "
               f"cross-validated scores, so nothing is refitted (technical: threshold "
               f"{threshold:.3f}). Posts reviewed per stigmatising post caught: "
               f"{workload.value:.1f} (95% CI {workload.ci_low:.1f} to {workload.ci_high:.1f}).")
    different = decision_lib.differs_from_table(threshold, result.threshold)
    if different:
        st.info(different)
    examples(run, result, threshold)
    slides.chart(charts.confusion_figure(
        {"tp": chosen.tp, "fp": chosen.fp, "fn": chosen.fn, "tn": chosen.tn},
        f"{short_name(family)}: what this choice does to the test posts"),
                 key="confusion_decision")
    who = st.text_input("Who made this choice? (required, e.g. 'lived-experience advisory "
                        "group, 3 May')", value=state.DEFAULTS[state.DECIDED_BY],
                        key=state.DECIDED_BY, persist_state="session")
    if st.button("Use this model and threshold", type="primary", key="lab_use"):
        if not who.strip():
            st.error("Say who made this choice first: the name of the person or group is "
                     "recorded in the model file and the report.")
            return
        bundle = cached.decided_bundle(run, family, threshold, ratio, who.strip(),
                                       state.get(state.DATASET_NAME))
        state.set_model(bundle, f"{result.label} at threshold {threshold:.3f}")
        state.flash(f"This model and threshold are now in use for Validation and Prevalence. "
                    f"Recorded: chosen by {who.strip()} on {bundle.card['decided_on']}.")
        st.rerun()


def examples(run: TrainingRun, result: object, threshold: float) -> None:
    """Test posts this choice would miss and would wrongly flag (masked; none for presenters)."""
    if state.presenter():
        st.caption("Presenter mode: example posts are hidden.")
        return
    found = decision_lib.examples(run.X_test["text"], run.y_test, result.test_proba, threshold)
    left, right = st.columns(2)
    for column, key, title in ((left, "missed", "Would be missed"),
                               (right, "false_alarms", "Would be wrongly flagged")):
        column.markdown(f"**{title}** (nearest the line; they change as the slider moves)")
        posts = state.visible_posts(found[key].assign(
            probability=found[key]["probability"].round(2)))
        if posts.empty:
            column.caption("None.")
        else:
            column.dataframe(
                posts.rename(columns={"text": "Post", "probability": "Model's score"}),
                hide_index=True, key=f"lab_examples_{key}", column_config={
                    "Post": st.column_config.TextColumn(width="large"),
                    "Model's score": st.column_config.NumberColumn(width="small")})


def decided_by_note() -> None:
    """Who chose the model in use, on screen (and so in the model file and the report)."""
    bundle = state.get(state.MODEL)
    card = getattr(bundle, "card", None) or {}
    if card.get("decided_by"):
        st.success(f"Model in use: {state.get(state.MODEL_NAME)} — chosen by "
                   f"{card['decided_by']} on {card.get('decided_on', 'an unrecorded date')}.")


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
decided_by_note()
save_current()

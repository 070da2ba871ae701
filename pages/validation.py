"""Validation page: does the model agree with service-user raters as well as they agree?"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import audit, cached, charts, slides, state
from stigma_core import attribution, fairness, validation
from stigma_core.errors import CorpusError, ModelError

PAGE_SIZE = 8
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
        "Model missed (FN)": table["fn"].map(charts.count_or_dash),
        "Model false alarms (FP)": table["fp"].map(charts.count_or_dash),
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


def why_flagged(scored: pd.DataFrame, bundle: object, model_id: str, batch_key: str) -> None:
    """The model's strongest terms each way, and the flagged posts with why each was flagged
    and its predicted attribution type (posts hidden in presenter mode)."""
    st.subheader("Why the model flags posts")
    explainer = audit.explainer(model_id, bundle)
    how = ("its own coefficients: each word's weight is coefficient × the word's value in the "
           "post, in log-odds" if explainer.method == "coefficients" else
           "removing each word in turn and scoring the post again: a word's weight is how much "
           "the probability of 'stigmatising' drops without it")
    st.caption(f"Read from the model itself, by {how}.")
    terms = audit.model_terms(model_id, tuple(scored["text"].astype(str)), 10, bundle)
    unit = "log-odds" if explainer.method == "coefficients" else "probability"
    toward, away = audit.terms_display(terms, unit)
    left, right = st.columns(2)
    left.markdown("**Strongest words toward stigmatising**")
    left.dataframe(toward, hide_index=True)
    right.markdown("**Strongest words away from it**")
    right.dataframe(away, hide_index=True)
    flagged = audit.flagged_posts(scored)
    st.markdown(f"**Flagged posts:** {len(flagged):,} of {len(scored):,} in this batch.")
    if state.presenter():
        st.info("Flagged posts are hidden in presenter mode (no raw posts on screen).")
        return
    if flagged.empty:
        return
    pages = (len(flagged) - 1) // PAGE_SIZE + 1
    page = st.number_input(f"Page (of {pages}, {PAGE_SIZE} posts each, highest score first)",
                           1, pages, 1, key=f"val_flag_page_{batch_key}")
    shown = flagged.iloc[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
    texts = tuple(shown["text"].astype(str))
    explained = audit.explanations(model_id, texts, bundle)
    types = audit.attribution_types(state.get(state.DATASET), shown)
    st.caption("Red words pushed the post toward 'stigmatising', blue words away; the "
               "stronger the colour, the stronger the push. Hover a word for its weight.")
    for i, explanation in enumerate(explained):
        kind = f" · attribution: **{types.iloc[i]}**" if types is not None else ""
        st.markdown(f"Score **{explanation.probability:.0%}**{kind}")
        st.markdown(audit.marked_html(explanation, state.privacy()), unsafe_allow_html=True)
        st.caption(audit.why_line(explanation, privacy=state.privacy()))


def attribution_panel() -> None:
    """What the attribution model is and how well it does (cross-validated, on request)."""
    dataset = state.get(state.DATASET)
    type_col = attribution.type_column(dataset) if dataset is not None else None
    st.subheader("Attribution type")
    if type_col is None:
        st.caption("The training set has no attribution column (responsibility, "
                   "fear/dangerousness, social distance, anger, coercion segregation, helping, "
                   "pity), so flagged posts get no attribution type. Map one on the Data page.")
        return
    try:
        model = audit.attribution_model(dataset, type_col)
    except (CorpusError, ModelError) as err:
        st.warning(f"No attribution model: {err}")
        return
    st.caption(f"Trained on {model.n_train:,} coded stigmatising posts of the training set "
               f"({', '.join(model.classes)}). " + " ".join(model.notes))
    if st.toggle("Show how well it does (5-fold cross-validation; takes a while)",
                 key="val_attr_scores"):
        try:
            per_class, summary = audit.attribution_scores(dataset, type_col)
        except (CorpusError, ModelError) as err:
            st.warning(str(err))
            return
        shown = pd.DataFrame({
            "Type": per_class["type"], "Coded posts (n)": per_class["n"],
            "F1 (95% CI)": [charts.ci_text(f, lo, hi) for f, lo, hi in zip(
                per_class["f1"], per_class["f1_ci_low"], per_class["f1_ci_high"], strict=True)],
            "Precision": per_class["precision"].round(2), "Recall": per_class["recall"].round(2)})
        st.dataframe(shown, hide_index=True)
        st.caption(f"Macro-F1 {charts.ci_text(*summary['macro_f1'])}; CIs from a bootstrap "
                   "over authors (or posts). From the words alone: where posts answer a "
                   "question, the question may give the type away.")


def fairness_audit(scored: pd.DataFrame, raters: list[str], bundle: object,
                   model_id: str) -> None:
    """Miss and false-alarm rates by group, each group tested against the rest."""
    st.subheader("Fairness: does the model miss more stigma in some groups?")
    usable = audit.fairness_sources(scored, raters, bundle, model_id)
    if not usable:
        st.info("No group column to compare (country, platform, gender, age band…): load a "
                "training set or batch that has one.")
        return
    name = st.radio("Posts to audit", list(usable), key="val_fair_source", horizontal=True)
    posts, note = usable[name]
    columns = fairness.group_columns(posts)
    by = st.selectbox("Compare groups of", columns, format_func=audit.group_label,
                      key="val_fair_by", help="Does the model miss more stigmatising posts, or "
                      "wrongly flag more posts, in one group (one platform, country, age "
                      "band…) than in the rest? Only columns in your data are used.")
    min_n = st.number_input("Fewest stigmatising posts a group needs to be tested", 1, 500,
                            fairness.DEFAULT_MIN_N, key="val_fair_min")
    try:
        result = audit.fairness_audit(posts, by, int(min_n))
    except CorpusError as err:
        st.error(str(err))
        return
    for finding in result.findings:
        (st.warning if "significantly more" in finding else st.caption)(finding)
    st.dataframe(audit.fairness_display(result, state.privacy()), hide_index=True)
    slides.chart(audit.fairness_figure(result), key="val_fairness")
    st.caption(f"{note} Rates with Wilson 95% CIs; each group against all others together by "
               "Fisher's exact test, p-values adjusted for the number of groups (Holm): with "
               "many groups, some would look worse by chance alone, and the adjustment keeps "
               "that from being called a finding.")


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
    why_flagged(scored, bundle, state.get(state.MODEL_ID), batch_key)
    attribution_panel()
    fairness_audit(scored, raters, bundle, state.get(state.MODEL_ID))
except (CorpusError, ModelError) as err:
    st.error(str(err))
st.caption(f"Model: {state.get(state.MODEL_NAME)} — batch of {len(batch):,} posts.")

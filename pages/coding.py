"""Coding page: service users code posts blind; the analyst sets up projects and follows them."""

from __future__ import annotations

import streamlit as st

from dashboard import cached, charts, state
from dashboard.coding import (
    RATERS_ERROR,
    add_raters,
    learning,
    rater_screen,
    scheme_agreement_view,
    scheme_download,
)
from stigma_core.coding import sampling
from stigma_core.coding.store import DEFAULT_GUIDELINES
from stigma_core.errors import CodingError, CorpusError
from stigma_core.privacy import mask_frame

RATER_VIEW = "Code posts (rater)"
ANALYST_VIEW = "Set up and follow the project (analyst)"


def project_picker(store: object) -> str | None:
    """Open a project, or create one; returns the open project's name."""
    names = store.projects()
    with st.expander("New coding project", expanded=not names):
        with st.form("code_new_project"):
            name = st.text_input("Project name", key="code_new_name")
            raters = st.text_input("Raters: names or codes, separated by commas (no real "
                                   "identities needed)", value="R1, R2, R3",
                                   key="code_new_raters")
            guidelines = st.text_area("Guidelines shown to raters", DEFAULT_GUIDELINES,
                                      height=220, key="code_new_guidelines")
            verify = st.slider("Share of settled posts checked by a verifier (%)", 0, 50, 20,
                               key="code_new_verify")
            schemes = st.checkbox("Also ask raters for each post's domain (self / community / "
                                  "professional) and theme (awareness / actionable / "
                                  "help-seeking / personal story)", key="code_new_schemes")
            if st.form_submit_button("Create project", type="primary"):
                try:
                    store.create_project(name, guidelines=guidelines, verify_share=verify / 100,
                                         schemes=("domain", "theme") if schemes else ())
                    store.add_raters(name.strip(), raters.split(","))
                except CodingError as err:
                    st.error(str(err))
                else:
                    state.put(state.CODING_PROJECT, name.strip())
                    state.flash(f"Created the coding project {name.strip()!r}.")
                    st.rerun()
    if not names:
        return None
    current = state.get(state.CODING_PROJECT)
    index = names.index(current) if current in names else len(names) - 1
    return st.selectbox("Coding project", names, index=index, key="code_project_pick")


def add_posts(store: object, project: str) -> None:
    """Random posts from the corpus, posts the model is unsure about, or a file of posts."""
    corpus = cached.open_sample(state.CORPUS)
    existing = store.posts(project)
    st.markdown(f"**Posts in the project: {len(existing):,}** — from the corpus "
                f"{state.get(state.CORPUS_NAME)} ({len(corpus):,} posts).")
    left, right = st.columns(2)
    with left:
        n = st.number_input("Random posts to draw", 10, 5000, 200, step=10, key="code_n_random")
        st.caption(f"About {sampling.coding_minutes(int(n))} minutes of rater time with two "
                   "raters per post. Only randomly drawn posts can support a prevalence "
                   "estimate for the corpus.")
        if st.button("Draw random posts", type="primary", key="code_draw"):
            added = store.draw_into(project, corpus["text"], int(n), seed=len(existing))
            state.flash(f"Added {added} random posts; each goes to two raters.")
            st.rerun()
    with right:
        k = st.number_input("Posts the model is unsure about", 5, 500, 20, step=5,
                            key="code_n_active")
        st.caption("Active learning: improves the model fastest, but these posts are not a "
                   "random sample and never enter a prevalence estimate.")
        if st.button("Suggest and add", key="code_suggest"):
            settled = store.training_set(project)
            picked = cached.suggestions(corpus["text"], existing["text"], settled["text"],
                                        settled["label"].astype(int), int(k))
            added = store.add_posts(project, picked["text"], drawn_by="active")
            state.flash(f"Added {added} posts ({picked['why'].iloc[0]}).")
            st.rerun()


def import_posts(store: object, project: str) -> None:
    """Posts from a file of the user's own (e.g. chosen by another team): marked "imported",
    so they are coded like any other but never stand for the corpus in a prevalence estimate."""
    with st.expander("Import posts from a file"):
        uploaded = st.file_uploader("A CSV, TSV, JSON/JSONL, Parquet or Excel file",
                                    type=["csv", "tsv", "txt", "json", "jsonl", "parquet",
                                          "xlsx"], key="code_import")
        if uploaded is None:
            return
        try:
            raw = cached.read_upload(uploaded.getvalue(), uploaded.name)
        except CorpusError as err:
            st.error(str(err))
            return
        columns = [str(c) for c in raw.columns]
        guess = "text" if "text" in columns else columns[0]
        column = st.selectbox("Column holding the posts", columns, index=columns.index(guess),
                              key=f"code_import_col_{uploaded.file_id}")
        if st.button(f"Add the {len(raw):,} posts of {uploaded.name}", key="code_import_go"):
            added = store.add_posts(project, raw[column].dropna().astype(str),
                                    drawn_by="imported")
            state.flash(f"Added {added} imported posts (repeats of posts already in the "
                        "project are skipped).")
            st.rerun()


def setup(store: object, project: str) -> None:
    """Raters, guidelines, posts to code, and unblind reviews."""
    add_posts(store, project)
    import_posts(store, project)
    st.divider()
    raters = store.raters(project)
    st.markdown(f"**Raters:** {', '.join(raters)}")
    if not store.project(project).extra_schemes and store.codes(project).empty:
        if st.button("Also ask raters for each post's domain and theme (possible until the "
                     "first code)", key="code_add_schemes"):
            store.set_schemes(project, ("domain", "theme"))
            state.flash("Raters now choose each post's domain and theme as well.")
            st.rerun()
    st.text_input("Add raters (commas between names)", key="code_more_raters")
    st.button("Add raters", key="code_add_raters", on_click=add_raters, args=(store, project))
    if RATERS_ERROR in st.session_state:
        st.error(st.session_state.pop(RATERS_ERROR))
    guidelines = st.text_area("Guidelines", store.project(project).guidelines, height=200,
                              key=f"code_guidelines_{project}")
    if st.button("Save guidelines", key="code_save_guidelines"):
        store.set_guidelines(project, guidelines)
        state.flash("Guidelines saved; raters see them above every post.")
        st.rerun()
    unblind(store, project, raters)
    st.caption(f"Codes are saved in {store.safe_url}. Set DATABASE_URL to use "
               "PostgreSQL instead.")


def unblind(store: object, project: str, raters: list[str]) -> None:
    """Give a rater posts with the model's call to agree or disagree with."""
    bundle = state.get(state.MODEL)
    st.markdown("**Unblind validation** — raters see the model's call and say whether they "
                "agree. Only for posts they have not coded blind.")
    if bundle is None:
        st.caption("Choose a model in Model lab first.")
        return
    left, right = st.columns(2)
    rater = left.selectbox("Rater", raters, key="code_review_rater")
    n = right.number_input("Posts to review", 5, 500, 20, key="code_review_n")
    if st.button("Give these posts to review", key="code_review_go"):
        posts = store.posts(project)
        scored = cached.score(state.get(state.MODEL_ID), posts[["text"]], bundle)
        store.set_model_calls(project, dict(zip(posts["text"], scored["stigma_predicted"],
                                                strict=True)))
        given = store.request_reviews(project, rater, int(n))
        state.flash(f"{rater} has {given} posts to review.")
        st.rerun()


def agreement_view(store: object, project: str) -> None:
    """Progress by state, Cohen's kappa per pair, Fleiss' kappa and Krippendorff's alpha."""
    status = store.status(project)
    cols = st.columns(4)
    cols[0].metric("Posts", f"{status.get('posts', 0):,}")
    cols[1].metric("Settled", f"{status['settled']:,}")
    cols[2].metric("Waiting for a third rater", f"{status['needs third rater']:,}")
    cols[3].metric("Verified", f"{status.get('verified', 0):,}")
    codes = store.codes(project)
    if codes.empty:
        st.info("No codes yet.")
        return
    pairs, overall, cant_tell = cached.agreement_tables(codes)
    st.subheader("Agreement between raters")
    per_pair, across = charts.agreement_display(pairs, overall)
    st.dataframe(per_pair, hide_index=True)
    st.dataframe(across, hide_index=True)
    scheme_agreement_view(store, project, codes)
    st.caption(f"\"Can't tell\" codes are left out of these figures ({cant_tell}). Kappa bands "
               "(Landis & Koch): 0.41–0.60 moderate, 0.61–0.80 substantial, above 0.80 almost "
               "perfect; the study's raters reached 0.75. Krippendorff's alpha: 0.80 and above "
               "reliable, 0.667–0.80 tentative.")


def results(store: object, project: str) -> None:
    """Final labels with provenance; use or download them as a training set."""
    final = store.final_labels(project)
    training = store.training_set(project)
    st.markdown(f"**{len(training):,} of {len(final):,} posts have a final label** "
                f"({int(training['label'].sum()) if len(training) else 0} stigmatising).")
    shown = final.drop(columns=["post_id"]).rename(columns={"settled_by": "how settled"})
    st.dataframe(state.visible_posts(shown), hide_index=True)
    scheme_download(store, project)
    if training.empty:
        return
    data = training.rename(columns={"settled_by": "how_settled"})
    if state.privacy():
        data = mask_frame(data)  # every column: notes and provenance too
    left, right = st.columns(2)
    if not state.presenter():
        left.download_button("Download the training set (CSV)", cached.table_file(data, "csv"),
                             file_name=f"{project}_training_set.csv", mime="text/csv",
                             key="code_download")
    if right.button("Use these labels as the training set", type="primary", key="code_use"):
        frame = training[["text", "label", "drawn_by"]].rename(
            columns={"drawn_by": "group_drawn_by"})
        state.set_frame(state.DATASET, state.DATASET_NAME, frame.astype({"label": int}),
                        f"coding project {project}")
        state.put(state.RUN, None)
        state.flash("The settled posts are now the training set: train models in Model lab.")
        st.rerun()
    learning(training)


st.title("Coding")
st.write("People with lived experience code posts here, blind: two raters per post, a third "
         "settles disagreements, a verifier checks a share. Agreement is measured as you go.")
state.show_flash()
try:
    coding = cached.current_coding_store()
except Exception as err:  # noqa: BLE001 - a database that cannot be opened: say so plainly
    st.error(f"The coding database could not be opened ({type(err).__name__}: {err}). Check "
             "DATABASE_URL or STIGMA_CODING_DB.")
    st.stop()
name = project_picker(coding)
if name is None:
    st.stop()
state.put(state.CODING_PROJECT, name)
view = st.radio("I am here to", [RATER_VIEW, ANALYST_VIEW], horizontal=True, key="code_view")
try:
    if view == RATER_VIEW:
        rater_screen(coding, name)
    else:
        tabs = st.tabs(["Set up", "Agreement", "Results"])
        with tabs[0]:
            setup(coding, name)
        with tabs[1]:
            agreement_view(coding, name)
        with tabs[2]:
            results(coding, name)
except (CodingError, CorpusError) as err:
    st.error(str(err))

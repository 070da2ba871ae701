"""Insights-page helpers: which tagger is in use, in plain words, and training the domain and
theme taggers on coded posts — a coding project's settled labels or a coded file."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

import pandas as pd
import streamlit as st

from dashboard import cached, charts, state
from stigma_core import insights
from stigma_core.errors import CodingError, CorpusError, ModelError

SOURCES = {"project": "A coding project's settled domain and theme codes",
           "file": "A coded file (spreadsheet)"}


def tagger_words(kind: str, model: object | None, source: str | None = None) -> str:
    """One sentence: which tagger makes this kind's tags — the word lists, or a tagger trained
    on N coded posts, with its cross-validated macro-F1 and 95% CI."""
    if model is None:
        return f"{kind.capitalize()}: the word lists (lexicon)."
    report = model.cv_report_
    f1 = report.macro_f1
    where = f" from {source}" if source else ""
    return (f"{kind.capitalize()}: a tagger trained on {report.n:,} coded posts{where} "
            f"(cross-validated macro-F1 {f1.value:.2f}, 95% CI {f1.ci_low:.2f} to "
            f"{f1.ci_high:.2f}).")


def tagger_note() -> None:
    """Which tagger made the tags, per kind, in one caption."""
    taggers = cached.insight_taggers()
    if taggers:
        parts = [tagger_words(kind, taggers.get(kind), taggers.get("source"))
                 for kind in ("domain", "theme")]
        st.caption("Tags from taggers trained on your coded posts — " + " ".join(parts))
        return
    added = sum(len(t) for c in (state.get(state.INSIGHT_TERMS) or {}).values()
                for t in c.values())
    st.caption("Tags from the word lists (no coding needed; see *Word lists and coding* for "
               "why a post got its tag)" + (f", with {added} words you added." if added
                                           else "."))


def train(data: Mapping[str, tuple[pd.Series, pd.Series]], source: str) -> None:
    """Train a tagger per kind in ``data`` (kind -> texts, labels) and use them; a kind that
    cannot be trained yet (too few codes) keeps the word lists and is said so plainly."""
    trained: dict[str, object] = {"id": uuid.uuid4().hex, "domain": None, "theme": None,
                                  "source": source}
    problems = []
    for kind, (texts, labels) in data.items():
        try:
            trained[kind] = cached.train_insight_tagger(texts, labels, kind)
        except (CorpusError, ModelError) as err:
            problems.append(str(err))
    if trained["domain"] is None and trained["theme"] is None:
        for problem in problems:
            st.error(problem)
        return
    state.put(state.INSIGHT_TAGGERS, trained)
    state.put(state.INSIGHT_SOURCE, "trained")  # use what was just trained
    if problems:
        state.flash("Trained what the codes allow; the word lists stay in use for the rest: "
                    + " ".join(problems))
    st.rerun()


def from_project() -> None:
    """Pick a coding project that asks for domain and theme; train on its settled labels."""
    store = cached.current_coding_store()
    projects = [p for p in store.projects() if store.project(p).extra_schemes]
    if not projects:
        st.info("No coding project asks raters for domain and theme yet. On the Coding page, "
                "create one with 'Also ask raters for each post's domain and theme'.")
        return
    current = state.get(state.CODING_PROJECT)
    project = st.selectbox("Coding project", projects, key="ins_project",
                           index=projects.index(current) if current in projects else 0)
    try:
        labels = {s: store.scheme_labels(project, s)
                  for s in store.project(project).extra_schemes}
    except CodingError as err:
        st.error(str(err))
        return
    st.caption("Settled codes (two raters agreed, or the third rater decided): "
               + ", ".join(f"{kind} {len(frame):,} posts" for kind, frame in labels.items())
               + ". Each class needs at least two coded posts.")
    if st.button("Train the taggers on this project", type="primary", key="ins_train_project",
                 disabled=not any(len(f) for f in labels.values())):
        train({kind: (frame["text"], frame["label"]) for kind, frame in labels.items()
               if len(frame)}, f"coding project {project!r}")


def coded_upload() -> pd.DataFrame | None:
    """A coded file (text + domain and/or theme columns), uploaded or the sample's."""
    upload = st.file_uploader("A coded file: one post per row, with its domain and/or theme",
                              type=["csv", "tsv", "xlsx", "json", "jsonl", "parquet"],
                              key="ins_coded")
    if upload is not None:
        try:
            return cached.read_upload(upload.getvalue(), upload.name)
        except CorpusError as err:
            st.error(str(err))
            return None
    if st.toggle("Use the sample training set's domain and theme codes (synthetic)",
                 key="ins_use_sample_codes"):
        return cached.read_sample_table(cached.SAMPLE_TRAIN)
    return None


def from_file() -> None:
    """Train on a coded file: pick its text, domain and theme columns."""
    raw = coded_upload()
    if raw is None:
        return
    columns = list(raw.columns)
    pick = {c.lower(): c for c in columns}
    none = "(none)"
    a, b, c = st.columns(3)
    text_col = a.selectbox("Text column", columns, key="ins_text_col",
                           index=columns.index(pick.get("text", columns[0])))
    chosen = {}
    for column, kind in ((b, "domain"), (c, "theme")):
        chosen[kind] = column.selectbox(
            f"{kind.capitalize()} column", [none, *columns], key=f"ins_{kind}_col",
            index=[none, *columns].index(pick[kind]) if kind in pick else 0)
    if st.button("Train the taggers", type="primary", key="ins_train",
                 disabled=all(v == none for v in chosen.values())):
        train({kind: (raw[text_col], raw[col]) for kind, col in chosen.items() if col != none},
              "your coded file")


def train_section() -> None:
    """Train taggers on coded posts and choose them instead of the word lists."""
    st.markdown("**Trained taggers, once your group has coded posts by domain and theme**")
    st.caption("Code domain and theme on the Coding page (a project that asks for them) or in "
               "a spreadsheet. Classes: " + ", ".join(insights.DOMAINS) + " / "
               + ", ".join(insights.THEMES) + ". Quality is measured by 5-fold "
               "cross-validation before the tagger is used.")
    source = st.radio("Train on", list(SOURCES), format_func=SOURCES.get, horizontal=True,
                      key="ins_train_from")
    if source == "project":
        from_project()
    else:
        from_file()
    trained = state.get(state.INSIGHT_TAGGERS)
    if not trained:
        return
    for kind in ("domain", "theme"):
        model = trained.get(kind)
        if model is not None:
            st.markdown(f"**{kind.capitalize()} tagger** — {model.cv_report_.words()} "
                        f"Trained on {trained.get('source', 'coded posts')}.")
            st.dataframe(charts.tagger_table(model.cv_report_.per_class), hide_index=True,
                         key=f"ins_f1_{kind}")
    st.radio("Tag the posts with", ["lexicon", "trained"], key=state.INSIGHT_SOURCE,
             format_func={"lexicon": "The word lists",
                          "trained": "The trained taggers (word lists where none)"}.get,
             horizontal=True, persist_state="session")

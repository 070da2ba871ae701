"""Coding-page helpers: the one-click start of a project (shared by Model lab and Prevalence),
the rater's screen with its large keyboard-usable choices, the domain/theme tables, adding
raters, and the learning curve with the labels worth a second look."""

from __future__ import annotations

import html
from collections.abc import Sequence

import pandas as pd
import streamlit as st

from dashboard import cached, charts, slides, state
from stigma_core.coding import active
from stigma_core.coding.store import CODE_NAMES
from stigma_core.errors import CodingError
from stigma_core.privacy import mask_frame, mask_pii

BUTTONS = ((1, "Stigmatising", "1"), (0, "Not stigmatising", "2"), (-1, "Can't tell", "3"))
REVIEW_BUTTONS = ((1, "Agree with the model", "1"), (0, "Disagree", "2"))
POST_STYLE = ("<div style='font-size:1.6rem;line-height:1.45;padding:1.2rem 1.4rem;"
              "border:1px solid #ccc;border-radius:0.5rem;background:#fafafa'>{}</div>")
SCHEME_CHOICES = {
    "domain": (("self", "Self", "q"), ("community", "Community", "w"),
               ("professional", "Professional", "e"), ("none", "None of these", "t")),
    "theme": (("awareness", "Awareness", "a"), ("actionable", "Actionable", "s"),
              ("help_seeking", "Help-seeking", "d"), ("personal_story", "Personal story", "f"),
              ("other", "Other", "g")),
}
"""Each extra scheme's classes: (stored value, button label, keyboard key)."""
SCHEME_QUESTIONS = {
    "domain": "Where does it sit? Self (own shame or condition), community (family, friends, "
              "peers, faith, society) or professional (work, clinicians, care)",
    "theme": "What does the post do? Raise awareness, give actionable steps, ask for help, tell "
             "a personal story, or other",
}


def start_coding(project: str, texts: Sequence[str], n: int, why: str) -> None:
    """Draw ``n`` random posts of ``texts`` into ``project`` (created with raters R1-R3 if
    new), make it the open project, and go to the Coding page saying ``why``."""
    from stigma_core.coding.store import DEFAULT_RATERS

    store = cached.current_coding_store()
    project = project[:200]
    added = store.draw_into(project, texts, n)
    state.put(state.CODING_PROJECT, project)
    state.flash(f"Project {project!r} holds {added} more random posts for raters "
                f"{', '.join(DEFAULT_RATERS)} (add or rename raters under Set up). {why}")
    st.switch_page("pages/coding.py")


def choice_key(scheme: str, assignment_id: int) -> str:
    """Session key holding the rater's domain or theme choice for one assignment."""
    return f"code_{scheme}_{assignment_id}"


def _choose(key: str, value: str) -> None:
    st.session_state[key] = value


def scheme_choices(schemes: Sequence[str], assignment_id: int) -> None:
    """One row of large buttons per extra scheme, each with a one-key shortcut; the chosen
    class is highlighted. Nothing is pre-selected: no model tag and no other rater's choice."""
    for scheme in schemes:
        key = choice_key(scheme, assignment_id)
        chosen = st.session_state.get(key)
        st.markdown(f"**{SCHEME_QUESTIONS[scheme]}**")
        options = SCHEME_CHOICES[scheme]
        for column, (value, label, shortcut) in zip(st.columns(len(options)), options,
                                                    strict=True):
            column.button(label, key=f"code_{scheme}_btn_{value}",  # Streamlit shows the key
                          shortcut=shortcut, width="stretch",
                          type="primary" if chosen == value else "secondary",
                          on_click=_choose, args=(key, value))


def _save(store: object, project: str, rater: str, item_id: int, value: int, note_key: str,
          schemes: Sequence[str]) -> None:
    """Button callback: store the code (and the domain/theme chosen) before the page reruns,
    so the next post shows; a missing choice is said plainly and nothing is stored."""
    choices = {s: st.session_state.get(choice_key(s, item_id)) for s in schemes}
    try:
        store.save_code(project, rater, item_id, value, st.session_state.get(note_key, ""),
                        **choices)
    except CodingError as err:
        state.flash(f"Not saved: {err}")


def rater_screen(store: object, project: str) -> None:
    """One post at a time, large, blind: the rater sees nobody's code and no model opinion
    (unblind reviews excepted, which say so)."""
    raters = store.raters(project)
    rater = st.selectbox("I am", raters, index=None, placeholder="Choose your rater name or code",
                         key=state.CODING_RATER)
    if rater is None:
        st.info("Choose your rater name or code to start. Your codes are saved as you go, so "
                "you can stop and come back at any time.")
        return
    if state.presenter():
        st.info("Presenter mode is on, so posts are hidden. Switch it off in the sidebar to "
                "code.")
        return
    done, total = store.progress(project, rater)
    if total == 0:
        st.info("No posts are assigned to you yet. The analyst adds posts under 'Set up'.")
        return
    st.progress(done / total, text=f"{done} of {total} coded")
    item = store.next_item(project, rater)
    if item is None:
        st.success(f"All {total} posts assigned to you are coded. Thank you! New posts (for "
                   "example a disagreement to settle) will appear here.")
        return
    text = mask_pii(item.text) if state.privacy() else item.text
    if item.role == "review":
        call = "stigmatising" if item.model_call == 1 else "not stigmatising"
        st.markdown(f"**Unblind check.** The model called this post **{call}**. Do you agree?")
    elif item.role == "third":
        st.caption("Two raters read this post differently; your code settles it.")
    st.markdown(POST_STYLE.format(html.escape(text).replace("\n", "<br>")),
                unsafe_allow_html=True)
    info = store.project(project)
    schemes = () if item.role == "review" else info.extra_schemes
    scheme_choices(schemes, item.assignment_id)
    note_key = f"code_note_{item.assignment_id}"
    st.text_input("Note (optional)", key=note_key,
                  placeholder="Anything unclear about this post?")
    buttons = REVIEW_BUTTONS if item.role == "review" else BUTTONS
    if schemes:
        st.markdown("**Is the post stigmatising?** Saving stores all your choices for it.")
    for column, (value, label, key) in zip(st.columns(len(buttons)), buttons, strict=True):
        column.button(label, key=f"code_btn_{value}", shortcut=key, width="stretch",
                      on_click=_save, args=(store, project, rater, item.assignment_id, value,
                                            note_key, schemes))
    keys = "1, 2" + (", 3" if len(buttons) == 3 else "")
    if schemes:
        letters = " / ".join("".join(c[2].upper() for c in SCHEME_CHOICES[s]) for s in schemes)
        keys = f"{letters} to choose, then {keys} to save"
    st.caption(f"Keyboard: {keys}. You never see another rater's code or the model's opinion "
               "while coding blind." + (" \"Can't tell\" needs no domain or theme."
                                        if schemes else ""))
    with st.expander("Guidelines", expanded=done == 0):
        st.markdown(info.guidelines)


def scheme_agreement_view(store: object, project: str, codes: pd.DataFrame) -> None:
    """Krippendorff's alpha with its 95% CI for the domain and theme codes (when asked for)."""
    schemes = store.project(project).extra_schemes
    if not schemes:
        return
    table = cached.scheme_agreement_table(codes, schemes)
    shown = pd.DataFrame({
        "Code": table["scheme"].str.capitalize(), "Posts (n)": table["n"],
        "Krippendorff's alpha": table["value"].round(2),
        "95% CI": [f"{lo:.2f} to {hi:.2f}" if pd.notna(lo) else "—"
                   for lo, hi in zip(table["ci_low"], table["ci_high"], strict=True)],
        "Posts where all agreed (%)": table["percent_agreement"].round(1),
        "Reading": table["reading"]})
    st.markdown("**Domain and theme codes** — Krippendorff's alpha (nominal) per code")
    st.dataframe(shown, hide_index=True, key="code_scheme_agreement")
    status = store.status(project)
    st.caption("Settled: " + ", ".join(f"{s} {status.get(f'{s} settled', 0):,} posts"
                                       for s in schemes)
               + ". A post whose two raters chose differently in any code goes to a third "
               "rater" + ("" if len(store.raters(project)) > 2 else
                          " — add a third rater under Set up, as this project has two") + ".")


def scheme_download(store: object, project: str) -> None:
    """The settled domain and theme labels as a CSV (masked when privacy is on)."""
    schemes = store.project(project).extra_schemes
    if not schemes or state.presenter():
        return
    final = store.final_labels(project)
    settled = final[final[list(schemes)].notna().any(axis=1)]
    if settled.empty:
        return
    columns = ["text", "drawn_by", *[c for s in schemes for c in (s, f"{s}_settled_by")]]
    data = settled[columns].reset_index(drop=True)
    if state.privacy():
        data = mask_frame(data)
    st.download_button(f"Download the settled {' and '.join(schemes)} labels (CSV, "
                       f"{len(data):,} posts)", cached.table_file(data, "csv"),
                       file_name=f"{project}_domain_theme.csv", mime="text/csv",
                       key="code_download_schemes")


RATERS_ERROR = "code_raters_error"
"""Session key of the message when raters typed in the setup box could not be added."""


def add_raters(store: object, project: str) -> None:
    """Add the raters typed in the box, say who was added, and empty the box for the next."""
    names = [n.strip() for n in st.session_state.get("code_more_raters", "").split(",")]
    try:
        store.add_raters(project, names)
    except CodingError as err:  # the names stay in the box, to correct
        st.session_state[RATERS_ERROR] = str(err)
        return
    added = [n for n in names if n]
    state.flash(f"Added {len(added)} rater{'s' if len(added) > 1 else ''}: {', '.join(added)}.")
    st.session_state["code_more_raters"] = ""


def learning(training: pd.DataFrame) -> None:
    """Learning curve, and labels worth a second look."""
    labels = training["label"].astype(int)
    if not active.enough_codes(labels):
        st.caption("The learning curve and the second-look list need at least "
                   f"{active.MIN_PER_CLASS} coded posts of each kind.")
        return
    try:
        curve = cached.learning_curve(training["text"], labels)
        suspects = cached.suspect_labels(training["text"], labels)
    except CodingError as err:
        st.info(str(err))
        return
    slides.chart(charts.learning_curve_figure(curve), key="code_curve")
    flagged = suspects[suspects["suspect"]]
    st.subheader(f"Worth a second look: {len(flagged)} final labels the model doubts")
    st.caption("A cross-validated model is confident these posts belong to the other class. "
               "Nothing is changed automatically: discuss them with the raters.")
    if state.presenter():
        st.caption("Presenter mode: the posts themselves are hidden.")
        return
    st.dataframe(state.visible_posts(flagged.assign(
        label=flagged["label"].map(CODE_NAMES),
        probability=flagged["probability"].round(2))[["text", "label", "probability"]]),
        hide_index=True)

"""Cached calls and display builders for the Validation page's audit sections: why posts are
flagged (stigma_core.explain), which attribution they make (stigma_core.attribution) and
whether the model errs alike in every group (stigma_core.fairness).

Presentation only; the numbers come from the library. Posts are masked here when privacy is
on, word by word, so the marks stay on the words they belong to.
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard.charts import CLASS_COLOURS, ci_text
from stigma_core.persist import ModelBundle
from stigma_core.privacy import mask_pii

TOWARD = "#c0392b"  # red: pushes toward stigmatising
AWAY = "#3b6ea5"  # blue: pushes away
TERM_SAMPLE = 40
"""Posts occlusion averages over for a model without coefficients (its strongest terms):
each post is scored once per distinct word, which for sentence embeddings costs about 2 s a
post on 2 busy cores."""
KIND_NAMES = {"word": "word", "word n-gram": "words together", "characters": "letters",
              "engineered": "post feature", "other": "other feature"}


# --- cached library calls -----------------------------------------------------------------


@st.cache_resource(show_spinner=False, max_entries=4)
def explainer(model_id: str, _bundle: ModelBundle) -> object:
    """The explainer of the model in use (coefficients or occlusion), built once per model."""
    from stigma_core.explain import Explainer
    return Explainer(_bundle.pipeline)


@st.cache_data(show_spinner="Working out why each post was flagged…", max_entries=16)
def explanations(model_id: str, texts: tuple[str, ...], _bundle: ModelBundle) -> list:
    """Explanations of the posts, in order."""
    return explainer(model_id, _bundle).posts(list(texts))


@st.cache_data(show_spinner="Finding the model's strongest words…", max_entries=8)
def model_terms(model_id: str, texts: tuple[str, ...], top: int, _bundle: ModelBundle
                ) -> pd.DataFrame:
    """The model's strongest terms each way (``texts`` are used only without coefficients)."""
    chosen = explainer(model_id, _bundle)
    sample = list(texts[:TERM_SAMPLE]) if chosen.method == "occlusion" else None
    return chosen.terms(top, texts=sample)


@st.cache_resource(show_spinner="Training the attribution-type model…", max_entries=2)
def attribution_model(dataset: pd.DataFrame, type_col: str) -> object:
    """The attribution classifier trained on the training set's coded stigmatising posts."""
    from stigma_core import attribution
    return attribution.train(dataset, type_col)


@st.cache_data(show_spinner="Cross-validating the attribution model…", max_entries=2)
def attribution_scores(dataset: pd.DataFrame, type_col: str) -> tuple[pd.DataFrame, dict]:
    """Per-class F1 with bootstrap CIs (5-fold CV; folds by author when the data has one)."""
    from stigma_core import attribution
    group = next((c for c in ("participant", "author", "user", "group_participant")
                  if c in dataset.columns), None)
    scores = attribution.cross_validate(dataset, type_col, group_col=group, n_boot=300)
    return scores.per_class, scores.summary


def attribution_types(dataset: pd.DataFrame | None, posts: pd.DataFrame) -> pd.Series | None:
    """Predicted attribution type per post ("pity (62%)"), when the training set codes one
    (else None)."""
    from stigma_core import attribution
    from stigma_core.errors import CorpusError, ModelError

    type_col = attribution.type_column(dataset) if dataset is not None else None
    if type_col is None:
        return None
    try:
        model = attribution_model(dataset, type_col)
    except (CorpusError, ModelError):
        return None
    predicted = model.predict(posts)
    return predicted["attribution"] + " (" + predicted["attribution_probability"].map(
        "{:.0%}".format) + ")"


def fairness_sources(scored: pd.DataFrame, raters: list[str], bundle: ModelBundle,
                     model_id: str) -> dict[str, tuple[pd.DataFrame, str]]:
    """The coded posts an audit can use, by name -> (posts with age bands, a note on them):
    the training posts the model did not train on, and this batch with the raters' majority
    code; only those with a column to compare groups by."""
    from stigma_core import fairness, validation

    held_out, note = held_out_posts(bundle, model_id)
    sources = {}
    if held_out is not None:
        sources["Training-set posts the model did not train on"] = (held_out, note)
    batch = scored.assign(label=validation.majority_code(scored, raters))
    sources["This batch (the raters' majority code)"] = (
        batch, f"{int(batch['label'].notna().sum()):,} posts of this batch with a majority code.")
    banded = {name: (fairness.with_age_bands(posts), words)
              for name, (posts, words) in sources.items()}
    return {name: found for name, found in banded.items() if fairness.group_columns(found[0])}


@st.cache_data(show_spinner=False, max_entries=8)
def fairness_audit(posts: pd.DataFrame, by: str, min_n: int) -> object:
    """The fairness audit of scored, coded posts (age bands already made) by one column."""
    from stigma_core import fairness
    return fairness.audit(posts, by, min_n=min_n)


# --- display builders ---------------------------------------------------------------------


def _shade(weight: float, strongest: float) -> str:
    """Background colour for a word: red toward stigmatising, blue away, paler when weaker."""
    alpha = 0.15 + 0.6 * min(abs(weight) / strongest, 1.0) if strongest > 0 else 0.0
    rgb = "192,57,43" if weight > 0 else "59,110,165"
    return f"rgba({rgb},{alpha:.2f})"


def marked_html(explanation: object, privacy: bool, strongest_share: float = 0.1) -> str:
    """The post as HTML with the words that moved the model marked (red: toward
    stigmatising, blue: away; stronger colour, stronger push). Words with less than
    ``strongest_share`` of the post's strongest weight stay plain. Masked when ``privacy``."""
    pieces = explanation.segments()
    weights = [abs(w) for _, w in pieces if w is not None]
    strongest = max(weights, default=0.0)
    out = []
    for text, weight in pieces:
        shown = html.escape(mask_pii(text) if privacy else text)
        if weight is None or strongest == 0 or abs(weight) < strongest_share * strongest:
            out.append(shown)
            continue
        sign = "toward" if weight > 0 else "away from"
        out.append(f'<mark style="background:{_shade(weight, strongest)};padding:0 2px;'
                   f'border-radius:3px" title="{sign} stigmatising: {weight:+.3f} '
                   f'{explanation.unit}">{shown}</mark>')
    return ('<div style="line-height:1.8;padding:6px 10px;border-left:3px solid '
            f'{TOWARD}">' + "".join(out) + "</div>")


def why_line(explanation: object, n: int = 4, privacy: bool = True) -> str:
    """'Flagged for: violent, dangerous · Against: help' in plain words."""
    def words(frame: pd.DataFrame) -> str:
        return ", ".join(mask_pii(w) if privacy else w for w in frame["word"])
    toward, away = explanation.top_words(n), explanation.top_words(n, toward=False)
    parts = []
    if len(toward):
        parts.append(f"Pushed toward stigmatising by: {words(toward)}")
    if len(away):
        parts.append(f"pulled away by: {words(away)}")
    return "; ".join(parts) + "." if parts else "No single word moved the score."


def terms_display(terms: pd.DataFrame, unit: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The strongest terms as two display tables (toward, away) with human column names."""
    def one(direction: str) -> pd.DataFrame:
        rows = terms[terms["direction"] == direction]
        shown = pd.DataFrame({"Term": rows["term"].to_numpy(),
                              "Kind": rows["kind"].map(KIND_NAMES).fillna(rows["kind"]),
                              f"Weight ({unit})": rows["weight"].round(3).to_numpy()})
        if rows["n_posts"].notna().any():
            shown["Posts with it (n)"] = rows["n_posts"].astype("Int64").to_numpy()
        return shown
    return one("toward"), one("away")


def flagged_posts(scored: pd.DataFrame) -> pd.DataFrame:
    """The posts the model flags, highest probability first."""
    flagged = scored[scored["stigma_predicted"] == 1]
    return flagged.sort_values("stigma_probability", ascending=False, kind="stable")


def group_label(column: str) -> str:
    """A group column's name as a person would say it ("group_gender" -> "gender")."""
    return column.removeprefix("group_").replace("_", " ")


def fairness_display(result: object, privacy: bool = True) -> pd.DataFrame:
    """The audit as a display table: group, n, miss rate (95% CI), false-alarm rate, tests."""
    table = result.table

    def rate(kind: str) -> list[str]:
        return [("too few posts" if few else ci_text(r, lo, hi, percent=True))
                for r, lo, hi, few in zip(table[f"{kind}_rate"], table[f"{kind}_ci_low"],
                                          table[f"{kind}_ci_high"], table[f"{kind}_too_few"],
                                          strict=True)]

    def verdict(kind: str) -> list[str]:
        return ["significantly worse" if worse else "significantly better" if better
                else "—" if np.isnan(p) else "no clear difference"
                for worse, better, p in zip(table[f"{kind}_worse"], table[f"{kind}_better"],
                                            table[f"{kind}_p_adjusted"], strict=True)]

    return pd.DataFrame({
        group_label(result.by).capitalize(): [mask_pii(g) if privacy else g
                                               for g in table["group"].astype(str)],
        "Posts (n)": table["n"].to_numpy(),
        "Stigmatising (n)": table["n_pos"].to_numpy(),
        "Missed (95% CI)": rate("fn"),
        "Misses vs the rest": verdict("fn"),
        "Other (n)": table["n_neg"].to_numpy(),
        "False alarms (95% CI)": rate("fp"),
        "False alarms vs the rest": verdict("fp"),
        "Misses: adjusted p": table["fn_p_adjusted"].round(4).to_numpy(),
    })


def fairness_figure(result: object) -> go.Figure:
    """Miss rate per group with 95% CI whiskers and n, the overall rate as a line."""
    rows = result.table[~result.table["fn_too_few"]]
    colours = [TOWARD if worse else CLASS_COLOURS["Other"] for worse in rows["fn_worse"]]
    fig = go.Figure(go.Bar(
        x=rows["group"].astype(str), y=rows["fn_rate"] * 100, marker_color=colours,
        error_y={"type": "data", "symmetric": False,
                 "array": (rows["fn_ci_high"] - rows["fn_rate"]) * 100,
                 "arrayminus": (rows["fn_rate"] - rows["fn_ci_low"]) * 100},
        text=[f"n = {n:,}" for n in rows["n_pos"]], textposition="inside",
        insidetextanchor="start"))
    overall = result.overall.get("fn_rate", np.nan)
    if not np.isnan(overall):
        # colour and width spelt out: the report's template draws default shapes 0 px wide
        fig.add_hline(y=overall * 100, line={"dash": "dash", "color": "#333333", "width": 2},
                      annotation_text=f"all posts: {overall:.0%}")
    fig.update_layout(
        title=f"Stigmatising posts missed, by {group_label(result.by)} "
              f"(n = {result.overall['n_pos']:,} stigmatising posts; 95% CIs; red: "
              "significantly worse)",
        yaxis_title="Missed (%)", xaxis_title=group_label(result.by).capitalize(),
        margin={"t": 60, "b": 10}, height=380)
    return fig


def held_out_posts(bundle: ModelBundle, model_id: str) -> tuple[pd.DataFrame | None, str]:
    """The training set's coded posts the model did not train on, scored, with ``country``
    from their locations; and a note on what they are ("" when there are none)."""
    from dashboard import cached, state
    from stigma_core.crossfit import knows_training_posts, trained_on

    dataset = state.get(state.DATASET)
    if dataset is None or "label" not in dataset or dataset["label"].notna().sum() == 0:
        return None, ""
    coded = dataset[dataset["label"].notna()]
    if knows_training_posts(bundle):
        coded = coded[~trained_on(bundle, coded["text"].tolist())]
        note = (f"{len(coded):,} coded posts of the training set '{state.get(state.DATASET_NAME)}'"
                " that the model did not train on (its test split).")
    else:
        note = ("The model file does not say which posts it trained on, so these are all "
                f"{len(coded):,} coded posts of the training set: its error rates here are "
                "optimistic.")
    if coded.empty:
        return None, ""
    scored = cached.score(model_id, coded.reset_index(drop=True), bundle)
    if "location" in scored and "country" not in scored:
        scored = scored.assign(country=cached.countries(scored["location"],
                                                        state.get(state.OVERRIDES, {})))
    return scored, note

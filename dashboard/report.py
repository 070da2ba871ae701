"""The HTML report: its sections from what this session loaded, trained and scored, and the page
that holds them — a one-page summary up front, tables in plain words, small sharp figures.

Presentation only: the numbers come from the same cached stigma_core calls the pages use.
Why a renderer here rather than ``stigma_core.export.render_report_html`` (which stays, for
scripts): a report for an advisory group or a slide deck needs a summary page, column names a
reader understands ("Corrected for its errors (95% CI)", not ``corrected_ci_high``), shares as
"25.3% (18.5% to 31.3%)", tables that fit an A4 or Letter page, a print layout, and static
figures with text alternatives. Figures are SVG drawn by kaleido (Debian Chromium, offline):
the interactive version carried 4.8 MB of plotly.js, which made the file 5.4 MB.

Reusable pieces for any section (e.g. a fairness audit): :func:`human_name` for column names,
:func:`percent`, :func:`interval` and :func:`metric_cell` for cells, :func:`prevalence_display`
for prevalence tables, :func:`figure_alt` for a chart's text alternative. A section is a
``stigma_core.export.ReportSection``; its ``figures`` take a Plotly figure or a
``(figure, alt text)`` pair, its ``tables`` a frame or a ``(frame, caption)`` pair.
"""

from __future__ import annotations

import base64
import html
import io
import math
import re
import tempfile
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard import cached, charts, slides, state
from stigma_core import prevalence, shift
from stigma_core.errors import CorpusError
from stigma_core.export import PNG_SIGNATURE, ReportSection
from stigma_core.features import significant_features
from stigma_core.privacy import PERSONAL_TEXT_NAMES, mask_frame

CARD_FIELDS = {
    "family_label": "Model", "data": "Trained on", "n_train": "Training posts",
    "n_test": "Test posts", "best_params": "Hyper-parameters", "threshold":
    "Threshold (technical)", "threshold_rule": "Threshold rule", "cost_ratio":
    "One missed post costs (false alarms)", "decided_by": "Trade-off chosen by",
    "decided_on": "Chosen on", "created": "Trained on (UTC)",
    "selected_features": "Engineered features used", "choice_rule": "How the model was chosen",
}
TOP_POSTS = 20
TOP_COUNTRIES = 5
MAX_ROWS = 60
FIGURE_WIDTH = 720  # CSS pixels: the text width of an A4 or Letter page at 12-14 mm margins
FIGURE_MAX_HEIGHT = 380
CLOUD_COLOURS = 48
# Column names of library tables, in words (anything else: "snake_case" -> "Snake case").
HUMAN_NAMES = {
    "group": "Group", "n": "Posts (n)", "n_predicted": "Flagged by the model (n)",
    "raw": "Flagged by the model", "raw_ci_low": "Flagged, 95% CI from",
    "raw_ci_high": "Flagged, 95% CI to", "corrected": "Corrected for its errors",
    "corrected_ci_low": "Corrected, 95% CI from", "corrected_ci_high": "Corrected, 95% CI to",
    "ci_width": "Interval width", "unstable": "Unstable", "too_few": "Too few posts",
    "trust": "Figure to read", "warning": "Warning", "note": "Note", "id": "Post id",
    "text": "Post", "country": "Country", "platform": "Platform", "label": "Code",
    "stigma_probability": "Model's score (0 to 1)", "stigma_predicted": "Flagged",
    "feature": "Feature", "field": "Field", "value": "Value", "metric": "Measure",
    "ci_low": "95% CI from", "ci_high": "95% CI to", "share": "Share", "k": "Posts (k)",
}
METRIC_KINDS = {"auc": "ratio", "kappa": "ratio", "accuracy": "percent",
                "precision": "percent", "recall": "percent",
                "predicted_positive_share": "percent", "false_negatives": "count",
                "false_positives": "count"}
REPORT_THEME = {
    "template": "simple_white", "colorway": slides.OKABE_ITO,
    "font": {"size": 13, "color": "#111111", "family": "Arial, Helvetica, sans-serif"},
    "margin": {"l": 70, "r": 20, "t": 20, "b": 60}, "title": {"text": ""},
}
CI_CELL = re.compile(r"^(?P<value>[^()]+?) \((?P<interval>[^()]+ to [^()]+)\)$")
TAGS = re.compile(r"<[^>]+>")


# --- Cells and column names in plain words (reusable by any section) --------------------------

def human_name(column: object) -> str:
    """A column name a reader understands: the table's own words, else "n_posts" ->
    "N posts"."""
    name = str(column)
    if name in HUMAN_NAMES:
        return HUMAN_NAMES[name]
    if "_" in name or name.islower():
        return name.replace("_", " ").strip().capitalize()
    return name


def human_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every column named in words (:func:`human_name`)."""
    return frame.rename(columns={c: human_name(c) for c in frame.columns})


def percent(value: float, digits: int = 1) -> str:
    """0.2531 -> "25.3%"; a missing value -> "—"."""
    return "—" if value is None or pd.isna(value) else f"{value:.{digits}%}"


def interval(value: float, low: float, high: float, digits: int = 1) -> str:
    """A share with its 95% CI: "25.3% (18.5% to 31.3%)" ("to", never a dash)."""
    if value is None or pd.isna(value):
        return "—"
    if low is None or pd.isna(low) or high is None or pd.isna(high):
        return percent(value, digits)
    return f"{percent(value, digits)} ({percent(low, digits)} to {percent(high, digits)})"


def metric_cell(name: str, value: float | None, low: float | None, high: float | None) -> str:
    """A test metric with its 95% CI in its own units: shares as percentages, counts as whole
    numbers, AUC and kappa to two decimals."""
    if value is None or pd.isna(value):
        return "—"
    kind = METRIC_KINDS.get(name, "ratio")
    if kind == "percent":
        return interval(value, low, high)
    fmt = (lambda v: f"{v:,.0f}") if kind == "count" else (lambda v: f"{v:.2f}")
    if low is None or pd.isna(low):
        return fmt(value)
    return f"{fmt(value)} ({fmt(low)} to {fmt(high)})"


def _estimate(row: pd.Series) -> tuple[float, float, float]:
    """The (share, low, high) a prevalence row says to read: corrected or raw."""
    part = "corrected" if row.get("trust") == "corrected" else "raw"
    return row[part], row[f"{part}_ci_low"], row[f"{part}_ci_high"]


def prevalence_display(table: pd.DataFrame, group_label: str) -> pd.DataFrame:
    """A ``prevalence_table`` in words: group, posts, the model's raw share and the corrected
    one (each with its 95% CI), which to read, and any warning; "too few posts" for groups
    under the minimum."""
    rows = []
    for _, row in table.iterrows():
        few = bool(row.get("too_few", False))
        rows.append({
            group_label: row["group"] if group_label != "Country" else
            _country(row["group"]),
            "Posts (n)": f"{int(row['n']):,}",
            "Flagged by the model (95% CI)": "too few posts" if few else interval(
                row["raw"], row["raw_ci_low"], row["raw_ci_high"]),
            "Corrected for its errors (95% CI)": "too few posts" if few else interval(
                row["corrected"], row["corrected_ci_low"], row["corrected_ci_high"]),
            "Read": "" if few else ("corrected" if row.get("trust") == "corrected" else "raw"),
            "Warning": "" if few else row.get("warning") or "",
        })
    shown = pd.DataFrame(rows)
    warnings = set(shown["Warning"]) - {""}
    if len(warnings) == 1 and shown["Warning"].astype(bool).sum() > 1:
        # the same caution on every row: said once, under the table's caption
        shown.attrs["warning"] = warnings.pop()
        warnings = set()
    if not warnings:
        shown = shown.drop(columns="Warning")
    return shown


def prevalence_table_item(table: pd.DataFrame, group_label: str, caption: str
                          ) -> tuple[pd.DataFrame, str]:
    """(:func:`prevalence_display`, caption) with a caution shared by every row in the
    caption, for a section's ``tables``."""
    shown = prevalence_display(table, group_label)
    warning = shown.attrs.get("warning")
    return shown, f"{caption}. Caution for every row: {warning}" if warning else caption


def _country(code: object) -> str:
    """"GB" -> "United Kingdom (GB)"; unknown codes as they are."""
    from stigma_core import geo
    name = geo.country_name(code)
    return f"{name} ({code})" if name else str(code)


# --- Text alternatives for charts ---------------------------------------------------------------

def _plain(text: object) -> str:
    """Chart text without its HTML (<br>, <sup>)."""
    return re.sub(r"\s+", " ", TAGS.sub(" ", str(text or ""))).strip()


def _values(array: object) -> list:
    """A trace's array as a plain list (plotly may hold numpy arrays or typed-array dicts)."""
    if array is None:
        return []
    return list(array.tolist() if hasattr(array, "tolist") else array)


def _bar_alt(trace: go.Bar, unit: str) -> str:
    """ "Label: 41.2% (33.3% to 47.5%)" for every bar of a trace."""
    x, y = _values(trace.x), _values(trace.y)
    if trace.orientation == "h":
        x, y = y, x
    error = trace.error_y
    plus, minus = _values(error.array), _values(error.arrayminus) or _values(error.array)
    parts = []
    for i, (label, value) in enumerate(zip(x, y, strict=False)):
        if value is None or pd.isna(value):
            continue
        cell = f"{value:.1f}{unit}"
        if i < len(plus) and i < len(minus) and plus[i] is not None and minus[i] is not None:
            cell += f" ({value - minus[i]:.1f}{unit} to {value + plus[i]:.1f}{unit})"
        parts.append(f"{_plain(label)}: {cell}")
    name = f"{trace.name}: " if trace.name else ""
    return name + "; ".join(parts)


def figure_alt(figure: go.Figure) -> str:
    """A text alternative for a chart with its numbers: the title, then each bar's value and
    95% CI, or for lines, histograms and boxes what each trace shows and its n."""
    title = _plain(figure.layout.title.text)
    unit = "%" if "%" in str(figure.layout.yaxis.title.text or "") else ""
    parts = []
    for trace in figure.data:
        kind = trace.type
        if kind == "bar":
            parts.append(_bar_alt(trace, unit))
        elif kind == "scatter":
            points = len(_values(trace.x))
            parts.append(f"line '{_plain(trace.name)}' ({points:,} points)")
        elif kind in ("histogram", "box", "violin"):
            values = [v for v in _values(trace.y if trace.y is not None else trace.x)
                      if v is not None and not pd.isna(v)]
            median = f", median {pd.Series(values).median():.3g}" if values else ""
            parts.append(f"{_plain(trace.name)}: {len(values):,} values{median}")
        elif kind == "heatmap":
            parts.append(f"cells {_values(trace.z)}")
    body = ". ".join(p for p in parts if p)
    return f"Chart: {title}. {body}." if body else f"Chart: {title}."


# --- Figures as small, sharp SVG ----------------------------------------------------------------

def report_figure(figure: go.Figure) -> go.Figure:
    """A copy of ``figure`` for the page: report width, its title moved to the caption (HTML
    text, so it is read aloud and searchable), large enough type, colour-blind-safe colours
    for traces without their own."""
    shown = go.Figure(figure)
    height = min(int(figure.layout.height or 400), FIGURE_MAX_HEIGHT)
    shown.update_layout(**REPORT_THEME, width=FIGURE_WIDTH, height=height)
    if shown.layout.legend.orientation == "h":
        shown.update_layout(legend={"y": -0.3})
        shown.update_layout(margin={"b": 110})
    return shown


@lru_cache(maxsize=64)
def _svg_batch(specs: tuple[str, ...]) -> tuple[bytes, ...]:
    """SVG bytes of several figures (JSON specs) from one kaleido run: the browser starts
    once (about 3 s), then each figure takes a fraction of a second."""
    import plotly.io as pio

    pio.defaults.topojson = slides.STATIC.as_uri() + "/"  # world shapes offline, never a CDN
    figures = [pio.from_json(spec) for spec in specs]
    with tempfile.TemporaryDirectory() as folder:
        paths = [Path(folder) / f"figure{i}.svg" for i in range(len(figures))]
        pio.write_images(figures, paths, format="svg")
        return tuple(path.read_bytes() for path in paths)


def figure_svgs(figures: Sequence[go.Figure]) -> list[bytes]:
    """Each figure as SVG in the report's size and theme (cached per figure set)."""
    if not figures:
        return []
    return list(_svg_batch(tuple(report_figure(f).to_json() for f in figures)))


def small_png(data: bytes, colours: int = CLOUD_COLOURS) -> bytes:
    """A PNG re-encoded with a palette of ``colours`` (word clouds: a third of the bytes,
    no visible change)."""
    from PIL import Image

    image = Image.open(io.BytesIO(data)).convert("RGB")
    buffer = io.BytesIO()
    image.quantize(colors=colours, method=Image.Quantize.MEDIANCUT).save(
        buffer, format="PNG", optimize=True)
    smaller = buffer.getvalue()
    return smaller if len(smaller) < len(data) else data


@st.cache_data(show_spinner=False, max_entries=8)
def top_words(texts: pd.Series, n: int = 12) -> list[tuple[str, int]]:
    """The ``n`` commonest words of the posts as the word cloud counts them (masked,
    preprocessed, placeholders left out): the cloud's text alternative."""
    from stigma_core import privacy, text

    masked = privacy.mask_series(texts.dropna().astype(str))
    counts = Counter(word for post in text.preprocess_many(masked) for word in post.split()
                     if word not in cached.CLOUD_STOPWORDS)
    return counts.most_common(n)


def scored_posts_view(scored: pd.DataFrame) -> pd.DataFrame:
    """``state.visible_posts(scored)`` remembered between reruns: masking every column of
    the scored corpus took most of the Report page's rerun. Keyed by the model, the corpus
    object in the session, the location corrections and the two modes, not by hashing the
    frame (which costs nearly as much as masking it)."""
    corpus = state.get(state.CORPUS)
    overrides = tuple(sorted((state.get(state.OVERRIDES) or {}).items(), key=str))
    key = (state.get(state.MODEL_ID), id(corpus), len(scored), tuple(scored.columns), overrides)
    return _visible_scored(key, state.presenter(), state.privacy(), scored)


@st.cache_data(show_spinner=False, max_entries=4)
def _visible_scored(key: tuple, presenter: bool, privacy: bool, _scored: pd.DataFrame
                    ) -> pd.DataFrame:
    """The scored posts as they may be shown (``key`` and the modes identify them)."""
    from stigma_core.privacy import drop_personal_text, post_identifier_columns

    frame = (drop_personal_text(_scored, also=post_identifier_columns(_scored)) if presenter
             else _scored)
    return mask_frame(frame) if privacy else frame


# --- Sections -----------------------------------------------------------------------------------

def summary_section(scored: pd.DataFrame | None, min_n: int) -> ReportSection:
    """The first page: the headline prevalence with its CI, the top countries, the model and
    the missed-post : false-alarm decision with who made it."""
    bundle = state.get(state.MODEL)
    paragraphs, tables = [], []
    if scored is not None and bundle is not None:
        rates = cached.bundle_error_rates(bundle)
        coded = _coded_headline(scored, bundle)
        paragraphs += coded or _model_headline(scored, bundle, rates, min_n)
        if "country" in scored:
            top, caption = _top_countries(scored, rates, min_n, from_coded=bool(coded))
            if len(top):
                tables.append((top, caption))
            else:
                paragraphs.append(f"No country has {min_n} or more posts to rank.")
    else:
        paragraphs.append("No prevalence yet: no model was chosen, so no post was scored.")
    paragraphs.append(_decision_words(bundle))
    return ReportSection("Summary", "\n\n".join(paragraphs), tables=tables)


def _coded_headline(scored: pd.DataFrame, bundle: object) -> list[str]:
    """The headline from the newest coded random sample of this corpus, as the Prevalence page
    shows it by default (prediction-powered: valid for any corpus); empty when none exists."""
    samples = cached.coded_samples(scored["text"])
    if not samples:
        return []
    name, sample = list(samples.items())[-1]
    try:
        result = cached.coded_prevalence(state.get(state.MODEL_ID), scored, sample,
                                         state.get(state.DATASET), None, bundle)
    except CorpusError:
        return []
    overall, coded = result["overall"], result["coded"]
    estimate = interval(overall["corrected"], overall["ci_low"], overall["ci_high"])
    words = [f"Stigmatising posts: {estimate} of {int(overall['n']):,} posts in "
             f"{state.get(state.CORPUS_NAME)} (95% confidence interval), from a random sample "
             f"of {coded['n_coded']:,} posts coded by people (coding project '{name}'), "
             f"sharpened by the model's scores on every post. The model alone flags "
             f"{percent(overall['raw'])}."]
    if overall.get("warning"):
        words.append(f"Caution: {overall['warning']}")
    if shift.is_synthetic_sample(bundle):
        words.append(f"Caution: {shift.SYNTHETIC_MODEL_WARNING}")
    return words


def _model_headline(scored: pd.DataFrame, bundle: object, rates: tuple | None,
                    min_n: int) -> list[str]:
    """The headline from the model's own error rates, with the cautions the Prevalence page
    gives: an unstable correction, a corpus unlike the model's training posts, a model
    trained on the synthetic sample."""
    overall = cached.prevalence_table(scored, None, rates, min_n).iloc[0]
    share, low, high = _estimate(overall)
    which = ("corrected for the model's errors" if overall.get("trust") == "corrected"
             else "as the model flags them, not corrected")
    words = [f"Stigmatising posts: {interval(share, low, high)} of {int(overall['n']):,} posts "
             f"in {state.get(state.CORPUS_NAME)} ({which}; 95% confidence interval). The model "
             f"alone flags {percent(overall['raw'])}."]
    if overall.get("warning"):
        words.append(f"Caution: {overall['warning']}")
    found = cached.similarity(state.get(state.MODEL_ID), scored["text"], bundle)
    if found["synthetic_sample"] or shift.is_synthetic_sample(bundle):
        words.append(f"Caution: {found['warning'] or shift.SYNTHETIC_MODEL_WARNING}")
    elif found["warning"] or found["verdict"] != "alike":
        words.append(f"Caution: {found['detail']} The correction uses error rates measured on "
                     "the model's training posts, which only carry over to posts like those; "
                     "a coded random sample of this corpus gives a figure valid for it.")
    return words


def _top_countries(scored: pd.DataFrame, rates: tuple | None, min_n: int,
                   from_coded: bool = False) -> tuple[pd.DataFrame, str]:
    """The countries with the highest share of stigmatising posts (enough posts only, ranked
    by the low end of the CI), and a caption that says which estimate they are — the model's
    own correction even when the headline comes from a coded sample (too few coded posts to
    split by country)."""
    table = cached.prevalence_table(scored, "country", rates, min_n)
    known = table[(table["group"] != "(not known)")]
    enough = known[~known["too_few"]].copy()
    # ranked by the low end of the 95% CI: the share each country surely reaches, so a small
    # country's wide interval cannot put it on top
    enough["surely"] = [_estimate(row)[1] for _, row in enough.iterrows()]
    enough["estimate"] = [_estimate(row)[0] for _, row in enough.iterrows()]
    top = enough.sort_values(["surely", "estimate"], ascending=False).head(TOP_COUNTRIES)
    shown = pd.DataFrame({
        "Country": [_country(code) for code in top["group"]],
        "Posts (n)": [f"{int(n):,}" for n in top["n"]],
        "Stigmatising posts (95% CI)": [interval(*_estimate(row)) for _, row in top.iterrows()],
    })
    few = int(known["too_few"].sum())
    corrected = top.get("trust", pd.Series(dtype=str)).eq("corrected")
    basis = ("corrected with the model's own error rates, measured on its training posts"
             if corrected.all() else "as the model flags them, not corrected"
             if not corrected.any() else "corrected with the model's own error rates where "
             "that correction is stable, as the model flags them elsewhere")
    if from_coded:
        basis += (" — not from the coded sample behind the headline, which has too few posts "
                  "to split by country; read them as a ranking more than as figures")
    caption = (f"Countries with the highest share of stigmatising posts, ranked by the low "
               f"end of the 95% CI — the share each surely reaches ({len(top)} of "
               f"{len(enough)} with at least {min_n} posts"
               + (f"; {few} more have too few posts to rank" if few else "") + f"; {basis})")
    return shown, caption


def _decision_words(bundle: object) -> str:
    """Who chose the trade-off, what it is, and what it does, in plain words."""
    if bundle is None:
        return "Decision: no model and threshold have been chosen yet."
    from stigma_core.decision import of_flagged, one_in

    card = bundle.card or {}
    metrics = bundle.metrics or {}
    who = card.get("decided_by") or "not recorded"
    when = card.get("decided_on", "an unrecorded date")
    ratio = card.get("cost_ratio")
    text = (f"Decision: the model in use is {card.get('family_label', state.get(state.MODEL_NAME))}"
            + (f"; one missed stigmatising post was judged to cost as much as {ratio} "
               "wrongly flagged posts" if ratio is not None else "")
            + (f"; chosen on {when}, by whom was not recorded." if who == "not recorded"
               else f"; chosen by {who} on {when}."))
    recall = (metrics.get("recall") or {}).get("value")
    precision = (metrics.get("precision") or {}).get("value")
    if recall is not None and precision is not None:
        n = (metrics.get("recall") or {}).get("n")
        flagged_words = of_flagged(precision)
        text += (f" On {n:,} held-out test posts it finds {one_in(recall)} stigmatising posts "
                 f"({percent(recall)}), and {flagged_words[0].lower()}{flagged_words[1:]} really "
                 f"stigmatising ({percent(precision)})." if n else "")
    flagged = (metrics.get("predicted_positive_share") or {}).get("value")
    if flagged is not None:
        text += f" It flags {percent(flagged)} of the test posts for review."
    auc = metrics.get("auc") or {}
    if auc.get("value") is not None:
        text += f" AUC {metric_cell('auc', auc['value'], auc.get('ci_low'), auc.get('ci_high'))}."
    return text


def data_section() -> ReportSection:
    """What was analysed: the training set and the corpus, with load summaries."""
    lines = []
    for key, name_key, role in ((state.DATASET, state.DATASET_NAME, "Training set"),
                                (state.CORPUS, state.CORPUS_NAME, "Corpus")):
        frame = state.get(key)
        if frame is None:
            continue
        report = frame.attrs.get("load_report") or {}
        dropped = ", ".join(f"{k.replace('_', ' ')}: {v:,}"
                            for k, v in report.get("dropped", {}).items())
        lines.append(f"{role}: {state.get(name_key)}, {len(frame):,} posts kept"
                     + (f" (dropped — {dropped})." if dropped else "."))
    return ReportSection("Data", "\n\n".join(lines))


def features_section() -> ReportSection | None:
    """The Welch t-tests of the ten features, and which enter the models."""
    dataset = state.get(state.DATASET)
    if dataset is None or "label" not in dataset:
        return None
    table = cached.feature_tests(dataset)
    chosen = significant_features(table)
    names = ", ".join(human_name(c).lower() for c in chosen)
    text = (f"{len(chosen)} of {len(table)} features differ significantly between "
            f"stigmatising and other posts (Welch t-test, p < 0.05): {names}.")
    shown = charts.welch_display(table)
    shown.index = [human_name(i) for i in shown.index]
    shown = shown.rename_axis("Feature").reset_index()
    return ReportSection("Features", text, tables=[
        (shown, f"Welch t-tests, stigmatising minus other (n = {len(dataset):,} posts)")])


def models_section() -> ReportSection | None:
    """The comparison table and curves of the last training run."""
    run = state.get(state.RUN)
    if run is None:
        return None
    table = run.table()
    shown = pd.DataFrame({"Model": table["label"].map(lambda s: s.split(" (")[0]),
                          "Kept": table["chosen"].map({True: "kept", False: ""})})
    for name, label in charts.METRIC_LABELS.items():
        shown[f"{label} (95% CI)"] = [metric_cell(name, v, lo, hi) for v, lo, hi in zip(
            table[name], table[f"{name}_ci_low"], table[f"{name}_ci_high"], strict=True)]
    shown["Fit time (s)"] = table["fit_seconds"].map(lambda s: f"{s:.1f}")
    aucs = "; ".join(f"{row['label'].split(' (')[0]} AUC "
                     f"{metric_cell('auc', row['auc'], row['auc_ci_low'], row['auc_ci_high'])}"
                     for _, row in table.iterrows())
    curves = charts.curves_figure(run.results, run.y_test)
    models = f"{len(table)} models" if len(table) != 1 else "the model"
    alt = (f"ROC and precision-recall curves of {models} on the test set "
           f"(n = {len(run.y_test):,} posts): {aucs}. The nearer a curve comes to the top-left "
           "(ROC) or top-right (precision-recall) corner, the better.")
    return ReportSection(
        "Model comparison",
        f"Held-out test set, n = {len(run.y_test):,} posts; each figure with its 95% bootstrap "
        "CI. Missed and false alarms are counts of test posts at each model's own threshold "
        "(the one that finds 90% of stigmatising posts in cross-validation).",
        figures=[(curves, alt)],
        tables=[(shown, "Test-set metrics with 95% bootstrap CIs")])


def model_card_section() -> ReportSection | None:
    """The model card, the FN/FP choice and who made it, and metrics at the threshold."""
    bundle = state.get(state.MODEL)
    if bundle is None:
        return None
    card = bundle.card or {}
    rows = [(label, _card_value(card[key])) for key, label in CARD_FIELDS.items()
            if key in card]
    metrics = pd.DataFrame([
        {"Measure": charts.METRIC_LABELS.get(name, human_name(name)),
         "Value (95% CI)": metric_cell(name, m["value"], m["ci_low"], m["ci_high"]),
         "Test posts (n)": m["n"]} for name, m in bundle.metrics.items()])
    who = card.get("decided_by", "not recorded")
    when = card.get("decided_on", "an unrecorded date")
    text = (f"Model in use: {state.get(state.MODEL_NAME)}. The trade-off between missed "
            "stigmatising posts and false alarms was set "
            + (f"on {when}; who chose it was not recorded." if who == "not recorded"
               else f"by {who} on {when}."))
    return ReportSection("Model card and decision", text, tables=[
        (pd.DataFrame(rows, columns=["Field", "Value"]), "Model card"),
        (metrics, "Test-set metrics at the chosen threshold")])


def _card_value(value: object) -> str:
    """A model-card value as text: floats to 3 decimals, lists joined, names in words."""
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, list):
        return ", ".join(human_name(v).lower() if isinstance(v, str) else str(v)
                         for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k} = {v}" for k, v in value.items())
    return str(value)


def prevalence_section(scored: pd.DataFrame, min_n: int) -> ReportSection:
    """Prevalence overall, by retweets, platform and country, word clouds, top posts."""
    rates = cached.bundle_error_rates(state.get(state.MODEL))
    overall = cached.prevalence_table(scored, None, rates, min_n)
    figures = []
    tables = [prevalence_table_item(overall, "Posts", "Overall prevalence (95% CIs)")]
    for column, title in (("platform", "By platform"), ("country", "By country")):
        if column in scored:
            table = cached.prevalence_table(scored, column, rates, min_n)
            figure = charts.share_bars(table, title, column.capitalize())
            figures.append((figure, figure_alt(figure)))
            note = f"{title} (groups under {min_n} posts get no estimate)"
            if len(table) > MAX_ROWS:
                note += f"; the {MAX_ROWS} largest of {len(table)}"
            tables.append(prevalence_table_item(table.head(MAX_ROWS), column.capitalize(),
                                                note))
    if prevalence.has_retweets(scored):
        tables.append(prevalence_table_item(cached.retweet_table(scored, rates, min_n), "Posts",
                                            "With and without retweets"))
    images = []
    for code, name in charts.CLASS_NAMES.items():
        texts = scored.loc[scored["stigma_predicted"] == code, "text"]
        image = cached.wordcloud_png(texts)
        if image:
            words = ", ".join(f"{w} ({c:,})" for w, c in top_words(texts))
            images.append((small_png(image), f"Word cloud: {name.lower()} posts (n = "
                           f"{len(texts):,}). Commonest words: {words}."))
    if not state.presenter():  # without their text, the top posts say nothing
        top = scored.nlargest(TOP_POSTS, "stigma_probability")
        columns = [c for c in ("id", "text", "country", "platform", "stigma_probability")
                   if c in top]
        posts = state.visible_posts(top[columns]).assign(
            stigma_probability=lambda f: f["stigma_probability"].map(lambda p: f"{p:.2f}"))
        tables.append((posts, f"The {TOP_POSTS} highest-scoring posts"))
    summary = _prevalence_words(overall.iloc[0])
    return ReportSection("Prevalence", summary, figures=figures, tables=tables, images=images)


def _prevalence_words(row: pd.Series) -> str:
    """Which share to read, in words, with its interval (and the table's warning)."""
    flagged = interval(row["raw"], row["raw_ci_low"], row["raw_ci_high"])
    if row.get("trust") == "corrected":
        text = (f"Read the corrected share, {interval(*_estimate(row))}: it removes the "
                "model's measured errors, which holds if they were measured on posts like "
                f"these. The share the model flags, {flagged}, counts its false alarms and "
                "leaves out what it misses.")
    elif pd.isna(row["corrected"]):
        text = (f"Read the share the model flags, {flagged}: the model file holds no error "
                "rates to correct it with, so it leans toward the model's own flagging rate.")
    else:
        text = (f"Read the share the model flags, {flagged}, with caution: the correction is "
                "unstable, and the flagged share leans toward the model's own flagging rate.")
    return f"{text} {row['warning']}" if row.get("warning") else text


def insights_section(min_n: int) -> ReportSection:
    """Domain and theme shares with 95% CIs, and platforms side by side with their tests,
    tagged as on the Insights page (word lists or the trained taggers chosen there)."""
    posts = cached.insight_posts(cached.open_sample(state.CORPUS))
    figures, tables = [], []
    for kind in ("domain", "theme"):
        shares = cached.insight_shares(posts, kind, None, min_n)
        figure = charts.tag_share_bars(shares, f"{kind.capitalize()} shares")
        figures.append((figure, figure_alt(figure)))
        tables.append((charts.mix_table(shares, "Posts"),
                       f"{kind.capitalize()} shares (Wilson 95% CIs)"))
    tests = []
    if "platform" in posts:
        table, found = cached.insight_comparison(posts, "platform", min_n)
        tables.append((charts.comparison_table(table, "Share of posts (95% CI)"),
                       f"Platforms side by side (groups under {min_n} posts get no share)"))
        tests = [test["words"] for test in found.values()]
    tagged_by = "taggers trained on coded posts" if cached.insight_taggers() else "word lists"
    text = (f"Posts tagged by domain and theme with the {tagged_by} (n = {len(posts):,}). "
            + " ".join(tests))
    return ReportSection("Insights", text, figures=figures, tables=tables)


def fairness_section() -> ReportSection | None:
    """Miss and false-alarm rates by group (country, platform, any group column) on coded
    posts the model did not train on, each group tested against the rest (the Validation
    page's audit: stigma_core.fairness)."""
    from dashboard import audit
    from stigma_core.fairness import DEFAULT_MIN_N, group_columns, with_age_bands

    bundle = state.get(state.MODEL)
    posts, note = (None, "") if bundle is None else audit.held_out_posts(
        bundle, state.get(state.MODEL_ID))
    if posts is None:
        return None
    posts = with_age_bands(posts)
    words, figures, tables = [note], [], []
    min_n = DEFAULT_MIN_N
    audits = (audit.fairness_audit(posts, by, min_n) for by in group_columns(posts))
    # Only a comparison of two or more tested groups says anything about fairness.
    compared = [r for r in audits if r.table["fn_rate"].notna().sum() >= 2][:3]
    if not compared:
        return None
    for result in compared:
        by, t = result.by, result.table
        words += result.findings
        figure = audit.fairness_figure(result)
        figures.append((figure, figure_alt(figure)))
        tables.append((pd.DataFrame({
            audit.group_label(by).capitalize(): t["group"].astype(str),
            "Stigmatising posts (n)": t["n_pos"],
            "Missed (95% CI)": [interval(*r) for r in zip(
                t["fn_rate"], t["fn_ci_low"], t["fn_ci_high"], strict=True)],
            "Misses vs the rest": audit.fairness_display(result)["Misses vs the rest"],
            "Other posts (n)": t["n_neg"],
            "False alarms (95% CI)": [interval(*r) for r in zip(
                t["fp_rate"], t["fp_ci_low"], t["fp_ci_high"], strict=True)]}),
            f"By {audit.group_label(by)}: Wilson 95% CIs; Fisher's exact test of each group "
            f"against the rest, Holm-adjusted (groups under {min_n} stigmatising posts untested)"))
    return ReportSection("Fairness by group", "\n\n".join(words), figures=figures,
                         tables=tables)


def sections(scored: pd.DataFrame | None, min_n: int) -> list[ReportSection]:
    """Every section there is material for, in reading order (the summary comes first)."""
    parts = [summary_section(scored, min_n), data_section(), model_card_section(),
             models_section(), features_section(), fairness_section()]
    if scored is not None:
        try:
            parts.append(prevalence_section(scored, min_n))
        except CorpusError as err:
            parts.append(ReportSection("Prevalence", f"Not available: {err}"))
    try:
        parts.append(insights_section(min_n))
    except CorpusError as err:
        parts.append(ReportSection("Insights", f"Not available: {err}"))
    return [p for p in parts if p is not None]


# --- The page -----------------------------------------------------------------------------------

CSS = """
:root{--ink:#1f2933;--muted:#52606d;--rule:#d9e2ec;--accent:#0072B2}
body{font-family:Arial,Helvetica,sans-serif;margin:0 auto;max-width:780px;padding:1.5rem;
color:var(--ink);line-height:1.45;font-size:15px}
header{border-bottom:2px solid var(--accent);margin-bottom:1rem}
h1{font-size:1.7rem;margin:.2rem 0}h2{font-size:1.3rem;margin:1.6rem 0 .4rem;
border-bottom:1px solid var(--rule)}
.meta{color:var(--muted);font-size:.9rem}
.notice{background:#fff4d6;border-left:4px solid #b7791f;padding:.4rem .7rem}
.summary p{font-size:1.05rem}.summary p:first-of-type{font-size:1.25rem;font-weight:600}
figure{margin:.8rem 0}
p{orphans:3;widows:3}
figcaption{font-weight:600;margin-bottom:.3rem;font-size:.9rem}
figure.chart img,figure.image img{display:block;width:100%;max-width:720px;height:auto}
figure.image img{max-width:520px}
figure.chart figcaption.alt,figure.image figcaption.alt{font-weight:400;color:var(--muted);
font-size:.78rem;margin-top:.2rem}
table{border-collapse:collapse;width:100%;font-size:.78rem;table-layout:auto}
th,td{border-bottom:1px solid var(--rule);padding:.2rem .35rem;text-align:left;
vertical-align:top;overflow-wrap:break-word}
th{background:#eef2f6;font-weight:600}
td.num{text-align:right;white-space:nowrap}
td .ci{display:block;color:var(--muted);font-size:.9em;white-space:nowrap}
td.post{min-width:16em}
@page{margin:14mm 12mm}
@media print{
body{max-width:none;padding:0;font-size:10pt}
.summary{break-after:page}
h2,h2+p{break-after:avoid}
figure{break-inside:avoid}
figure.table{break-inside:auto}
tr{break-inside:avoid}
thead{display:table-header-group}
}
"""


def _cell(value: object, column: str) -> tuple[str, str]:
    """One table cell as (HTML, CSS class): "25.3% (18.5% to 31.3%)" on two lines, the
    interval under the value; numbers right-aligned."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "", ""
    if isinstance(value, bool):
        return ("yes" if value else "no"), ""
    if isinstance(value, int | float):
        text = f"{value:,}" if isinstance(value, int) else f"{value:,.4g}"
        return html.escape(text), "num"
    text = str(value)
    found = CI_CELL.match(text)
    if found:
        return (f"{html.escape(found['value'])}<span class=\"ci\">"
                f"{html.escape(found['interval'])}</span>"), ""
    return html.escape(text), "post" if column == "Post" else ""


def table_html(frame: pd.DataFrame, caption: str = "", *, presenter_mode: bool = False,
               privacy_mode: bool = True) -> str:
    """An escaped HTML table that fits the page: columns named in words, intervals under
    their values, post and profile columns dropped in presenter mode, personal details
    masked in privacy mode, long tables cut at :data:`MAX_ROWS` rows."""
    if presenter_mode:
        frame = frame.drop(columns=[c for c in frame.columns
                                    if str(c).strip().lower() in PERSONAL_TEXT_NAMES])
    if privacy_mode:
        frame = mask_frame(frame)
    frame = human_columns(frame)
    note = ""
    if len(frame) > MAX_ROWS:
        note = f" (first {MAX_ROWS:,} of {len(frame):,} rows)"
        frame = frame.head(MAX_ROWS)
    head = "".join(f"<th scope=\"col\">{html.escape(str(c))}</th>" for c in frame.columns)
    rows = []
    for values in frame.itertuples(index=False):
        cells = [_cell(v, str(c)) for v, c in zip(values, frame.columns, strict=True)]
        rows.append("<tr>" + "".join(f"<td class=\"{cls}\">{body}</td>" if cls else
                                     f"<td>{body}</td>" for body, cls in cells) + "</tr>")
    title = f"<figcaption>{html.escape(caption)}{note}</figcaption>" if caption or note else ""
    return (f'<figure class="table">{title}<table><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table></figure>")


def _split(item: object) -> tuple[object, str]:
    """An optional (thing, text) pair."""
    return item if isinstance(item, tuple) else (item, "")


def _img(mime: str, data: bytes, caption: str, alt: str, css: str) -> str:
    """An inline image with its caption above and its text alternative (alt and under it)."""
    encoded = base64.b64encode(data).decode("ascii")
    return (f'<figure class="{css}"><figcaption>{html.escape(caption)}</figcaption>'
            f'<img alt="{html.escape(alt, quote=True)}" src="data:{mime};base64,{encoded}">'
            f'<figcaption class="alt">{html.escape(alt)}</figcaption></figure>')


def _paragraphs(text: str) -> str:
    """Escaped <p> blocks, one per blank-line-separated paragraph."""
    return "".join(f"<p>{html.escape(b.strip())}</p>" for b in text.split("\n\n") if b.strip())


def render_html(parts: Sequence[ReportSection], *, title: str, created: datetime | str,
                presenter_mode: bool = False, privacy_mode: bool = True) -> str:
    """One self-contained HTML page (nothing fetched from the web) for screen and print.

    The first section (the summary) fills the first printed page. Figures become SVG with
    their title as caption and a text alternative (:func:`figure_alt` unless given); images
    must be PNG. Presenter and privacy modes work on tables as
    ``stigma_core.export.render_report_html`` does; figures are drawn as given, so keep
    raw posts out of them.
    """
    if isinstance(created, datetime):
        created = created.isoformat(sep=" ", timespec="minutes")
    figures = [_split(f) for part in parts for f in part.figures]
    svgs = iter(figure_svgs([f for f, _ in figures]))
    body = []
    for i, part in enumerate(parts):
        blocks = [_paragraphs(part.text)]
        for figure, alt in map(_split, part.figures):
            caption = _plain(figure.layout.title.text)
            blocks.append(_img("image/svg+xml", next(svgs), caption, alt or figure_alt(figure),
                               "chart"))
        for image, caption in map(_split, part.images):
            if not image.startswith(PNG_SIGNATURE):
                raise ValueError("Report images must be PNG bytes.")
            short = caption.split(". ")[0]
            blocks.append(_img("image/png", image, short, caption or "image", "image"))
        blocks.extend(table_html(t, c, presenter_mode=presenter_mode,
                                 privacy_mode=privacy_mode) for t, c in map(_split, part.tables))
        css = ' class="summary"' if i == 0 and part.heading == "Summary" else ""
        body.append(f"<section{css}><h2>{html.escape(part.heading)}</h2>{''.join(blocks)}"
                    "</section>")
    notice = ('<p class="notice">Presenter mode: raw posts and profiles are hidden.</p>'
              if presenter_mode else "")
    masked = ("Handles, links, e-mail addresses and phone numbers are masked."
              if privacy_mode else "Personal details are not masked.")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>"
        f"<header><h1>{html.escape(title)}</h1><p class=\"meta\">Created "
        f"{html.escape(created)} with Stigma Lens. {masked}</p>{notice}</header>"
        f"<main>{''.join(body)}</main></body></html>\n"
    )

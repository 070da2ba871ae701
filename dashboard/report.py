"""Assemble the HTML report's sections from what this session loaded, trained and scored.

Presentation only: the numbers come from the same cached stigma_core calls the pages use;
stigma_core.export renders the sections into one self-contained file.
"""

from __future__ import annotations

import pandas as pd

from dashboard import cached, charts, state
from stigma_core.errors import CorpusError
from stigma_core.export import ReportSection
from stigma_core.features import significant_features

CARD_FIELDS = {
    "family_label": "Model", "data": "Trained on", "n_train": "Training posts",
    "n_test": "Test posts", "best_params": "Hyper-parameters", "threshold": "Threshold",
    "threshold_rule": "Threshold rule", "cost_ratio": "One missed post costs (false alarms)",
    "decided_by": "Trade-off chosen by", "decided_on": "Chosen on", "created": "Trained on (UTC)",
    "selected_features": "Engineered features used", "choice_rule": "How the model was chosen",
}
TOP_POSTS = 20


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
    text = (f"{len(chosen)} of {len(table)} features differ significantly between "
            f"stigmatising and other posts (Welch t-test, p < 0.05): {', '.join(chosen)}.")
    return ReportSection("Features", text, tables=[
        (charts.welch_display(table).reset_index(), "Welch t-tests, stigmatising minus other")])


def models_section() -> ReportSection | None:
    """The comparison table and curves of the last training run."""
    run = state.get(state.RUN)
    if run is None:
        return None
    shown = charts.model_table(run.table(), len(run.y_test))
    return ReportSection(
        "Model comparison", shown.attrs["caption"],
        figures=[charts.curves_figure(run.results, run.y_test)],
        tables=[(shown, "Test-set metrics with 95% bootstrap CIs")])


def model_card_section() -> ReportSection | None:
    """The model card, the FN/FP choice and who made it, and metrics at the threshold."""
    bundle = state.get(state.MODEL)
    if bundle is None:
        return None
    card = bundle.card or {}
    rows = [(label, _plain(card[key])) for key, label in CARD_FIELDS.items() if key in card]
    metrics = pd.DataFrame([
        {"metric": charts.METRIC_LABELS.get(name, name), "value (95% CI)": charts.ci_text(
            m["value"], m["ci_low"], m["ci_high"]) if m["value"] is not None else "—",
         "n": m["n"]} for name, m in bundle.metrics.items()])
    who = card.get("decided_by", "not recorded")
    when = card.get("decided_on", "an unrecorded date")
    text = (f"Model in use: {state.get(state.MODEL_NAME)}. The trade-off between missed "
            "stigmatising posts and false alarms was set "
            + (f"on {when}; who chose it was not recorded." if who == "not recorded"
               else f"by {who} on {when}."))
    return ReportSection("Model card and decision", text, tables=[
        (pd.DataFrame(rows, columns=["field", "value"]), "Model card"),
        (metrics, "Test-set metrics at the chosen threshold")])


def _plain(value: object) -> str:
    """A model-card value as text: floats to 3 decimals, lists joined."""
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)


def prevalence_section(scored: pd.DataFrame, min_n: int) -> ReportSection:
    """Prevalence overall, by retweets, platform and country, word clouds, top posts."""
    rates = cached.bundle_error_rates(state.get(state.MODEL))
    overall = cached.prevalence_table(scored, None, rates, min_n)
    figures, tables = [], [(overall, "Overall prevalence (raw and corrected, 95% CIs)")]
    for column, title in (("platform", "By platform"), ("country", "By country")):
        if column in scored:
            table = cached.prevalence_table(scored, column, rates, min_n)
            figures.append(charts.share_bars(table, title, column.capitalize()))
            tables.append((table, f"{title} (groups under {min_n} posts get no estimate)"))
    if "is_retweet" in scored:
        tables.append((cached.retweet_table(scored, rates, min_n), "With and without retweets"))
    images = []
    for code, name in charts.CLASS_NAMES.items():
        image = cached.wordcloud_png(scored.loc[scored["stigma_predicted"] == code, "text"])
        if image:
            images.append((image, f"Word cloud: {name.lower()} posts"))
    top = scored.nlargest(TOP_POSTS, "stigma_probability")
    columns = [c for c in ("id", "text", "country", "platform", "stigma_probability")
               if c in top]
    tables.append((state.visible_posts(top[columns]), f"The {TOP_POSTS} highest-scoring posts"))
    summary = " ".join(part for part in (overall["warning"].iloc[0], overall["note"].iloc[0])
                       if part)
    return ReportSection("Prevalence", summary, figures=figures, tables=tables, images=images)


def insights_section(min_n: int) -> ReportSection:
    """Domain and theme shares with 95% CIs, and platforms side by side with their tests,
    tagged as on the Insights page (word lists or the trained taggers chosen there)."""
    posts = cached.insight_posts(cached.open_sample(state.CORPUS))
    figures, tables = [], []
    for kind in ("domain", "theme"):
        shares = cached.insight_shares(posts, kind, None, min_n)
        figures.append(charts.tag_share_bars(shares, f"{kind.capitalize()} shares"))
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


def sections(scored: pd.DataFrame | None, min_n: int) -> list[ReportSection]:
    """Every section there is material for, in reading order."""
    parts = [data_section(), features_section(), models_section(), model_card_section()]
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

"""Prevalence page: how common stigma is in the corpus — overall, by country, platform, retweets."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import cached, charts, correction, scoring, slides, state
from dashboard.tabs import lazy_tabs
from stigma_core import geo, prevalence
from stigma_core.errors import CorpusError, ModelError

QUICK_FAMILY = "logistic_regression"


def quick_model() -> None:
    """Offer one click to train the quick default model when none is chosen yet."""
    dataset = state.get(state.DATASET)
    name = state.get(state.DATASET_NAME) or ""
    demo = name.startswith("sample ")
    st.info("No model is chosen yet. Train and compare models in Model lab, or start with the "
            "quick default model here (takes a few seconds)." + (
                " It would learn from the synthetic sample posts: fine for a demonstration, "
                "but not a model of real text. For real posts, code some on the Coding page "
                "first." if demo else ""))
    label = ("Train the quick demo model on the synthetic sample" if demo else
             "Train the quick default model (logistic regression)")
    if not st.button(label, type="primary", key="prev_quick",
                     disabled=dataset is None or "label" not in dataset):
        st.stop()
    run = cached.train(dataset, (QUICK_FAMILY,), "fast", 0)
    result = run.results[QUICK_FAMILY]
    ratio = state.get(state.COST_RATIO, state.DEFAULTS[state.COST_RATIO])
    threshold = result.threshold_for_cost(ratio)
    bundle = cached.decided_bundle(run, QUICK_FAMILY, threshold, ratio,
                                   "quick default (not yet reviewed)",
                                   state.get(state.DATASET_NAME))
    state.put(state.RUN, state.get(state.RUN) or run)
    state.set_model(bundle, f"{result.label}, quick default")
    st.rerun()


def overview(scored: pd.DataFrame, rates: tuple | None, min_n: int, distinct: bool) -> None:
    """Overall prevalence, with and without retweets, and by platform."""
    table = cached.prevalence_table(scored, None, rates, min_n, distinct)
    row = charts.estimate_columns(table).iloc[0]
    coded = correction.error_source(scored)
    if coded is not None:
        correction.coded_overview(coded)
        correction.coded_groups(scored, coded)
    else:
        a, b, c = st.columns(3)
        a.metric("Posts scored", f"{int(row['n']):,}")
        for column, name, label in ((b, "raw", "Flagged by the model (raw)"),
                                    (c, "corrected", "Corrected for its errors")):
            column.metric(label, "—" if pd.isna(row[name]) else f"{row[name]:.1%}")
            interval = charts.ci_text(row[name], row[name + "_ci_low"], row[name + "_ci_high"],
                                      percent=True)
            column.caption(f"With 95% CI: {interval}; n = {int(row['n']):,}")
        if row["warning"]:
            st.warning(row["warning"])
        if row["trust"] == "raw" and not pd.isna(row["corrected"]):
            st.caption("The charts below therefore show each share as the model flags it, "
                       "not corrected; their titles say so.")
        st.caption(row["note"])
    if prevalence.has_retweets(scored):
        retweets = cached.retweet_table(scored, rates, min_n, distinct)
        slides.chart(charts.share_bars(retweets, "With and without retweets", "Posts",
                                       n=int(row["n"])), key="prev_retweets")
    else:
        st.caption("No retweets among these posts (none marked as such, none starting with "
                   "'RT @'), so there is no with-and-without-retweets comparison.")
    if "platform" in scored:
        platforms = cached.prevalence_table(scored, "platform", rates, min_n, distinct)
        slides.chart(charts.share_bars(platforms, "By platform", "Platform"),
                     key="prev_platforms")
    else:
        st.caption("No platform column, so no comparison by platform: map one on the Data "
                   "page to see it.")


def country_section(scored: pd.DataFrame, rates: tuple | None, min_n: int,
                    distinct: bool) -> None:
    """Choropleth and sortable table of prevalence by country."""
    countries = charts.country_frame(
        cached.prevalence_table(scored, "country", rates, min_n, distinct))
    slides.chart(charts.choropleth(countries, min_n), config=charts.MAP_CONFIG,
                 key="prev_choropleth")
    few = countries[countries["too_few"]]
    if len(few):
        st.caption(f"Greyed out, fewer than {min_n} posts: " + ", ".join(
            f"{name} ({n})" for name, n in zip(few["name"], few["n"], strict=True)))
    sort = st.radio("Sort countries by", ["n", "Prevalence (%)", "CI width (points)"],
                    horizontal=True, key="prev_sort")
    shown = charts.country_table(countries).sort_values(sort, ascending=sort == "CI width "
                                                        "(points)", na_position="last")
    st.dataframe(shown, hide_index=True)
    st.caption(charts.ESTIMATE_CAPTION)


def column_map(scored: pd.DataFrame, rates: tuple | None, min_n: int, distinct: bool) -> None:
    """The same shares by country as upright columns on a flat map (pydeck)."""
    countries = charts.country_frame(
        cached.prevalence_table(scored, "country", rates, min_n, distinct))
    st.markdown(f"**Column map** — height and colour: share of stigmatising posts, "
                f"{charts.estimate_label(countries[~countries['too_few']])}; grey: fewer than "
                f"{min_n} posts (n = {int(countries['n'].sum()):,}).")
    st.markdown(charts.column_legend_html(countries), unsafe_allow_html=True)
    st.pydeck_chart(charts.column_map(countries), height=520, key="prev_deck")
    hidden = charts.unlabelled_countries(countries)
    if hidden:
        st.caption("Not labelled, where a label would cover that of a country with more posts "
                   f"(hover the column, or see the Countries tab): {', '.join(hidden)}.")


def no_locations() -> None:
    """What the location tabs say when the corpus has no location column."""
    st.info("These posts have no location column, so there is nothing to map. Map one on the "
            "Data page (a profile location or a country code).")


def locations(scored: pd.DataFrame) -> None:
    """How many locations matched a country, and a table to correct the ones that did not."""
    report = cached.resolution(scored["location"], scored["country"])
    st.write(report.summary())
    if state.presenter():
        st.caption("Presenter mode: the profile locations themselves are hidden.")
        return
    table, left_out = charts.override_rows(report, state.get(state.OVERRIDES, {}),
                                           state.privacy())
    st.caption("The commonest locations that matched no country, with their number of posts. "
               "Type a country (code or name) to correct one; leave it empty for 'no country'.")
    if left_out:
        st.caption(f"{left_out} locations holding a handle, link, e-mail or phone number are "
                   "left out while privacy is on.")
    edited = st.data_editor(
        table, num_rows="dynamic", hide_index=True, key="prev_overrides", disabled=["posts"],
        column_config={"country": st.column_config.TextColumn("country (code or name)"),
                       "posts": st.column_config.NumberColumn("posts (n)", format="%d")},
    )
    if st.button("Apply these corrections", key="prev_apply"):
        try:
            state.put(state.OVERRIDES, geo.overrides_from_table(edited))
        except CorpusError as err:
            st.error(str(err))
            return
        st.rerun()


def sentiment(scored: pd.DataFrame, min_n: int) -> None:
    """Sentiment and subjectivity by predicted class and by country, with the tests."""
    left, right = st.columns(2)
    slides.chart(charts.class_histogram(scored, "sentiment"), key="prev_sent", where=left)
    slides.chart(charts.class_histogram(scored, "subjectivity"), key="prev_subj", where=right)
    st.markdown("**Welch t-tests, predicted stigmatising minus other**")
    st.dataframe(charts.welch_display(cached.class_tests(scored)))
    if "country" not in scored:
        return
    value = st.radio("Compare across countries", ["sentiment", "subjectivity"],
                     horizontal=True, key="prev_anova_value")
    try:
        anova = cached.anova(scored, value, min_n)
    except CorpusError as err:
        st.info(str(err))
        return
    slides.chart(charts.country_box(scored, value, list(anova["groups"].index)),
                 key="prev_country_box")
    st.markdown(f"**{anova['summary']}**")
    st.dataframe(charts.stats_display(anova[anova["reported"]]), hide_index=True)
    with st.expander(f"Post-hoc pairs ({anova['posthoc_method']})"):
        st.dataframe(charts.stats_display(anova["posthoc"]), hide_index=True)


def cloud_pair(posts: pd.DataFrame, where: str = "") -> None:
    """Word clouds of predicted stigmatising vs other posts, side by side."""
    for column, (code, name) in zip(st.columns(2), charts.CLASS_NAMES.items(), strict=True):
        texts = posts.loc[posts["stigma_predicted"] == code, "text"]
        image = cached.wordcloud_png(texts)
        if image:
            column.image(image, caption=f"{name} posts{where} (n = {len(texts):,})")
            column.download_button("PNG for slides", image, icon=":material/download:",
                                   file_name=f"word_cloud_{code}{where.replace(' ', '_')}.png",
                                   mime="image/png", on_click="ignore",
                                   key=f"prev_wc_png_{code}{where}")
        else:
            column.caption(f"No {name.lower()} posts{where}.")


def words(scored: pd.DataFrame) -> None:
    """Word clouds of predicted stigmatising vs other posts; per country on request."""
    cloud_pair(scored)
    if "country" not in scored:
        return
    counts = scored["country"].value_counts()
    country = st.selectbox("Word clouds for one country", list(counts.index),
                           format_func=lambda c: f"{geo.country_name(c)} ({counts[c]:,} posts)",
                           key="prev_wc_country")
    if st.button("Draw this country's word clouds", key="prev_wc_go"):
        cloud_pair(scored[scored["country"] == country], f" from {geo.country_name(country)}")


st.title("Prevalence")
st.write("Score the corpus with the chosen model and see how common stigma is — overall, by "
         "country, platform and retweets — corrected for the model's errors, with 95% CIs.")
corpus_frame = cached.open_sample(state.CORPUS)
if state.get(state.MODEL) is None:
    quick_model()
try:
    posts = scoring.scored_corpus(corpus_frame)  # a big corpus: in the background
except (CorpusError, ModelError) as err:
    st.error(str(err))
    st.stop()
if posts is None:
    st.stop()
error_rates = cached.bundle_error_rates(state.get(state.MODEL))
if error_rates is None:
    st.warning("This model file holds no measured error rates, so only raw shares are shown.")
minimum = st.slider("Minimum posts per group for an estimate", 5, 200, 30, key="prev_min_n")
distinct = st.toggle("Count each distinct post once (leave out exact duplicates)",
                     key="prev_distinct")
located = "country" in posts
lazy_tabs({
    "Overview": lambda: overview(posts, error_rates, minimum, distinct),
    "Countries": (lambda: country_section(posts, error_rates, minimum, distinct)) if located
    else no_locations,
    "Column map": (lambda: column_map(posts, error_rates, minimum, distinct)) if located
    else no_locations,
    "Locations": (lambda: locations(posts)) if "location" in posts else no_locations,
    "Sentiment": lambda: sentiment(posts, minimum),
    "Words": lambda: words(posts),
}, key="prev_tab")
st.caption(f"Model: {state.get(state.MODEL_NAME)} — corpus: {state.get(state.CORPUS_NAME)}.")

"""Insights page: which kind of stigma, where, and what to do (layout only; stigma_core.insights
and stigma_core.segments do the work through dashboard/cached.py)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import cached, charts, slides, state
from dashboard.insights import tagger_note, train_section
from dashboard.tabs import lazy_tabs
from stigma_core import insights
from stigma_core.errors import CorpusError, ModelError

PERIODS = insights.PERIODS
KIND_CLASSES = {"domain": insights.PRIORITY["domain"], "theme": insights.PRIORITY["theme"]}
EXAMPLE_POST = "I feel so weak for needing meds. Does anyone else feel ashamed?"


def test_caption(test: dict) -> None:
    """A chi-square result in plain words."""
    st.markdown(f"**{test['words']}**")


def overview(posts: pd.DataFrame, min_n: int) -> None:
    """Domain and theme shares with CIs, stigma within each, and a breakdown of your choice."""
    left, right = st.columns(2)
    for column, kind, title in ((left, "domain", "Where the talk sits: domain"),
                                (right, "theme", "What the post does: theme")):
        shares = cached.insight_shares(posts, kind, None, min_n)
        slides.chart(charts.tag_share_bars(shares, title), key=f"ins_{kind}_shares",
                     where=column)
    st.caption("Domain: self (internalised shame, one's own condition), community (family, "
               "friends, peers, faith groups, society), professional (work, clinicians, care). "
               "Each bar: share of all posts with its Wilson 95% CI; its posts under the name.")
    if "stigma_predicted" in posts:
        st.subheader("How often is each kind of post stigmatising?")
        left, right = st.columns(2)
        for column, kind in ((left, "domain"), (right, "theme")):
            table = cached.insight_stigma_by_tag(posts, kind, min_n)
            slides.chart(charts.stigma_by_tag_bars(table, f"Flagged stigmatising by {kind}"),
                         key=f"ins_{kind}_stigma", where=column)
        st.caption("Share of each class's posts the model in use flags as stigmatising (raw, "
                   "not corrected for the model's errors; see Prevalence for corrected shares).")
    else:
        st.info("No stigma model is in use, so the shares are of all posts. Choose a model "
                "on Model lab or Prevalence to see how stigmatising each kind of post is.")
    breakdown(posts, min_n)


def breakdown(posts: pd.DataFrame, min_n: int) -> None:
    """Domain and theme mix by platform, country, a column of yours or over time, tested."""
    options = insights.breakdown_options(posts)
    st.subheader("Break down by")
    st.caption("Breakdowns use only columns in your data (platform, country, or a column you "
               "mapped on the Data page, such as an age band you collected). Stigma Lens never "
               "infers gender, age or any other trait of a person from post text or names.")
    if not options:
        st.info("These posts have no platform, country, date or group column to break down by.")
        return
    choice = st.selectbox("Break the mix down by", list(options), format_func=options.get,
                          key="ins_by")
    frame, by = insights.with_breakdown(posts, choice)
    label = PERIODS.get(choice, options[choice].split(" (")[0])
    for kind in ("domain", "theme"):
        shares = cached.insight_shares(frame, kind, by, min_n, choice in PERIODS)
        if choice in PERIODS:
            slides.chart(charts.trend_lines(shares, f"{kind.capitalize()} mix", choice),
                            key=f"ins_{kind}_trend")
        else:
            slides.chart(charts.mix_bars(shares, f"{kind.capitalize()} mix by {label.lower()}",
                                            label), key=f"ins_{kind}_mix")
        test_caption(cached.insight_mix_test(frame, kind, by, min_n))
        with st.expander(f"{kind.capitalize()} shares by {label.lower()} (table)"):
            st.dataframe(charts.mix_table(shares, label), hide_index=True)
    st.caption(f"Groups with fewer than {min_n} posts get no share (too few to read); they and "
               "posts with no known value are left out of the tests.")


def platforms(posts: pd.DataFrame, min_n: int) -> None:
    """Platforms side by side: prevalence, domain mix, theme mix, each with a test."""
    if "platform" not in posts:
        st.info("These posts have no platform column; map one on the Data page.")
        return
    table, tests = cached.insight_comparison(posts, "platform", min_n)
    st.dataframe(charts.comparison_table(table, "Share of posts (95% CI)"), hide_index=True,
                 key="ins_platform_table")
    for name in ("stigma", "domain", "theme"):
        if name in tests:
            test_caption(tests[name])
    if "stigma" not in tests:
        st.caption("Choose a model to compare how often each platform's posts are stigmatising.")
    for kind in ("domain", "theme"):
        shares = table[table["column"] == kind].drop(columns="column")
        slides.chart(charts.mix_bars(shares, f"{kind.capitalize()} mix by platform",
                                        "Platform"), key=f"ins_platform_{kind}")


def segments(posts: pd.DataFrame, min_n: int) -> None:
    """Segments of posts that talk alike: names, sizes, stigma share, where over-represented,
    and (not in presenter mode) the posts nearest each segment's centre."""
    try:
        found = cached.insight_segments(posts["text"])
    except CorpusError as err:
        st.info(str(err))
        return
    profile = cached.insight_segment_profile(posts, found.labels, min_n)
    st.dataframe(charts.segment_display(found.table, profile), hide_index=True,
                 key="ins_segments_table", column_config={
                     "Segment (its most distinctive words)": st.column_config.TextColumn(
                         width="medium"),
                     "Also distinctive": st.column_config.TextColumn(width="medium")})
    tried = ", ".join(f"{k}: {v:.3f}" for k, v in found.silhouettes.items())
    st.caption(f"{found.k} segments (the number with the best silhouette; tried {tried}). Named "
               "by the words that most set each apart. 'Over-represented': the platform or "
               f"country (of {min_n}+ posts) where the segment's share of posts is highest "
               "relative to its share overall (lift), with its posts there. "
               + found.separation())
    if state.presenter():
        st.caption("Presenter mode: example posts are hidden.")
        return
    examples = cached.insight_exemplars(posts["text"], found, (found.k, len(found.labels)))
    with st.expander("Example posts nearest each segment's centre (personal details masked)"):
        for row in found.table.itertuples():
            st.markdown(f"**{row.name}** ({row.n:,} posts)")
            for text in examples[row.segment]:
                st.text(text)


def what_to_do(posts: pd.DataFrame, min_n: int) -> None:
    """Actionable vs awareness by domain, and the help-seeking questions most asked."""
    gap = cached.insight_action_gap(posts, min_n)
    if gap.empty:
        st.info("No posts about mental health were found to compare.")
    else:
        slides.chart(charts.gap_bars(gap), key="ins_gap")
        st.markdown("\n".join(f"- {line}" for line in insights.gap_sentences(gap)))
        st.dataframe(charts.gap_table(gap), hide_index=True, key="ins_gap_table",
                     column_config={"Gap (points)": st.column_config.NumberColumn(
                         help="Awareness share minus actionable share, in percentage points: "
                              "large where people hear that stigma exists but not what to do.")})
    st.subheader("The help-seeking questions most asked")
    asking = posts.loc[posts["theme"] == "help_seeking", "text"]
    if asking.empty:
        st.info("No help-seeking posts were found.")
        return
    questions = cached.insight_help_questions(asking, cached.insight_lexicon())
    shown = charts.help_question_table(questions, with_examples=not state.presenter())
    st.dataframe(shown, hide_index=True, key="ins_questions")
    st.caption(f"n = {len(asking):,} help-seeking posts, grouped by the question-topic word "
               "list (editable below). A topic many ask about and few answer is a gap a "
               "campaign could fill." + (" Presenter mode: examples hidden."
                                         if state.presenter() else ""))


def explain_box() -> None:
    """Type or paste a post and see which words gave it its domain and theme."""
    text = st.text_area("Explain a post: which words gave it its tags?", EXAMPLE_POST,
                        key="ins_explain_text", height=80)
    lexicon = cached.insight_lexicon()
    taggers = cached.insight_taggers() or {}
    for kind in ("domain", "theme"):
        found = insights.explain(text, kind, lexicon.get(kind))
        st.markdown(found.words())
        if taggers.get(kind) is not None:
            st.caption(f"The {kind} tags in use come from the trained tagger, which gives this "
                       f"post {insights.tag_with(taggers[kind], [text])[0]}; the word lists' "
                       "reasons are shown for comparison.")
        if found.hits:
            st.dataframe(found.table(), hide_index=True, key=f"ins_explain_{kind}")


def add_words() -> None:
    """Add words to a class's list for this session."""
    st.markdown("**Add words for this session**")
    a, b, c, d = st.columns([1, 1, 2, 1])
    kind = a.selectbox("Tag", list(KIND_CLASSES), key="ins_add_kind")
    label = b.selectbox("Class", KIND_CLASSES[kind], format_func=charts.tag_name,
                        key="ins_add_class")
    words = c.text_input("Words or phrases, separated by commas", key="ins_add_words")
    weight = d.number_input("Weight", 0.5, 5.0, 1.5, 0.5, key="ins_add_weight")
    if st.button("Add to the word list", key="ins_add"):
        try:
            added = insights.add_terms(state.get(state.INSIGHT_TERMS) or {}, kind, label,
                                       words.split(","), weight)
        except CorpusError as err:
            st.error(str(err))
            return
        state.put(state.INSIGHT_TERMS, {k: v for k, v in added.items() if v})
        st.rerun()
    extra = state.get(state.INSIGHT_TERMS)
    if extra:
        st.dataframe(insights.lexicon_table(extra), hide_index=True, key="ins_added_table")
        if st.button("Remove the words added this session", key="ins_clear"):
            state.put(state.INSIGHT_TERMS, {})
            st.rerun()


def word_lists() -> None:
    """Explain a post, add words, see the whole list, and train taggers on coded posts."""
    explain_box()
    add_words()
    with st.expander("The whole word list (kind, class, term, weight)"):
        table = insights.lexicon_table(cached.insight_lexicon())
        st.dataframe(table, hide_index=True, key="ins_lexicon")
        st.download_button("Download the word list (CSV)", cached.table_file(table, "csv"),
                           file_name="stigma_lens_word_list.csv", key="ins_lexicon_csv")
        st.caption("Each post scores the summed weights of the words found (whole words; "
                   "longest phrase first). The highest class wins at a score of "
                   f"{insights.MIN_SCORE:g} or more; ties go to professional > community > "
                   "self, and help-seeking > actionable > awareness > personal story. In "
                   "themes, a word just after 'not', 'never', 'don't'… does not count.")
    train_section()


st.title("Insights")
st.write("Which kind of stigma, where, and what to do: posts tagged by domain (self, "
         "community, professional) and theme (awareness, actionable advice, help-seeking, "
         "personal story), with their shares and 95% CIs, platforms side by side, segments of "
         "posts that talk alike, and the gaps a campaign could fill.")
corpus_frame = cached.open_sample(state.CORPUS)
try:
    posts_frame = cached.insight_posts(corpus_frame)
except (CorpusError, ModelError) as err:
    st.error(str(err))
    st.stop()
tagger_note()
minimum = st.slider("Minimum posts per group for a share", 5, 200, 30, key="ins_min_n")
lazy_tabs({
    "Domains and themes": lambda: overview(posts_frame, minimum),
    "Platforms": lambda: platforms(posts_frame, minimum),
    "Segments": lambda: segments(posts_frame, minimum),
    "What to do": lambda: what_to_do(posts_frame, minimum),
    "Word lists and coding": word_lists,
}, key="ins_tab")
model_name = state.get(state.MODEL_NAME)
st.caption(f"Corpus: {state.get(state.CORPUS_NAME)} ({len(posts_frame):,} posts) — model: "
           f"{model_name or 'none (shares of all posts)'}.")

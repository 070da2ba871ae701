"""Insights page (AppTest): shares with CIs, platforms tested, segments, what to do, presenter
mode, the word lists and trained taggers."""

from __future__ import annotations

import re

import pytest
from app_support import figures, open_app, open_tab, texts

from dashboard import charts, state
from stigma_core import insights

TAB = "ins_tab"
CI = re.compile(r"^\d+\.\d% \(\d+\.\d% to \d+\.\d%\)$")


def table_with(at: object, column: str) -> object:
    """The first dataframe on the page that has ``column``."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def awareness_share(figure: object) -> float:
    """The awareness bar's height (%) in the theme shares chart."""
    bars = figure.data[0]
    return next(y for x, y in zip(bars.x, bars.y, strict=True) if x.startswith("Awareness<br>"))


@pytest.fixture(scope="module")
def opened() -> object:
    """The app on Insights, no model chosen: shares of all sample corpus posts."""
    return open_app("pages/insights.py")


def test_domain_and_theme_shares_with_cis_and_n(opened: object) -> None:
    at = open_tab(opened, TAB, "Domains and themes")
    corpus = at.session_state[state.CORPUS]
    charts = {f.layout.title.text: f for f in figures(at)}
    n = len(corpus)
    for title, classes in (("Where the talk sits: domain", insights.DOMAINS),
                           ("What the post does: theme", insights.THEMES)):
        fig = charts[f"{title} (n = {n:,} posts)"]
        bars = fig.data[0]
        assert len(bars.x) == len(classes)
        assert sum(bars.y) == pytest.approx(100.0)
        assert all(lo >= 0 and hi > 0 for lo, hi in zip(bars.error_y.arrayminus,
                                                         bars.error_y.array, strict=True))
        counts = [int(t.split(" of ")[0].replace(",", "")) for t in bars.customdata]
        assert sum(counts) == n and all(t.endswith(f" of {n:,}") for t in bars.customdata)
        assert all(x.endswith(f"<br>{k:,} posts") for x, k in zip(bars.x, counts, strict=True))
    assert any("No stigma model is in use" in i for i in texts(at.info))
    assert any("never infers gender, age or any other trait" in c for c in texts(at.caption))


def test_breakdown_by_country_is_tested_in_plain_words(opened: object) -> None:
    at = open_tab(opened, TAB, "Domains and themes")
    assert at.selectbox(key="ins_by").value == "country"
    tests = [m for m in texts(at.markdown) if "mix" in m and "Cramér's V" in m]
    assert any(m.startswith("**The domain mix") and "across countries" in m for m in tests)
    table = table_with(at, "Country")
    shown = table.loc[table["Self (95% CI)"] != "too few posts", "Self (95% CI)"]
    assert len(shown) >= 5 and shown.map(lambda v: bool(CI.match(v))).all()
    assert (table["Posts (n)"] > 0).all()


def test_trend_by_month_when_posts_have_dates(opened: object) -> None:
    at = open_tab(opened, TAB, "Domains and themes")
    at.selectbox(key="ins_by").set_value("month").run()
    try:
        assert not at.exception, [e.value for e in at.exception]
        trend = next(f for f in figures(at) if "Theme mix by month" in f.layout.title.text)
        periods = list(trend.data[0].x)
        assert periods == sorted(periods) and len(periods) >= 12
        assert re.match(r"^\d{4}-\d{2}$", periods[0])
    finally:
        at.selectbox(key="ins_by").set_value("country").run()


def test_platforms_side_by_side_with_a_test(opened: object) -> None:
    at = open_tab(opened, TAB, "Platforms")
    table = table_with(at, "Share of posts (95% CI)")
    assert list(table.columns) == ["Share of posts (95% CI)", "twitter", "reddit", "tiktok"]
    measures = table["Share of posts (95% CI)"].tolist()
    assert measures[0] == "Posts (n)" and "Domain: self" in measures
    assert {"Theme: awareness", "Theme: help-seeking"} <= set(measures)
    assert table.iloc[1:, 1:].map(lambda v: bool(CI.match(v))).all().all()
    words = [m for m in texts(at.markdown) if "across platforms" in m]
    assert any("domain mix" in w for w in words) and any("theme mix" in w for w in words)
    # the sample's platforms draw from the same templates: the test should not cry wolf
    assert all("does not clearly differ" in w for w in words)


def test_segments_table_and_masked_examples(opened: object) -> None:
    at = open_tab(opened, TAB, "Segments")
    table = table_with(at, "Also distinctive")
    corpus = at.session_state[state.CORPUS]
    assert 3 <= len(table) <= 8
    assert table["Posts (n)"].sum() == (corpus["text"].str.strip() != "").sum()
    assert table["Over-represented: platform"].str.contains(r"×").all()
    assert table["Over-represented: country"].str.contains("United States|United Kingdom").any()
    assert "Flagged stigmatising (95% CI)" not in table  # no model in use
    assert any(re.search(r"Silhouette \d\.\d\d: the segments (overlap|are)", c)
               for c in texts(at.caption))  # how far apart they are, in plain words
    shown = [t.value for t in at.text]
    assert len(shown) >= 2 * len(table)
    assert not any(re.search(r"@(?!user\b)\w+", t) for t in shown)


def test_what_to_do_panel(opened: object) -> None:
    at = open_tab(opened, TAB, "What to do")
    gap = table_with(at, "Gap (points)")
    assert set(gap["Domain"]) <= {insights.CLASS_NAMES[d] for d in insights.DOMAINS}
    assert len(gap) == 3 and gap["Actionable (95% CI)"].map(
        lambda v: bool(CI.match(v))).all()
    assert any("- In community posts (n = " in m and "awareness" in m
               for m in texts(at.markdown))
    questions = table_with(at, "Question about")
    assert questions["Posts (n)"].is_monotonic_decreasing and len(questions) >= 4
    assert questions["Examples (masked)"].str.len().gt(0).all()
    asked = (at.session_state[state.CORPUS]["text"].pipe(insights.tag_themes) ==
             "help_seeking").sum()
    assert questions["Posts (n)"].sum() == asked


def test_presenter_mode_hides_every_example_post(opened: object) -> None:
    at = opened
    at.sidebar.toggle(key="presenter_mode").set_value(True).run()
    corpus_texts = at.session_state[state.CORPUS]["text"]
    snippets = [t[:40] for t in corpus_texts if len(t) > 60][:300]
    try:
        for tab in ("Domains and themes", "Platforms", "Segments", "What to do",
                    "Word lists and coding"):
            open_tab(at, TAB, tab)
            assert not at.text, tab  # no segment examples
            on_screen = " ".join(texts(at.markdown) + texts(at.caption))
            for frame in (d.value for d in at.dataframe):
                on_screen += " " + frame.astype(str).to_string()
            assert not any(s in on_screen for s in snippets), tab
            if tab == "Segments":
                assert any("Presenter mode: example posts are hidden" in c
                           for c in texts(at.caption))
            if tab == "What to do":
                assert "Examples (masked)" not in table_with(at, "Question about").columns
    finally:
        at.sidebar.toggle(key="presenter_mode").set_value(False).run()


def test_explain_a_post_and_add_words(opened: object) -> None:
    at = open_tab(opened, TAB, "Domains and themes")
    before = awareness_share(next(f for f in figures(at)
                                  if f.layout.title.text.startswith("What the post does")))
    open_tab(at, TAB, "Word lists and coding")
    assert any(m.startswith("Domain: Self (score 5)") and '"weak for needing"' in m
               for m in texts(at.markdown))
    at.text_area(key="ins_explain_text").input("this weather is wild today").run()
    assert any(m.startswith("Theme: Other") for m in texts(at.markdown))
    at.selectbox(key="ins_add_kind").set_value("theme").run()
    at.selectbox(key="ins_add_class").set_value("awareness").run()
    at.text_input(key="ins_add_words").input("wild today, zorblax").run()
    at.button(key="ins_add").click().run()
    try:
        assert not at.exception, [e.value for e in at.exception]
        assert at.session_state[state.INSIGHT_TERMS] == {
            "theme": {"awareness": {"wild today": 1.5, "zorblax": 1.5}}}
        assert any(m.startswith("Theme: Awareness") for m in texts(at.markdown))
        assert any("with 2 words you added" in c for c in texts(at.caption))
        open_tab(at, TAB, "Domains and themes")
        theme = next(f for f in figures(at) if f.layout.title.text.startswith("What the post"))
        assert awareness_share(theme) > before
        open_tab(at, TAB, "Word lists and coding")
    finally:
        at.button(key="ins_clear").click().run()
    assert not at.session_state[state.INSIGHT_TERMS]


def test_trained_taggers_from_coded_posts_replace_the_word_lists() -> None:
    at = open_tab(open_app("pages/insights.py"), TAB, "Word lists and coding")
    at.radio(key="ins_train_from").set_value("file").run()
    at.toggle(key="ins_use_sample_codes").set_value(True).run()
    assert at.selectbox(key="ins_domain_col").value == "domain"
    assert at.selectbox(key="ins_theme_col").value == "theme"
    at.button(key="ins_train").click().run()
    assert not at.exception and not at.error, texts(at.error)
    assert at.radio(key=state.INSIGHT_SOURCE).value == "trained"
    reports = [m for m in texts(at.markdown) if "tagger** — Cross-validated macro-F1" in m]
    assert len(reports) == 2 and all("over 800 coded posts, 5 folds" in m for m in reports)
    f1 = table_with(at, "F1 (95% CI)")
    assert set(f1["Class"]) <= set(insights.CLASS_NAMES.values()) and len(f1) >= 4
    assert any(c.startswith("Tags from taggers trained on your coded posts — Domain: a tagger "
                            "trained on 800 coded posts from your coded file")
               for c in texts(at.caption))
    at.radio(key=state.INSIGHT_SOURCE).set_value("lexicon").run()
    assert any(c.startswith("Tags from the word lists") for c in texts(at.caption))


def test_with_a_model_each_kind_gets_its_stigma_share() -> None:
    at = open_app("pages/prevalence.py")
    at.button(key="prev_quick").click().run()
    at.switch_page("pages/insights.py").run()
    assert not at.exception, [e.value for e in at.exception]
    titles = [f.layout.title.text for f in figures(at)]
    assert any(t.startswith("Flagged stigmatising by domain (n = ") for t in titles)
    open_tab(at, TAB, "Platforms")
    platforms = table_with(at, "Share of posts (95% CI)").set_index("Share of posts (95% CI)")
    assert platforms.loc[charts.FLAGGED_RAW].map(lambda v: bool(CI.match(v))).all()
    assert any("share of posts flagged stigmatising" in m and "across platforms" in m
               for m in texts(at.markdown))
    segments = table_with(open_tab(at, TAB, "Segments"), "Also distinctive")
    assert segments["Flagged stigmatising (95% CI)"].str.contains(" to ").any()
    assert not any("No stigma model is in use" in i for i in texts(at.info))


def test_the_report_gets_an_insights_section() -> None:
    at = open_app("pages/report.py")
    at.button(key="rep_build").click().run()
    assert not at.exception and not at.error, texts(at.error)
    html = at.session_state[state.REPORT]
    section = html.split("<h2>Insights</h2>")[1].split("</section>")[0]
    assert "Posts tagged by domain and theme with the word lists (n = 5,742)" in section
    assert "Domain shares (Wilson 95% CIs)" in section and "Platforms side by side" in section
    assert "does not clearly differ across platforms" in section and "Cramér" in section
    assert re.search(r"\d+\.\d% \(\d+\.\d% to \d+\.\d%\)", section)
    # the report draws each chart as an inline SVG image with its text alternative
    assert section.count('src="data:image/svg+xml;base64,') == 2
    assert section.count('<figcaption class="alt">') == 2


def test_taggers_trained_on_a_coding_projects_settled_domain_and_theme_codes(
        tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pandas as pd
    from app_support import REPO

    from stigma_core.coding.store import CodingStore

    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("STIGMA_CODING_DB", str(tmp_path / "coding.sqlite"))
    coded = pd.read_csv(REPO / "sample_data" / "train.csv", keep_default_na=False)
    coded = coded.assign(domain=insights.normalise_tags(coded["domain"], "domain"),
                         theme=insights.normalise_tags(coded["theme"], "theme"))
    coded = coded.groupby(["domain", "theme"]).head(6).reset_index(drop=True)
    truth = dict(zip(coded["text"].str.strip(), zip(coded["domain"], coded["theme"],
                                                    strict=True), strict=True))
    store = CodingStore(f"sqlite:///{tmp_path / 'coding.sqlite'}")
    store.create_project("Coded", verify_share=0.0, schemes=["domain", "theme"])
    store.add_raters("Coded", ["R1", "R2"])
    store.add_posts("Coded", coded["text"])
    for rater in ("R1", "R2"):
        for item in store.queue("Coded", rater):
            domain, theme = truth[item.text]
            store.save_code("Coded", rater, item.assignment_id, 0, domain=domain, theme=theme)
    n = len(store.scheme_labels("Coded", "domain"))
    assert n == len(coded) > 40
    at = open_tab(open_app("pages/insights.py"), TAB, "Word lists and coding")
    assert at.radio(key="ins_train_from").value == "project"
    assert at.selectbox(key="ins_project").value == "Coded"
    assert any(f"domain {n:,} posts, theme {n:,} posts" in c for c in texts(at.caption))
    at.button(key="ins_train_project").click().run()
    assert not at.exception and not at.error, texts(at.error)
    assert at.radio(key=state.INSIGHT_SOURCE).value == "trained"
    note = next(c for c in texts(at.caption) if c.startswith("Tags from taggers trained"))
    for kind in ("Domain", "Theme"):
        assert re.search(rf"{kind}: a tagger trained on {n:,} coded posts from coding project "
                         r"'Coded' \(cross-validated macro-F1 \d\.\d\d, 95% CI \d\.\d\d to "
                         r"\d\.\d\d\)", note), note
    f1 = table_with(at, "F1 (95% CI)")
    assert f1["F1 (95% CI)"].str.contains(" to ").all()
    model = at.session_state[state.INSIGHT_TAGGERS]["theme"]
    said = insights.tag_with(model, [at.text_area(key="ins_explain_text").value])[0]
    assert any(c.startswith(f"The theme tags in use come from the trained tagger, which gives "
                            f"this post {said};") for c in texts(at.caption))
    # the shares on the page are the trained tagger's tags, not the word lists'
    model = at.session_state[state.INSIGHT_TAGGERS]["domain"]
    corpus = at.session_state[state.CORPUS]
    expected = pd.Series(insights.tag_with(model, corpus["text"])).value_counts()
    lexicon = pd.Series(insights.tag_domains(corpus["text"])).value_counts()
    assert not expected.equals(lexicon)
    bars = next(f for f in figures(open_tab(at, TAB, "Domains and themes"))
                if f.layout.title.text.startswith("Where the talk sits: domain")).data[0]
    shown = {x.split("<br>")[0]: int(t.split(" of ")[0].replace(",", ""))
             for x, t in zip(bars.x, bars.customdata, strict=True)}
    names = {insights.CLASS_NAMES[c].split(" (")[0]: c for c in insights.DOMAINS}
    assert {names[k]: v for k, v in shown.items() if v} == expected.to_dict()
    open_tab(at, TAB, "Word lists and coding")
    at.radio(key=state.INSIGHT_SOURCE).set_value("lexicon").run()
    assert any(c.startswith("Tags from the word lists") for c in texts(at.caption))

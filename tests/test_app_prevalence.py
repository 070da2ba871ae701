"""Prevalence page (AppTest): the one-click quick model, corrected shares, countries, overrides."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from app_support import figures, metric, open_app, open_tab, sidebar_text, texts

from dashboard import charts, state
from stigma_core.geo import country_name, iso3

TAB = "prev_tab"


@pytest.fixture(scope="module")
def scored() -> object:
    """The app on Prevalence after the one-click quick model."""
    at = open_app("pages/prevalence.py")
    at.button(key="prev_quick").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_first_visit_offers_the_quick_model_and_trains_nothing_by_itself() -> None:
    at = open_app("pages/prevalence.py")
    assert state.MODEL not in at.session_state
    assert at.button(key="prev_quick").label == ("Train the quick demo model on the "
                                                 "synthetic sample")
    assert "No model is chosen yet" in at.info[0].value
    assert "not a model of real text" in at.info[0].value
    assert not at.metric


def test_quick_model_scores_the_corpus_with_raw_and_corrected_shares(scored: object) -> None:
    at = open_tab(scored, TAB, "Overview")
    corpus = at.session_state[state.CORPUS]
    assert "Logistic regression (fast reference), quick default" in sidebar_text(at)
    assert any("trained on the synthetic sample posts, not on real text" in w
               for w in texts(at.warning))
    assert metric(at, "Posts scored") == f"{len(corpus):,}"
    raw = float(metric(at, "Flagged by the model (raw)").rstrip("%"))
    corrected = float(metric(at, "Corrected for its errors").rstrip("%"))
    assert 0 < raw < 100 and 0 <= corrected <= 100 and raw != corrected
    assert any(c.startswith("With 95% CI: ") and f"n = {len(corpus):,}" in c
               for c in texts(at.caption))
    # one source of error rates: said in words, not a radio with one choice
    assert not at.radio
    assert any(c.startswith("Corrected for the model's errors using the model's own error "
                            "rates") for c in texts(at.caption))


def test_country_table_map_and_grey_countries(scored: object) -> None:
    at = open_tab(scored, TAB, "Countries")
    table = next(d.value for d in at.dataframe if "Country" in d.value.columns)
    assert table["n"].is_monotonic_decreasing and table["n"].iloc[0] > 1000
    assert {"United States", "United Kingdom", "India"} <= set(table["Country"])
    few = table[table["Prevalence (%)"].isna()]
    assert len(few) > 0 and (few["n"] < 30).all()
    shown = table.dropna(subset=["Prevalence (%)"])
    assert len(shown) >= 8
    assert ((shown["CI low (%)"] <= shown["Prevalence (%)"])
            & (shown["Prevalence (%)"] <= shown["CI high (%)"])).all()
    us, uk = (shown.set_index("Code").loc[c, "Prevalence (%)"] for c in ("US", "GB"))
    assert us > uk  # the sample corpus is built with about 40% vs 10%
    grey = next(c for c in texts(at.caption) if c.startswith("Greyed out, fewer than 30 posts"))
    assert all(name in grey for name in few["Country"])
    world = next(f for f in figures(at) if f.data and f.data[0].type == "choropleth")
    assert set(world.data[0].locations) == set(few["Code"].map(iso3))
    assert "grey: fewer than 30" in world.layout.title.text
    assert not at.get("deck_gl_json_chart")  # the column map has a tab of its own
    at.radio(key="prev_sort").set_value("CI width (points)").run()
    # notes only where a row needs one; how to read the estimates is said once, below
    assert set(table.loc[table["Prevalence (%)"].isna(), "Note"]) == {
        "too few posts for an estimate"}
    assert not table.loc[table["Prevalence (%)"].notna(), "Note"].str.contains(
        "Read the corrected share").any()
    assert charts.ESTIMATE_CAPTION in texts(at.caption)
    resorted = next(d.value for d in at.dataframe if "Country" in d.value.columns)
    assert resorted["CI width (points)"].dropna().is_monotonic_increasing


def test_column_map_tab_draws_only_the_column_map(scored: object) -> None:
    at = open_tab(scored, TAB, "Column map")
    assert len(at.get("deck_gl_json_chart")) == 1
    assert any(m.startswith("**Column map** — height and colour") for m in texts(at.markdown))
    assert not any(f.data and f.data[0].type == "choropleth" for f in figures(at))
    assert not at.metric  # nor the Overview's figures


def test_location_overrides_change_the_resolution(scored: object) -> None:
    at = open_tab(scored, TAB, "Locations")
    before = next(m for m in texts(at.markdown) if "locations (" in m)
    unresolved = at.session_state[state.CORPUS]["location"]
    at.session_state[state.OVERRIDES] = {"the internet": "GB", "worldwide": "GB"}
    at.run()
    after = next(m for m in texts(at.markdown) if "locations (" in m)
    extra = unresolved.str.casefold().isin(["the internet", "worldwide"]).sum()
    assert extra > 0 and matched(after) == matched(before) + extra


def matched(summary: str) -> int:
    """How many locations matched, from the resolution summary ("4,831 of 5,560 ...")."""
    return int(summary.split(" of ")[0].replace(",", ""))


def test_sentiment_tests_anova_and_word_clouds(scored: object) -> None:
    at = open_tab(scored, TAB, "Sentiment")
    assert any("ANOVA" in m and "p = " in m for m in texts(at.markdown))
    welch = next(d.value for d in at.dataframe if "Difference (95% CI)" in d.value.columns)
    assert list(welch.index) == ["sentiment", "subjectivity"]
    hist = next(f for f in figures(at) if "Sentiment by predicted class" in f.layout.title.text)
    assert {t.name.split(" (")[0] for t in hist.data} == {"Stigmatising", "Other"}
    anova = next(d.value for d in at.dataframe if "F" in d.value.columns)
    assert "p" in anova.columns and not {"p_unc", "np2", "SS"} & set(anova.columns)
    assert anova["p"].map(lambda v: v == "–" or float(v) <= 1).all()
    assert not at.image  # the word clouds are drawn only on their own tab
    assert len(open_tab(at, TAB, "Words").image) == 2  # stigmatising and other
    slides = [b for b in at.get("download_button") if b.proto.label == "PNG for slides"]
    assert len(slides) == 2  # each cloud can be taken out for slides


def test_word_clouds_for_one_country_on_request(scored: object) -> None:
    at = open_tab(scored, TAB, "Words")
    country = at.selectbox(key="prev_wc_country").value
    at.button(key="prev_wc_go").click().run()
    assert not at.exception, [e.value for e in at.exception]
    captions = [caption for image in at.image for caption in image.captions]
    assert len(captions) == 4, captions  # both classes overall, then both for the country
    assert all(f"from {country_name(country)} (n = " in c for c in captions[2:]), captions


def test_presenter_mode_hides_the_profile_locations(scored: object) -> None:
    at = open_tab(scored, TAB, "Locations")
    editors = [d.value for d in at.dataframe if "location" in d.value.columns]
    unresolved = editors[0]["location"].tolist()
    assert unresolved  # the sample has locations that matched no country
    at.sidebar.toggle(key="presenter_mode").set_value(True).run()
    try:
        shown = " ".join(texts(at.markdown) + texts(at.caption))
        assert not [d for d in at.dataframe if "location" in d.value.columns]
        assert not any(location in shown for location in unresolved[:10])
        assert "profile locations themselves are hidden" in shown
    finally:
        at.sidebar.toggle(key="presenter_mode").set_value(False).run()


def test_counting_each_distinct_post_once(scored: object) -> None:
    at = open_tab(scored, TAB, "Overview")
    corpus = at.session_state[state.CORPUS]
    repeats = int(corpus["text"].duplicated().sum())
    assert repeats > 0  # the sample repeats some posts word for word
    at.toggle(key="prev_distinct").set_value(True).run()
    try:
        assert metric(at, "Posts scored") == f"{len(corpus) - repeats:,}"
    finally:
        at.toggle(key="prev_distinct").set_value(False).run()
    assert metric(at, "Posts scored") == f"{len(corpus):,}"


def test_an_unstable_correction_is_shown_as_a_warning(scored: object) -> None:
    at = open_tab(scored, TAB, "Overview")
    assert not any("barely separates" in w.value for w in at.warning)
    bundle = at.session_state[state.MODEL]
    weak = {"tpr": 0.98, "fpr": 0.94, "n_pos": 300, "n_neg": 400}  # flags nearly everything
    at.session_state[state.MODEL] = replace(bundle, card={**bundle.card, "error_rates": weak})
    try:
        at.run()
        warnings = [w.value for w in at.warning]
        assert any("barely separates the classes (TPR - FPR = 0.04" in w for w in warnings)
    finally:
        at.session_state[state.MODEL] = bundle
        at.run()


def test_a_coded_random_sample_of_the_corpus_gives_the_estimate(tmp_path, monkeypatch) -> None:
    from stigma_core.coding import sampling
    from stigma_core.coding.store import CodingStore
    monkeypatch.setenv("STIGMA_CODING_DB", str(tmp_path / "coding.sqlite"))
    at = open_app("pages/prevalence.py")
    at.button(key="prev_quick").click().run()
    corpus = at.session_state[state.CORPUS]
    store = CodingStore(f"sqlite:///{tmp_path / 'coding.sqlite'}")
    store.create_project("Check", verify_share=0.0)
    store.add_raters("Check", ["A", "B"])
    drawn = sampling.draw_random(corpus["text"], 120, seed=3)
    store.add_posts("Check", drawn)
    rule = {t: int(any(w in t.lower() for w in ("dangerous", "crazy", "weak", "psycho")))
            for t in drawn}
    for rater in ("A", "B"):
        for item in store.queue("Check", rater):
            store.save_code("Check", rater, item.assignment_id, rule[item.text])
    at.run()
    assert not at.exception and not at.error, texts(at.error)
    assert at.radio(key="prev_source_1").value.startswith("A coded random sample of this corpus")
    estimate = float(metric(at, "From the coded sample").rstrip("%")) / 100
    share = sum(rule.values()) / len(rule)
    assert abs(estimate - share) < 0.1  # the coded share, sharpened by the model
    caption = next(c for c in texts(at.caption) if c.startswith("With 95% CI"))
    assert "120 coded posts" in caption
    tables = [d.value for d in at.dataframe]
    by_platform = next(t for t in tables if "From the coded sample (95% CI)" in t.columns)
    assert set(by_platform["Platform"]) <= set(corpus["platform"].dropna())
    assert by_platform["Coded posts"].astype(int).sum() == 120
    # the report's summary leads with the same figure, says where it comes from, and keeps
    # the synthetic-model caution (a user walk found a raw 94.8% headline there instead)
    at.switch_page("pages/report.py").run()
    at.button(key="rep_build").click().run()
    summary = at.session_state[state.REPORT].split('<section class="summary">')[1]
    shown = re.search(r"Stigmatising posts: (\d+\.\d)% \(", summary)
    assert shown and abs(float(shown[1]) / 100 - estimate) < 0.0006
    assert "random sample of 120 posts coded by people (coding project &#x27;Check" in summary
    assert "Caution: This model was trained on the synthetic sample posts" in summary
    # the top countries cannot come from 120 coded posts: the caption says what they are
    assert "not from the coded sample behind the headline" in summary
    at.switch_page("pages/prevalence.py").run()
    # the model's own error rates are still one click away, with the similarity check
    at.radio(key="prev_source_1").set_value(
        "The model's own error rates (measured on its training data)").run()
    assert metric(at, "Corrected for its errors")
    assert any(c.startswith("Is this corpus like the model's training data?")
               for c in texts(at.caption))


def test_no_retweets_and_no_platform_say_so_instead_of_empty_comparisons() -> None:
    """An analyst's file with neither retweets nor a platform column (found by the user
    walk: two identical 'with and without retweets' bars, the platform chart gone without a
    word)."""
    at = open_app("pages/prevalence.py")
    corpus = at.session_state[state.CORPUS]
    own = corpus[~corpus["is_retweet"].astype(bool)].drop(columns=["platform"])
    at.session_state[state.CORPUS] = own.reset_index(drop=True)
    at.button(key="prev_quick").click().run()
    assert not at.exception, [e.value for e in at.exception]
    titles = [f.layout.title.text for f in figures(at)]
    assert not any(t.startswith(("With and without retweets", "By platform")) for t in titles)
    captions = texts(at.caption)
    assert any(c.startswith("No retweets among these posts") for c in captions)
    assert any(c.startswith("No platform column, so no comparison by platform") for c in captions)
    assert metric(at, "Posts scored") == f"{len(own):,}"

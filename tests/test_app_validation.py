"""Validation page (AppTest): blind kappa with CIs, misses per rater, unblind, prevalence."""

from __future__ import annotations

import pandas as pd
import pytest
from app_support import figures, open_app, texts, train_fast, use_model

from dashboard import state


@pytest.fixture(scope="module")
def validating() -> object:
    """The app on Validation with a model in use and the first sample batch chosen."""
    at = use_model(train_fast(open_app()))
    return at.switch_page("pages/validation.py").run()


def test_without_a_model_the_page_says_where_to_get_one() -> None:
    at = open_app("pages/validation.py")
    assert texts(at.title) == ["Validation"]
    assert "Choose a model first" in at.info[0].value


def test_blind_validation_compares_the_model_with_each_rater_and_raters_with_each_other(
    validating: object,
) -> None:
    at = validating
    assert not at.exception and not at.error, texts(at.error)
    table = at.dataframe[0].value
    assert list(table["Pair"]) == [
        "model vs rater_a", "model vs rater_b", "model vs rater_c",
        "rater_a vs rater_b", "rater_a vs rater_c", "rater_b vs rater_c",
    ]
    assert (table["Posts (n)"] == 150).all()
    kappas = table["Kappa (95% CI)"].str.extract(r"^(-?[\d.]+) \((-?[\d.]+) to (-?[\d.]+)\)$")
    kappas = kappas.astype(float)
    assert ((kappas[1] <= kappas[0]) & (kappas[0] <= kappas[2])).all()
    assert (kappas[0][3:] > 0.5).all()  # the raters agree well with each other
    model_rows = table.iloc[:3]
    assert (model_rows["Model missed (FN)"].str.replace(",", "").astype(int) >= 0).all()
    assert (table["Model missed (FN)"].iloc[3:] == "–").all()  # no model in rater pairs


def test_prevalence_by_model_raters_and_majority(validating: object) -> None:
    figure = next(f for f in figures(validating) if list(f.data[0].x or [])[:1] == ["model"])
    bars = figure.data[0]
    assert list(bars.x) == ["model", "rater_a", "rater_b", "rater_c", "majority"]
    assert all(0 <= y <= 100 for y in bars.y)
    assert len(set(bars.y)) > 1
    assert "n = 150" in figure.layout.title.text


def test_unblind_agreement_from_an_uploaded_batch(validating: object) -> None:
    at = validating
    bundle = at.session_state[state.MODEL]
    posts = at.session_state[state.DATASET]["text"].head(40).tolist()
    calls = (bundle.pipeline.predict_proba(pd.DataFrame({"text": posts}))[:, 1]
             >= bundle.threshold)
    agrees = ["yes"] * 30 + ["no"] * 10
    batch = pd.DataFrame({"text": posts, "rater_x": calls.astype(int), "agree_x": agrees})
    at.radio(key="val_source").set_value("My own batch").run()
    at.file_uploader(key="val_upload").set_value(
        ("unblind.csv", batch.to_csv(index=False).encode(), "text/csv")).run()
    agree = next(m for m in at.multiselect if m.key.startswith("val_agree_"))
    assert agree.options == ["agree_x"]  # the rater and text columns are not offered
    agree.set_value(["agree_x"]).run()
    assert not at.exception and not at.error, texts(at.error)
    shares = next(d.value for d in at.dataframe if "model_call" in d.value).set_index(
        "model_call")
    assert shares.loc["all", "n"] == 40 and shares.loc["all", "agreed"] == 30
    assert shares.loc["all", "Agreed (95% CI)"].startswith("75.0% (")
    assert shares.loc["positive", "n"] == int(calls.sum())


def posts_on_screen(at: object) -> str:
    """Every markdown, caption and table cell on the page, joined."""
    parts = [str(e.value) for e in (*at.markdown, *at.caption, *at.info, *at.warning)]
    parts += [d.value.to_csv() for d in at.dataframe]
    return "\n".join(parts)


def test_why_flagged_shows_strongest_terms_and_marked_flagged_posts(validating: object) -> None:
    at = validating
    assert not at.exception and not at.error, texts(at.error)
    assert "Why the model flags posts" in texts(at.subheader)
    toward = next(d.value for d in at.dataframe if "Term" in d.value and
                  (d.value.filter(like="Weight").iloc[:, 0] > 0).all())
    away = next(d.value for d in at.dataframe if "Term" in d.value and
                (d.value.filter(like="Weight").iloc[:, 0] < 0).all())
    assert len(toward) == 10 and len(away) == 10
    # the page says how the weights were read, as the model allows
    bundle = at.session_state[state.MODEL]
    from stigma_core.explain import Explainer
    method = Explainer(bundle.pipeline).method
    said = "its own coefficients" if method == "coefficients" else "removing each word in turn"
    assert any(said in c for c in texts(at.caption))
    marked = [m.value for m in at.markdown if "<mark" in str(m.value)]
    assert 1 <= len(marked) <= 8
    assert any("toward stigmatising" in m for m in marked)
    assert any(c.startswith("Pushed toward stigmatising by:") for c in texts(at.caption))
    scores = [m.value for m in at.markdown if str(m.value).startswith("Score **")]
    values = [int(s.split("**")[1].rstrip("%")) for s in scores]
    assert values == sorted(values, reverse=True) and values[0] >= values[-1]


def test_flagged_posts_are_masked(validating: object) -> None:
    marked = "\n".join(m.value for m in validating.markdown if "<mark" in str(m.value))
    assert "https://" not in marked
    assert "@user" in marked or "@" not in marked


def test_fairness_audit_on_held_out_training_posts(validating: object) -> None:
    at = validating
    assert any(s.startswith("Fairness") for s in texts(at.subheader))
    source = at.radio(key="val_fair_source")
    assert source.value == "Training-set posts the model did not train on"
    by = at.selectbox(key="val_fair_by")
    assert "platform" in by.options
    by.set_value("platform").run()
    table = next(d.value for d in at.dataframe if "Missed (95% CI)" in d.value)
    assert table["Posts (n)"].sum() == 160  # the 20% test split of 800 sample posts
    assert table["Missed (95% CI)"].str.contains(r"% \(|too few").all()
    fairness_figures = [f for f in figures(at) if "missed, by platform" in f.layout.title.text]
    assert len(fairness_figures) == 1
    assert "n = " in fairness_figures[0].layout.title.text
    assert any("miss rate" in c or "significantly" in c for c in
               texts(at.caption) + texts(at.warning))


def test_presenter_mode_shows_no_post_text(validating: object) -> None:
    at = validating
    batch = at.session_state[state.DATASET]
    at.toggle(key=state.PRESENTER).set_value(True).run()
    assert not at.exception and not at.error, texts(at.error)
    screen = posts_on_screen(at)
    assert "Flagged posts are hidden in presenter mode" in screen
    assert "<mark" not in screen
    from dashboard import cached
    shown_batch = cached.read_sample_table(cached.SAMPLE_BATCHES[0])
    for text in [*shown_batch["text"].head(60), *batch["text"].head(60)]:
        assert str(text)[:40] not in screen
    # the model-level terms and the fairness audit stay (they hold no post)
    assert "Why the model flags posts" in texts(at.subheader)
    assert any("Missed (95% CI)" in d.value for d in at.dataframe)
    at.toggle(key=state.PRESENTER).set_value(False).run()


def test_attribution_type_for_flagged_posts_when_the_training_set_codes_it() -> None:
    at = use_model(train_fast(open_app()))
    dataset = at.session_state[state.DATASET].copy()
    kinds = {"danger": "fear/dangerousness", "weak": "responsibility", "lazy": "responsibility"}
    types = ["none"] * len(dataset)
    for i, (text, label) in enumerate(zip(dataset["text"], dataset["label"], strict=True)):
        if label == 1:
            types[i] = next((v for k, v in kinds.items() if k in text.lower()),
                            "social distance")
    at.session_state[state.DATASET] = dataset.assign(attribution=types)
    at.switch_page("pages/validation.py").run()
    assert not at.exception and not at.error, texts(at.error)
    assert "Attribution type" in texts(at.subheader)
    scores = [m.value for m in at.markdown if str(m.value).startswith("Score **")]
    assert scores and all("attribution: **" in s for s in scores)
    assert any(t in "".join(scores) for t in set(kinds.values()) | {"social distance"})


def test_the_report_has_the_fairness_audit_in_plain_words(validating: object) -> None:
    import re

    at = validating
    at.switch_page("pages/report.py").run()
    at.button(key="rep_build").click().run()
    assert not at.exception and not at.error, texts(at.error)
    html = at.session_state[state.REPORT]
    assert "<h2>Fairness by group</h2>" in html
    section = html.split("<h2>Fairness by group</h2>")[1].split("<h2>")[0]
    assert "coded posts of the training set" in section
    assert "Missed (95% CI)" in section and "Misses vs the rest" in section
    assert re.search(r"\d+\.\d% \(\d+\.\d% to \d+\.\d%\)", section)  # "a to b" intervals
    assert not re.search(r"\b(fn_rate|n_pos|fn_ci_low|fp_p_adjusted)\b", section)
    at.switch_page("pages/validation.py").run()

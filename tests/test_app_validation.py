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
    assert (model_rows["Model missed (FN)"] >= 0).all()
    assert table["Model missed (FN)"].iloc[3:].isna().all()


def test_prevalence_by_model_raters_and_majority(validating: object) -> None:
    figure = figures(validating)[-1]
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
    shares = at.dataframe[-1].value.set_index("model_call")
    assert shares.loc["all", "n"] == 40 and shares.loc["all", "agreed"] == 30
    assert shares.loc["all", "Agreed (95% CI)"].startswith("75.0% (")
    assert shares.loc["positive", "n"] == int(calls.sum())

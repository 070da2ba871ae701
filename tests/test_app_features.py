"""Features page (AppTest): the ten features by class, the Welch table, the chosen features."""

from __future__ import annotations

import json
import re

from app_support import open_app, texts

from dashboard import state


def plotly_spec(at: object) -> dict:
    """The figure JSON of the page's only Plotly chart."""
    charts = at.get("plotly_chart")
    assert len(charts) == 1
    return json.loads(charts[0].proto.spec)


def test_features_page_shows_the_tests_and_the_features_that_enter_the_models() -> None:
    at = open_app("pages/features.py")
    assert texts(at.title) == ["Features"]
    table = at.dataframe[0].value
    assert len(table) == 10 and set(table["Significant"]) <= {"yes", "no"}
    n_significant = int((table["Significant"] == "yes").sum())
    headline = next(m for m in texts(at.markdown) if "features differ significantly" in m)
    assert re.search(rf"\*\*{n_significant} of 10 features", headline)
    assert "n = 318 stigmatising and 482 other posts" in headline
    named = headline.split("with the words: ")[1].rstrip(".").split(", ")
    assert sorted(named) == sorted(table.index[table["Significant"] == "yes"])


def test_box_and_violin_charts_have_a_title_with_n_and_both_classes() -> None:
    at = open_app("pages/features.py")
    spec = plotly_spec(at)
    assert "n = 800 labelled posts" in spec["layout"]["title"]["text"]
    assert {t["type"] for t in spec["data"]} == {"box"}
    assert {t["name"] for t in spec["data"]} == {"Stigmatising", "Other"}
    assert len(spec["data"]) == 20  # ten features x two classes
    at.radio(key="features_kind").set_value("Violin plots").run()
    assert {t["type"] for t in plotly_spec(at)["data"]} == {"violin"}


def test_a_dataset_without_labels_gets_a_pointer_to_the_data_page() -> None:
    at = open_app()
    at.session_state[state.DATASET] = at.session_state[state.DATASET].drop(columns="label")
    at.switch_page("pages/features.py").run()
    assert not at.exception and not at.dataframe
    assert "Load a coded training set" in at.info[0].value

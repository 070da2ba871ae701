"""Model lab (AppTest): train two fast models, compare them, move the cost slider, save, load."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from app_support import metric, open_app, sidebar_text, texts, train_fast, use_model
from sklearn.pipeline import Pipeline

from dashboard import state
from stigma_core import models, persist


@pytest.fixture
def trained() -> object:
    """The app on Model lab with logistic regression and naive Bayes trained."""
    return train_fast(open_app())


def counts(at: object) -> tuple[int, int]:
    """(missed, false alarms) shown by the decision panel."""
    missed = int(metric(at, "Missed stigmatising posts").split(" of ")[0])
    alarms = int(metric(at, "Wrongly flagged posts").split(" of ")[0])
    return missed, alarms


def example_posts(at: object) -> list[list[str]]:
    """The texts of the decision panel's example tables (missed, then wrongly flagged)."""
    return [d.value["Post"].tolist() for d in at.dataframe if "Model's score" in d.value]


def test_before_training_the_page_explains_what_to_do() -> None:
    at = open_app("pages/model_lab.py")
    assert texts(at.title) == ["Model lab"]
    assert "No models trained in this session yet" in at.info[0].value
    assert at.multiselect(key="lab_families").value == list(models.PAPER_SET)  # paper default
    assert at.radio(key="lab_grid").value == "paper"
    guide = next(c for c in texts(at.caption) if "Stronger on real coded posts" in c)
    most_accurate = (f"Most accurate, and slow ({models.MOST_ACCURATE_COST}): Sentence encoder "
                     "fine-tuned on your coded posts.")
    assert (most_accurate in guide) == (models.MOST_ACCURATE in models.available_families())


def test_training_two_models_fills_the_comparison(trained: object) -> None:
    at = trained
    table = at.dataframe[0].value
    assert list(table["Model"]) != [] and len(table) == 2
    assert (table["Kept"] == "★ kept").sum() == 1
    auc = table["AUC (95% CI)"].str.extract(r"^([\d.]+) \(([\d.]+) to ([\d.]+)\)$").astype(float)
    assert auc.notna().all().all()
    assert ((auc[1] <= auc[0]) & (auc[0] <= auc[2]) & (auc[0] > 0.6)).all()
    assert (table["Fit time (s)"] >= 0).all()
    assert "Held-out test set, n = 160 posts." in " ".join(texts(at.caption))
    figures = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    curves = figures[0]
    assert "n = 160" in curves["layout"]["title"]["text"]
    labels = {models.FAMILIES[f].label for f in ("logistic_regression", "naive_bayes")}
    assert {t["name"] for t in curves["data"]} == labels | {"chance"}
    assert len(figures) == 5  # curves, two confusion matrices, reliability, decision's matrix


def test_cost_slider_moves_the_counts_without_refitting(
    trained: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = trained
    fits = []
    monkeypatch.setattr(models, "train_models", lambda *a, **k: fits.append(a))
    monkeypatch.setattr(Pipeline, "fit", lambda self, *a, **k: fits.append(self))
    at.selectbox(key="lab_family").set_value("logistic_regression").run()
    run = at.session_state[state.RUN]
    at.slider(key="cost_ratio").set_value(1).run()
    cheap_misses = counts(at)
    cheap_examples = example_posts(at)
    assert len(cheap_examples) == 2 and all(cheap_examples)
    at.slider(key="cost_ratio").set_value(40).run()
    dear_misses = counts(at)
    assert dear_misses[0] < cheap_misses[0] and dear_misses[1] > cheap_misses[1]
    summary = next(m for m in texts(at.markdown) if m.startswith("- **Finds "))
    found = 64 - dear_misses[0]  # 64 stigmatising test posts
    assert f"stigmatising posts ({found} of 64)" in summary
    assert "For every 100 posts, your team reviews about" in summary
    # the example posts are the ones nearest the line: they change with the slider
    assert example_posts(at) != cheap_examples
    assert fits == [] and at.session_state[state.RUN] is run


def test_a_choice_that_flags_most_posts_is_warned_and_explained(trained: object) -> None:
    at = trained
    at.slider(key="cost_ratio").set_value(50).run()
    alarms, others = (int(v) for v in metric(at, "Wrongly flagged posts").split(" of "))
    if alarms * 2 > others:
        assert any("flags more than half of the other posts" in w or "flags every one" in w
                   for w in texts(at.warning))
    assert any("differ from the comparison table above" in i for i in texts(at.info))


def test_the_choice_needs_a_name_and_is_confirmed(trained: object) -> None:
    at = trained
    at.button(key="lab_use").click().run()
    assert any("Say who made this choice first" in e for e in texts(at.error))
    assert state.MODEL not in at.session_state or at.session_state[state.MODEL] is None
    use_model(at, decided_by="advisory group, 3 May")
    assert any("chosen by advisory group, 3 May on " in s for s in texts(at.success))


def test_using_the_model_records_the_choice_and_offers_the_file(trained: object) -> None:
    at = trained
    at.slider(key="cost_ratio").set_value(8).run()
    caption = next(c for c in texts(at.caption) if "technical: threshold" in c)
    shown_threshold = float(re.search(r"threshold (\d\.\d+)", caption).group(1))
    use_model(at, decided_by="advisory group, 3 May")
    bundle = at.session_state[state.MODEL]
    assert bundle.threshold == pytest.approx(shown_threshold, abs=5e-4)
    assert bundle.card["cost_ratio"] == 8 and bundle.card["decided_by"] == "advisory group, 3 May"
    assert 0 < bundle.card["error_rates"]["tpr"] <= 1
    assert f" at threshold {shown_threshold:.3f}" in sidebar_text(at)
    assert "now in use" in at.success[0].value
    labels = [button.proto.label for button in at.get("download_button")]
    assert any(label.startswith("Download the model in use") for label in labels)
    assert "PNG for slides" in labels and "SVG for slides" in labels
    restored = persist.from_bytes(persist.to_bytes(bundle))
    assert restored.threshold == bundle.threshold


def test_opening_a_saved_model_and_a_bad_file(trained: object) -> None:
    at = use_model(trained)
    data = persist.to_bytes(at.session_state[state.MODEL])
    fresh = open_app("pages/model_lab.py")
    fresh.file_uploader(key="lab_load").set_value(("shared.skops", data, "application/zip")).run()
    assert not fresh.exception
    assert fresh.session_state[state.MODEL_NAME] == "shared.skops"
    assert "Model:** shared.skops" in sidebar_text(fresh)
    probe = fresh.session_state[state.MODEL].pipeline.predict_proba(
        at.session_state[state.RUN].X_test.head(3))
    assert np.allclose(probe.sum(axis=1), 1.0)
    fresh.file_uploader(key="lab_load").set_value(("junk.skops", b"not a model", "x")).run()
    assert not fresh.exception
    assert "not a Stigma Lens model" in fresh.error[0].value
    assert fresh.session_state[state.MODEL_NAME] == "shared.skops"  # the good model stays


def test_a_kept_model_that_flags_nearly_everything_is_called_out_on_every_page() -> None:
    """One slider move to a high cost ratio gives a model flagging almost every post; a user
    walk kept it and later pages showed it without a word. The sidebar now says so; a
    sensible ratio gives no such line."""
    at = train_fast(open_app())
    at.selectbox(key="lab_family").set_value("naive_bayes").run()
    at.slider(key=state.COST_RATIO).set_value(50).run()
    # naive Bayes' scores bunch at 0 and 1: the slider jumps, and the page says why
    jump = next(i for i in texts(at.info) if i.startswith("Every ratio from "))
    assert "to 50 (the end of the slider) gives about this same choice" in jump
    use_model(at)
    at.switch_page("pages/prevalence.py").run()
    assert "flags 9" in sidebar_text(at) or "flags 100%" in sidebar_text(at)
    assert "nearly every post is called stigmatising" in sidebar_text(at)
    at.switch_page("pages/model_lab.py").run()
    at.slider(key=state.COST_RATIO).set_value(1).run()
    use_model(at)
    assert "nearly every post" not in sidebar_text(at)

"""Report page (AppTest): the self-contained HTML report, presenter and privacy modes, exports."""

from __future__ import annotations

import re
from datetime import date

import pytest
from app_support import open_app, texts, train_fast, use_model

from dashboard import state

WHO = "lived-experience advisory group"


@pytest.fixture(scope="module")
def ready() -> object:
    """The app on Report with two models trained and logistic regression in use."""
    at = train_fast(open_app())
    at.selectbox(key="lab_family").set_value("logistic_regression").run()
    use_model(at, decided_by=WHO)
    return at.switch_page("pages/report.py").run()


def build(at: object) -> str:
    """Press Build and return the report the download button offers."""
    at.button(key="rep_build").click().run()
    assert not at.exception and not at.error, texts(at.error)
    assert any(s.startswith("Report ready") for s in texts(at.success))
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Download the HTML report" in labels
    return at.session_state[state.REPORT]


def test_without_a_model_the_report_has_no_prevalence_but_still_builds() -> None:
    at = open_app("pages/report.py")
    assert "No model is chosen yet" in at.info[0].value
    html = build(at)
    assert "<h2>Data</h2>" in html and "<h2>Features</h2>" in html
    assert "<h2>Prevalence</h2>" not in html


def test_report_holds_figures_tables_model_card_and_the_decision(ready: object) -> None:
    html = build(ready)
    assert html.startswith("<!DOCTYPE html>")
    for heading in ("Data", "Features", "Model comparison", "Model card and decision",
                    "Prevalence"):
        assert f"<h2>{heading}</h2>" in html
    assert f"set by {WHO} on {date.today().isoformat()}" in html
    assert html.count('class="plot"') >= 3 and "data:image/png;base64," in html
    assert not re.search(r"<script[^>]+src=", html)  # nothing fetched from the web
    corpus = ready.session_state[state.CORPUS]
    assert f"{len(corpus):,} posts kept" in html


def test_privacy_mode_masks_handles_in_the_report_and_the_exports(ready: object) -> None:
    html = build(ready)
    top = html.split("highest-scoring posts")[1]
    assert "@user" in top or "&lt;url&gt;" in top
    assert not re.search(r"@(?!user\b)\w{3,}", top)
    corpus = ready.session_state[state.CORPUS]
    exports = next(m for m in texts(ready.markdown) if m.startswith("**Scored posts**"))
    assert f"({len(corpus):,} rows; columns: id, text," in exports


def test_presenter_mode_leaves_every_raw_post_out(ready: object) -> None:
    ready.sidebar.toggle(key="presenter_mode").set_value(True).run()
    html = build(ready)
    assert "Presenter mode: raw posts are hidden." in html
    corpus = ready.session_state[state.CORPUS]
    sample = corpus["text"].str.slice(0, 40).head(200)
    assert not any(snippet in html for snippet in sample)
    captions = " ".join(texts(ready.markdown))
    assert "Scored posts" in captions and "text," not in captions.split("columns: ")[1]
    ready.sidebar.toggle(key="presenter_mode").set_value(False).run()

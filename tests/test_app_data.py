"""Data page (AppTest): opens on the sample, uploads each format, reports drops, fails kindly."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from app_support import metric, open_app, sidebar_text, texts

POSTS = [
    "People with schizophrenia are dangerous and should be locked away, honestly.",
    "Talking to my therapist about my depression really helped me this week.",
    "Everyone with bipolar is unstable and cannot hold down a real job.",
    "Reminder that anxiety is common and support is available if you need it.",
]
SMALL = pd.DataFrame({
    "tweet": [*POSTS, POSTS[0], "   "],
    "stigma": [1, 0, 1, 0, 1, 0],
    "handle_location": ["London, UK", "NYC", "Pune", "Toronto, ON", "London, UK", "Cymru"],
})


def as_bytes(frame: pd.DataFrame, fmt: str) -> bytes:
    """The frame written as an upload in the given format."""
    buffer = io.BytesIO()
    if fmt == "csv":
        return frame.to_csv(index=False).encode()
    if fmt == "jsonl":
        return frame.to_json(orient="records", lines=True).encode()
    if fmt == "parquet":
        frame.to_parquet(buffer, index=False)
    else:
        frame.to_excel(buffer, index=False)
    return buffer.getvalue()


def upload(at: object, name: str, data: bytes) -> None:
    """Switch the page to 'My own file' and upload `data` as `name`."""
    at.radio(key="data_source").set_value("My own file").run()
    at.file_uploader(key="data_upload").set_value((name, data, "application/octet-stream")).run()


def test_opens_on_the_sample_data_with_masked_preview() -> None:
    at = open_app()
    assert texts(at.title) == ["Data"]
    assert "sample train.csv — 800 rows, 800 labelled" in sidebar_text(at)
    assert "sample corpus.csv" in sidebar_text(at)
    assert metric(at, "Rows read") == "800" and metric(at, "Posts kept") == "800"
    preview = at.dataframe[-1].value
    assert len(preview) == 50 and "text" in preview.columns
    handles = preview["text"].str.findall(r"@\w+").explode().dropna()
    assert len(handles) > 0 and set(handles) == {"@user"}  # privacy mode is on by default


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet", "xlsx"])
def test_upload_replaces_the_dataset_and_says_what_was_dropped(fmt: str) -> None:
    at = open_app()
    upload(at, f"small.{fmt}", as_bytes(SMALL, fmt))
    assert not at.error, texts(at.error)
    form_choices = {s.label: s.value for s in at.selectbox}
    assert form_choices["Post text (required)"] == "tweet"  # guessed and pre-filled
    at.selectbox(key=next(s.key for s in at.selectbox if s.label.startswith("Label"))
                 ).set_value("stigma")
    at.get("form_submit_button")[0].click().run()
    assert not at.exception and not at.error, texts(at.error)
    assert f"small.{fmt} — 4 rows, 4 labelled" in sidebar_text(at)
    assert metric(at, "Rows read") == "6" and metric(at, "Posts kept") == "4"
    drops = at.table[0].value["Rows"]
    assert drops["Empty posts"] == 1 and drops["Exact duplicate rows"] == 1


def test_a_language_column_is_guessed_and_used() -> None:
    tweets = pd.DataFrame({"tweet": POSTS + ["Las personas con depresión merecen respeto"],
                           "lang": ["en", "es", "en-GB", "", "es"]})
    at = open_app()
    upload(at, "tweets.csv", as_bytes(tweets, "csv"))
    form_choices = {s.label: s.value for s in at.selectbox}
    assert form_choices["Language code (e.g. en; blank: detected)"] == "lang"
    at.get("form_submit_button")[0].click().run()
    assert not at.exception and not at.error, texts(at.error)
    assert metric(at, "Posts kept") == "3"  # the English post the file calls Spanish goes too
    assert at.table[0].value["Rows"]["Not in English"] == 2
    assert "Language given by the file for 4 posts, detected for 1." in texts(at.caption)


def test_unreadable_upload_is_a_friendly_error_and_the_sample_stays() -> None:
    at = open_app()
    upload(at, "broken.xlsx", b"this is not a workbook")
    assert not at.exception
    assert len(at.error) == 1 and "stays in use" in at.error[0].value
    assert "Traceback" not in at.error[0].value
    assert "sample train.csv — 800 rows" in sidebar_text(at)


def test_mapping_without_a_text_column_is_refused_in_plain_words() -> None:
    at = open_app()
    upload(at, "numbers.csv", b"a,b\n1,2\n3,4\n")
    at.get("form_submit_button")[0].click().run()
    assert not at.exception
    assert "No text column found" in at.error[0].value
    assert "sample train.csv — 800 rows" in sidebar_text(at)


def test_presenter_mode_hides_the_post_text() -> None:
    at = open_app()
    at.sidebar.toggle(key="presenter_mode").set_value(True).run()
    preview = at.dataframe[-1].value
    assert "text" not in preview.columns and len(preview) == 50
    assert "location" not in preview.columns and "platform" in preview.columns
    assert any(c.startswith("Presenter mode: post text is hidden") for c in texts(at.caption))


def test_dates_without_a_time_are_shown_as_dates() -> None:
    """A file with dates only: the preview shows 2025-10-01, not 2025-10-01 00:00:00 (user
    walk); a date-time column with real times keeps them."""
    import json

    at = open_app()
    dated = SMALL.assign(day=["2025-10-01", "2025-10-02", "2025-10-03", "2025-10-04",
                              "2025-10-05", "2025-10-06"])
    upload(at, "dated.csv", as_bytes(dated, "csv"))
    at.selectbox(key=next(s.key for s in at.selectbox if s.label.startswith("Label"))
                 ).set_value("stigma")
    at.selectbox(key=next(s.key for s in at.selectbox if s.label == "Date")).set_value("day")
    at.get("form_submit_button")[0].click().run()
    assert not at.exception and not at.error, texts(at.error)
    preview = at.dataframe[-1]
    dates = [c for c in preview.value.columns
             if pd.api.types.is_datetime64_any_dtype(preview.value[c])]
    assert dates, list(preview.value.columns)
    config = json.loads(preview.proto.columns)
    assert all(config[c]["type_config"]["format"] == "YYYY-MM-DD" for c in dates), config
    sample = open_app()  # the sample corpus's times of day are kept
    assert "YYYY-MM-DD" not in sample.dataframe[-1].proto.columns


def test_place_names_are_built_in_the_background_after_the_first_page(monkeypatch) -> None:
    """Validation's first visit spent 4 s building the place-name indexes; the app now
    builds them in a daemon thread a few seconds after the first page, once per process."""
    from dashboard import cached
    from stigma_core import geo

    cached.prepare_places_later.clear()
    geo._build_gazetteer.cache_clear()
    monkeypatch.setattr(cached, "PLACES_WARM_DELAY_S", 3600.0)
    import threading

    open_app()
    started = [t for t in threading.enumerate() if isinstance(t, threading.Timer)]
    waiting = cached.prepare_places_later()  # the app's own timer (cached per process)
    assert waiting in started and waiting.daemon and waiting.is_alive()
    assert not geo.is_prepared()  # the first page did not build them
    waiting.cancel()

    cached.prepare_places_later.clear()
    monkeypatch.setattr(cached, "PLACES_WARM_DELAY_S", 0.0)
    open_app()
    built = cached.prepare_places_later()
    assert built is not waiting
    built.join(timeout=120)
    assert geo.is_prepared()
    assert geo.resolve_country("Leeds, UK") == "GB"
    cached.prepare_places_later.clear()

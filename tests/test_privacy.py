"""Masking personal details in every text column, and which columns presenter mode hides."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stigma_core.privacy import (
    drop_personal_text,
    mask_frame,
    mask_pii,
    personal_text_columns,
)

PHONES = [
    "+44 20 7946 0000",
    "+1 (555) 123-4567",
    "+1-555-123-4567",
    "+447946000000",
    "+33 1 23 45 67 89",
    "(555) 123-4567",
    "555-123-4567",
    "555.123.4567",
    "020 7946 0000",
    "07946 000000",
    "0161-496-0000",
]
NOT_PHONES = [
    "2024", "in 2024, 1,234 people", "12.5%", "-12.5%", "2024-01-05", "05/01/2024",
    "12.05.2024", "c-000001", "tr-0001", "tweet 1372958216732672000", "10:30", "3.14159",
    "ISBN 978-3-16-148410-0", "$1,000,000", "1 000 000", "+5 points", "scores 10 20 30 40 50",
    "2019 2020 2021", "2020-2021", "51.5074, -0.1278", "1234567890", "v1.2.3", "20240105",
    "1,234,567,890", "+1,234", "-1.5", "100 200 3000", "me@home", "C# and #mh",
]


@pytest.mark.parametrize("phone", PHONES)
def test_phone_numbers_are_masked_in_a_sentence(phone: str) -> None:
    assert mask_pii(f"call me on {phone} tonight") == "call me on <phone> tonight"
    assert mask_pii(f"tel:{phone}.") == "tel:<phone>."


@pytest.mark.parametrize("value", NOT_PHONES)
def test_years_counts_shares_dates_and_ids_are_left_alone(value: str) -> None:
    assert mask_pii(value) == value


def test_links_keep_their_digits_inside_the_url_placeholder() -> None:
    assert mask_pii("see https://x.example/555-123-4567 now") == "see <url> now"


@pytest.fixture
def profiles() -> pd.DataFrame:
    """Personal details in every kind of column, beside numbers that must not change."""
    return pd.DataFrame({
        "text": ["hi @alice", "mail a.b@example.org", None],
        "author": ["@bob_the_builder", "Carol", "@dave"],
        "location": ["@home, https://maps.example/x", "London", "call 020 7946 0000"],
        "bio": pd.Series(["www.mysite.example", "nurse, +44 20 7946 0000", pd.NA],
                         dtype="string"),
        "notes": pd.Categorical(["ask @erin", "ask @erin", "fine"]),
        "mixed": ["@frank", 2024, 12.5],
        "score": [-1.5, 2024.0, 0.125],
        "year": [2024, 2023, 1999],
        "flag": [True, False, True],
        "when": pd.to_datetime(["2024-01-05", "2023-02-03", "1999-12-31"]),
    })


def test_mask_frame_masks_every_text_column(profiles: pd.DataFrame) -> None:
    before = profiles.copy()
    masked = mask_frame(profiles)
    assert masked["text"].tolist()[:2] == ["hi @user", "mail <email>"]
    assert pd.isna(masked.loc[2, "text"])
    assert masked["author"].tolist() == ["@user", "Carol", "@user"]
    assert masked["location"].tolist() == ["@user, <url>", "London", "call <phone>"]
    assert masked["bio"].tolist()[:2] == ["<url>", "nurse, <phone>"]
    assert masked["bio"].dtype == "string" and pd.isna(masked.loc[2, "bio"])
    assert masked["notes"].tolist() == ["ask @user", "ask @user", "fine"]
    assert isinstance(masked["notes"].dtype, pd.CategoricalDtype)
    assert masked["mixed"].tolist() == ["@user", 2024, 12.5]  # non-strings left as they are
    for col in ("score", "year", "flag", "when"):
        pd.testing.assert_series_equal(masked[col], profiles[col])
    pd.testing.assert_frame_equal(profiles, before)  # the input is not changed
    assert list(masked.columns) == list(profiles.columns)


def test_mask_frame_keeps_the_index_and_empty_frames() -> None:
    frame = pd.DataFrame({"who": ["@x", "y"]}, index=[10, 3])
    assert mask_frame(frame).loc[10, "who"] == "@user" and mask_frame(frame).index.tolist() == [
        10, 3]
    assert mask_frame(pd.DataFrame({"a": pd.Series([], dtype=object)})).empty


SAFE_WORDS = st.sampled_from(
    ["2024", "1,234", "12.5%", "2024-01-05", "c-000001", "ok", "stigma", "#mh", "(sad)", "-1.5"]
)
HANDLES = st.from_regex(r"@[A-Za-z][A-Za-z0-9_]{2,14}", fullmatch=True)
EMAILS = st.from_regex(r"[a-z][a-z0-9.]{1,8}@[a-z]{2,8}\.(org|com|co\.uk)", fullmatch=True)
LINKS = st.from_regex(r"https?://[a-z]{3,8}\.(com|org)/[a-z0-9]{1,8}", fullmatch=True)
PHONE_NUMBERS = st.sampled_from(PHONES)


@settings(max_examples=150, deadline=None)
@given(
    safe=st.lists(SAFE_WORDS, min_size=1, max_size=6),
    personal=st.lists(st.one_of(HANDLES, EMAILS, LINKS, PHONE_NUMBERS), min_size=1, max_size=4),
    seed=st.randoms(use_true_random=False),
    joint=st.sampled_from([", ", "; ", " and ", " | "]),
)
def test_no_personal_detail_survives_and_no_plain_number_is_eaten(
    safe, personal, seed, joint
) -> None:
    words = [*safe, *personal]
    seed.shuffle(words)
    cell = joint.join(words)
    masked = mask_frame(pd.DataFrame({"bio": [cell], "n": [1]})).loc[0, "bio"]
    for detail in personal:
        assert detail not in masked, (cell, masked)
    remaining = masked.split(joint)
    for word in safe:  # each safe word is still there, unchanged
        assert word in remaining, (cell, masked)
    assert mask_pii(masked) == masked  # masking twice changes nothing more


def test_a_number_right_after_a_spaced_phone_number_is_kept() -> None:
    assert mask_pii("+44 20 7946 0000 2024 2025") == "<phone> 2024 2025"


@pytest.fixture
def corpus() -> pd.DataFrame:
    n = 40
    return pd.DataFrame({
        "id": [f"c-{i:06d}" for i in range(n)],
        "text": [f"post number {i}" for i in range(n)],
        "location": [f"town {i}" for i in range(n)],
        "platform": ["twitter", "reddit"] * (n // 2),
        "country": ["GB", "US", None, "IN"] * (n // 4),
        "lang": ["en"] * n,
        "rater_ann": [0, 1] * (n // 2),
        "group_topic": ["work", "family", "health", "school"] * (n // 4),
        "group_free": [f"free words {i}" for i in range(n)],
        "author_handle": [f"someone{i}" for i in range(n)],
        "stigma_probability": [i / n for i in range(n)],
        "date": pd.date_range("2024-01-01", periods=n),
    })


def test_presenter_hides_posts_profiles_and_any_mostly_unique_text(corpus) -> None:
    hidden = personal_text_columns(corpus)
    assert set(hidden) == {"text", "location", "group_free", "author_handle"}
    shown = drop_personal_text(corpus)
    assert list(shown.columns) == ["id", "platform", "country", "lang", "rater_ann",
                                   "group_topic", "stigma_probability", "date"]


@pytest.mark.parametrize("name", ["Text", "user_location", "bio", "Description", "author",
                                  "screen_name", "username"])
def test_profile_fields_are_hidden_by_name_even_when_repetitive(name: str) -> None:
    frame = pd.DataFrame({name: ["same"] * 10, "platform": ["x"] * 10})
    assert personal_text_columns(frame) == [name]


def test_profile_fields_mapped_as_groups_are_hidden_too() -> None:
    frame = pd.DataFrame({"group_bio": ["nurse"] * 6, "group_topic": ["work", "home"] * 3})
    assert personal_text_columns(frame) == ["group_bio"]


def test_presenter_mode_also_hides_what_leads_to_the_original_post() -> None:
    """A platform's post id or a timestamp to the second finds the post and its author even
    with its text hidden (a user walk saw ids and exact times in presenter mode); dates
    without a time of day and category columns stay."""
    from stigma_core.privacy import post_identifier_columns

    frame = pd.DataFrame({
        "id": ["1459201113", "1459201187"], "tweet_id": [1, 2],
        "date": pd.to_datetime(["2021-03-01 10:00:07", "2021-03-02 11:12:13"]),
        "day": pd.to_datetime(["2021-03-01", "2021-03-02"]),
        "platform": ["twitter", "twitter"], "label": [1, 0]})
    assert post_identifier_columns(frame) == ["id", "tweet_id", "date"]

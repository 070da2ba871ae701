"""Language detection: codes, the undecidable rule, caching and the keep-mask."""

from __future__ import annotations

import numpy as np
import pytest

from stigma_core import language
from stigma_core.errors import CorpusError

ENGLISH = "People with schizophrenia deserve the same respect as anyone else."
SPANISH = "Las personas con depresión merecen el mismo respeto que cualquier otra."
FRENCH = "Les personnes atteintes de dépression méritent le même respect que les autres."
GERMAN = "Menschen mit Depressionen verdienen denselben Respekt wie alle anderen."
CHINESE = "患有抑郁症的人应该得到和其他人一样的尊重"


def test_detects_common_languages() -> None:
    codes = language.detect_languages([ENGLISH, SPANISH, FRENCH, GERMAN, CHINESE])
    assert isinstance(codes, np.ndarray)
    assert codes.tolist() == ["en", "es", "fr", "de", "zh"]


@pytest.mark.parametrize("text", [
    "lol ok",
    "#depression",
    "@someone https://t.co/abc123 so true",
    "RT @user: 😂😂😂",
    "",
    "12345 678",
])
def test_short_texts_are_undecidable(text: str) -> None:
    assert language.detect_languages([text]).tolist() == ["und"]


def test_low_confidence_guess_is_undecidable() -> None:
    # py3langid calls this English answer Nigerian Pidgin with confidence ~0.07.
    assert language.detect_languages(["No. Brain disorder. No."]).tolist() == ["und"]


def test_missing_texts_are_undecidable_and_length_is_kept() -> None:
    codes = language.detect_languages([ENGLISH, None, float("nan"), SPANISH])
    assert codes.tolist() == ["en", "und", "und", "es"]


def test_each_distinct_text_is_classified_once() -> None:
    language._classify.cache_clear()
    codes = language.detect_languages([ENGLISH] * 50 + [SPANISH] * 50)
    assert codes.tolist() == ["en"] * 50 + ["es"] * 50
    assert language._classify.cache_info().misses == 2


def test_mask_keeps_wanted_and_undecidable() -> None:
    mask = language.language_mask([ENGLISH, SPANISH, "so true", GERMAN], "EN")
    assert mask.tolist() == [True, False, True, False]
    assert language.language_mask([ENGLISH, SPANISH], "es").tolist() == [False, True]


def test_unknown_language_code_is_a_corpus_error() -> None:
    with pytest.raises(CorpusError, match=r"Unknown language code 'english'.*ISO 639-1"):
        language.language_mask([ENGLISH], "english")

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


def test_given_codes_are_read_as_files_write_them() -> None:
    values = ["en", "EN-gb", "pt_BR", "eng", "Spanish", "und", "zxx", "qme", "xx", "", " ",
              None, float("nan")]
    assert language.given_languages(values).tolist() == [
        "en", "en", "pt", "en", "es", "und", "und", "und", "und", None, None, None, None]


def test_given_code_wins_and_only_blank_ones_are_detected() -> None:
    language._classify.cache_clear()
    codes = language.post_languages([ENGLISH, SPANISH, GERMAN], ["fr", None, ""])
    assert codes.tolist() == ["fr", "es", "de"]
    assert language._classify.cache_info().misses == 2  # the English post was not classified


def test_mask_with_every_language_given_does_not_load_the_detector() -> None:
    language._identifier.cache_clear()
    mask = language.language_mask([ENGLISH, SPANISH, "so true"], "en", ["en", "es", "und"])
    assert mask.tolist() == [True, False, True]
    assert language._identifier.cache_info().currsize == 0


def test_a_language_the_detector_lacks_works_only_when_the_file_gives_every_code() -> None:
    assert language.language_mask(["Ʋolɔ", "x y z"], "ee", ["ee", "en"]).tolist() == [True, False]
    with pytest.raises(CorpusError, match="detector does not know 'ee'.*language column"):
        language.language_mask(["Ʋolɔ", ENGLISH], "ee", ["ee", None])


# Short posts in a corpus ruled by another language (issue #10: about 500 of 2,286 short
# Spanish comments used to be kept as "undecidable", i.e. as English).
SPANISH_WORDS = ("gracias triste ánimo fuerza amigo ayuda verdad tristeza locura ansiedad pena "
                 "abrazo cierto bien nada nunca siempre vida gente miedo").split()
ENGLISH_WORDS = ("sad true thanks love help strong hugs same agreed crazy awful nice wow sick "
                 "hope luck real pain alone tired").split()
SPANISH_SENTENCES = ("Las personas con depresión merecen respeto y apoyo {}",
                     "No entiendo por qué la gente se burla de la ansiedad {}",
                     "Mi hermano tiene esquizofrenia y es una persona maravillosa {}")


def short_posts(words: list[str], n: int, seed: int) -> list[str]:
    """``n`` generated posts of one or two of ``words``."""
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(words, rng.integers(1, 3))) for _ in range(n)]


def test_short_posts_of_a_spanish_corpus_are_judged_spanish() -> None:
    spanish = [SPANISH_SENTENCES[i % 3].format(i) for i in range(150)]
    spanish_short = short_posts(SPANISH_WORDS, 300, seed=0)
    english_short = short_posts(ENGLISH_WORDS, 30, seed=1)
    choice = language.choose_posts(spanish + spanish_short + english_short, "en")
    assert choice.dominant == "es"
    assert choice.keep[:150].sum() == 0
    assert choice.keep[150:450].mean() < 0.1  # before: every one of them was kept
    assert choice.keep[450:].all()  # no short English post is lost
    assert choice.judged == 330
    assert choice.note.startswith("Most posts whose language is clear are in Spanish (es: 150 "
                                  "of 150), so the 330 posts too short or unclear")


def test_short_spanish_posts_in_an_english_corpus_stay_undecidable() -> None:
    english = [f"{ENGLISH} number {i}" for i in range(50)]
    spanish_short = short_posts(SPANISH_WORDS, 20, seed=2)
    choice = language.choose_posts(english + spanish_short, "en")
    assert choice.dominant is None
    assert choice.keep.all()
    assert choice.note == ""


def test_no_judging_below_the_minimum_of_clear_posts() -> None:
    texts = [SPANISH] * (language.MIN_CLEAR_POSTS - 1) + ["gracias"]
    choice = language.choose_posts(texts, "en")
    assert choice.dominant is None
    assert choice.keep.tolist() == [False] * (language.MIN_CLEAR_POSTS - 1) + [True]


SPANISH_CORPUS = [
    "Las personas con depresión son peligrosas y deberían estar encerradas.",
    "Mi hermana tiene ansiedad y está mejorando mucho con terapia.",
    "Los enfermos mentales son vagos, no quieren trabajar nunca.",
    "Hablar de salud mental ayuda a romper el estigma en la sociedad.",
    "No dejaría que un esquizofrénico cuidara a mis hijos pequeños.",
]
GERMAN_CORPUS = [
    "Menschen mit Depressionen sind gefährlich und sollten weggesperrt werden.",
    "Meine Schwester hat eine Angststörung und es geht ihr mit Therapie besser.",
    "Psychisch Kranke sind faul und wollen einfach nicht arbeiten.",
    "Über psychische Gesundheit zu sprechen hilft gegen das Stigma.",
    "Ich würde einen Schizophrenen nicht auf meine Kinder aufpassen lassen.",
]


def corpus_file(tmp_path: object, posts: list[str], name: str) -> object:
    import pandas as pd

    path = tmp_path / name
    pd.DataFrame({"text": posts, "label": [1, 0, 1, 0, 1]}).to_csv(path, index=False)
    return path


@pytest.mark.parametrize(("posts", "name", "code"), [
    (SPANISH_CORPUS, "Spanish", "es"), (GERMAN_CORPUS, "German", "de")])
def test_a_corpus_in_another_language_is_named_and_refused_plainly(
    tmp_path: object, posts: list[str], name: str, code: str,
) -> None:
    from stigma_core import io

    path = corpus_file(tmp_path, posts, f"{code}.csv")
    with pytest.raises(CorpusError) as caught:
        io.load_corpus(path)
    message = str(caught.value)
    assert f"This corpus is in {name} ({code}: 5 of its 5 posts), not English." in message
    assert "models, text preprocessing and word lists are English" in message
    # loading it anyway, with the filter off, is possible and keeps every post
    assert len(io.load_corpus(path, language=None)) == 5


def test_a_corpus_mostly_in_another_language_keeps_the_english_posts_and_says_so() -> None:
    texts = [f"{SPANISH_CORPUS[i % 5]} {i}" for i in range(30)] + [f"{ENGLISH} {i}"
                                                                  for i in range(3)]
    choice = language.choose_posts(texts, "en")
    assert choice.keep.sum() == 3
    assert "Most of this corpus is in Spanish (es); only the 3 posts in English" in choice.note


def test_mixed_languages_are_counted_by_name() -> None:
    codes = np.array(["es"] * 10 + ["de"] * 8 + ["und"] * 2, dtype=object)
    message = language.other_language_message(codes, "en")
    assert message.startswith("This corpus is not in English: of its 20 posts, Spanish (es) "
                              "10, German (de) 8.")
    assert language.language_name("de") == "German"


def test_the_cli_says_which_language_a_corpus_is_in(tmp_path: object) -> None:
    import subprocess
    import sys

    path = corpus_file(tmp_path, GERMAN_CORPUS, "de.csv")
    done = subprocess.run(
        [sys.executable, "-m", "stigma_core", "train", "--data", str(path), "--text-col", "text",
         "--label-col", "label", "--out", str(tmp_path / "m.skops")],
        capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode != 0
    assert "This corpus is in German (de: 5 of its 5 posts), not English." in done.stderr
    assert "Traceback" not in done.stderr


def test_the_data_page_says_which_language_an_upload_is_in() -> None:
    import pandas as pd
    from app_support import open_app, sidebar_text

    at = open_app()
    at.radio(key="data_source").set_value("My own file").run()
    data = pd.DataFrame({"text": SPANISH_CORPUS, "label": [1, 0, 1, 0, 1]}).to_csv(
        index=False).encode()
    at.file_uploader(key="data_upload").set_value(("es.csv", data, "text/csv")).run()
    at.get("form_submit_button")[0].click().run()
    assert not at.exception
    errors = " ".join(str(e.value) for e in at.error)
    assert "This corpus is in Spanish (es: 5 of its 5 posts), not English." in errors
    assert "untick 'Keep only English posts'" in errors
    assert "sample train.csv — 800 rows" in sidebar_text(at)  # the sample stays in use

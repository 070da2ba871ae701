"""Which language each post is written in, so a corpus can be kept to one language.

The stigma models learn English words, so posts in other languages would be scored as noise.
Detection is offline (py3langid, a naive-Bayes model shipped in its wheel) and each distinct
text is classified once (corpora repeat retweets and short posts heavily).

A post is *undecidable* (code ``"und"``) when, after removing URLs, @handles and "RT", it has
fewer than three alphabetic words, or when the model's confidence is below one half. Such
posts count as the wanted language: "so true 😂" or "#depression" carry too little evidence
to name a language, and guessing would throw away real posts of the wanted language (on the
coded English corpus here, the low-confidence guesses are all English posts called Pidgin or
Galician) to remove, at most, a few short foreign ones.

Many exports already say each post's language (Twitter's ``lang`` field, a coder's column):
where a file gives a code, it is used and the post is not classified (faster, and the model is
not even loaded when every post has one); values that name no language (Twitter's ``und``,
``zxx``, ``qme``…) count as undecidable, and blank ones are detected.

Undecidable posts are judged after all when the corpus itself says which language they are
likely in: when at least half of the posts whose language is clear (and at least
``MIN_CLEAR_POSTS`` of them) are in one other language, a corpus of Spanish comments say,
each undecidable post is judged between the wanted language and that one, by its words:
all known to simplemma's dictionary of one language and not of the other decides; failing
that, py3langid restricted to the two languages must give the other one at least
``JUDGE_CONFIDENCE``. Otherwise the post stays undecidable and is kept, so short posts of the
wanted language ("so sad", "me too") survive a foreign corpus, and in a corpus mostly of the
wanted language nothing changes. ``choose_posts`` says what was decided.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache

import numpy as np
import pandas as pd
import pycountry
from py3langid.langid import MODEL_FILE, LanguageIdentifier

from stigma_core.errors import CorpusError

UNDECIDED = "und"
MIN_WORDS = 3
MIN_CONFIDENCE = 0.5
MIN_CLEAR_POSTS = 20
DOMINANT_SHARE = 0.5
JUDGE_CONFIDENCE = 0.8

# URLs, @handles and the retweet marker say nothing about a post's language.
_NOISE = re.compile(r"https?://\S+|www\.\S+|@\w+|\bRT\b")
# A word: a run of letters; in scripts written without spaces (Thai, kana, CJK ideographs)
# every character counts as one word, so a Chinese sentence is not one "word".
_WORD = re.compile(r"[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[^\W\d_]+")
# "en-GB", "pt_BR": the language is the part before the region.
_REGION = re.compile(r"[-_]")


@cache
def _identifier() -> LanguageIdentifier:
    """The py3langid model, loaded once (about half a second) on first use."""
    return LanguageIdentifier.from_model_file(
        MODEL_FILE, norm_probs=True, min_confidence=MIN_CONFIDENCE
    )


@lru_cache(maxsize=1 << 17)
def _classify(text: str) -> str:
    """ISO 639-1 code of one text, or "und" when it is too short or the model unsure."""
    cleaned = _NOISE.sub(" ", text)
    if len(_WORD.findall(cleaned)) < MIN_WORDS:
        return UNDECIDED
    return _identifier().classify(cleaned)[0]


def detect_languages(texts: Sequence[str]) -> np.ndarray:
    """ISO 639-1 code per text ("und" when undecidable or missing), one entry per input.

    Distinct texts are classified once per call and remembered across calls.
    """
    codes, uniques = pd.factorize(pd.Series(list(texts), dtype=object), use_na_sentinel=True)
    labels = np.array([_classify(str(text)) for text in uniques] + [UNDECIDED], dtype=object)
    return labels[codes]  # code -1 (a missing text) picks the trailing "und"


def known_language(code: str) -> str:
    """``code`` lower-cased if it is an ISO 639-1 code; CorpusError naming the problem if not."""
    wanted = str(code).strip().lower()
    if len(wanted) != 2 or pycountry.languages.get(alpha_2=wanted) is None:
        raise CorpusError(
            f"Unknown language code {code!r}. Use a two-letter ISO 639-1 code such as 'en' "
            "(English), 'es' (Spanish) or 'de' (German), or turn the language filter off."
        )
    return wanted


@lru_cache(maxsize=4096)
def _given_code(value: str) -> str | None:
    """ISO 639-1 code of one value of a file's language column (None when blank)."""
    text = value.strip()
    if not text:
        return None
    primary = _REGION.split(text, maxsplit=1)[0].lower()
    if len(primary) == 2:
        record = pycountry.languages.get(alpha_2=primary)
    elif len(primary) == 3:
        record = pycountry.languages.get(alpha_3=primary)
    else:
        record = pycountry.languages.get(name=text)
    return getattr(record, "alpha_2", None) or UNDECIDED


def given_languages(values: Sequence[object]) -> np.ndarray:
    """ISO 639-1 code per value of a file's language column, one entry per input.

    Understands codes as files write them ("en", "EN", "en-GB", "pt_BR", "eng", "English");
    a value that names no language ("und", "zxx", "qme") is "und"; a blank or missing value
    is None, so the post's language is detected instead.
    """
    codes, uniques = pd.factorize(pd.Series(list(values), dtype=object), use_na_sentinel=True)
    labels = np.array([_given_code(str(value)) for value in uniques] + [None], dtype=object)
    return labels[codes]


def post_languages(texts: Sequence[str], given: Sequence[object] | None = None) -> np.ndarray:
    """ISO 639-1 code per post: the file's own code where ``given`` has one, else detected."""
    return _detect_missing(_given_or_none(texts, given), texts)


def language_mask(
    texts: Sequence[str], keep: str, given: Sequence[object] | None = None
) -> np.ndarray:
    """True for posts in language ``keep`` or undecidable (see the module docstring);
    ``given`` is the file's language column, if it has one."""
    return choose_posts(texts, keep, given).keep


@dataclass
class LanguageChoice:
    """Which posts a language filter keeps, and why.

    ``codes``: each post's language ("und" when undecidable); ``dominant``: the other
    language most clear posts are in, when it rules the corpus (else None); ``judged``: the
    undecidable posts then judged between the two, ``judged_other`` of them as the other
    language (dropped); ``note``: that decision in plain words ("" when none was made).
    """

    keep: np.ndarray
    codes: np.ndarray
    dominant: str | None = None
    judged: int = 0
    judged_other: int = 0
    note: str = ""


def choose_posts(
    texts: Sequence[str], keep: str, given: Sequence[object] | None = None
) -> LanguageChoice:
    """The posts in language ``keep`` (given by the file, detected, or judged in a corpus
    ruled by another language; see the module docstring) and the undecidable ones."""
    wanted = known_language(keep)
    codes = _given_or_none(texts, given)
    if pd.isna(codes).any() and wanted not in _identifier().labels:
        raise CorpusError(
            f"The language detector does not know {keep!r}, so posts whose language the "
            "file does not give cannot be checked for it. Map a language column that gives "
            "every post's language, or turn the language filter off."
        )
    codes = _detect_missing(codes, texts)
    choice = LanguageChoice(keep=np.zeros(len(codes), dtype=bool), codes=codes)
    choice.dominant = dominant_language(codes, wanted)
    if choice.dominant is not None:
        _judge_undecided(choice, texts, wanted)
    choice.keep = (codes == wanted) | (codes == UNDECIDED)
    if choice.dominant is not None and choice.keep.any():
        choice.note = " ".join(part for part in (choice.note, _mostly_other_note(choice, wanted))
                               if part)
    return choice


ENGLISH_ONLY = (
    "Stigma Lens's models, text preprocessing and word lists are English, like the study it "
    "follows, so they would read posts in another language as noise."
)


def language_name(code: str) -> str:
    """The English name of an ISO 639-1 code ("es" -> "Spanish"; the code when unknown)."""
    return _language_name(code)


def language_counts(codes: Sequence[object], top: int = 3) -> str:
    """The commonest clear languages among ``codes`` in words: "Spanish (es) 28, German (de)
    2" ("" when no post has a clear language)."""
    clear = pd.Series([c for c in codes if c is not None and c != UNDECIDED], dtype=object)
    counts = clear.value_counts().head(top)
    return ", ".join(f"{language_name(code)} ({code}) {n:,}" for code, n in counts.items())


def other_language_message(codes: Sequence[object], wanted: str) -> str:
    """Plain words for a corpus with no post in ``wanted``: which language(s) it is in, why
    that matters, and what to do."""
    clear = [c for c in codes if c is not None and c != UNDECIDED]
    top = Counter(clear).most_common(1)
    if top and top[0][1] >= 0.8 * len(clear):
        code, n = top[0]
        what = (f"This corpus is in {language_name(code)} ({code}: {n:,} of its "
                f"{len(codes):,} posts), not {language_name(wanted)}.")
    elif clear:
        what = (f"This corpus is not in {language_name(wanted)}: of its {len(codes):,} posts, "
                f"{language_counts(codes)}.")
    else:
        what = f"No post of this corpus reads as {language_name(wanted)}."
    return (f"{what} {ENGLISH_ONLY if wanted == 'en' else ''} Only the multilingual model "
            f"family ({_multilingual_family()}) reads posts in about 100 languages: to analyse "
            "these posts as they are, untick 'Keep only English posts' on the Data page (in "
            "the command line: --language any) and train that family; scores from the other "
            f"families would mean little. Or load a corpus in {language_name(wanted)}."
            ).replace("  ", " ")


def _multilingual_family() -> str:
    """The multilingual family's name in the app and the CLI, and why it cannot be used
    here when it cannot (imported here: a message, not a dependency of this module)."""
    from stigma_core import multilingual

    reason = multilingual.unavailable_reason()
    name = f"'{multilingual.FAMILY_LABEL}', {multilingual.FAMILY} in the command line"
    return f"{name}; not usable here yet: {reason.rstrip('.')}" if reason else name


def _mostly_other_note(choice: LanguageChoice, wanted: str) -> str:
    """A warning for a corpus ruled by another language: only the wanted posts are kept."""
    kept = int(choice.keep.sum())
    return (f"Most of this corpus is in {language_name(choice.dominant)} "
            f"({choice.dominant}); only the {kept:,} posts in {language_name(wanted)} or too "
            f"short to tell are kept. " + (ENGLISH_ONLY if wanted == "en" else "")).strip()


def dominant_language(codes: np.ndarray, wanted: str) -> str | None:
    """The language other than ``wanted`` that at least ``DOMINANT_SHARE`` of the posts
    with a clear language are in (at least ``MIN_CLEAR_POSTS`` of them), else None."""
    clear = [c for c in codes.tolist() if c is not None and c != UNDECIDED]
    if len(clear) < MIN_CLEAR_POSTS:
        return None
    top, count = Counter(clear).most_common(1)[0]
    return top if top != wanted and count >= DOMINANT_SHARE * len(clear) else None


def _judge_undecided(choice: LanguageChoice, texts: Sequence[str], wanted: str) -> None:
    """Judge each undecidable post between ``wanted`` and the dominant language."""
    other = choice.dominant
    undecided = np.flatnonzero(choice.codes == UNDECIDED)
    verdicts = [_judge(str(texts[i]) if not pd.isna(texts[i]) else "", wanted, other)
                for i in undecided]
    choice.codes[undecided] = verdicts
    choice.judged = len(undecided)
    choice.judged_other = sum(v == other for v in verdicts)
    if not choice.judged:
        return
    names = {c: _language_name(c) for c in (wanted, other)}
    clear = [c for c in choice.codes.tolist() if c not in (None, UNDECIDED)]
    n_other = sum(c == other for c in clear) - choice.judged_other
    n_clear = len(clear) - choice.judged_other
    choice.note = (
        f"Most posts whose language is clear are in {names[other]} ({other}: {n_other:,} of "
        f"{n_clear:,}), so the {choice.judged:,} posts too short or unclear to name a language "
        f"were judged between {names[wanted]} and {names[other]} by their words: "
        f"{choice.judged_other:,} read as {names[other]} (dropped), "
        f"{choice.judged - choice.judged_other:,} kept as possibly {names[wanted]}."
    )


def _language_name(code: str) -> str:
    record = pycountry.languages.get(alpha_2=code)
    return getattr(record, "name", code)


@lru_cache(maxsize=1 << 16)
def _judge(text: str, wanted: str, other: str) -> str:
    """``other`` when an undecidable text reads as that language rather than ``wanted``,
    else "und": first by dictionary (every word known in one language and not every word in
    the other), then by py3langid restricted to the two (at least ``JUDGE_CONFIDENCE``)."""
    words = [w.lower() for w in _WORD.findall(_NOISE.sub(" ", text))]
    if not words:
        return UNDECIDED
    in_wanted, in_other = _all_known(words, wanted), _all_known(words, other)
    if in_wanted and in_other is False:
        return UNDECIDED
    if in_other and in_wanted is False:
        return other
    pair = _pair_identifier(wanted, other)
    if pair is None:
        return UNDECIDED
    code, confidence = pair.classify(" ".join(words))
    return other if code == other and confidence >= JUDGE_CONFIDENCE else UNDECIDED


def _all_known(words: list[str], code: str) -> bool | None:
    """Whether simplemma's dictionary of ``code`` knows every word (None: no dictionary)."""
    import simplemma  # imported here: most loads never judge a post, and it takes 70 ms

    try:
        return all(simplemma.is_known(word, lang=code) for word in words)
    except ValueError:
        return None


@lru_cache(maxsize=4)
def _pair_identifier(wanted: str, other: str) -> LanguageIdentifier | None:
    """py3langid restricted to two languages (None when it lacks either)."""
    labels = _identifier().labels
    if wanted not in labels or other not in labels:
        return None
    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages([wanted, other])
    return identifier


def _given_or_none(texts: Sequence[str], given: Sequence[object] | None) -> np.ndarray:
    """The given codes, or None for every post when the file has no language column."""
    if given is None:
        return np.full(len(texts), None, dtype=object)
    return given_languages(given)


def _detect_missing(codes: np.ndarray, texts: Sequence[str]) -> np.ndarray:
    """``codes`` with each None replaced by the detected language of that post."""
    missing = np.flatnonzero(pd.isna(codes))
    if missing.size:
        codes[missing] = detect_languages([texts[i] for i in missing])
    return codes

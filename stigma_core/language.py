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
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache, lru_cache

import numpy as np
import pandas as pd
from py3langid.langid import MODEL_FILE, LanguageIdentifier

from stigma_core.errors import CorpusError

UNDECIDED = "und"
MIN_WORDS = 3
MIN_CONFIDENCE = 0.5

# URLs, @handles and the retweet marker say nothing about a post's language.
_NOISE = re.compile(r"https?://\S+|www\.\S+|@\w+|\bRT\b")
# A word: a run of letters; in scripts written without spaces (Thai, kana, CJK ideographs)
# every character counts as one word, so a Chinese sentence is not one "word".
_WORD = re.compile(r"[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[^\W\d_]+")


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
    """``code`` lower-cased if the detector knows it; CorpusError naming the problem if not."""
    wanted = str(code).strip().lower()
    if wanted not in _identifier().labels:
        raise CorpusError(
            f"Unknown language code {code!r}. Use a two-letter ISO 639-1 code such as 'en' "
            "(English), 'es' (Spanish) or 'de' (German), or turn the language filter off."
        )
    return wanted


def language_mask(texts: Sequence[str], keep: str) -> np.ndarray:
    """True for texts in language ``keep`` or undecidable (see the module docstring)."""
    wanted = known_language(keep)
    codes = detect_languages(texts)
    return (codes == wanted) | (codes == UNDECIDED)

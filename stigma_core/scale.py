"""Score corpora of any size with a saved model.

Social-media corpora repeat posts heavily (retweets, copy-paste campaigns), so each distinct
text is scored once and the probability mapped back to every row that holds it. Distinct
texts are scored in chunks, which bounds memory and lets a caller show progress.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd

from stigma_core.errors import CorpusError, ModelError
from stigma_core.persist import ModelBundle

Progress = Callable[[float, str], None]
PROBABILITY = "stigma_probability"
PREDICTED = "stigma_predicted"


def _positive_column(bundle: ModelBundle) -> int:
    """Index of the 'stigmatising' (1) class in the model's probability columns."""
    classes = list(getattr(bundle.pipeline, "classes_", []))
    if 1 not in classes:
        raise ModelError("The model was not trained on 0/1 stigma labels, so it cannot score.")
    return classes.index(1)


def score_texts(
    bundle: ModelBundle,
    texts: Iterable[object],
    *,
    chunk_size: int = 20_000,
    progress: Progress | None = None,
) -> np.ndarray:
    """Probability that each post is stigmatising (NaN where a row has no text).

    Each distinct text is scored once, ``chunk_size`` distinct texts at a time;
    ``progress(fraction, message)`` is called after each chunk.
    """
    if chunk_size < 1:
        raise ModelError("The chunk size must be at least 1 post.")
    values = pd.Series(list(texts) if not isinstance(texts, pd.Series) else texts)
    cleaned = values.astype("string").str.strip().replace("", pd.NA)
    codes, uniques = pd.factorize(cleaned)
    column = _positive_column(bundle)
    unique_proba = np.empty(len(uniques))
    for start in range(0, len(uniques), chunk_size):
        chunk = pd.DataFrame({"text": np.asarray(uniques[start : start + chunk_size], object)})
        unique_proba[start : start + len(chunk)] = bundle.pipeline.predict_proba(chunk)[:, column]
        if progress:
            done = start + len(chunk)
            progress(done / len(uniques), f"Scored {done:,} of {len(uniques):,} distinct posts")
    proba = np.full(len(codes), np.nan)
    present = codes >= 0
    proba[present] = unique_proba[codes[present]]
    return proba


def score_frame(
    bundle: ModelBundle,
    df: pd.DataFrame,
    text_col: str = "text",
    *,
    chunk_size: int = 20_000,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """A copy of ``df`` with ``stigma_probability`` (0-1) and ``stigma_predicted`` (0/1).

    A post is predicted stigmatising when its probability reaches the model's saved
    threshold. Rows without text get no score: NaN probability and a missing prediction (the
    prediction column is then pandas' nullable ``Int64``; otherwise plain ``int64``).
    """
    if text_col not in df.columns:
        raise CorpusError(
            f"There is no column called '{text_col}' to score. The columns are: "
            f"{', '.join(map(str, df.columns))}. Name the column that holds the posts."
        )
    proba = score_texts(bundle, df[text_col], chunk_size=chunk_size, progress=progress)
    scored = df.copy()
    scored[PROBABILITY] = proba
    predicted = pd.Series((proba >= bundle.threshold).astype(np.int64), index=df.index)
    missing = np.isnan(proba)
    scored[PREDICTED] = predicted.astype("Int64").mask(missing) if missing.any() else predicted
    return scored

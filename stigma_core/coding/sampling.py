"""Drawing the posts to code, and how long coding them takes.

A prevalence estimate may rest only on posts drawn at random from the corpus itself; this is
the one place that draw happens (seeded, so it can be repeated and reported).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from stigma_core.errors import CodingError

SECONDS_PER_CODE = 6.0
"""Typical seconds a rater takes to read and code one short post."""


def draw_random(texts: Sequence[str], n: int, *, seed: int = 0,
                exclude: Iterable[str] = ()) -> list[str]:
    """``n`` distinct posts drawn at random (seeded) from ``texts``, leaving out ``exclude``
    (e.g. posts already in the project). Fewer when the corpus has fewer left."""
    if n < 1:
        raise CodingError("Draw at least one post.")
    pool = pd.Series([str(t).strip() for t in texts]).drop_duplicates()
    pool = pool[(pool != "") & ~pool.isin({str(t).strip() for t in exclude})]
    if pool.empty:
        raise CodingError("No uncoded posts are left in the corpus to draw from.")
    rng = np.random.default_rng(seed)
    picked = rng.choice(len(pool), size=min(n, len(pool)), replace=False)
    return pool.iloc[np.sort(picked)].tolist()


def coding_minutes(n_posts: int, raters_per_post: int = 2,
                   seconds_per_code: float = SECONDS_PER_CODE) -> int:
    """Minutes of rater time to code ``n_posts`` (each by ``raters_per_post`` raters), rounded
    up to 5; about 40 minutes for 200 posts and two raters, shared between them."""
    minutes = n_posts * raters_per_post * seconds_per_code / 60
    return int(5 * math.ceil(minutes / 5))

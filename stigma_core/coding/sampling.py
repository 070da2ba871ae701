"""Drawing the posts to code, and how long coding them takes.

A prevalence estimate may rest only on posts drawn at random from the corpus itself; this is
the one place that draw happens (seeded, so it can be repeated and reported).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from stigma_core.errors import CodingError

SECONDS_PER_CODE = 6.0
"""Typical seconds a rater takes to read and code one short post."""
RATERS_PER_POST = 2


def post_key(text: str) -> str:
    """A post's identity: SHA-256 of its text, surrounding spaces ignored. Lets a coding
    project refuse repeats and a model file say which posts it trained on, without holding
    the text."""
    return hashlib.sha256(str(text).strip().encode("utf-8")).hexdigest()


def post_keys(texts: Iterable[object], length: int = 16) -> list[str]:
    """Short keys (the first ``length`` hex digits of ``post_key``; 16 = 64 bits, no
    collisions in practice) for many posts: what a model card keeps of its training posts."""
    return [post_key(str(t))[:length] for t in texts]


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


def coding_minutes(n_posts: int, *, seconds_per_post: float = SECONDS_PER_CODE,
                   raters: int = RATERS_PER_POST) -> int:
    """About how many minutes of rater time ``n_posts`` posts take, each coded by ``raters``
    people (200 posts, two raters: about 40 minutes)."""
    return round(n_posts * seconds_per_post * raters / 60)

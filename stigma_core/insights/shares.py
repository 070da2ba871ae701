"""Each class's share of the posts per group, and stigma within each class, with Wilson CIs.

Every share comes with its n and a Wilson 95% CI; groups under ``DEFAULT_MIN_N`` posts (or the
``min_n`` given) get no share at all, since too few posts cannot be read.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from stigma_core.errors import CorpusError
from stigma_core.insights.breakdowns import MISSING_GROUP, group_keys
from stigma_core.insights.lexicon import CLASSES

DEFAULT_MIN_N = 30


def _wilson(k: np.ndarray, n: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    from stigma_core.metrics import wilson_interval

    bounds = np.array([wilson_interval(int(a), int(b), alpha)
                       for a, b in zip(k, n, strict=True)], dtype=float).reshape(-1, 2)
    return bounds[:, 0], bounds[:, 1]


def tag_shares(frame: pd.DataFrame, column: str, by: str | None = None, *,
               classes: Sequence[str] | None = None, min_n: int = DEFAULT_MIN_N,
               alpha: float = 0.05, sort_groups: bool = False) -> pd.DataFrame:
    """Each class's share of the posts in each group, with Wilson 95% CIs.

    Long table, one row per group and class: ``group, tag, n`` (posts in the group), ``k``
    (posts of the class), ``share, ci_low, ci_high, too_few``. Groups sort by n (largest
    first), or by label with ``sort_groups`` (periods); classes in ``classes`` order (default:
    the kind's classes when the column is ``domain``/``theme``, else as found). Shares of
    groups under ``min_n`` posts are NaN (too few to read).
    """
    if column not in frame.columns:
        raise CorpusError(f"There is no column {column!r} with tags in these posts.")
    if min_n < 1:
        raise CorpusError(f"The minimum posts per group must be at least 1 (got {min_n}).")
    tags = frame[column].astype("string").fillna(MISSING_GROUP).to_numpy(dtype=object)
    classes = list(classes if classes is not None else
                   CLASSES.get(column) or pd.unique(tags))
    counts = pd.crosstab(pd.Series(group_keys(frame, by), name="group"),
                         pd.Series(tags, name="tag"))
    counts = counts.reindex(columns=classes, fill_value=0)
    n = pd.Series(group_keys(frame, by)).value_counts()
    order = sorted(n.index) if sort_groups else sorted(n.index, key=lambda g: (-n[g], str(g)))
    rows = [(g, c, int(n[g]), int(counts.loc[g, c]) if g in counts.index else 0)
            for g in order for c in classes]
    table = pd.DataFrame(rows, columns=["group", "tag", "n", "k"])
    low, high = _wilson(table["k"].to_numpy(), table["n"].to_numpy(), alpha)
    too_few = table["n"].to_numpy() < min_n
    table["share"] = np.where(too_few, np.nan, table["k"] / table["n"].clip(lower=1))
    table["ci_low"] = np.where(too_few, np.nan, low)
    table["ci_high"] = np.where(too_few, np.nan, high)
    table["too_few"] = too_few
    return table


def stigma_labels(predicted: pd.Series) -> pd.Series:
    """0/1 (or False/True) predictions as "stigmatising" / "other"; missing stays missing."""
    values = pd.to_numeric(predicted.astype("object"), errors="coerce")
    return pd.Series(np.where(values == 1, "stigmatising", "other"), index=predicted.index,
                     dtype="string").where(values.notna())


def stigma_by_tag(frame: pd.DataFrame, column: str, *,
                  predicted_col: str = "stigma_predicted", min_n: int = DEFAULT_MIN_N,
                  alpha: float = 0.05) -> pd.DataFrame:
    """The share of posts the model flags stigmatising within each class of ``column``:
    ``tag, n, k, share, ci_low, ci_high, too_few`` (Wilson 95% CIs)."""
    if predicted_col not in frame.columns:
        raise CorpusError("These posts have no stigma predictions yet: choose a model on Model "
                          "lab or Prevalence to score them.")
    table = tag_shares(frame.assign(_stigma=stigma_labels(frame[predicted_col])), "_stigma", column,
                       classes=["stigmatising"], min_n=min_n, alpha=alpha)
    order = {c: i for i, c in enumerate(CLASSES.get(column, ()))}
    table = table.drop(columns="tag").rename(columns={"group": "tag"})
    return table.sort_values("tag", key=lambda s: s.map(lambda v: order.get(v, len(order))),
                             kind="stable").reset_index(drop=True)

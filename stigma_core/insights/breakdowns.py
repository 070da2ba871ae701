"""What the posts are broken down by: each row's group, and the choices a page offers.

Only columns the user supplied (country, platform, their own ``group_*`` columns) and periods
made from the dates: nothing here infers gender, age or any other trait of a person from text
or names.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from stigma_core.errors import CorpusError

MISSING_GROUP = "(not known)"
ALL = "All"


def group_keys(frame: pd.DataFrame, by: str | None) -> np.ndarray:
    """Group label per row: ``"All"`` when ``by`` is None; missing or blank values form the
    group ``"(not known)"``. ``CorpusError`` when the column is absent."""
    if by is None:
        return np.full(len(frame), ALL, dtype=object)
    if by not in frame.columns:
        raise CorpusError(f"There is no column {by!r} to break the posts down by; map it on "
                          "the Data page.")
    keys = frame[by].astype("string").str.strip()
    return keys.mask(keys.isna() | (keys == ""), MISSING_GROUP).to_numpy(dtype=object)


PERIODS = {"month": "Month", "week": "Week"}


def breakdown_options(posts: pd.DataFrame) -> dict[str, str]:
    """What the posts can be broken down by — only columns the user supplied (country,
    platform, their own ``group_*`` columns) and, with dates, week or month: option -> label.
    No trait of a person is ever inferred from text or names."""
    options = {c: c.capitalize() for c in ("country", "platform") if c in posts}
    options |= {c: f"{c.removeprefix('group_')} (your column)" for c in posts
                if str(c).startswith("group_")}
    if "date" in posts and posts["date"].notna().any():
        options |= {period: f"{label} (over time)" for period, label in PERIODS.items()}
    return options


def with_breakdown(posts: pd.DataFrame, choice: str) -> tuple[pd.DataFrame, str]:
    """The posts with the column to break down by (a period made from the date for "week"
    or "month") and that column's name."""
    if choice in PERIODS:
        return posts.assign(period=period_labels(posts["date"], choice)), "period"
    return posts, choice


def period_labels(dates: pd.Series, freq: str = "month") -> pd.Series:
    """Each date's period as a sortable label: "2021-03" (month) or "2021-03-01" (the Monday
    of its week, for ``freq="week"``); missing dates stay missing."""
    values = pd.to_datetime(dates, errors="coerce", utc=True).dt.tz_localize(None)
    if freq == "month":
        labels = values.dt.strftime("%Y-%m")
    elif freq == "week":
        labels = (values - pd.to_timedelta(values.dt.weekday, unit="D")).dt.strftime("%Y-%m-%d")
    else:
        raise CorpusError(f"Periods are 'week' or 'month', not {freq!r}.")
    return labels.astype("string").where(values.notna())

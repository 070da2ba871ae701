"""Does the mix differ between groups? Chi-square tests in plain words, groups side by side.

``mix_test`` tests whether a column's mix (domain, theme, stigma) differs between groups, with
Cramér's V in words; ``compare_groups`` puts the groups' shares side by side with one test per
column (platforms, countries, periods).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from stigma_core.insights.breakdowns import MISSING_GROUP, group_keys
from stigma_core.insights.shares import DEFAULT_MIN_N, stigma_labels, tag_shares


@dataclass(frozen=True)
class MixTest:
    """A chi-square test of independence: does the mix of ``column`` differ between groups?"""

    column: str
    by: str
    chi2: float
    dof: int
    p: float
    cramers_v: float
    n: int
    groups: list[str]
    sparse: bool  # more than 20% of expected counts under 5: read p with caution
    words: str

    @property
    def differs(self) -> bool:
        """True when p < 0.05."""
        return bool(self.p < 0.05)

    def as_dict(self) -> dict[str, object]:
        """Plain values for JSON and tables."""
        return {"column": self.column, "by": self.by, "chi2": self.chi2, "dof": self.dof,
                "p": self.p, "cramers_v": self.cramers_v, "n": self.n, "groups": self.groups,
                "sparse": self.sparse, "differs": self.differs, "words": self.words}


def effect_words(v: float) -> str:
    """Cramér's V in words (Cohen's rough bands): negligible, small, medium, large."""
    if not math.isfinite(v):
        return "unknown"
    return ("negligible" if v < 0.1 else "small" if v < 0.3 else "medium" if v < 0.5
            else "large")


def mix_test(frame: pd.DataFrame, column: str, by: str, *, min_n: int = DEFAULT_MIN_N,
             what: str | None = None) -> MixTest:
    """Chi-square test of independence between ``column`` (e.g. domain) and ``by`` (e.g.
    platform) over the groups with at least ``min_n`` posts ("(not known)" left out), with
    Cramér's V and a plain sentence: "differs" (p < 0.05) or "does not clearly differ"."""
    from scipy.stats import chi2_contingency
    from scipy.stats.contingency import association

    what = what or f"{column} mix"
    across = _plural(by)
    keys = pd.Series(group_keys(frame, by), index=frame.index)
    sizes = keys.value_counts()
    kept = [g for g in sizes.index if sizes[g] >= min_n and g != MISSING_GROUP]
    rows = keys.isin(kept) & frame[column].notna()
    table = pd.crosstab(keys[rows], frame.loc[rows, column].astype(str))
    table = table.loc[:, table.sum(axis=0) > 0]
    n = int(table.to_numpy().sum())
    if table.shape[0] < 2 or table.shape[1] < 2:
        reason = (f"fewer than two {by} groups have {min_n} or more posts"
                  if table.shape[0] < 2 else f"all posts share one {column} class")
        return MixTest(column, by, math.nan, 0, math.nan, math.nan, n, list(table.index), False,
                       f"The {what} cannot be compared across {across}: {reason}.")
    chi2, p, dof, expected = chi2_contingency(table.to_numpy())
    v = float(association(table.to_numpy(), method="cramer"))
    sparse = bool((expected < 5).mean() > 0.2)
    size = effect_words(v)
    verdict = ("does not clearly differ" if p >= 0.05 else
               "differs, but only slightly," if size == "negligible" else "differs")
    words = (f"The {what} {verdict} across {across} ({len(table)} groups, n = {n:,}; "
             f"chi-square = {chi2:.1f}, df = {dof}, {_p_text(p)}, Cramér's V = {v:.2f}, "
             f"a {size} difference).")
    if sparse:
        words += " Many cells hold few posts, so read the p-value with caution."
    return MixTest(column, by, float(chi2), int(dof), float(p), v, n,
                   [str(g) for g in table.index], sparse, words)


def _plural(by: str) -> str:
    """'platforms', 'countries', 'periods', 'gender groups' for a breakdown column."""
    if by.startswith("group_"):
        return f"{by.removeprefix('group_')} groups"
    return {"country": "countries"}.get(by, f"{by}s")


def _p_text(p: float) -> str:
    """'p < 0.001', 'p = 0.012' or 'p = 0.46'."""
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}" if p < 0.1 else f"p = {p:.2f}"


@dataclass(frozen=True)
class Comparison:
    """Groups side by side: every class's share per group (long table) and one test per
    column."""

    by: str
    table: pd.DataFrame  # column, group, tag, n, k, share, ci_low, ci_high, too_few
    tests: dict[str, MixTest]


def compare_groups(frame: pd.DataFrame, by: str = "platform", *,
                   columns: Sequence[str] = ("domain", "theme"),
                   predicted_col: str = "stigma_predicted",
                   min_n: int = DEFAULT_MIN_N) -> Comparison:
    """``by`` groups side by side: predicted prevalence (when ``predicted_col`` is there),
    domain mix and theme mix, each with Wilson CIs, and a chi-square test of each."""
    parts, tests = [], {}
    if predicted_col in frame.columns:
        stigma = frame.assign(stigma=stigma_labels(frame[predicted_col]))
        share = tag_shares(stigma, "stigma", by, classes=["stigmatising"], min_n=min_n)
        parts.append(share.assign(column="stigma"))
        tests["stigma"] = mix_test(stigma, "stigma", by, min_n=min_n,
                                   what="share of posts flagged stigmatising")
    for column in columns:
        parts.append(tag_shares(frame, column, by, min_n=min_n).assign(column=column))
        tests[column] = mix_test(frame, column, by, min_n=min_n)
    table = pd.concat(parts, ignore_index=True)
    return Comparison(by, table[["column", *[c for c in table.columns if c != "column"]]],
                      tests)

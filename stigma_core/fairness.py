"""Does the model miss (or wrongly flag) more posts in some groups than in others?

A model that misses more stigma in one country, platform, gender or age band under-counts it
there, and a prevalence corrected with one overall error rate hides that. This audit takes
posts with a human code (``label``: 1 stigmatising, 0 not) and the model's 0/1 call, and per
group of any column gives:

- the **miss rate** (false-negative rate: stigmatising posts the model did not flag, of all
  stigmatising posts in the group) and the **false-alarm rate** (false-positive rate: other
  posts it flagged, of all other posts), each with a Wilson 95% CI and its ``n``;
- a test of the group against all other posts together (Fisher's exact test on the 2×2 table
  missed/caught × this group/the rest, two-sided), with the p-values of all groups adjusted
  for multiple comparisons (Holm's step-down method, which controls the chance of any false
  finding across the groups at ``alpha``);
- a flag when a group's miss rate is significantly higher than the rest's after adjustment,
  and the finding in plain words.

Groups with fewer than ``min_n`` stigmatising posts get no miss rate and no test (likewise
``min_n`` other posts for false alarms): a rate on a handful of posts says little, and
testing it only adds to the comparisons to correct for. ``fn_rate_by_group`` (in
``stigma_core.prevalence``, re-exported here) is the miss-rate column alone; this module is
where the audit lives.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import fisher_exact
from statsmodels.stats.multitest import multipletests

from stigma_core.errors import CorpusError
from stigma_core.metrics import wilson_interval
from stigma_core.prevalence import (
    MISSING_GROUP,
    PREDICTED_COL,
    fn_rate_by_group,
)

__all__ = ["DEFAULT_MIN_N", "FairnessAudit", "age_bands", "audit", "fn_rate_by_group",
           "group_columns", "with_age_bands"]
AGE_COLUMNS = ("age", "group_age", "age_years", "group_age_years")

DEFAULT_MIN_N = 10
"""Fewest stigmatising posts (and, for false alarms, other posts) a group needs for its rate
and test, in the Validation page and the report alike."""

DEFAULT_AGE_EDGES = (18, 25, 35, 50, 65)
MAX_GROUPS = 60
"""A column with more distinct values than this is not offered as a group (an id, a text)."""
RATES = {"fn": ("missed", "stigmatising"), "fp": ("wrongly flagged", "other")}
METHOD_NAMES = {"holm": "Holm", "bonferroni": "Bonferroni", "fdr_bh": "Benjamini-Hochberg",
                "fdr_by": "Benjamini-Yekutieli", "sidak": "Šidák", "holm-sidak": "Holm-Šidák"}


@dataclass
class FairnessAudit:
    """The audit of one group column.

    ``table``: one row per group, sorted by size: ``group``, ``n`` (coded posts),
    ``n_pos``, ``fn``, ``fn_rate``, ``fn_ci_low``, ``fn_ci_high``, ``fn_p``, ``fn_p_adjusted``,
    ``fn_worse`` (significantly more misses than the rest), ``fn_better``, and the same for
    false alarms with ``n_neg`` / ``fp``; ``fn_too_few`` / ``fp_too_few`` where a group has
    fewer than ``min_n`` posts of that class (rates, CIs and tests then NaN). ``overall``:
    the same counts and rates for all coded posts together. ``findings``: plain-words
    sentences, the significantly worse groups first.
    """

    by: str
    table: pd.DataFrame
    overall: dict[str, float]
    alpha: float
    min_n: int
    method: str = "holm"
    findings: list[str] = field(default_factory=list)

    @property
    def worse_misses(self) -> list[str]:
        """Groups whose miss rate is significantly higher than the rest's."""
        return self.table.loc[self.table["fn_worse"], "group"].astype(str).tolist()

    @property
    def worse_false_alarms(self) -> list[str]:
        """Groups whose false-alarm rate is significantly higher than the rest's."""
        return self.table.loc[self.table["fp_worse"], "group"].astype(str).tolist()


def audit(
    df: pd.DataFrame,
    by: str,
    *,
    label_col: str = "label",
    predicted_col: str = PREDICTED_COL,
    min_n: int = DEFAULT_MIN_N,
    alpha: float = 0.05,
    method: str = "holm",
) -> FairnessAudit:
    """Miss and false-alarm rates by group of ``by``, each group tested against the rest.

    Rows without a code in ``label_col`` are left out; a missing or blank group is its own
    group, "(not known)". ``method`` is any multiple-comparison method of statsmodels'
    ``multipletests`` ("holm", "bonferroni", "fdr_bh"...).
    """
    if min_n < 1:
        raise CorpusError(f"The minimum posts per group must be at least 1 (got {min_n}).")
    if not 0 < alpha < 1:
        raise CorpusError(f"The significance level must be between 0 and 1 (got {alpha}).")
    for column, why in ((label_col, "the human 0/1 codes"), (predicted_col, "the model's calls"),
                        (by, "the groups to compare")):
        if column not in df.columns:
            raise CorpusError(f"The posts have no column {column!r} ({why}). Columns present: "
                              f"{', '.join(map(str, df.columns[:12]))}.")
    coded = df[df[label_col].notna()]
    if coded.empty:
        raise CorpusError(f"No post has a code in {label_col!r}; code some posts first.")
    truth = _zero_one(coded[label_col], label_col)
    called = _zero_one(coded[predicted_col], predicted_col)
    groups = (coded[by].astype("string").str.strip()
              .pipe(lambda s: s.mask(s.isna() | (s == ""), MISSING_GROUP))
              .to_numpy(dtype=object))
    frame = pd.DataFrame({"group": groups, "pos": truth == 1, "neg": truth == 0,
                          "fn": (truth == 1) & (called == 0), "fp": (truth == 0) & (called == 1)})
    table = (frame.groupby("group", sort=False)
             .agg(n=("pos", "size"), n_pos=("pos", "sum"), fn=("fn", "sum"),
                  n_neg=("neg", "sum"), fp=("fp", "sum"))
             .reset_index().sort_values(["n", "group"], ascending=[False, True], kind="stable")
             .reset_index(drop=True))
    for kind, n_col in (("fn", "n_pos"), ("fp", "n_neg")):
        _rate_columns(table, kind, n_col, min_n, alpha, method)
    total = {"n": int(len(frame)), "n_pos": int(frame["pos"].sum()),
             "fn": int(frame["fn"].sum()), "n_neg": int(frame["neg"].sum()),
             "fp": int(frame["fp"].sum())}
    for kind, n_col in (("fn", "n_pos"), ("fp", "n_neg")):
        k, n = total[kind], total[n_col]
        low, high = wilson_interval(k, n, alpha)
        total |= {f"{kind}_rate": k / n if n else np.nan, f"{kind}_ci_low": low,
                  f"{kind}_ci_high": high}
    result = FairnessAudit(by, table, total, alpha, min_n, method)
    result.findings = _findings(result)
    return result


def _zero_one(values: pd.Series, name: str) -> np.ndarray:
    """0/1 codes as ints; a plain CorpusError naming the first other value."""
    numbers = pd.to_numeric(values, errors="coerce").astype(float).to_numpy()
    bad = ~np.isin(numbers, (0.0, 1.0))
    if bad.any():
        raise CorpusError(f"{int(bad.sum())} values in {name!r} are not 0 or 1 (first: "
                          f"{values[bad].iloc[0]!r}). Use 1 for stigmatising and 0 for not.")
    return numbers.astype(int)


def _rate_columns(table: pd.DataFrame, kind: str, n_col: str, min_n: int, alpha: float,
                  method: str) -> None:
    """Add rate, Wilson CI, Fisher test against the rest, adjusted p and flags for ``kind``."""
    k = table[kind].to_numpy(dtype=int)
    n = table[n_col].to_numpy(dtype=int)
    too_few = n < min_n
    bounds = np.array([wilson_interval(int(a), int(b), alpha) for a, b in zip(k, n, strict=True)])
    bounds = bounds.reshape(-1, 2)
    k_all, n_all = int(k.sum()), int(n.sum())
    p = np.full(len(table), np.nan)
    rest_rate = np.full(len(table), np.nan)
    for i in np.flatnonzero(~too_few):
        k_rest, n_rest = k_all - k[i], n_all - n[i]
        if n_rest == 0:
            continue
        rest_rate[i] = k_rest / n_rest
        p[i] = fisher_exact([[k[i], n[i] - k[i]], [k_rest, n_rest - k_rest]])[1]
    adjusted = np.full(len(table), np.nan)
    tested = ~np.isnan(p)
    if tested.sum() >= 1:
        adjusted[tested] = multipletests(p[tested], alpha=alpha, method=method)[1]
    rate = np.where(too_few | (n == 0), np.nan, k / np.maximum(n, 1))
    significant = tested & (adjusted < alpha)
    table[f"{kind}_rate"] = rate
    table[f"{kind}_ci_low"] = np.where(too_few, np.nan, bounds[:, 0])
    table[f"{kind}_ci_high"] = np.where(too_few, np.nan, bounds[:, 1])
    table[f"{kind}_rest_rate"] = rest_rate
    table[f"{kind}_p"] = p
    table[f"{kind}_p_adjusted"] = adjusted
    table[f"{kind}_worse"] = significant & (rate > rest_rate)
    table[f"{kind}_better"] = significant & (rate < rest_rate)
    table[f"{kind}_too_few"] = too_few


def _percent(value: float) -> str:
    return f"{100 * value:.0f}%"


def _findings(result: FairnessAudit) -> list[str]:
    """Plain-words sentences about the audit (worse groups first)."""
    table, by = result.table, result.by
    method = METHOD_NAMES.get(result.method, result.method)
    out = []
    for kind in ("fn", "fp"):
        verb, what = RATES[kind]
        n_col = "n_pos" if kind == "fn" else "n_neg"
        for row in table[table[f"{kind}_worse"]].itertuples(index=False):
            out.append(
                f"{by} = {row.group}: the model {verb} {_percent(getattr(row, f'{kind}_rate'))} "
                f"of {getattr(row, n_col):,} {what} posts (95% CI "
                f"{_percent(getattr(row, f'{kind}_ci_low'))} to "
                f"{_percent(getattr(row, f'{kind}_ci_high'))}), significantly more than in the "
                f"other groups together ({_percent(getattr(row, f'{kind}_rest_rate'))}; "
                f"Fisher's exact test, {method}-adjusted p = "
                f"{getattr(row, f'{kind}_p_adjusted'):.3g}).")
    tested = int(table["fn_p"].notna().sum())
    if not result.worse_misses:
        if tested == 0:
            out.append(f"No {by} group has {result.min_n} or more stigmatising posts, so no "
                       "group's miss rate could be tested. Code more posts per group.")
        else:
            out.append(f"No {by} group's miss rate is significantly higher than the rest's "
                       f"({tested} groups tested, {method} adjustment, alpha "
                       f"{result.alpha:g}). This is not proof that the model misses alike in "
                       "every group: see how wide the intervals are.")
    skipped = int(table["fn_too_few"].sum())
    if skipped:
        out.append(f"{skipped} {by} group(s) with fewer than {result.min_n} stigmatising posts "
                   "get no miss rate or test.")
    return out


def group_columns(df: pd.DataFrame, exclude: Sequence[str] = ()) -> list[str]:
    """Columns that can split posts into groups: few distinct values (2 to ``MAX_GROUPS``),
    not the post, not codes or scores (``label``, ``rater_*``, ``stigma_*``, ``agree_*``),
    not ids or dates, not fractional numbers (scores such as subjectivity; ages in years
    become bands by ``with_age_bands``), and no free text about a person
    (``privacy.personal_text_columns``: a location or bio names people, and is not a group to
    compare)."""
    from stigma_core.privacy import personal_text_columns

    skip = {"text", "label", "id", "date", *map(str, personal_text_columns(df)), *exclude}
    out = []
    for column in df.columns:
        name = str(column)
        if name in skip or name.startswith(("rater_", "stigma_", "agree_")):
            continue
        values = df[column].dropna()
        if values.empty or pd.api.types.is_datetime64_any_dtype(values):
            continue
        if pd.api.types.is_float_dtype(values) and not values.mod(1).eq(0).all():
            continue  # a score or measurement (subjectivity, a probability): not a group
        distinct = values.astype(str).nunique()
        if 2 <= distinct <= MAX_GROUPS and distinct < max(len(values) / 2, 3):
            out.append(name)
    return out


def age_bands(ages: pd.Series | Sequence[object],
              edges: Sequence[int] = DEFAULT_AGE_EDGES) -> pd.Series:
    """Ages in years as bands ("under 18", "18-24", …, "65 and over"); missing or
    unreadable ages stay missing. For auditing by age when a corpus gives ages, not bands."""
    values = pd.to_numeric(pd.Series(ages), errors="coerce")
    if len(edges) < 1 or list(edges) != sorted(edges):
        raise CorpusError("Age band edges must be increasing ages, e.g. 18, 25, 35, 50, 65.")
    labels = [f"under {edges[0]}"]
    labels += [f"{a}-{b - 1}" for a, b in zip(edges[:-1], edges[1:], strict=True)]
    labels.append(f"{edges[-1]} and over")
    bins = [-np.inf, *edges, np.inf]
    return pd.cut(values, bins=bins, labels=labels, right=False).astype("string")


def with_age_bands(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with an ``age_band`` column when it has ages in years (a column named in
    ``AGE_COLUMNS`` holding mostly numbers), so the audit can compare age bands; unchanged
    otherwise."""
    for column in AGE_COLUMNS:
        if column in df.columns and "age_band" not in df.columns:
            values = pd.to_numeric(df[column], errors="coerce")
            if values.notna().sum() >= max(1, df[column].notna().sum() // 2):
                return df.assign(age_band=age_bands(values).to_numpy())
    return df

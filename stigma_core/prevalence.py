"""How common is stigma in a scored corpus: raw and error-corrected prevalence, by group.

Two estimates are always offered side by side:

* **Raw** (classify and count): the share of posts the classifier flagged, with a Wilson 95% CI.
  It is biased toward the classifier's own flagging rate: it counts every false alarm and
  misses every post the classifier misses. (Jilka et al. 2022: their SVM flagged 46.7% of
  posts where the researcher's coding found 51%.)
* **Corrected** (Forman's adjusted classify-and-count, ACC): ``(raw - FPR) / (TPR - FPR)``,
  using the classifier's true- and false-positive rates measured on labelled posts it did not
  train on. Its bootstrap CI resamples both the posts and the labelled posts behind TPR/FPR,
  so the uncertainty of the classifier's error rates is carried into the interval.

The corrected share is the one to trust when the error rates were measured on posts like the
corpus and the classifier separates the classes well (TPR - FPR large). Dividing by a small
TPR - FPR magnifies noise, so such estimates are flagged unstable and the raw share is the
safer reading. By group, the correction assumes the classifier errs alike in every group;
``fn_rate_by_group`` on labelled posts checks that. Groups with fewer than ``min_n`` posts
get no estimate ("too few posts").

Also here: prevalence with and without retweets, Welch t-tests of sentiment/subjectivity
between predicted classes, ANOVA/Welch ANOVA with post-hoc tests across countries, and the
false-negative rate by group on labelled data (where does the model miss more?).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from stigma_core.errors import CorpusError, ModelError
from stigma_core.features import compute_features, welch_tests
from stigma_core.metrics import confusion_counts, wilson_interval

DEFAULT_MIN_N = 30
"""Fewest posts a group needs before an estimate is shown for it."""

MIN_SEPARATION = 0.2
"""TPR - FPR below this flags the correction unstable: the corrected share divides by
TPR - FPR, so any error in the raw share or the rates is magnified at least five-fold."""

MIN_RATE_N = 30
"""Fewest labelled stigmatising (and non-stigmatising) posts the error rates should rest on;
below it TPR or FPR is itself too uncertain to correct with."""

MAX_UNDEFINED_SHARE = 0.01
"""Bootstrap replicates where TPR <= FPR (correction undefined) above this share flag the
correction unstable."""

ALL = "All"
MISSING_GROUP = "(not known)"
PREDICTED_COL = "stigma_predicted"


@dataclass(frozen=True)
class ErrorRates:
    """The classifier's true-positive rate (TPR) and false-positive rate (FPR).

    Measure them on labelled posts the classifier did not train on (out-of-fold or held-out
    predictions): in-sample rates are optimistic and would over-correct. ``n_pos``/``n_neg``
    are how many labelled stigmatising/non-stigmatising posts they rest on; the bootstrap uses
    them to carry the rates' own uncertainty into the corrected CI.
    """

    tpr: float
    fpr: float
    n_pos: int
    n_neg: int

    def __post_init__(self) -> None:
        if not (0.0 <= self.tpr <= 1.0 and 0.0 <= self.fpr <= 1.0):
            raise ModelError(
                f"The classifier's error rates must lie between 0 and 1 (got TPR={self.tpr}, "
                f"FPR={self.fpr}). Re-train the model or re-measure them on labelled posts."
            )
        if self.n_pos < 1 or self.n_neg < 1:
            raise ModelError(
                "The classifier's error rates need at least one labelled stigmatising and one "
                f"non-stigmatising post (got {self.n_pos} and {self.n_neg}). "
                "Measure them on a labelled set that has both."
            )

    @property
    def separation(self) -> float:
        """TPR - FPR (Youden's J): how far the classifier is from guessing."""
        return self.tpr - self.fpr


def wilson_ci(k: int, n: int, alpha: float = 0.05) -> tuple[float, float]:
    """Wilson score interval for ``k`` successes out of ``n``; ``(nan, nan)`` when n = 0.

    Wilson rather than the normal (Wald) interval because it stays inside [0, 1] and keeps
    near its nominal coverage for small n and shares near 0 or 1 (small countries).
    The one implementation lives in ``metrics.wilson_interval``.
    """
    return wilson_interval(k, n, alpha)


def error_rates(y_true: ArrayLike, y_pred: ArrayLike) -> ErrorRates:
    """TPR and FPR of 0/1 predictions against 0/1 labels (use out-of-fold predictions).

    Raises ``ModelError`` when the labels hold only one class (no rate can be measured).
    """
    counts = confusion_counts(np.asarray(y_true), np.asarray(y_pred))
    n_pos, n_neg = counts["tp"] + counts["fn"], counts["fp"] + counts["tn"]
    if n_pos == 0 or n_neg == 0:
        raise ModelError(
            f"The labelled posts are all {'non-' if n_pos == 0 else ''}stigmatising, so the "
            "classifier's error rates cannot be measured. Use labelled posts of both kinds."
        )
    return ErrorRates(tpr=counts["tp"] / n_pos, fpr=counts["fp"] / n_neg,
                      n_pos=n_pos, n_neg=n_neg)


def adjusted_prevalence(
    p_obs: ArrayLike, tpr: ArrayLike, fpr: ArrayLike
) -> float | np.ndarray:
    """Forman's adjusted classify-and-count: ``clip((p_obs - fpr) / (tpr - fpr), 0, 1)``.

    Why: the flagged share mixes true hits and false alarms,
    ``p_obs = tpr * p + fpr * (1 - p)``; solving for the true share ``p`` undoes both.
    NaN where ``tpr <= fpr`` (a classifier no better than chance cannot be corrected for).
    Works element-wise on arrays (broadcasting), which the bootstrap relies on.
    """
    p, t, f = (np.asarray(x, dtype=float) for x in (p_obs, tpr, fpr))
    denom = t - f
    with np.errstate(divide="ignore", invalid="ignore"):
        adjusted = np.where(denom > 0, (p - f) / denom, np.nan)
    adjusted = np.clip(adjusted, 0.0, 1.0)
    return float(adjusted) if adjusted.ndim == 0 else adjusted


def correction_problems(rates: ErrorRates) -> list[str]:
    """Plain-words reasons why a correction with these error rates is unstable (empty: fine)."""
    problems = []
    if rates.separation < MIN_SEPARATION:
        problems.append(
            f"the classifier barely separates the classes (TPR - FPR = {rates.separation:.2f}, "
            f"below {MIN_SEPARATION}), so the correction magnifies noise"
        )
    if min(rates.n_pos, rates.n_neg) < MIN_RATE_N:
        problems.append(
            f"its error rates rest on only {rates.n_pos} stigmatising and {rates.n_neg} "
            f"other labelled posts (fewer than {MIN_RATE_N})"
        )
    return problems


def which_to_trust(row: Mapping) -> str:
    """Which estimate of a ``prevalence_table`` row to read: "corrected", "raw" or "neither".

    "neither" for groups with too few posts; "raw" when there is no correction or it is
    unstable (raw is biased but steady); otherwise "corrected", which removes the
    classifier's measured errors — valid when those were measured on posts like these.
    """
    if row["too_few"]:
        return "neither"
    if pd.isna(row["corrected"]) or row["unstable"]:
        return "raw"
    return "corrected"


def prevalence_table(
    df: pd.DataFrame,
    by: str | None = None,
    *,
    predicted_col: str = PREDICTED_COL,
    error_rates: ErrorRates | None = None,
    min_n: int = DEFAULT_MIN_N,
    n_boot: int = 1000,
    seed: int = 0,
    exclude_retweets: bool = False,
    exclude_duplicates: bool = False,
) -> pd.DataFrame:
    """Raw and corrected prevalence, one row per group of column ``by`` (or one "All" row).

    Columns: ``group, n, n_predicted, raw, raw_ci_low, raw_ci_high, corrected,
    corrected_ci_low, corrected_ci_high, ci_width, unstable, too_few, trust, warning, note``.
    Groups sort by n, largest first; missing group values form the group "(not known)".
    Estimates are NaN for groups under ``min_n`` (shown as too few posts) and corrected ones
    NaN without ``error_rates``. ``ci_width`` is the width of the interval of the estimate to
    trust. Retweets (``is_retweet``) are dropped first, then repeated exact ``text`` (first
    kept); the counts dropped are in ``table.attrs["excluded"]``.
    """
    _check_settings(min_n, n_boot)
    kept, excluded = _exclude(df, exclude_retweets, exclude_duplicates)
    predicted = _predictions(kept, predicted_col)
    keys = _group_keys(kept, by)
    counts = (
        pd.DataFrame({"group": keys, "y": predicted})
        .groupby("group", sort=False)["y"]
        .agg(n="size", k="sum")
        .reset_index()
        .sort_values(["n", "group"], ascending=[False, True], kind="stable")
    )
    table = _estimates(counts, error_rates, min_n, n_boot, seed)
    table.attrs["excluded"] = excluded
    return table


def has_retweets(df: pd.DataFrame) -> bool:
    """Whether any post is a retweet: without one, a with-and-without comparison says
    nothing (two identical bars)."""
    return "is_retweet" in df and bool(_retweet_mask(df).any())


def retweet_comparison(
    df: pd.DataFrame,
    *,
    predicted_col: str = PREDICTED_COL,
    error_rates: ErrorRates | None = None,
    min_n: int = DEFAULT_MIN_N,
    n_boot: int = 1000,
    seed: int = 0,
    exclude_duplicates: bool = False,
) -> pd.DataFrame:
    """Prevalence of all posts, without retweets and of retweets only (``prevalence_table`` rows).

    Why: retweets repeat a few loud posts; if the shares differ, the retweeted content is
    more (or less) stigmatising than what people write themselves.
    """
    _check_settings(min_n, n_boot)
    kept, _ = _exclude(df, False, exclude_duplicates)
    predicted = _predictions(kept, predicted_col)
    retweet = _retweet_mask(kept)
    subsets = {
        "All posts": np.ones(len(kept), bool),
        "Without retweets": ~retweet,
        "Retweets only": retweet,
    }
    counts = pd.DataFrame(
        {
            "group": list(subsets),
            "n": [int(mask.sum()) for mask in subsets.values()],
            "k": [int(predicted[mask].sum()) for mask in subsets.values()],
        }
    )
    return _estimates(counts, error_rates, min_n, n_boot, seed)


def class_feature_tests(
    df: pd.DataFrame,
    features: Sequence[str] = ("sentiment", "subjectivity"),
    *,
    predicted_col: str = PREDICTED_COL,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Welch t-tests of each feature between posts predicted stigmatising and the rest.

    Why: do the posts the model flags read more negative or more opinionated? Features
    missing from ``df`` are computed from its ``text`` (``features.compute_features``); the
    tests are ``features.welch_tests`` (one row per feature: class means, SDs, sizes,
    ``diff`` = stigma minus other with its CI, ``t``, ``df``, ``p``, ``significant``).
    """
    names = list(features)
    missing = [name for name in names if name not in df.columns]
    values = df[[name for name in names if name in df.columns]]
    if missing:
        computed = compute_features(_column(df, "text", "to compute features"), missing)
        values = pd.concat([values, computed], axis=1)
    return welch_tests(values[names], _predictions(df, predicted_col), alpha)


def country_anova(
    df: pd.DataFrame,
    value: str = "sentiment",
    group: str = "country",
    *,
    min_n: int = DEFAULT_MIN_N,
    top: int = 10,
    alpha: float = 0.05,
) -> dict[str, object]:
    """Does ``value`` (e.g. sentiment) differ across groups (e.g. countries)?

    Uses the ``top`` largest groups with at least ``min_n`` posts (rows with a missing group
    or value are left out). Levene's test (median-centred) decides the report: equal
    variances -> one-way ANOVA with Tukey HSD; unequal -> Welch's ANOVA with Games-Howell.
    Both ANOVAs are returned. Keys: ``groups`` (n, mean, sd per group), ``excluded``
    ({group: reason}), ``levene`` ({W, p, equal_var}), ``anova``, ``welch``, ``reported``
    ("anova" or "welch"), ``posthoc``, ``posthoc_method``, ``summary`` (plain words).
    """
    _check_settings(min_n, 1)
    data = pd.DataFrame({"group": _column(df, group, "to compare groups"),
                         "value": _numeric(df, value)}).dropna()
    kept, excluded = _anova_groups(data["group"].value_counts(), min_n, top)
    if len(kept) < 2:
        raise CorpusError(
            f"Comparing {value!r} across {group!r} needs at least two groups with {min_n} or "
            f"more posts; {len(kept)} qualify. Score a larger corpus or lower the minimum."
        )
    data = data[data["group"].isin(kept)].assign(group=lambda d: d["group"].astype(str))
    import pingouin as pg  # here: it imports matplotlib, seaborn and xarray (about 45 MiB)

    levene = pg.homoscedasticity(data, dv="value", group="group", alpha=alpha)
    equal_var = bool(levene["equal_var"].iloc[0])
    anova = pg.anova(data=data, dv="value", between="group", detailed=True)
    welch = pg.welch_anova(data=data, dv="value", between="group")
    posthoc_fn = pg.pairwise_tukey if equal_var else pg.pairwise_gameshowell
    reported = "anova" if equal_var else "welch"
    result = {
        "groups": data.groupby("group")["value"].agg(n="size", mean="mean", sd="std")
        .sort_values("n", ascending=False),
        "excluded": excluded,
        "levene": {"W": float(levene["W"].iloc[0]), "p": float(levene["pval"].iloc[0]),
                   "equal_var": equal_var},
        "anova": anova,
        "welch": welch,
        "reported": reported,
        "posthoc": posthoc_fn(data=data, dv="value", between="group"),
        "posthoc_method": "Tukey HSD" if equal_var else "Games-Howell",
    }
    result["summary"] = _anova_summary(result, value, alpha)
    return result


def fn_rate_by_group(
    df: pd.DataFrame,
    by: str,
    *,
    label_col: str = "label",
    predicted_col: str = PREDICTED_COL,
    min_n: int = DEFAULT_MIN_N,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """False-negative rate among truly stigmatising posts, per group, with Wilson CIs.

    Why: a model that misses more stigma in one country or platform under-counts it there.
    Rows with no label are left out. Columns: ``group, n_pos, fn, fn_rate, ci_low, ci_high,
    too_few``; rates are NaN for groups with fewer than ``min_n`` stigmatising posts.
    """
    _check_settings(min_n, 1)
    labels = _column(df, label_col, "as the human 0/1 codes")
    labelled = df[labels.notna()]
    if labelled.empty:
        raise CorpusError(f"No post has a value in {label_col!r}; code some posts first.")
    truth = _binary(labelled[label_col], label_col)
    predicted = _predictions(labelled, predicted_col)
    positives = pd.DataFrame({"group": _group_keys(labelled, by), "miss": predicted == 0})
    counts = (
        positives[truth == 1].groupby("group")["miss"].agg(n_pos="size", fn="sum")
        .reset_index().sort_values(["n_pos", "group"], ascending=[False, True], kind="stable")
    )
    n_pos, fn = counts["n_pos"].to_numpy(), counts["fn"].to_numpy()
    low, high = _wilson_arrays(fn, n_pos, alpha)
    too_few = n_pos < min_n
    return counts.assign(
        fn_rate=np.where(too_few, np.nan, fn / np.maximum(n_pos, 1)),
        ci_low=np.where(too_few, np.nan, low),
        ci_high=np.where(too_few, np.nan, high),
        too_few=too_few,
    ).reset_index(drop=True)


# --- estimates ------------------------------------------------------------------------------


def _estimates(
    counts: pd.DataFrame, rates: ErrorRates | None, min_n: int, n_boot: int, seed: int
) -> pd.DataFrame:
    """Table rows from per-group post counts ``n`` and flagged counts ``k``."""
    n = counts["n"].to_numpy(dtype=int)
    k = counts["k"].to_numpy(dtype=int)
    raw = np.where(n > 0, k / np.maximum(n, 1), np.nan)
    raw_low, raw_high = _wilson_arrays(k, n, 0.05)
    table = pd.DataFrame(
        {"group": counts["group"].to_numpy(), "n": n, "n_predicted": k,
         "raw": raw, "raw_ci_low": raw_low, "raw_ci_high": raw_high}
    )
    table = pd.concat([table, _corrected_columns(n, k, rates, n_boot, seed)], axis=1)
    table["too_few"] = n < min_n
    estimate_cols = ["raw", "raw_ci_low", "raw_ci_high", "corrected", "corrected_ci_low",
                     "corrected_ci_high"]
    table.loc[table["too_few"], estimate_cols] = np.nan
    table["trust"] = [which_to_trust(row) for _, row in table.iterrows()]
    table["ci_width"] = np.where(
        table["trust"] == "corrected",
        table["corrected_ci_high"] - table["corrected_ci_low"],
        table["raw_ci_high"] - table["raw_ci_low"],
    )
    table["note"] = [_note(row, min_n) for _, row in table.iterrows()]
    order = ["group", "n", "n_predicted", "raw", "raw_ci_low", "raw_ci_high", "corrected",
             "corrected_ci_low", "corrected_ci_high", "ci_width", "unstable", "too_few",
             "trust", "warning", "note"]
    return table[order]


def _corrected_columns(
    n: np.ndarray, k: np.ndarray, rates: ErrorRates | None, n_boot: int, seed: int
) -> pd.DataFrame:
    """Corrected share, its bootstrap CI, the unstable flag and a plain-words warning."""
    size = len(n)
    if rates is None:
        nan = np.full(size, np.nan)
        return pd.DataFrame({"corrected": nan, "corrected_ci_low": nan,
                             "corrected_ci_high": nan, "unstable": np.zeros(size, bool),
                             "warning": [""] * size})
    corrected = adjusted_prevalence(k / np.maximum(n, 1), rates.tpr, rates.fpr)
    low, high, undefined = _bootstrap_corrected(n, k, rates, n_boot, seed)
    shared = correction_problems(rates)
    warnings_ = []
    for p_obs, share in zip(k / np.maximum(n, 1), undefined, strict=True):
        problems = list(shared)
        if share > MAX_UNDEFINED_SHARE:
            problems.append(f"in {share:.0%} of bootstrap replicates the classifier looked no "
                            "better than chance")
        warnings_.append(_sentence(problems + _clip_caution(p_obs, rates)))
    unstable = np.array([bool(shared)] * size) | (undefined > MAX_UNDEFINED_SHARE)
    return pd.DataFrame({"corrected": corrected, "corrected_ci_low": low,
                         "corrected_ci_high": high, "unstable": unstable,
                         "warning": warnings_})


def _bootstrap_corrected(
    n: np.ndarray, k: np.ndarray, rates: ErrorRates, n_boot: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Percentile 95% CI of the corrected share per group, and the share of undefined replicates.

    Each replicate redraws every group's flagged count, Binomial(n, k/n) (the same as
    resampling its posts), and one TPR/FPR pair shared by all groups, Binomial(n_pos, TPR) /
    n_pos and Binomial(n_neg, FPR) / n_neg (resampling the labelled posts behind the rates).
    """
    rng = np.random.default_rng(seed)
    tpr = rng.binomial(rates.n_pos, rates.tpr, n_boot) / rates.n_pos
    fpr = rng.binomial(rates.n_neg, rates.fpr, n_boot) / rates.n_neg
    safe_n = np.maximum(n, 1)[:, None]
    observed = rng.binomial(safe_n, k[:, None] / safe_n, size=(len(n), n_boot)) / safe_n
    replicates = adjusted_prevalence(observed, tpr[None, :], fpr[None, :])
    undefined = np.isnan(replicates).mean(axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows give NaN bounds
        low, high = np.nanquantile(replicates, [0.025, 0.975], axis=1)
    return low, high, undefined


def _clip_caution(p_obs: float, rates: ErrorRates) -> list[str]:
    """A caution when the raw share lies outside [FPR, TPR], so the correction hit 0 or 1."""
    if p_obs < rates.fpr:
        return ["the flagged share is below the classifier's false-positive rate, so the "
                "corrected share was cut to 0 (check the error rates fit this corpus)"]
    if p_obs > rates.tpr:
        return ["the flagged share is above the classifier's true-positive rate, so the "
                "corrected share was cut to 1 (check the error rates fit this corpus)"]
    return []


def _note(row: pd.Series, min_n: int) -> str:
    """One plain-words sentence: which estimate to read for this row, and why."""
    choice = row["trust"]
    if choice == "neither":
        return (f"Too few posts ({row['n']}; at least {min_n} needed): no estimate shown. "
                "Collect more posts or lower the minimum.")
    raw = f"the raw share ({row['raw']:.1%})"
    if choice == "corrected":
        return (f"Read the corrected share ({row['corrected']:.1%}, 95% CI "
                f"{row['corrected_ci_low']:.1%}-{row['corrected_ci_high']:.1%}): it removes the "
                f"classifier's measured errors, valid if those were measured on posts like "
                f"these; {raw} counts false alarms and misses what the classifier misses. "
                f"{row['warning']}").rstrip()
    if pd.isna(row["corrected"]) and not row["unstable"]:
        return (f"Only {raw} is available: without the classifier's measured error rates it "
                "cannot be corrected, and it leans toward the classifier's own flagging rate.")
    return (f"Read {raw} with caution: the correction is unstable (see the warning), and "
            "the raw share leans toward the classifier's own flagging rate.")


# --- ANOVA and t-test helpers ---------------------------------------------------------------


def _anova_groups(
    counts: pd.Series, min_n: int, top: int
) -> tuple[list[str], dict[str, str]]:
    """Groups to compare (the ``top`` largest with >= min_n posts) and why others are out."""
    eligible = counts[counts >= min_n]
    kept = list(eligible.index[:top])
    excluded = {str(g): f"only {c} posts (fewer than {min_n})"
                for g, c in counts[counts < min_n].items()}
    excluded |= {str(g): f"not among the {top} largest groups" for g in eligible.index[top:]}
    return kept, excluded


def _anova_summary(result: dict[str, object], value: str, alpha: float) -> str:
    """Plain-words reading of the reported ANOVA and how many pairs differ."""
    reported = result["reported"]
    table = result[reported]
    f, p = float(table["F"].iloc[0]), float(table["p_unc"].iloc[0])
    name = "One-way ANOVA (variances similar)" if reported == "anova" else (
        "Welch's ANOVA (variances differ)")
    posthoc = result["posthoc"]
    p_col = "p_tukey" if "p_tukey" in posthoc else "pval"
    n_diff = int((posthoc[p_col] < alpha).sum())
    verdict = "differs" if p < alpha else "does not clearly differ"
    return (f"{name}: {value} {verdict} across the {len(result['groups'])} groups "
            f"(F = {f:.2f}, p = {p:.3g}); {result['posthoc_method']} finds {n_diff} of "
            f"{len(posthoc)} pairs different at the {alpha:.0%} level.")


# --- input checks ---------------------------------------------------------------------------


def _wilson_arrays(
    k: np.ndarray, n: np.ndarray, alpha: float
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson bounds per group (one call per group: groups number hundreds at most)."""
    bounds = np.array([wilson_interval(int(a), int(b), alpha) for a, b in zip(k, n, strict=True)])
    bounds = bounds.reshape(-1, 2)
    return bounds[:, 0], bounds[:, 1]


def _check_settings(min_n: int, n_boot: int) -> None:
    """Reject settings that make no sense, in words the dashboard can show."""
    if min_n < 1:
        raise CorpusError(f"The minimum posts per group must be at least 1 (got {min_n}).")
    if n_boot < 1:
        raise CorpusError(f"The number of bootstrap replicates must be at least 1 (got {n_boot}).")


def _column(df: pd.DataFrame, name: str, why: str) -> pd.Series:
    """The column ``name``, or a CorpusError naming what is there and how to fix it."""
    if name not in df.columns:
        present = ", ".join(map(str, df.columns[:12]))
        raise CorpusError(
            f"The corpus has no column {name!r}, needed {why}. Columns present: {present}. "
            "Map a column to it when loading, or score the corpus first for predictions."
        )
    return df[name]


def _numeric(df: pd.DataFrame, name: str) -> pd.Series:
    """Column ``name`` as numbers; CorpusError when some values are not numbers."""
    column = _column(df, name, "as a numeric feature (e.g. from features.compute_features)")
    values = pd.to_numeric(column, errors="coerce")
    bad = values.isna() & column.notna()
    if bad.any():
        raise CorpusError(
            f"{int(bad.sum())} values in column {name!r} are not numbers "
            f"(first: {column[bad].iloc[0]!r}). Fix or remove them."
        )
    return values.astype(float)


def _binary(values: pd.Series, name: str) -> np.ndarray:
    """0/1 (or True/False) values as an int array; CorpusError naming the first bad value."""
    numbers = pd.to_numeric(values, errors="coerce").astype(float).to_numpy()
    bad = ~np.isin(numbers, (0.0, 1.0))
    if bad.any():
        raise CorpusError(
            f"{int(bad.sum())} of {len(values)} values in {name!r} are not 0 or 1 (first: "
            f"{values[bad].iloc[0]!r}). Use 1 for stigmatising and 0 for not; leave no blanks."
        )
    return numbers.astype(int)


def _predictions(df: pd.DataFrame, predicted_col: str) -> np.ndarray:
    """The classifier's 0/1 calls from a scored corpus."""
    return _binary(_column(df, predicted_col, "as the classifier's 0/1 calls"), predicted_col)


def _retweet_mask(df: pd.DataFrame) -> np.ndarray:
    """True for retweets; a missing ``is_retweet`` value counts as an original post."""
    column = _column(df, "is_retweet", "to tell retweets from original posts")
    known = column.notna().to_numpy()
    mask = np.zeros(len(df), bool)
    mask[known] = _binary(column[known], "is_retweet") == 1
    return mask


def _exclude(
    df: pd.DataFrame, retweets: bool, duplicates: bool
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Drop retweets, then repeated exact texts (first kept); counts of each dropped."""
    excluded = {"retweets": 0, "duplicates": 0}
    if retweets:
        mask = _retweet_mask(df)
        excluded["retweets"] = int(mask.sum())
        df = df[~mask]
    if duplicates:
        repeated = _column(df, "text", "to find repeated posts").duplicated(keep="first")
        excluded["duplicates"] = int(repeated.sum())
        df = df[~repeated.to_numpy()]
    if df.empty:
        raise CorpusError(
            f"No posts are left to count ({excluded['retweets']} retweets and "
            f"{excluded['duplicates']} repeated posts left out). Load a corpus with posts, "
            "or keep retweets and repeats in."
        )
    return df, excluded


def _group_keys(df: pd.DataFrame, by: str | None) -> np.ndarray:
    """Group label per row: "All" when ``by`` is None; missing or blank -> "(not known)"."""
    if by is None:
        return np.full(len(df), ALL, dtype=object)
    keys = _column(df, by, "to split prevalence by group").astype("string").str.strip()
    return keys.mask(keys.isna() | (keys == ""), MISSING_GROUP).to_numpy(dtype=object)


def _sentence(parts: list[str]) -> str:
    """Join plain-words reasons into one capitalised sentence ("" when there are none)."""
    if not parts:
        return ""
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."

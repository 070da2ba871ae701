"""How far raters agree: Cohen's kappa per pair, Fleiss' kappa and Krippendorff's alpha.

Inputs are the long table of codes from ``CodingStore.codes`` (one row per post and rater;
``value`` 1 stigmatising, 0 not, -1 can't tell). Only definite codes (1/0) count; "can't
tell" is left out and counted. Each statistic comes with a 95% CI and ``n`` and a plain-words
reading, so an advisory group can judge "0.74" without a textbook:

* Cohen's kappa (pairs) and Fleiss' kappa (all raters) — Landis & Koch (1977) bands;
* Krippendorff's alpha (nominal; any number of raters, missing codes allowed) — Krippendorff's
  own rule: >= 0.800 reliable, >= 0.667 tentative conclusions only, below that unreliable.

``scheme_agreement`` gives Krippendorff's alpha per coding scheme — the stigma code and, where
a project asks for them, the domain and theme each post was given (``domain`` / ``theme``
columns of the codes; empty choices left out like "can't tell").
"""

from __future__ import annotations

from itertools import combinations

import krippendorff
import numpy as np
import pandas as pd
from statsmodels.stats import inter_rater

from stigma_core.metrics import cohen_kappa_ci

KAPPA_BANDS = ((0.0, "poor (no better than chance)"), (0.20, "slight"), (0.40, "fair"),
               (0.60, "moderate"), (0.80, "substantial"), (1.01, "almost perfect"))
BLIND_ROLES = ("primary", "third", "verifier")
MIN_POSTS_TO_JUDGE = 20
"""Below this many posts a kappa's interval is so wide that no band can be read from it."""


def _too_few(n: int) -> str | None:
    if n < MIN_POSTS_TO_JUDGE:
        return f"too few posts to judge yet (n = {n}, fewer than {MIN_POSTS_TO_JUDGE})"
    return None


def kappa_words(kappa: float, n: int = MIN_POSTS_TO_JUDGE) -> str:
    """Landis & Koch's band for a kappa on ``n`` posts, in plain words."""
    if not np.isfinite(kappa):
        return "cannot be measured yet"
    if _too_few(n):
        return _too_few(n)
    if kappa <= 0:
        return "poor agreement (no better than chance)"
    for upper, words in KAPPA_BANDS[1:]:
        if kappa <= upper:
            return f"{words} agreement"
    return "almost perfect agreement"


def alpha_words(alpha: float, n: int = MIN_POSTS_TO_JUDGE) -> str:
    """Krippendorff's reading of an alpha on ``n`` posts."""
    if not np.isfinite(alpha):
        return "cannot be measured yet"
    if _too_few(n):
        return _too_few(n)
    if alpha >= 0.8:
        return "reliable"
    if alpha >= 0.667:
        return "good enough for tentative conclusions only"
    return "not reliable: revisit the guidelines together"


def code_matrix(codes: pd.DataFrame) -> pd.DataFrame:
    """Posts x raters, definite blind codes only (NaN where a rater gave none or can't tell)."""
    blind = codes[codes["role"].isin(BLIND_ROLES) & codes["value"].isin((0, 1))]
    return blind.pivot_table(index="post_id", columns="rater", values="value", aggfunc="first")


def pairwise_kappa(codes: pd.DataFrame, n_boot: int = 1000, seed: int = 0) -> pd.DataFrame:
    """Cohen's kappa with a bootstrap 95% CI for every pair of raters who share posts.

    Columns: pair, n (posts both coded), kappa, ci_low, ci_high, percent_agreement, reading.
    """
    matrix = code_matrix(codes)
    rows = []
    for first, second in combinations(matrix.columns, 2):
        both = matrix[[first, second]].dropna()
        if both.empty:
            continue
        a, b = both[first].to_numpy(int), both[second].to_numpy(int)
        estimate = cohen_kappa_ci(a, b, n_boot=n_boot, seed=seed)
        rows.append({"pair": f"{first} vs {second}", "n": len(both), "kappa": estimate.value,
                     "ci_low": estimate.ci_low, "ci_high": estimate.ci_high,
                     "percent_agreement": 100 * float((a == b).mean()),
                     "reading": kappa_words(estimate.value, len(both))})
    return pd.DataFrame(rows, columns=["pair", "n", "kappa", "ci_low", "ci_high",
                                       "percent_agreement", "reading"])


def _fleiss(counts: np.ndarray) -> float:
    with np.errstate(invalid="ignore", divide="ignore"):
        return float(inter_rater.fleiss_kappa(counts, method="fleiss"))


def _alpha(matrix: np.ndarray) -> float:
    """Krippendorff's alpha (nominal) of a raters x posts array; NaN when undefined."""
    usable = (~np.isnan(matrix)).sum(axis=0) >= 2
    if usable.sum() < 2 or np.unique(matrix[:, usable][~np.isnan(matrix[:, usable])]).size < 2:
        return float("nan")
    return float(krippendorff.alpha(reliability_data=matrix[:, usable],
                                     level_of_measurement="nominal"))


def _percentile_ci(samples: list[float]) -> tuple[float, float]:
    values = np.asarray(samples, float)
    values = values[np.isfinite(values)]
    if values.size < 10:
        return float("nan"), float("nan")
    low, high = np.percentile(values, [2.5, 97.5])
    return float(low), float(high)


def overall_agreement(codes: pd.DataFrame, n_boot: int = 500, seed: int = 0) -> pd.DataFrame:
    """Fleiss' kappa (posts with two definite blind codes: the two coders, or coder and third
    rater) and Krippendorff's alpha (every definite blind code), each with a 95% bootstrap CI
    over posts. Columns: statistic, n, value, ci_low, ci_high, reading."""
    matrix = code_matrix(codes)
    rng = np.random.default_rng(seed)
    two = matrix[matrix.notna().sum(axis=1) == 2]
    rows = []
    ones = two.sum(axis=1).to_numpy()
    counts = np.column_stack([2 - ones, ones]) if len(two) else np.empty((0, 2))
    fleiss = _fleiss(counts) if len(two) >= 2 else float("nan")
    boot = [_fleiss(counts[rng.integers(0, len(counts), len(counts))])
            for _ in range(n_boot)] if len(two) >= 2 else []
    rows.append({"statistic": "Fleiss' kappa", "n": len(two), "value": fleiss,
                 **dict(zip(("ci_low", "ci_high"), _percentile_ci(boot), strict=True)),
                 "reading": kappa_words(fleiss, len(two))})
    data = matrix.to_numpy(float).T  # raters x posts
    alpha = _alpha(data) if data.size else float("nan")
    boot = [_alpha(data[:, rng.integers(0, data.shape[1], data.shape[1])])
            for _ in range(n_boot)] if np.isfinite(alpha) else []
    n_alpha = int(((~np.isnan(data)).sum(axis=0) >= 2).sum()) if data.size else 0
    rows.append({"statistic": "Krippendorff's alpha (nominal)", "n": n_alpha, "value": alpha,
                 **dict(zip(("ci_low", "ci_high"), _percentile_ci(boot), strict=True)),
                 "reading": alpha_words(alpha, n_alpha)})
    return pd.DataFrame(rows, columns=["statistic", "n", "value", "ci_low", "ci_high", "reading"])


def cant_tell_count(codes: pd.DataFrame) -> int:
    """How many blind codes were "can't tell" (left out of every statistic above)."""
    return int(((codes["value"] == -1) & codes["role"].isin(BLIND_ROLES)).sum())


def scheme_matrix(codes: pd.DataFrame, scheme: str) -> pd.DataFrame:
    """Posts x raters of one scheme's blind choices as class numbers (NaN where none): the
    stigma code's 1/0, or the index of the domain/theme class in ``schema.SCHEMES``."""
    from stigma_core.coding.schema import SCHEMES

    if scheme == "stigma":
        return code_matrix(codes)
    if scheme not in SCHEMES:
        raise ValueError(f"Unknown coding scheme {scheme!r}.")
    if scheme not in codes.columns:
        return pd.DataFrame()
    index = {c: float(i) for i, c in enumerate(SCHEMES[scheme])}
    blind = codes[codes["role"].isin(BLIND_ROLES)].assign(
        _class=lambda d: d[scheme].map(index))
    blind = blind[blind["_class"].notna()]
    return blind.pivot_table(index="post_id", columns="rater", values="_class", aggfunc="first")


def scheme_agreement(codes: pd.DataFrame, schemes: tuple[str, ...] = ("stigma",),
                     n_boot: int = 500, seed: int = 0) -> pd.DataFrame:
    """Krippendorff's alpha (nominal) per scheme over every definite blind choice, with a 95%
    bootstrap CI over posts (each scheme its own seeded draws), the percent of those posts on
    which every choice agreed, and a plain reading.

    Columns: scheme, n (posts with two or more choices), value, ci_low, ci_high,
    percent_agreement, reading.
    """
    rows = []
    for scheme in schemes:
        matrix = scheme_matrix(codes, scheme)
        data = matrix.to_numpy(float).T if matrix.size else np.empty((0, 0))
        rng = np.random.default_rng(seed)
        alpha = _alpha(data) if data.size else float("nan")
        boot = [_alpha(data[:, rng.integers(0, data.shape[1], data.shape[1])])
                for _ in range(n_boot)] if np.isfinite(alpha) else []
        paired = (~np.isnan(data)).sum(axis=0) >= 2 if data.size else np.zeros(0, bool)
        agree = [len(set(col[~np.isnan(col)])) == 1 for col in data.T[paired]]
        low, high = _percentile_ci(boot)
        rows.append({"scheme": scheme, "n": int(paired.sum()), "value": alpha,
                     "ci_low": low, "ci_high": high,
                     "percent_agreement": 100 * float(np.mean(agree)) if agree else float("nan"),
                     "reading": alpha_words(alpha, int(paired.sum()))})
    return pd.DataFrame(rows, columns=["scheme", "n", "value", "ci_low", "ci_high",
                                       "percent_agreement", "reading"])

"""Validate a model against human raters, the way Jilka et al. (2022) did.

Two designs from the paper:

* **blind** — service users code posts without seeing the model's call; the model is then
  compared with each rater (Cohen's kappa with a 95% CI, false negatives per rater), and the
  raters with each other, so the model's agreement can be read against human agreement;
* **unblind** — each rater sees the model's call and says whether they agree.

Codes are binary (1 = stigmatising). A missing code means "not coded"; rows missing a code
are left out pairwise, and every result says how many posts (``n``) it used.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import combinations

import numpy as np
import pandas as pd
from statsmodels.stats import inter_rater

from stigma_core.errors import CorpusError
from stigma_core.metrics import cohen_kappa_ci, wilson_interval

MODEL = "model"
CODE_WORDS: Mapping[str, int] = {
    "1": 1, "0": 0, "1.0": 1, "0.0": 0, "true": 1, "false": 0, "yes": 1, "no": 0,
}
AGREE_WORDS: Mapping[str, int] = {
    **CODE_WORDS, "y": 1, "n": 0, "agree": 1, "disagree": 0, "agreed": 1, "disagreed": 0,
}
BLIND_COLUMNS = (
    "pair", "first", "second", "n", "kappa", "kappa_ci_low", "kappa_ci_high", "kappa_se",
    "percent_agreement", "fn", "fp", "rater_prevalence", "model_prevalence",
)


def binary_codes(df: pd.DataFrame, column: str, words: Mapping[str, int] = CODE_WORDS) -> pd.Series:
    """Read one column of yes/no codes as floats 1.0/0.0, with NaN where nothing was coded.

    Accepts numbers, booleans and the words in ``words`` (any case, spaces ignored), so a
    spreadsheet of "Yes"/"no" codes works as well as 1/0. Anything else is a user error.
    """
    if column not in df.columns:
        raise CorpusError(
            f"There is no column named '{column}' in the table. Columns present: "
            f"{', '.join(map(str, df.columns))}. Pick the column that holds the codes."
        )
    text = df[column].astype("string").str.strip().str.lower().replace("", pd.NA)
    parsed = pd.to_numeric(text.map(words, na_action="ignore"), errors="coerce")
    bad = text.notna() & parsed.isna()
    if bad.any():
        examples = ", ".join(repr(v) for v in df.loc[bad, column].astype(str).unique()[:3])
        raise CorpusError(
            f"Column '{column}' holds values that are not a yes/no code, e.g. {examples} "
            f"({int(bad.sum())} rows). Use 1/0 or yes/no for every coded post, and leave the "
            "cell empty for a post that was not coded."
        )
    return parsed.astype(float)


def _require_raters(rater_cols: Sequence[str], at_least: int) -> None:
    """Refuse a rater list too short for the statistic asked for, in plain words."""
    if len(rater_cols) < at_least:
        raise CorpusError(
            f"This needs at least {at_least} rater column(s), but {len(rater_cols)} "
            "were given. Map the columns that hold each rater's codes on the Data page."
        )


def _cells(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Counts of the (a, b) code pairs (0,0), (0,1), (1,0), (1,1): the 2x2 table, flattened."""
    return np.bincount((2 * a + b).astype(int), minlength=4)


def _asymptotic_se(cells: np.ndarray) -> float:
    """Asymptotic standard error of Cohen's kappa (statsmodels), NaN when kappa is undefined."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return float(inter_rater.cohens_kappa(cells.reshape(2, 2)).std_kappa)


def _pair_row(
    first: str, second: str, a: np.ndarray, b: np.ndarray, n_boot: int, seed: int
) -> dict[str, object]:
    """Agreement between two coders over the posts both coded (NaNs when they share none)."""
    cells = _cells(a, b)
    n = int(cells.sum())
    row: dict[str, object] = {"pair": f"{first} vs {second}", "first": first, "second": second}
    if n == 0:
        return row | {"n": 0}
    kappa = cohen_kappa_ci(a, b, n_boot=n_boot, seed=seed)
    return row | {
        "n": n, "kappa": kappa.value, "kappa_ci_low": kappa.ci_low,
        "kappa_ci_high": kappa.ci_high, "kappa_se": _asymptotic_se(cells),
        "percent_agreement": 100 * (cells[0] + cells[3]) / n,
    }


def _model_errors(model: np.ndarray, rater: np.ndarray) -> dict[str, object]:
    """The model's misses and false alarms, taking the rater's codes as the truth."""
    n = len(model)
    return {
        "fn": int(((rater == 1) & (model == 0)).sum()),
        "fp": int(((rater == 0) & (model == 1)).sum()),
        "rater_prevalence": float(rater.mean()) if n else float("nan"),
        "model_prevalence": float(model.mean()) if n else float("nan"),
    }


def _both_coded(first: pd.Series, second: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """The two coders' codes on the posts both of them coded."""
    keep = first.notna() & second.notna()
    return first[keep].to_numpy(int), second[keep].to_numpy(int)


def blind_validation(
    df: pd.DataFrame,
    rater_cols: Sequence[str],
    predicted_col: str = "stigma_predicted",
    n_boot: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """Blind validation: the model against each rater, and each rater against each other.

    One row per pair (columns ``BLIND_COLUMNS``): kappa with a seeded bootstrap 95% CI
    (:func:`stigma_core.metrics.cohen_kappa_ci`) and the asymptotic standard error, percent
    agreement (0-100) and, for model-vs-rater rows, the model's false negatives (rater 1,
    model 0), false positives, and both prevalences (shares 0-1) on the posts that pair
    shares. Rater-vs-rater rows show how far humans agree, the
    yardstick for the model's kappa; their error columns are empty.
    """
    _require_raters(rater_cols, 1)
    model = binary_codes(df, predicted_col)
    raters = {col: binary_codes(df, col) for col in rater_cols}
    rows = []
    for col, codes in raters.items():
        a, b = _both_coded(model, codes)
        rows.append(_pair_row(MODEL, col, a, b, n_boot, seed) | _model_errors(a, b))
    for first, second in combinations(rater_cols, 2):
        a, b = _both_coded(raters[first], raters[second])
        rows.append(_pair_row(first, second, a, b, n_boot, seed))
    table = pd.DataFrame(rows, columns=list(BLIND_COLUMNS))
    return table.astype({"n": "Int64", "fn": "Int64", "fp": "Int64"})


def fleiss_kappa(df: pd.DataFrame, rater_cols: Sequence[str]) -> float:
    """Fleiss' kappa across all raters (statsmodels), over the posts every rater coded.

    Fleiss' kappa needs the same number of codes per post, so posts any rater left uncoded
    are left out.
    """
    _require_raters(rater_cols, 2)
    codes = pd.concat({col: binary_codes(df, col) for col in rater_cols}, axis=1).dropna()
    if codes.empty:
        raise CorpusError(
            f"No post was coded by all of {', '.join(rater_cols)}, so their agreement "
            "cannot be measured. Pick raters who coded the same posts."
        )
    counts, _ = inter_rater.aggregate_raters(codes.to_numpy(int), n_cat=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        return float(inter_rater.fleiss_kappa(counts, method="fleiss"))


def _share_row(
    label: Mapping[str, object], hits: pd.Series, count_name: str, share_name: str
) -> dict[str, object]:
    """Count, share and Wilson 95% CI of the 1s in a 0/1 series, under the given names."""
    n, k = int(hits.size), int(hits.sum())
    low, high = wilson_interval(k, n)
    share = k / n if n else float("nan")
    return {**label, "n": n, count_name: k, share_name: share, "ci_low": low, "ci_high": high}


def unblind_validation(
    df: pd.DataFrame, agree_cols: Sequence[str], predicted_col: str = "stigma_predicted"
) -> pd.DataFrame:
    """Unblind validation: how often each rater agreed with the model's call.

    ``agree_cols`` hold each rater's verdict on the model call shown to them (yes/no, 1/0,
    agree/disagree; empty = not reviewed). One row per rater and model call (``all``,
    ``positive``, ``negative``): ``n`` calls reviewed, how many were ``agreed`` with, the
    ``share_agreed`` and its Wilson 95% CI (``ci_low``, ``ci_high``). Split by call because
    agreeing with "stigma" and with "no stigma" say different things: disagreement with
    negative calls is where false negatives hide.
    """
    _require_raters(agree_cols, 1)
    model = binary_codes(df, predicted_col)
    calls = {"all": model.notna(), "positive": model == 1, "negative": model == 0}
    rows = []
    for col in agree_cols:
        agreed = binary_codes(df, col, AGREE_WORDS)
        for call, mask in calls.items():
            label = {"rater": col, "model_call": call}
            rows.append(_share_row(label, agreed[mask].dropna(), "agreed", "share_agreed"))
    return pd.DataFrame(rows)


def majority_code(df: pd.DataFrame, rater_cols: Sequence[str]) -> pd.Series:
    """The raters' majority code per post: 1/0 where more than half of its codes agree, else NaN.

    Ties (e.g. one rater says 1, the other 0) stay NaN: in the paper a third rater resolves
    them, and guessing here would bias the prevalence either way.
    """
    codes = pd.concat({col: binary_codes(df, col) for col in rater_cols}, axis=1)
    coded = codes.notna().sum(axis=1)
    positives = codes.sum(axis=1)
    majority = pd.Series(np.nan, index=df.index)
    majority[positives * 2 > coded] = 1.0
    majority[(coded - positives) * 2 > coded] = 0.0
    return majority


def prevalence_model_vs_raters(
    df: pd.DataFrame, rater_cols: Sequence[str], predicted_col: str = "stigma_predicted"
) -> pd.DataFrame:
    """Share of posts called stigmatising by the model, by each rater, and by their majority.

    One row per source (``model``, each rater, ``majority``): ``n`` posts it coded, how many
    it coded 1 (``positives``), the ``prevalence`` and its Wilson 95% CI. Each source uses
    every post it coded, so ``n`` can differ (the paper compares the SVM's 46.7% with the
    researcher's 51%).
    """
    _require_raters(rater_cols, 1)
    sources = {MODEL: binary_codes(df, predicted_col)}
    sources |= {col: binary_codes(df, col) for col in rater_cols}
    sources["majority"] = majority_code(df, rater_cols)
    rows = [
        _share_row({"source": name}, codes.dropna(), "positives", "prevalence")
        for name, codes in sources.items()
    ]
    return pd.DataFrame(rows)

"""Agreement statistics over coded posts, and their plain-words readings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats import inter_rater

from stigma_core.coding import agreement


def _codes(matrix: dict[str, list[float]]) -> pd.DataFrame:
    """Long codes table (as CodingStore.codes gives) from rater -> codes per post (NaN: none)."""
    rows = [{"post_id": post, "rater": rater, "role": "primary", "value": value}
            for rater, values in matrix.items() for post, value in enumerate(values)
            if not np.isnan(value)]
    return pd.DataFrame(rows)


def _agreeing_pair(n: int, flip: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 2, n)
    b = np.where(rng.random(n) < flip, 1 - a, a)
    return a.astype(float), b.astype(float)


def test_pairwise_kappa_matches_scikit_learn_with_a_ci() -> None:
    a, b = _agreeing_pair(300, 0.12, seed=0)
    table = agreement.pairwise_kappa(_codes({"A": list(a), "B": list(b)}))
    row = table.iloc[0]
    assert row["pair"] == "A vs B" and row["n"] == 300
    assert row["kappa"] == pytest.approx(cohen_kappa_score(a, b))
    assert row["ci_low"] < row["kappa"] < row["ci_high"]
    assert row["ci_high"] - row["ci_low"] < 0.2
    assert row["reading"] == "substantial agreement"


def test_cant_tell_is_left_out_and_counted() -> None:
    codes = _codes({"A": [1, 0, -1, 1], "B": [1, 0, 1, -1]})
    assert agreement.cant_tell_count(codes) == 2
    assert agreement.pairwise_kappa(codes).iloc[0]["n"] == 2


def test_fleiss_and_alpha_over_varying_rater_pairs() -> None:
    a, b = _agreeing_pair(200, 0.05, seed=1)
    # posts 0-99 coded by A and B, posts 100-199 by C and D: Fleiss needs two codes per post
    nan = np.full(100, np.nan)
    codes = _codes({"A": [*a[:100], *nan], "B": [*b[:100], *nan],
                    "C": [*nan, *a[100:]], "D": [*nan, *b[100:]]})
    table = agreement.overall_agreement(codes, n_boot=200).set_index("statistic")
    counts = np.column_stack([2 - (a + b), a + b])
    expected = inter_rater.fleiss_kappa(counts, method="fleiss")
    fleiss = table.loc["Fleiss' kappa"]
    assert fleiss["n"] == 200 and fleiss["value"] == pytest.approx(expected)
    assert fleiss["ci_low"] < fleiss["value"] < fleiss["ci_high"]
    alpha = table.loc["Krippendorff's alpha (nominal)"]
    # with two codes per post and no missing pairs, alpha is Fleiss/Scott's pi with a
    # small-sample correction: very close to it
    assert alpha["value"] == pytest.approx(expected, abs=0.01)
    assert alpha["reading"] == "reliable"


def test_chance_agreement_reads_as_poor() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 2, 300).astype(float), rng.integers(0, 2, 300).astype(float)
    table = agreement.overall_agreement(_codes({"A": list(a), "B": list(b)}), n_boot=200)
    alpha = table.set_index("statistic").loc["Krippendorff's alpha (nominal)"]
    assert alpha["ci_low"] < 0 < alpha["ci_high"]
    assert alpha["reading"].startswith("not reliable")
    assert agreement.kappa_words(0.05) == "slight agreement"
    assert agreement.kappa_words(-0.1).startswith("poor")
    assert agreement.kappa_words(0.75) == "substantial agreement"
    assert agreement.kappa_words(0.9) == "almost perfect agreement"
    assert agreement.kappa_words(0.9, n=5).startswith("too few posts to judge")


def test_nothing_coded_yet_is_not_an_error() -> None:
    empty = pd.DataFrame(columns=["post_id", "rater", "role", "value"])
    assert agreement.pairwise_kappa(empty).empty
    table = agreement.overall_agreement(empty)
    assert table["value"].isna().all()
    assert (table["reading"] == "cannot be measured yet").all()

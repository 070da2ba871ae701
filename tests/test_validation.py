"""Validation against raters: kappa, its CI, false negatives, unblind agreement, prevalence."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score

from stigma_core.errors import CorpusError
from stigma_core.validation import (
    BLIND_COLUMNS,
    binary_codes,
    blind_validation,
    fleiss_kappa,
    majority_code,
    prevalence_model_vs_raters,
    unblind_validation,
)

# Hand example: cells (model, rater) = (1,1) x3, (1,0) x1, (0,1) x2, (0,0) x4.
# Observed agreement 0.7; model positive 0.4, rater positive 0.5; chance 0.4*0.5 + 0.6*0.5
# = 0.5; kappa = (0.7 - 0.5) / (1 - 0.5) = 0.4. FN (rater 1, model 0) = 2, FP = 1.
MODEL = [1, 1, 0, 0, 1, 0, 1, 0, 0, 0]
RATER = [1, 0, 0, 0, 1, 1, 1, 0, 1, 0]


def wilson(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson score interval written out by hand, independent of statsmodels."""
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


@pytest.fixture
def hand() -> pd.DataFrame:
    return pd.DataFrame({"stigma_predicted": MODEL, "rater_a": RATER})


def test_blind_kappa_matches_hand_value_and_sklearn(hand: pd.DataFrame) -> None:
    row = blind_validation(hand, ["rater_a"], n_boot=200).iloc[0]
    assert row["pair"] == "model vs rater_a"
    assert row["kappa"] == pytest.approx(0.4)
    assert row["kappa"] == pytest.approx(cohen_kappa_score(MODEL, RATER))
    assert row["n"] == 10
    assert row["percent_agreement"] == pytest.approx(70.0)


def test_blind_false_negatives_and_prevalences(hand: pd.DataFrame) -> None:
    row = blind_validation(hand, ["rater_a"], n_boot=200).iloc[0]
    assert (row["fn"], row["fp"]) == (2, 1)
    assert row["rater_prevalence"] == pytest.approx(0.5)
    assert row["model_prevalence"] == pytest.approx(0.4)


def test_blind_pairs_cover_model_and_raters_with_pairwise_exclusion() -> None:
    df = pd.DataFrame(
        {
            "stigma_predicted": [1, 0, 1, 0, 1, 0],
            "rater_a": [1, 0, 0, 0, 1, None],
            "rater_b": ["yes", "no", "yes", None, "Yes", "no"],
        }
    )
    table = blind_validation(df, ["rater_a", "rater_b"], n_boot=100)
    assert list(table.columns) == list(BLIND_COLUMNS)
    assert list(table["pair"]) == [
        "model vs rater_a", "model vs rater_b", "rater_a vs rater_b",
    ]
    assert list(table["n"]) == [5, 5, 4]
    # rater_b on its 5 coded rows: model [1,0,1,1,0] vs rater_b [1,0,1,1,0] -> no errors.
    assert table.loc[1, "fn"] == 0 and table.loc[1, "kappa"] == pytest.approx(1.0)
    # rater_a: one post model 1, rater 0 -> one false positive, no false negative.
    assert (table.loc[0, "fn"], table.loc[0, "fp"]) == (0, 1)
    assert pd.isna(table.loc[2, "fn"]) and math.isnan(table.loc[2, "model_prevalence"])


def test_rater_who_coded_nothing_gets_n_zero_not_an_error(hand: pd.DataFrame) -> None:
    table = blind_validation(hand.assign(rater_c=None), ["rater_a", "rater_c"], n_boot=50)
    empty = table.set_index("pair").loc["model vs rater_c"]
    assert empty["n"] == 0 and math.isnan(empty["kappa"]) and empty["fn"] == 0
    assert table.set_index("pair").loc["model vs rater_a", "kappa"] == pytest.approx(0.4)


def test_kappa_ci_is_seeded_and_brackets_the_estimate() -> None:
    rng = np.random.default_rng(3)
    truth = rng.integers(0, 2, 300)
    model = np.where(rng.random(300) < 0.85, truth, 1 - truth)
    df = pd.DataFrame({"stigma_predicted": model, "rater_a": truth})
    first = blind_validation(df, ["rater_a"], n_boot=500, seed=7)
    again = blind_validation(df, ["rater_a"], n_boot=500, seed=7)
    pd.testing.assert_frame_equal(first, again)
    row = first.iloc[0]
    assert row["kappa_ci_low"] < row["kappa"] < row["kappa_ci_high"]
    # The asymptotic CI (kappa +/- 1.96 SE) and the bootstrap CI should roughly agree.
    assert row["kappa_ci_low"] == pytest.approx(row["kappa"] - 1.96 * row["kappa_se"], abs=0.03)


def test_kappa_undefined_when_both_coders_give_one_code() -> None:
    df = pd.DataFrame({"stigma_predicted": [1, 1, 1], "rater_a": [1, 1, 1]})
    row = blind_validation(df, ["rater_a"], n_boot=50).iloc[0]
    assert math.isnan(row["kappa"]) and math.isnan(row["kappa_ci_low"])
    assert row["percent_agreement"] == 100.0 and row["fn"] == 0


def test_bad_codes_and_missing_columns_are_plain_errors(hand: pd.DataFrame) -> None:
    bad = hand.assign(rater_a=["maybe"] + RATER[1:])
    with pytest.raises(CorpusError, match=r"rater_a.*'maybe'"):
        blind_validation(bad, ["rater_a"])
    with pytest.raises(CorpusError, match="no column named 'rater_z'"):
        blind_validation(hand, ["rater_z"])
    with pytest.raises(CorpusError, match="at least 1 rater"):
        blind_validation(hand, [])


def test_binary_codes_reads_words_numbers_and_blanks() -> None:
    df = pd.DataFrame({"c": ["Yes", " no ", "1", "0.0", "", None, "TRUE"]})
    codes = binary_codes(df, "c")
    assert codes.iloc[:4].tolist() == [1.0, 0.0, 1.0, 0.0]
    assert codes.isna().tolist() == [False, False, False, False, True, True, False]
    assert codes.iloc[6] == 1.0


def test_fleiss_kappa_two_raters_equals_scotts_pi(hand: pd.DataFrame) -> None:
    # Two raters: Fleiss' kappa is Scott's pi. Pooled positive share (4 + 5) / 20 = 0.45,
    # chance 0.45^2 + 0.55^2 = 0.505, observed 0.7 -> (0.7 - 0.505) / 0.495.
    df = hand.rename(columns={"stigma_predicted": "rater_b"})
    df.loc[len(df)] = [1, None]  # a post only one rater coded is left out
    assert fleiss_kappa(df, ["rater_a", "rater_b"]) == pytest.approx(0.195 / 0.495)
    with pytest.raises(CorpusError, match="at least 2"):
        fleiss_kappa(df, ["rater_a"])


def test_unblind_shares_and_wilson_bounds() -> None:
    df = pd.DataFrame(
        {
            "stigma_predicted": [1, 1, 1, 0, 0, 0, 0, 1],
            "agree_a": ["agree", "Disagree", "yes", "1", "no", "0", "agree", None],
        }
    )
    table = unblind_validation(df, ["agree_a"]).set_index("model_call")
    # positive calls: rows 0, 1, 2 reviewed (row 7 not): 2 of 3 agreed.
    # negative calls: rows 3-6: agreed 1, 0, 0, 1 -> 2 of 4. All: 4 of 7.
    expected = {"all": (4, 7), "positive": (2, 3), "negative": (2, 4)}
    for call, (k, n) in expected.items():
        row = table.loc[call]
        assert (row["agreed"], row["n"]) == (k, n)
        assert row["share_agreed"] == pytest.approx(k / n)
        low, high = wilson(k, n)
        assert (row["ci_low"], row["ci_high"]) == (pytest.approx(low), pytest.approx(high))
    assert table.loc["positive", "ci_low"] == pytest.approx(0.2077, abs=1e-4)


def test_unblind_rejects_unknown_verdicts() -> None:
    df = pd.DataFrame({"stigma_predicted": [1, 0], "agree_a": ["agree", "not sure"]})
    with pytest.raises(CorpusError, match="not sure"):
        unblind_validation(df, ["agree_a"])


def test_majority_leaves_ties_out() -> None:
    df = pd.DataFrame(
        {"r1": [1, 1, 0, 1, None], "r2": [1, 0, 0, 1, None], "r3": [0, None, 0, 1, 1]}
    )
    majority = majority_code(df, ["r1", "r2", "r3"])
    assert majority.iloc[0] == 1.0 and math.isnan(majority.iloc[1])
    assert majority.iloc[2] == 0.0 and majority.iloc[3] == 1.0 and majority.iloc[4] == 1.0


def test_prevalence_model_vs_raters_with_wilson() -> None:
    df = pd.DataFrame(
        {
            "stigma_predicted": [1, 0, 1, 0, 1, 0, 0, 0, 1, 1],
            "rater_a": [1, 1, 1, 0, 1, 0, 1, 0, 1, None],
            "rater_b": [1, 0, 1, 0, 1, 1, 1, 0, 1, None],
        }
    )
    table = prevalence_model_vs_raters(df, ["rater_a", "rater_b"]).set_index("source")
    assert list(table.index) == ["model", "rater_a", "rater_b", "majority"]
    # majority over 9 coded posts: ties at rows 1 and 5 -> 7 decided, 5 of them positive.
    expected = {"model": (5, 10), "rater_a": (6, 9), "rater_b": (6, 9), "majority": (5, 7)}
    for source, (k, n) in expected.items():
        row = table.loc[source]
        assert (row["positives"], row["n"]) == (k, n)
        assert row["prevalence"] == pytest.approx(k / n)
        assert row["ci_low"] == pytest.approx(wilson(k, n)[0])
        assert row["ci_high"] == pytest.approx(wilson(k, n)[1])

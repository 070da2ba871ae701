"""Fairness audit: miss and false-alarm rates by group with Wilson CIs, Fisher tests against
the rest with Holm adjustment, and flags only where a group's misses are clearly worse."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from stigma_core.errors import CorpusError
from stigma_core.fairness import age_bands, audit, group_columns, with_age_bands
from stigma_core.metrics import wilson_interval
from stigma_core.prevalence import fn_rate_by_group


def posts(groups: dict[str, tuple[int, int, int, int]]) -> pd.DataFrame:
    """Posts per group from (stigmatising, missed, other, wrongly flagged) counts."""
    rows = []
    for group, (pos, fn, neg, fp) in groups.items():
        rows += [(group, 1, 0)] * fn + [(group, 1, 1)] * (pos - fn)
        rows += [(group, 0, 1)] * fp + [(group, 0, 0)] * (neg - fp)
    return pd.DataFrame(rows, columns=["country", "label", "stigma_predicted"])


def test_a_group_whose_misses_are_clearly_worse_is_flagged_in_plain_words() -> None:
    df = posts({"GB": (100, 10, 100, 10), "US": (100, 12, 100, 9),
                "IN": (60, 30, 60, 7), "AU": (50, 6, 50, 5)})
    result = audit(df, "country")
    table = result.table.set_index("group")
    assert table.loc["IN", "n_pos"] == 60 and table.loc["IN", "fn"] == 30
    assert table.loc["IN", "fn_rate"] == pytest.approx(0.5)
    low, high = wilson_interval(30, 60)
    assert (table.loc["IN", "fn_ci_low"], table.loc["IN", "fn_ci_high"]) == pytest.approx(
        (low, high))
    assert table.loc["IN", "fn_rest_rate"] == pytest.approx(28 / 250)
    assert result.worse_misses == ["IN"]
    assert table.loc["IN", "fn_p_adjusted"] < 0.001
    assert table.loc["IN", "fn_p_adjusted"] >= table.loc["IN", "fn_p"]  # Holm never lowers
    assert not table.loc["GB", "fn_worse"] and table.loc["GB", "fn_better"] in (True, False)
    assert result.worse_false_alarms == []
    assert result.findings[0].startswith("country = IN: the model missed 50% of 60 "
                                         "stigmatising posts (95% CI")
    assert "significantly more than in the other groups together (11%" in result.findings[0]
    assert result.overall["fn"] == 58 and result.overall["n_pos"] == 310


def test_no_flag_when_misses_differ_only_by_chance() -> None:
    df = posts({"GB": (80, 16, 80, 8), "US": (80, 19, 80, 9), "IN": (40, 11, 40, 5)})
    result = audit(df, "country")
    assert result.worse_misses == []
    assert not result.table["fn_worse"].any()
    assert "No country group's miss rate is significantly higher" in result.findings[0]
    # the CIs are there all the same, and contain the rate
    table = result.table
    assert ((table["fn_ci_low"] <= table["fn_rate"]) & (table["fn_rate"] <= table["fn_ci_high"])
            ).all()


def test_multiple_comparison_adjustment_can_remove_a_borderline_flag() -> None:
    # IN's misses are borderline: significant alone, not after Holm over many groups
    groups = {f"G{i}": (40, 8, 40, 4) for i in range(8)}
    groups["IN"] = (40, 15, 40, 4)
    df = posts(groups)
    table = audit(df, "country").table.set_index("group")
    assert table.loc["IN", "fn_p"] < 0.05
    assert table.loc["IN", "fn_p_adjusted"] > 0.05
    assert not table.loc["IN", "fn_worse"]
    lenient = audit(df, "country", method="bonferroni", alpha=0.2).table.set_index("group")
    assert lenient.loc["IN", "fn_worse"]


def test_false_alarm_rates_are_audited_too() -> None:
    df = posts({"twitter": (60, 10, 100, 5), "reddit": (60, 10, 100, 40)})
    result = audit(df, "country")
    assert result.worse_false_alarms == ["reddit"]
    assert result.table.set_index("group").loc["reddit", "fp_rate"] == pytest.approx(0.4)
    assert any("wrongly flagged 40% of 100 other posts" in f for f in result.findings)


def test_small_groups_get_no_rate_or_test_and_missing_groups_are_named() -> None:
    df = posts({"GB": (50, 5, 50, 5), "FR": (5, 5, 5, 0)})
    df.loc[len(df)] = [None, 1, 0]
    result = audit(df, "country", min_n=30)
    table = result.table.set_index("group")
    assert table.loc["FR", "fn_too_few"] and np.isnan(table.loc["FR", "fn_rate"])
    assert np.isnan(table.loc["FR", "fn_p"]) and not table.loc["FR", "fn_worse"]
    assert "(not known)" in table.index
    assert any("fewer than 30 stigmatising posts" in f for f in result.findings)


def test_miss_rates_match_fn_rate_by_group() -> None:
    df = posts({"GB": (100, 10, 100, 10), "IN": (60, 30, 60, 7)})
    mine = audit(df, "country").table.set_index("group")
    theirs = fn_rate_by_group(df, "country").set_index("group")
    for group in ("GB", "IN"):
        assert mine.loc[group, "fn_rate"] == pytest.approx(theirs.loc[group, "fn_rate"])
        assert mine.loc[group, "fn_ci_low"] == pytest.approx(theirs.loc[group, "ci_low"])


def test_bad_input_is_a_named_error() -> None:
    df = posts({"GB": (10, 1, 10, 1)})
    with pytest.raises(CorpusError, match="no column 'gender'"):
        audit(df, "gender")
    with pytest.raises(CorpusError, match="not 0 or 1"):
        audit(df.assign(label="yes"), "country")
    with pytest.raises(CorpusError, match="No post has a code"):
        audit(df.assign(label=np.nan), "country")


def test_group_columns_and_age_bands() -> None:
    df = pd.DataFrame({"text": [f"post {i}" for i in range(40)], "id": range(40),
                       "platform": ["a", "b"] * 20, "rater_1": [0, 1] * 20,
                       "age": list(range(15, 55)),
                       "location": ["London", "Leeds", "Pune", "Oslo"] * 10})
    assert group_columns(df) == ["platform"]  # a location names people: never a group
    bands = age_bands([17, 18, 24, 25, 64, 65, None, "n/a"])
    assert bands.tolist()[:6] == ["under 18", "18-24", "18-24", "25-34", "50-64", "65 and over"]
    assert bands.isna().tolist()[6:] == [True, True]

    banded = with_age_bands(df)
    assert group_columns(banded) == ["platform", "age_band"]
    assert banded.loc[banded["age"] == 20, "age_band"].iloc[0] == "18-24"
    assert "age_band" not in with_age_bands(df.drop(columns="age"))


def test_scores_are_not_groups_but_whole_number_codes_are() -> None:
    """A continuous score (the engineered subjectivity feature) is no group to compare — a
    user walk found the report auditing 51 'subjectivity groups' — while a column of whole
    numbers (codes such as 1/2/3 stored as floats) still is."""
    rng = np.random.default_rng(0)
    df = pd.DataFrame({
        "text": [f"post {i}" for i in range(200)],
        "label": rng.integers(0, 2, 200),
        "subjectivity": rng.choice(np.linspace(0, 1, 40), 200),
        "wave": rng.choice([1.0, 2.0, 3.0], 200),
        "platform": rng.choice(["reddit", "tiktok"], 200),
    })
    assert group_columns(df) == ["wave", "platform"]

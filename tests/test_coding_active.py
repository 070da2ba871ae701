"""Active learning, the learning curve and suspect labels on the sample's coded posts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from stigma_core.coding import active, sampling
from stigma_core.errors import CodingError


@pytest.fixture(scope="module")
def coded(sample_dir) -> pd.DataFrame:
    frame = pd.read_csv(sample_dir / "train.csv")
    return frame[["text", "label"]].dropna().drop_duplicates("text").reset_index(drop=True)


def test_suggestions_are_uncertain_and_diverse(coded: pd.DataFrame) -> None:
    train, pool = coded.iloc[:300], coded.iloc[300:]
    picked = active.suggest_posts(pool["text"], train["text"], train["label"], n=15)
    assert len(picked) == 15 and picked["text"].is_unique
    assert not set(picked["text"]) & set(train["text"])
    model = active.quick_model().fit(train[["text"]], train["label"])
    everyone = 1 - 2 * np.abs(model.predict_proba(pool[["text"]])[:, 1] - 0.5)
    # the suggestions are far less certain than the average uncoded post
    assert picked["uncertainty"].mean() > np.quantile(everyone, 0.75)
    assert picked["uncertainty"].to_numpy() == pytest.approx(
        1 - 2 * np.abs(picked["probability"].to_numpy() - 0.5))


def test_too_few_codes_means_a_random_draw(coded: pd.DataFrame) -> None:
    few = coded.groupby("label").head(3)
    picked = active.suggest_posts(coded["text"], few["text"], few["label"], n=5)
    assert len(picked) == 5 and picked["probability"].isna().all()
    assert picked["why"].iloc[0].startswith("random")


def test_learning_curve_rises_with_more_codes(coded: pd.DataFrame) -> None:
    curve = active.learning_curve(coded["text"], coded["label"], steps=4)
    assert list(curve["n_coded"]) == sorted(curve["n_coded"])
    assert (curve["ci_low"] <= curve["auc"]).all() and (curve["auc"] <= curve["ci_high"]).all()
    assert curve["auc"].iloc[-1] > 0.7
    assert curve["auc"].iloc[-1] >= curve["auc"].iloc[0] - 0.02


def test_flipped_labels_are_found_as_suspects(coded: pd.DataFrame) -> None:
    rng = np.random.default_rng(0)
    noisy = coded.copy()
    flipped = rng.choice(len(noisy), 40, replace=False)
    noisy.loc[flipped, "label"] = 1 - noisy.loc[flipped, "label"]
    table = active.suspect_labels(noisy["text"], noisy["label"])
    suspects = set(table.loc[table["suspect"], "text"])
    hit_rate = len(suspects & set(noisy.loc[flipped, "text"])) / len(suspects)
    base_rate = len(flipped) / len(noisy)
    assert len(suspects) > 0
    assert hit_rate > 3 * base_rate  # suspects are far richer in flipped labels than chance
    assert (table.loc[table["suspect"], "self_confidence"] < 0.5).all()


def test_one_kind_only_is_a_plain_error() -> None:
    with pytest.raises(CodingError, match="Both kinds"):
        active.learning_curve(["a", "b", "c"], [1, 1, 1])
    with pytest.raises(CodingError, match="1 \\(stigmatising\\) or 0"):
        active.suspect_labels(["a", "b"], [1, 2])


def test_random_draw_and_minutes() -> None:
    texts = [f"t{i}" for i in range(50)] + ["t1", " "]
    drawn = sampling.draw_random(texts, 20, seed=4, exclude=["t0"])
    assert len(drawn) == 20 == len(set(drawn)) and "t0" not in drawn and "" not in drawn
    assert drawn == sampling.draw_random(texts, 20, seed=4, exclude=["t0"])
    with pytest.raises(CodingError):
        sampling.draw_random(["a"], 3, exclude=["a"])

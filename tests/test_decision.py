"""The decision panel's plain words, warnings and example posts."""

from __future__ import annotations

import numpy as np
import pytest

from stigma_core import decision


@pytest.mark.parametrize(("share", "words"), [
    (1.0, "all"), (0.984, "almost all"), (0.9, "9 of every 10"), (0.94, "9 of every 10"),
    (0.5, "5 of every 10"), (0.25, "1 of every 4"), (0.0, "none"),
])
def test_shares_in_words(share: float, words: str) -> None:
    assert decision.one_in(share) == words


def test_describe_counts_and_sentences() -> None:
    y = np.array([1] * 10 + [0] * 30)
    proba = np.r_[np.linspace(0.95, 0.5, 10), np.linspace(0.6, 0.0, 30)]
    found = decision.describe(y, proba, 0.55)
    assert (found.tp, found.fn) == (9, 1)
    assert found.fp == int((proba[10:] >= 0.55).sum())
    assert found.sentences[0] == "Finds 9 of every 10 stigmatising posts (9 of 10)."
    flagged = found.tp + found.fp
    assert found.review_per_100 == pytest.approx(100 * flagged / 40)
    assert f"({found.tp} of {flagged})" in found.sentences[1]
    assert not found.warnings


def test_flagging_most_or_all_other_posts_is_warned() -> None:
    y = np.array([1] * 5 + [0] * 10)
    proba = np.r_[np.full(5, 0.9), np.linspace(0.1, 0.8, 10)]
    assert "more than half" in decision.describe(y, proba, 0.3).warnings[0]
    assert "every one of the 10 other posts" in decision.describe(y, proba, 0.05).warnings[0]


def test_examples_are_the_posts_nearest_the_line() -> None:
    texts = [f"post {i}" for i in range(8)]
    y = [1, 1, 1, 1, 0, 0, 0, 0]
    proba = [0.9, 0.45, 0.3, 0.1, 0.8, 0.6, 0.2, 0.05]
    found = decision.examples(texts, y, proba, 0.5, n=2)
    assert found["missed"]["text"].tolist() == ["post 1", "post 2"]
    assert found["false_alarms"]["text"].tolist() == ["post 5", "post 4"]
    moved = decision.examples(texts, y, proba, 0.25, n=2)
    assert moved["missed"]["text"].tolist() == ["post 3"]


def test_table_difference_is_explained_only_when_thresholds_differ() -> None:
    assert decision.differs_from_table(0.3, 0.3) == ""
    assert "differ from the comparison table" in decision.differs_from_table(0.2, 0.3)


@pytest.mark.parametrize(("share", "start"), [
    (63 / 153, "4 of every 10 flagged posts are"),  # a user walk read '1 of every 2' here
    (0.25, "1 of every 4 flagged posts is"), (1 / 3, "1 of every 3 flagged posts is"),
    (0.6, "6 of every 10 flagged posts are"), (1.0, "All flagged posts are"),
    (0.0, "None of the flagged posts is"), (0.05, "1 of every 20 flagged posts is"),
])
def test_shares_of_flagged_posts_read_right(share: float, start: str) -> None:
    assert decision.of_flagged(share) == start


def test_a_wide_plateau_after_a_jump_is_explained() -> None:
    # scores bunched at 0 and 1, as naive Bayes gives them: 30 positives scored 0.9, 70
    # negatives 0.1 and 30 more negatives at 0.001; 20 positives sit at 0.001 too
    y = np.r_[np.ones(30), np.zeros(70), np.zeros(30), np.ones(20)].astype(int)
    p = np.r_[np.full(30, 0.9), np.full(70, 0.1), np.full(30, 0.001), np.full(20, 0.001)]
    points = [decision.describe(y, p, t).flagged_other for t in (0.9, 0.1, 0.001)]
    assert points == [0.0, 0.7, 1.0]
    # ratio 1: flag only the 0.9s; from ratio 3 on every ratio flags everything
    assert decision.jump_note(y, p, y, p, 1) == ""
    note = decision.jump_note(y, p, y, p, 10)
    assert note.startswith("Every ratio from ")
    low = int(note.split("Every ratio from ")[1].split()[0])
    assert "to 50 (the end of the slider) gives about this same choice" in note
    assert f"one step lower ({low - 1}) the model wrongly flags 0% of the 100 other test " \
        "posts" in note  # with its n
    assert f"where {low} already flags 100%" in note
    # a model with spread-out scores on enough posts moves step by step: nothing to explain
    rng = np.random.default_rng(0)
    many = rng.integers(0, 2, 3_000)
    smooth = np.clip(0.3 * many + rng.normal(0.35, 0.15, many.size), 0, 1)
    assert all(decision.jump_note(many, smooth, many, smooth, r) == "" for r in range(1, 51))

"""The advisory group's decision in plain words: what a threshold means for real posts.

Service users choose how to trade missed stigmatising posts against false alarms (Jilka et
al. 2022). They decide by looking, not by reading "threshold 0.196" or "FN/FP", so this
module turns one threshold on held-out posts into sentences ("finds 9 of every 10 stigmatising
posts"), warnings when a choice flags most or all of the other posts, and example posts the
choice would miss or wrongly flag — the ones nearest the threshold, so they change as the
slider moves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from stigma_core.metrics import OperatingPoints, confusion_counts

MOST = 0.5
"""Flagging more than this share of the other (non-stigmatising) posts earns a warning."""


@dataclass(frozen=True)
class Decision:
    """One threshold on held-out posts, in counts and plain words.

    ``recall``: share of stigmatising posts found; ``precision``: share of flagged posts that
    are stigmatising; ``flagged_other``: share of other posts wrongly flagged; ``review_per_100``:
    posts flagged (to review) per 100 posts like these; ``per_catch``: flagged posts the group
    reads for each stigmatising post found. ``sentences`` and ``warnings`` say it in words.
    """

    threshold: float
    tp: int
    fp: int
    fn: int
    tn: int
    recall: float
    precision: float
    flagged_other: float
    review_per_100: float
    per_catch: float
    sentences: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def one_in(share: float) -> str:
    """A share in words: 'all', 'almost all' (95% and up), '9 of every 10', '1 of every 4',
    'none'. Never rounds a share below 1 up to 'all'."""
    if share <= 0:
        return "none"
    if share >= 1:
        return "all"
    if share >= 0.95:
        return "almost all"
    if share >= 0.5:
        return f"{min(round(share * 10), 9)} of every 10"
    every = round(1 / share)
    if abs(1 / every - share) <= 0.02 or share < 0.1:
        return f"1 of every {every}"
    return f"{round(share * 10)} of every 10"  # 0.41 is '4 of every 10', not '1 of every 2'


def of_flagged(share: float) -> str:
    """The start of a sentence about a share of the flagged posts, verb agreeing: 'None of
    the flagged posts is', '1 of every 4 flagged posts is', '4 of every 10 flagged posts
    are', 'All flagged posts are'."""
    words = one_in(share)
    if words == "none":
        return "None of the flagged posts is"
    verb = "is" if words.startswith("1 of") else "are"
    return f"{words.capitalize()} flagged posts {verb}"


def describe(y_true: Sequence[int], proba: Sequence[float], threshold: float) -> Decision:
    """What flagging posts scoring at least ``threshold`` does on these labelled posts."""
    y = np.asarray(y_true, dtype=int)
    counts = confusion_counts(y, np.asarray(proba, dtype=float) >= threshold)
    tp, fp, fn, tn = (counts[k] for k in ("tp", "fp", "fn", "tn"))
    positives, negatives, flagged = tp + fn, fp + tn, tp + fp
    recall = tp / positives if positives else float("nan")
    precision = tp / flagged if flagged else float("nan")
    flagged_other = fp / negatives if negatives else float("nan")
    review = 100 * flagged / len(y) if len(y) else float("nan")
    per_catch = flagged / tp if tp else float("inf")
    sentences = [
        f"Finds {one_in(recall)} stigmatising posts ({tp} of {positives}).",
        (f"{of_flagged(precision)} really stigmatising ({tp} of {flagged})." if flagged
         else "Flags no post at all."),
        f"For every 100 posts, your team reviews about {review:.0f}"
        + (f"; that is {per_catch:.1f} posts read for each stigmatising post found."
           if tp else "."),
    ]
    warnings = []
    if negatives and fp == negatives:
        warnings.append(f"This choice flags every one of the {negatives} other posts: the "
                        "model no longer tells anything apart. Lower the cost of a miss.")
    elif negatives and flagged_other > MOST:
        warnings.append(f"This choice flags more than half of the other posts ({fp} of "
                        f"{negatives}, {flagged_other:.0%}): most of the team's reading will "
                        "be false alarms.")
    return Decision(float(threshold), tp, fp, fn, tn, recall, precision, flagged_other,
                    review, per_catch, sentences, warnings)


def examples(texts: Sequence[str], y_true: Sequence[int], proba: Sequence[float],
             threshold: float, n: int = 3) -> dict[str, pd.DataFrame]:
    """Posts this choice would miss and would wrongly flag: the ``n`` nearest the threshold on
    each side (the ones a small move of the slider changes). Columns text, probability."""
    frame = pd.DataFrame({"text": list(texts), "label": np.asarray(y_true, dtype=int),
                          "probability": np.asarray(proba, dtype=float)})
    flagged = frame["probability"] >= threshold
    missed = frame[(frame["label"] == 1) & ~flagged].nlargest(n, "probability")
    false_alarms = frame[(frame["label"] == 0) & flagged].nsmallest(n, "probability")
    return {"missed": missed[["text", "probability"]].reset_index(drop=True),
            "false_alarms": false_alarms[["text", "probability"]].reset_index(drop=True)}


def differs_from_table(chosen: float, table_threshold: float) -> str:
    """Why the decision's counts can differ from the comparison table's ("" when they match)."""
    if np.isclose(chosen, table_threshold):
        return ""
    return (f"These counts differ from the comparison table above because they use the "
            f"threshold your cost ratio picks ({chosen:.3f}), while the table uses the one "
            f"that finds 90% of stigmatising posts in cross-validation ({table_threshold:.3f}). "
            "Same model, same test posts, a different line between 'flag' and 'leave'.")


JUMP = 0.25
"""A step of the cost-ratio slider that changes the share of other posts flagged by more than
this is a jump worth explaining."""
ALIKE = 0.10
"""Neighbouring ratios whose shares of other posts flagged differ by at most this are a small
step, not a jump."""


def jump_note(y_train: Sequence[int], oof_proba: Sequence[float], y_test: Sequence[int],
              test_proba: Sequence[float], ratio: int, ratios: range = range(1, 51)) -> str:
    """Say so when the slider sits on a wide plateau right after a jump ("" otherwise).

    A model whose scores bunch near 0 and 1 (naive Bayes) has few thresholds worth choosing:
    one step of the ratio can go from flagging a third of the other posts to nearly all of
    them, and every ratio after it gives about the same choice. An advisory group moving the
    slider should read why little changes, not wonder whether it works. Shares are of the
    held-out test posts, as the panel shows them.
    """
    points = OperatingPoints.from_scores(y_train, oof_proba)
    share = {r: describe(y_test, test_proba, points.for_cost(r)).flagged_other for r in ratios}
    others = int(np.sum(np.asarray(y_test) == 0))
    low = high = ratio  # the run of ratios around this one that moves in small steps only
    while low - 1 in share and abs(share[low - 1] - share[low]) <= ALIKE:
        low -= 1
    while high + 1 in share and abs(share[high + 1] - share[high]) <= ALIKE:
        high += 1
    if low - 1 not in share or high - low < 2 or not abs(share[low] - share[low - 1]) > JUMP:
        return ""
    end = " (the end of the slider)" if high == ratios[-1] else ""
    return (f"Every ratio from {low} to {high}{end} gives about this same choice, and one step "
            f"lower ({low - 1}) the model wrongly flags {share[low - 1]:.0%} of the {others:,} "
            f"other test posts where {low} already flags {share[low]:.0%}: no setting in "
            "between is the best at "
            "any cost ratio, so the slider jumps over them. Models with more spread-out "
            "scores, such as logistic regression, usually give finer steps.")

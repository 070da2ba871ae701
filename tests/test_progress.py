"""Training progress text: fits done of all, and the time left from the time per finished fit."""

from __future__ import annotations

import pytest

from dashboard.progress import Countdown, time_left


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(("seconds", "words"), [
    (2.0, "a few seconds left"), (44.0, "about 45 s left"), (80.0, "about 1 min 20 s left"),
    (119.0, "about 2 min left"), (725.0, "about 12 min left"), (3900.0, "about 1 h 5 min left"),
    (7200.0, "about 2 h left"), (float("nan"), "estimating the time left"),
])
def test_time_left_reads_as_a_person_would_say_it(seconds: float, words: str) -> None:
    assert time_left(seconds) == words


def test_countdown_counts_fits_and_estimates_from_the_time_per_fit() -> None:
    clock = Clock()
    countdown = Countdown(total=540, clock=clock)
    assert countdown.text(0.0, "Training SVM, RBF (1 of 9)") == "Training SVM, RBF (1 of 9)"
    for _ in range(36):
        countdown.text(0.01, "SVM, RBF: setting 1 of 8, fold 1 of 5, about 9 s left")
    clock.now += 37 * 0.25  # 0.25 s per fit
    text = countdown.text(0.07, "SVM, RBF: setting 8 of 8, fold 5 of 5, about 3 s left")
    # 503 fits to go at 0.25 s each = 125.75 s
    assert text == "Fit 37 of 540 — about 2 min 10 s left · SVM, RBF: setting 8 of 8, fold 5 of 5"


def test_without_a_plan_the_total_comes_from_the_fraction_done() -> None:
    clock = Clock()
    countdown = Countdown(clock=clock)
    for done in range(1, 11):
        clock.now += 2.0
        text = countdown.text(done / 40, f"Naive Bayes: setting {done} of 8, fold 1 of 5")
    assert text.startswith("Fit 10 of 40 — about 1 min left ·")  # 30 fits x 2 s
    assert countdown.text(1.0, "All models trained") == "Fit 10 of 10 — finishing · " \
        "All models trained"


def test_the_callback_clamps_the_fraction_and_passes_the_text() -> None:
    shown = []
    progress = Countdown(total=2, clock=Clock()).callback(lambda f, t: shown.append((f, t)))
    progress(1.2, "LR: setting 1 of 1, fold 1 of 5")
    assert shown[0][0] == 1.0 and shown[0][1].startswith("Fit 1 of 2 —")

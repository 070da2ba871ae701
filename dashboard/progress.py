"""Progress text that moves with the time left: "Fit 37 of 540 — about 1 min 20 s left".

Training reports ``progress(fraction, message)`` after every fit (``stigma_core.search``), with
the family, setting and fold in ``message``. :class:`Countdown` turns those calls into one line
for a progress bar: how many fits are done out of how many, and the time left estimated from the
elapsed time per completed fit. Kept apart from the pages so it can be tested without Streamlit.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

FIT_MESSAGE = re.compile(r"\bfold \d+ of \d+")
LIBRARY_ESTIMATE = re.compile(r",?\s*about [\d,]+ s left")


def time_left(seconds: float) -> str:
    """Seconds in words, rounded as a person would say them: "about 45 s left",
    "about 1 min 20 s left", "about 12 min left", "about 1 h 5 min left"."""
    if seconds != seconds or seconds < 0:  # NaN or negative: no estimate
        return "estimating the time left"
    if seconds < 5:
        return "a few seconds left"
    if seconds < 60:
        return f"about {int(round(seconds / 5) * 5)} s left"
    if seconds < 600:
        minutes, rest = divmod(int(round(seconds / 10) * 10), 60)
        return f"about {minutes} min {rest} s left" if rest else f"about {minutes} min left"
    if seconds < 3600:
        return f"about {int(round(seconds / 60))} min left"
    hours, minutes = divmod(int(round(seconds / 60)), 60)
    return f"about {hours} h {minutes} min left" if minutes else f"about {hours} h left"


class Countdown:
    """Turns training's ``progress(fraction, message)`` calls into progress-bar text.

    A call whose message names a fold ("setting 3 of 10, fold 2 of 5") counts as one finished
    fit. The number of fits in all is ``total`` when known, else the finished fits divided by
    the fraction done (exact when the fraction counts fits, as a grid search's does). Time left
    = elapsed time per finished fit x fits still to do. ``clock`` is injectable for tests.
    """

    def __init__(self, total: int | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.total = total
        self.clock = clock
        self.started = clock()
        self.fits = 0

    def planned(self, fraction: float) -> int | None:
        """How many fits the whole run holds (at least those already done)."""
        if self.total:
            return max(self.total, self.fits)
        if fraction <= 0 or not self.fits:
            return None
        return max(round(self.fits / min(fraction, 1.0)), self.fits)

    def text(self, fraction: float, message: str) -> str:
        """The bar's line for this call: "Fit 37 of 540 — about 1 min 20 s left · <where>"."""
        if FIT_MESSAGE.search(message):
            self.fits += 1
        where = LIBRARY_ESTIMATE.sub("", message).strip()
        total = self.planned(fraction)
        if not self.fits or total is None:
            return where
        if fraction >= 1 or self.fits >= total:
            return f"Fit {self.fits} of {total} — finishing · {where}"
        per_fit = (self.clock() - self.started) / self.fits
        return (f"Fit {self.fits} of {total} — {time_left(per_fit * (total - self.fits))}"
                f" · {where}")

    def callback(self, show: Callable[[float, str], None]) -> Callable[[float, str], None]:
        """A ``progress(fraction, message)`` for the library that calls ``show(fraction,
        text)`` with this countdown's text (e.g. a Streamlit progress bar's ``progress``)."""
        return lambda fraction, message: show(min(max(fraction, 0.0), 1.0),
                                              self.text(fraction, message))

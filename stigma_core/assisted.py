"""Prevalence that holds for a corpus nobody coded before: a coded random sample plus the model.

The error-rate correction in ``prevalence`` (adjusted classify-and-count with the model
card's out-of-fold TPR/FPR) assumes the corpus is like the model's training data. When it is
not, the corrected share can be confidently wrong: a model trained on the synthetic sample
and applied to real interview answers gave 76.8% (95% CI 68-85%) where the truth was 46.8%.

The remedy is to code a random sample of the corpus itself and let the model sharpen it:
prediction-powered inference (PPI; Angelopoulos et al., Science 2023) with PPI++ power tuning
(Angelopoulos, Duchi & Zrnic 2023, via ``ppi_py``). The estimate is the model's mean
probability over the corpus plus the mean error (code - probability) measured on the coded
posts, each weighted by a tuning factor lambda chosen from the data: lambda = 0 is the coded
sample alone, lambda = 1 plain PPI. The interval is valid whatever the model's quality, because
the coded sample measures the model's error on this very corpus; a good model narrows it, a
useless one leaves it about as wide as the coded sample's own.

Validity needs the coded posts to be a simple random sample of the corpus (every post equally
likely to be picked). Posts chosen by active learning, by keyword, or because they looked
interesting are NOT a random sample, and the interval does not hold for them.

Finite population: the coded posts are usually part of the corpus, and their codes are known
exactly. The estimate is then ``(sum of codes + PPI estimate for the uncoded rest x its size)
/ N`` and the interval is the PPI interval for the rest scaled by ``(N - n) / N``. When the
corpus is much larger than the sample this is plain PPI.

``corpus_prevalence`` puts everything together for a scored corpus: with coded posts it
reports the PPI estimate; without them the model card's correction, with a warning whenever
the model's error rates may not carry over (synthetic-sample model, or a corpus unlike the
training data by ``shift.similarity``).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from ppi_py import ppi_mean_ci, ppi_mean_pointestimate
from scipy.stats import norm

from stigma_core.errors import CorpusError
from stigma_core.metrics import wilson_interval
from stigma_core.persist import ModelBundle, to_plain
from stigma_core.prevalence import (
    DEFAULT_MIN_N,
    MISSING_GROUP,
    PREDICTED_COL,
    ErrorRates,
    prevalence_table,
)
from stigma_core.shift import (
    RECOMMENDED_CODED,
    SYNTHETIC_FACT,
    Similarity,
    coding_advice,
    is_synthetic_sample,
    similarity,
)

DEFAULT_MIN_CODED = 30
"""Fewest coded posts a group needs for an estimate: below it the normal approximation
behind the interval is not to be trusted."""
FEW_CODED = 100
"""Below this many coded posts the overall interval gets a note that it is wide."""
PPI = "prediction-powered inference (PPI++) on a coded random sample of this corpus"
CODED_ONLY = "the coded sample alone (Wilson interval), as all coded posts have the same code"
ACC = "adjusted classify-and-count with the model's out-of-fold error rates"
RESULT_FIELDS = ("n", "raw", "corrected", "ci_low", "ci_high", "error_rates_from", "warning")


@dataclass(frozen=True)
class AssistedEstimate:
    """A prevalence estimate from a coded random sample sharpened by the model.

    ``estimate`` with its ``ci_low``-``ci_high`` interval (level ``1 - alpha``) is the share
    of stigmatising posts in the corpus of ``n_corpus`` posts, ``n_coded`` of them coded.
    ``coded_share`` (with its Wilson interval ``coded_ci_low``-``coded_ci_high``) is the
    coded sample's own share, for comparison: the interval the model helped narrow.
    ``finite_population``: the coded posts are part of the corpus and count exactly.
    ``method`` says in words how the interval was made.
    """

    estimate: float
    ci_low: float
    ci_high: float
    n_corpus: int
    n_coded: int
    coded_share: float
    coded_ci_low: float
    coded_ci_high: float
    finite_population: bool
    method: str

    @property
    def width(self) -> float:
        """Width of the interval."""
        return self.ci_high - self.ci_low

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return to_plain(asdict(self))


@dataclass(frozen=True)
class CodedPosts:
    """Posts of a corpus coded by people, for ``corpus_prevalence``.

    ``labels``: 0/1 codes. ``proba``: the model's probabilities for those posts (taken from
    the corpus's when omitted and ``index`` is given). ``index``: each coded post's position
    in the corpus, when the coded posts are part of it (then their codes count exactly);
    None when they are a separate random sample from the same source. ``groups``: each coded
    post's group (taken from the corpus's when omitted and ``index`` is given).
    ``unmatched``: how many coded posts were not found in the corpus (then ``index`` is None).
    """

    labels: ArrayLike
    proba: ArrayLike | None = None
    index: ArrayLike | None = None
    groups: ArrayLike | None = None
    unmatched: int = 0


# --- one estimate ---------------------------------------------------------------------------


def assisted_prevalence(
    proba_all: ArrayLike,
    coded_labels: ArrayLike,
    coded_proba: ArrayLike | None = None,
    *,
    coded_index: ArrayLike | None = None,
    alpha: float = 0.05,
) -> AssistedEstimate:
    """Share of stigmatising posts in a corpus, from a coded random sample and the model.

    ``proba_all``: the model's probability for every corpus post. ``coded_labels``: 0/1 codes
    of the coded posts; ``coded_proba``: the model's probabilities for them (the probability,
    not the 0/1 call, is what PPI uses: it carries more information). ``coded_index``: the
    coded posts' positions in ``proba_all`` when they are part of the corpus (the usual case):
    their codes then count exactly and the interval is for the uncoded rest only, scaled by
    its share of the corpus. Without it the coded posts are taken as a separate random sample
    from the same source (plain PPI). PPI++ tunes how much to lean on the model, so the
    interval is never much wider than the coded sample's alone.

    Valid only if the coded posts are a simple random sample of the corpus (not chosen by
    active learning or by hand). Raises ``CorpusError`` for codes other than 0/1, lengths
    that do not match, empty inputs, or probabilities outside 0-1.
    """
    _check_alpha(alpha)
    proba = _probabilities(proba_all, "the corpus posts")
    labels = _codes(coded_labels)
    index = None if coded_index is None else _positions(coded_index, len(proba), len(labels))
    coded = _coded_proba(proba, coded_proba, index, len(labels))
    if index is None:
        estimate, low, high, method = _separate_sample(labels, coded, proba, alpha)
    else:
        rest = np.ones(len(proba), bool)
        rest[index] = False
        estimate, low, high, method = _finite_population(labels, coded, proba[rest], alpha)
    estimate, ci_low, ci_high = (float(np.clip(v, 0.0, 1.0)) for v in (estimate, low, high))
    coded_low, coded_high = wilson_interval(int(labels.sum()), len(labels), alpha)
    return AssistedEstimate(
        estimate=estimate, ci_low=ci_low, ci_high=ci_high, n_corpus=len(proba),
        n_coded=len(labels), coded_share=float(labels.mean()), coded_ci_low=coded_low,
        coded_ci_high=coded_high, finite_population=index is not None, method=method,
    )


def _separate_sample(
    labels: np.ndarray, coded: np.ndarray, proba: np.ndarray, alpha: float
) -> tuple[float, float, float, str]:
    """PPI++ (``ppi_py``, lambda tuned) when the coded posts are not part of the corpus.

    When every coded post has the same code the normal-approximation interval collapses to
    a point, so the coded sample's Wilson interval is used instead.
    """
    if labels.min() == labels.max():
        low, high = wilson_interval(int(labels.sum()), len(labels), alpha)
        return float(labels.mean()), low, high, CODED_ONLY
    estimate = float(np.ravel(ppi_mean_pointestimate(labels, coded, proba))[0])
    low, high = (float(np.ravel(v)[0]) for v in ppi_mean_ci(labels, coded, proba, alpha=alpha))
    return estimate, low, high, PPI


def tuned_lambda(labels: np.ndarray, coded: np.ndarray) -> float:
    """How much to lean on the model: Cov(code, probability) / Var(probability), in [0, 1].

    The weight that makes the coded posts' errors (code - lambda x probability) vary least,
    i.e. PPI++'s power tuning for a corpus of known size (ppi_py's own choice,
    Cov / ((1 + n/N) Var), tends to it as the corpus grows). 0 for a model that gives every
    coded post the same probability: it then carries no information.
    """
    spread = float(np.var(coded, ddof=1))
    if spread <= 0:
        return 0.0
    return float(np.clip(np.cov(labels, coded)[0, 1] / spread, 0.0, 1.0))


def _finite_population(
    labels: np.ndarray, coded: np.ndarray, rest: np.ndarray, alpha: float
) -> tuple[float, float, float, str]:
    """Estimate and interval for the whole corpus when the coded posts are part of it.

    The coded posts count exactly and the model's mean over the uncoded ``rest`` is known
    exactly too, so the only uncertainty is how well the coded posts' mean error
    ``d = code - lambda x probability`` stands for the rest's. For a simple random sample of
    n from N posts that is the textbook finite-population variance ``(1 - n/N) S_d^2 / n``
    (survey sampling's regression estimator; it tends to plain PPI as N grows). Why not
    ppi_py's interval scaled by (N - n)/N: that leaves out the rest's own sampling spread and,
    measured by simulation with n = 200 of N = 400-829 posts, covers only 84-92% for a
    weak model instead of 95%.
    """
    n, n_rest = len(labels), len(rest)
    n_corpus = n + n_rest
    if n_rest == 0:  # every post is coded: the share is known
        share = float(labels.mean())
        return share, share, share, PPI
    if labels.min() == labels.max():  # see _separate_sample
        low, high = wilson_interval(int(labels.sum()), n, alpha)
        whole = [(labels.sum() + n_rest * v) / n_corpus for v in (labels.mean(), low, high)]
        return *whole, CODED_ONLY
    lam = tuned_lambda(labels, coded)
    errors = labels - lam * coded
    rest_share = lam * rest.mean() + errors.mean()
    estimate = (labels.sum() + n_rest * rest_share) / n_corpus
    half = norm.ppf(1 - alpha / 2) * np.sqrt((1 - n / n_corpus) * errors.var(ddof=1) / n)
    return float(estimate), float(estimate - half), float(estimate + half), PPI


# --- by group -------------------------------------------------------------------------------


def assisted_prevalence_by_group(
    proba_all: ArrayLike,
    groups_all: ArrayLike,
    coded_labels: ArrayLike,
    coded_proba: ArrayLike | None = None,
    *,
    coded_index: ArrayLike | None = None,
    coded_groups: ArrayLike | None = None,
    min_coded: int = DEFAULT_MIN_CODED,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """``assisted_prevalence`` within each group (country, platform, any column).

    Each group's estimate uses only the coded posts of that group, so a group needs its own
    coded posts: groups with fewer than ``min_coded`` get no estimate and a plain-words
    ``reason``. A coded post's group is the corpus's (via ``coded_index``) or ``coded_groups``.
    Missing or blank groups form "(not known)". Columns: ``group, n_corpus, n_coded,
    estimate, ci_low, ci_high, coded_share, coded_ci_low, coded_ci_high, too_few, reason``;
    rows sort by corpus size, largest first. Needs a random sample, as ``assisted_prevalence``.
    """
    if min_coded < 2:
        raise CorpusError(f"The minimum coded posts per group must be at least 2 "
                          f"(got {min_coded}).")
    proba = _probabilities(proba_all, "the corpus posts")
    keys = group_labels(groups_all)
    if len(keys) != len(proba):
        raise CorpusError(f"There are {len(proba)} posts but {len(keys)} group values; give "
                          "one group per post.")
    labels = _codes(coded_labels)
    index = None if coded_index is None else _positions(coded_index, len(proba), len(labels))
    coded = _coded_proba(proba, coded_proba, index, len(labels))
    coded_keys = _coded_group_labels(keys, index, coded_groups, len(labels))
    rows = []
    for group in _groups_by_size(keys):
        in_group = keys == group
        mine = coded_keys == group
        rows.append(_group_row(group, proba[in_group], labels[mine], coded[mine],
                               _local_positions(in_group, index, mine), min_coded, alpha))
    return pd.DataFrame(rows, columns=[
        "group", "n_corpus", "n_coded", "estimate", "ci_low", "ci_high", "coded_share",
        "coded_ci_low", "coded_ci_high", "too_few", "reason"])


def _group_row(
    group: str, proba: np.ndarray, labels: np.ndarray, coded: np.ndarray,
    index: np.ndarray | None, min_coded: int, alpha: float,
) -> dict[str, Any]:
    """One row of the by-group table."""
    row: dict[str, Any] = {"group": group, "n_corpus": len(proba), "n_coded": len(labels)}
    if len(labels) < min_coded:
        nan = float("nan")
        row |= dict.fromkeys(("estimate", "ci_low", "ci_high", "coded_share", "coded_ci_low",
                              "coded_ci_high"), nan)
        return row | {"too_few": True, "reason": too_few_reason(len(labels), min_coded)}
    found = assisted_prevalence(proba, labels, coded, coded_index=index, alpha=alpha)
    return row | {
        "estimate": found.estimate, "ci_low": found.ci_low, "ci_high": found.ci_high,
        "coded_share": found.coded_share, "coded_ci_low": found.coded_ci_low,
        "coded_ci_high": found.coded_ci_high, "too_few": False,
        "reason": _method_note(found.method),
    }


def too_few_reason(n_coded: int, min_coded: int) -> str:
    """Plain words for a group with too few coded posts."""
    have = "no coded posts" if n_coded == 0 else f"only {n_coded} coded posts"
    return (f"No estimate: this group has {have} (at least {min_coded} needed for an interval "
            "that holds). Code more random posts from this group.")


def _method_note(method: str) -> str:
    """A note when the interval came from the coded sample alone."""
    if method == CODED_ONLY:
        return ("All coded posts here have the same code, so the interval is the coded "
                "sample's own (Wilson); code more posts to narrow it.")
    return ""


def _local_positions(
    in_group: np.ndarray, index: np.ndarray | None, mine: np.ndarray
) -> np.ndarray | None:
    """Positions of a group's coded posts within the group's own posts."""
    if index is None:
        return None
    position_in_group = np.cumsum(in_group) - 1
    return position_in_group[index[mine]]


def _groups_by_size(keys: np.ndarray) -> list[str]:
    """Group names, largest first, ties by name."""
    counts = pd.Series(keys).value_counts()
    return sorted(counts.index, key=lambda g: (-counts[g], str(g)))


def group_labels(values: ArrayLike) -> np.ndarray:
    """Group names as strings; missing or blank values become "(not known)"."""
    keys = pd.Series(list(values) if not isinstance(values, pd.Series) else values,
                     dtype=object).astype("string").str.strip()
    return keys.mask(keys.isna() | (keys == ""), MISSING_GROUP).to_numpy(dtype=object)


def _coded_group_labels(
    keys: np.ndarray, index: np.ndarray | None, coded_groups: ArrayLike | None, n_coded: int
) -> np.ndarray:
    """Each coded post's group: from ``coded_groups`` when given, else the corpus's."""
    if coded_groups is not None:
        coded_keys = group_labels(coded_groups)
        if len(coded_keys) != n_coded:
            raise CorpusError(f"There are {n_coded} coded posts but {len(coded_keys)} group "
                              "values for them; give one group per coded post.")
        return coded_keys
    if index is None:
        raise CorpusError("Say which group each coded post belongs to (coded_groups), or "
                          "give their positions in the corpus so it can be looked up.")
    return keys[index]


def match_coded_posts(corpus_texts: Sequence[object], coded_texts: Sequence[object]) -> np.ndarray:
    """Each coded post's position in the corpus by exact text (spaces at the ends ignored);
    -1 when it is not there.

    A text the corpus holds several times (retweets, copies) is matched to its first copy
    not yet taken: each coded post stands for one corpus post, and the other copies count
    as uncoded posts, which the model and the coded sample estimate like any other. That
    keeps the coded posts a random sample of corpus rows.
    """
    free: dict[str, deque[int]] = {}
    for position, text in enumerate(_stripped(corpus_texts)):
        free.setdefault(text, deque()).append(position)
    return np.array([free[t].popleft() if free.get(t) else -1 for t in _stripped(coded_texts)],
                    dtype=int)


def _stripped(texts: Sequence[object]) -> list[str]:
    """Texts as stripped strings (missing as "")."""
    values = pd.Series(list(texts), dtype=object).astype("string").str.strip().fillna("")
    return values.astype(str).tolist()


# --- the whole picture for a scored corpus --------------------------------------------------


def card_error_rates(bundle: ModelBundle) -> ErrorRates | None:
    """The model's out-of-fold error rates from its card (None when the card has none)."""
    rates = (bundle.card or {}).get("error_rates")
    if not rates:
        return None
    return ErrorRates(tpr=float(rates["tpr"]), fpr=float(rates["fpr"]),
                      n_pos=int(rates["n_pos"]), n_neg=int(rates["n_neg"]))


def carry_over_warning(bundle: ModelBundle, checked: Similarity | None) -> str:
    """Why the model's error rates may not hold for this corpus ("" when nothing says so).

    Non-empty when the model was trained on the synthetic sample, or the corpus was found
    unlike its training data, could not be compared with it, or was not compared at all;
    it then offers a coded sample, with the coding time computed.
    """
    synthetic = is_synthetic_sample(bundle)
    found = ("Whether this corpus is like the model's training data was not checked."
             if checked is None else checked.detail)
    reasons = [SYNTHETIC_FACT] if synthetic else []
    if found:
        reasons.append(found)
    if not reasons:
        return ""
    train_own = " Or train the model on your own coded posts." if synthetic else ""
    return (f"{' '.join(reasons)} The corrected share uses error rates measured on the "
            f"model's training data, and they only carry over to posts like those. "
            f"{coding_advice()}{train_own}")


def corpus_prevalence(
    bundle: ModelBundle,
    proba_all: ArrayLike,
    predicted_all: ArrayLike | None = None,
    *,
    coded: CodedPosts | None = None,
    groups: ArrayLike | None = None,
    texts: Sequence[object] | None = None,
    checked: Similarity | None = None,
    min_coded: int = DEFAULT_MIN_CODED,
    min_n: int = DEFAULT_MIN_N,
    alpha: float = 0.05,
    n_boot: int = 1000,
    seed: int = 0,
) -> dict[str, Any]:
    """Raw and corrected prevalence of a scored corpus, overall and by group, JSON-ready.

    ``proba_all``/``predicted_all``: the model's probability and 0/1 call per post (calls at
    the model's threshold when omitted). With ``coded`` (a random sample of the corpus coded
    by people) the corrected share and interval come from ``assisted_prevalence`` (PPI), valid
    for this corpus whatever the model. Without, they come from the model card's out-of-fold
    error rates (``prevalence.prevalence_table``), valid only for posts like the training
    data: ``texts`` lets ``shift.similarity`` check that (or pass its result as ``checked``),
    and the warning says so whenever it is not shown to hold.

    Returns ``{"overall": {...}, "groups": [...], "method", "similarity", "coded"}``: overall
    and each group (with ``group``) hold ``n, raw, corrected, ci_low, ci_high,
    error_rates_from, warning``; ``groups`` is empty without ``groups``.
    """
    proba = _probabilities(proba_all, "the corpus posts")
    predicted = _predicted(proba, predicted_all, bundle.threshold)
    keys = None if groups is None else group_labels(groups)
    if keys is not None and len(keys) != len(proba):
        raise CorpusError(f"There are {len(proba)} posts but {len(keys)} group values; give "
                          "one group per post.")
    if checked is None and texts is not None:
        checked = similarity(bundle, texts, seed=seed)
    if coded is not None:
        result = _with_coded(proba, predicted, keys, coded, min_coded, alpha)
    else:
        result = _without_coded(bundle, predicted, keys, checked, min_n, n_boot, seed)
    result["similarity"] = None if checked is None else checked.as_dict()
    return to_plain(result)


def _with_coded(
    proba: np.ndarray, predicted: np.ndarray, keys: np.ndarray | None, coded: CodedPosts,
    min_coded: int, alpha: float,
) -> dict[str, Any]:
    """The result when a coded random sample of the corpus is at hand (PPI)."""
    found = assisted_prevalence(proba, coded.labels, coded.proba, coded_index=coded.index,
                                alpha=alpha)
    source = f"coded random sample of this corpus (n = {found.n_coded})"
    if coded.unmatched:
        source = (f"coded random sample (n = {found.n_coded}; {coded.unmatched} of them not "
                  "found in this corpus)")
    overall = _result_row(len(proba), predicted.mean(), found.estimate, found.ci_low,
                          found.ci_high, source, _coded_warning(found, coded.unmatched))
    rows = []
    if keys is not None:
        table = assisted_prevalence_by_group(
            proba, keys, coded.labels, coded.proba, coded_index=coded.index,
            coded_groups=coded.groups, min_coded=min_coded, alpha=alpha)
        raw = _raw_by_group(predicted, keys)
        for row in table.itertuples(index=False):
            group_source = f"coded random sample of this group (n = {row.n_coded})"
            rows.append({"group": row.group, **_result_row(
                row.n_corpus, raw[row.group], row.estimate, row.ci_low, row.ci_high,
                group_source, row.reason)})
    return {"overall": overall, "groups": rows, "method": found.method, "coded": found.as_dict()}


def _coded_warning(found: AssistedEstimate, unmatched: int) -> str:
    """Plain-words cautions about a coded-sample estimate ("" when there are none)."""
    parts = []
    if found.n_coded < FEW_CODED:
        parts.append(
            f"Only {found.n_coded} posts are coded, so the interval is wide and its normal "
            f"approximation rough; coding {RECOMMENDED_CODED} random posts narrows it.")
    if unmatched:
        parts.append(
            f"{unmatched} coded posts are not in this corpus, so all coded posts were treated "
            "as a separate random sample from the same source (no post counted as known); "
            "this holds only if they were drawn at random from posts like these.")
    note = _method_note(found.method)
    if note:
        parts.append(note)
    return " ".join(parts)


def _without_coded(
    bundle: ModelBundle, predicted: np.ndarray, keys: np.ndarray | None,
    checked: Similarity | None, min_n: int, n_boot: int, seed: int,
) -> dict[str, Any]:
    """The result from the model card's error rates (adjusted classify-and-count)."""
    rates = card_error_rates(bundle)
    carry = carry_over_warning(bundle, checked)
    if rates is None:
        source = "none: the model file holds no out-of-fold error rates"
        carry = " ".join(filter(None, [
            "This model file holds no measured error rates, so the share cannot be corrected.",
            carry or coding_advice()]))
    else:
        source = f"the model's training data (out-of-fold, n = {rates.n_pos + rates.n_neg})"
    frame = pd.DataFrame({PREDICTED_COL: predicted})
    whole = prevalence_table(frame, error_rates=rates, min_n=1, n_boot=n_boot, seed=seed)
    overall = _table_result(whole.iloc[0], source, carry)
    rows = []
    if keys is not None:
        table = prevalence_table(frame.assign(group=keys), "group", error_rates=rates,
                                 min_n=min_n, n_boot=n_boot, seed=seed)
        rows = [{"group": row["group"], **_table_result(row, source, carry)}
                for _, row in table.iterrows()]
    return {"overall": overall, "groups": rows, "method": ACC, "coded": None}


def _table_result(row: pd.Series, source: str, carry: str) -> dict[str, Any]:
    """A ``prevalence_table`` row as a result entry; the table's own cautions come first."""
    own = row["note"] if row["too_few"] else row["warning"]
    warning = " ".join(part for part in (own, carry) if part)
    raw = row["raw"] if not row["too_few"] else np.nan
    return _result_row(int(row["n"]), raw, row["corrected"], row["corrected_ci_low"],
                       row["corrected_ci_high"], source, warning)


def _result_row(n: int, raw: float, corrected: float, low: float, high: float, source: str,
                warning: str) -> dict[str, Any]:
    """One entry of the result: the contract's fields, NaN as None."""
    return to_plain(dict(zip(RESULT_FIELDS, (int(n), float(raw), float(corrected), float(low),
                                             float(high), source, warning), strict=True)))


def _raw_by_group(predicted: np.ndarray, keys: np.ndarray) -> dict[str, float]:
    """Share of posts flagged by the model, per group."""
    return pd.Series(predicted).groupby(keys).mean().to_dict()


# --- input checks ---------------------------------------------------------------------------


def _check_alpha(alpha: float) -> None:
    """1 - alpha is the confidence level: alpha must lie strictly between 0 and 1."""
    if not 0 < alpha < 1:
        raise CorpusError(f"The error level alpha must lie between 0 and 1 (got {alpha}); "
                          "use 0.05 for 95% intervals.")


def _array(values: ArrayLike, what: str) -> np.ndarray:
    """A non-empty 1-D float array, or a CorpusError naming ``what``."""
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as err:
        raise CorpusError(f"The values for {what} are not all numbers ({err}).") from err
    if array.ndim != 1:
        raise CorpusError(f"Give one value per post for {what} (got shape {array.shape}).")
    if array.size == 0:
        raise CorpusError(f"There are no values for {what}; give at least one post.")
    return array


def _probabilities(values: ArrayLike, what: str) -> np.ndarray:
    """Model probabilities as floats in [0, 1], or a CorpusError."""
    array = _array(values, f"the model's probabilities of {what}")
    bad = ~np.isfinite(array) | (array < 0) | (array > 1)
    if bad.any():
        raise CorpusError(
            f"{int(bad.sum())} of the model's probabilities for {what} are missing or not "
            f"between 0 and 1 (first: {array[bad][0]}). Score every post first, and leave "
            "out posts without text."
        )
    return array


def _zero_one(values: ArrayLike, what: str, advice: str) -> np.ndarray:
    """0/1 values (True/False accepted) as ints, or a CorpusError naming the first bad one."""
    raw = pd.Series(list(values) if not isinstance(values, pd.Series) else values, dtype=object)
    numbers = pd.to_numeric(raw.map(lambda v: int(v) if isinstance(v, bool | np.bool_) else v),
                            errors="coerce").to_numpy(dtype=float)
    bad = ~np.isin(numbers, (0.0, 1.0))
    if bad.any():
        raise CorpusError(f"{int(bad.sum())} of {numbers.size} {what} are not 0 or 1 (first: "
                          f"{raw[bad].iloc[0]!r}). {advice}")
    return numbers.astype(int)


def _codes(values: ArrayLike) -> np.ndarray:
    """Human 0/1 codes of the coded posts as ints, or a CorpusError."""
    numbers = _zero_one(values, "codes", "Code each post 1 (stigmatising) or 0 (not), and "
                        "leave no post uncoded.")
    if numbers.size == 0:
        raise CorpusError("There are no coded posts; code a random sample of the corpus first.")
    if numbers.size < 2:
        raise CorpusError("One coded post is not a sample; code a random sample of at least "
                          f"{DEFAULT_MIN_CODED} posts ({RECOMMENDED_CODED} advised).")
    return numbers


def _positions(index: ArrayLike, n_corpus: int, n_coded: int) -> np.ndarray:
    """Coded posts' positions in the corpus: whole numbers in range, one per post, distinct."""
    array = _array(index, "the coded posts' positions in the corpus")
    whole = np.isfinite(array) & (array == np.round(array))
    if not whole.all() or (array < 0).any() or (array >= n_corpus).any():
        raise CorpusError(f"The coded posts' positions must be whole numbers from 0 to "
                          f"{n_corpus - 1} (the corpus has {n_corpus} posts).")
    positions = array.astype(int)
    if len(positions) != n_coded:
        raise CorpusError(f"There are {n_coded} codes but {len(positions)} positions; give "
                          "one position per coded post.")
    if len(np.unique(positions)) != len(positions):
        raise CorpusError("Some coded posts share a position in the corpus; each coded post "
                          "must be a different corpus post.")
    return positions


def _coded_proba(
    proba: np.ndarray, coded_proba: ArrayLike | None, index: np.ndarray | None, n_coded: int
) -> np.ndarray:
    """The coded posts' probabilities (given, or looked up by position), checked."""
    if coded_proba is None:
        if index is None:
            raise CorpusError("Give the model's probabilities for the coded posts, or their "
                              "positions in the corpus so they can be looked up.")
        return proba[index]
    coded = _probabilities(coded_proba, "the coded posts")
    if len(coded) != n_coded:
        raise CorpusError(f"There are {n_coded} codes but {len(coded)} probabilities for the "
                          "coded posts; give one probability per coded post.")
    return coded


def _predicted(proba: np.ndarray, predicted: ArrayLike | None, threshold: float) -> np.ndarray:
    """The model's 0/1 calls: given, or the probabilities at the model's threshold."""
    if predicted is None:
        return (proba >= threshold).astype(int)
    calls = _zero_one(predicted, "of the model's calls", "Score the corpus again.")
    if len(calls) != len(proba):
        raise CorpusError(f"There are {len(proba)} probabilities but {len(calls)} 0/1 calls; "
                          "give one call per post.")
    return calls

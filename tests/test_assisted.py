"""Prevalence from a coded random sample (prediction-powered inference) and the combined result."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from stigma_core.assisted import (
    ACC,
    CODED_ONLY,
    PPI,
    CodedPosts,
    assisted_prevalence,
    assisted_prevalence_by_group,
    carry_over_warning,
    corpus_prevalence,
    match_coded_posts,
    tuned_lambda,
)
from stigma_core.coding.sampling import coding_minutes
from stigma_core.errors import CorpusError
from stigma_core.metrics import wilson_interval
from stigma_core.models import train_models
from stigma_core.persist import ModelBundle, bundle_from_run
from stigma_core.scale import score_texts
from stigma_core.shift import Similarity

FIELDS = {"n", "raw", "corrected", "ci_low", "ci_high", "error_rates_from", "warning"}


def simulate_corpus(
    rng: np.random.Generator, n: int, prevalence: float, separation: float, bias: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """True 0/1 codes and model probabilities: ``separation`` 0 is a useless model; ``bias``
    pushes every probability up (a miscalibrated model, as after a shift in prevalence)."""
    truth = (rng.random(n) < prevalence).astype(int)
    logit = separation * (2 * truth - 1) + rng.normal(0.0, 1.0, n) + bias
    return truth, 1 / (1 + np.exp(-logit))


def draw_coded(rng: np.random.Generator, n_corpus: int, n_coded: int) -> np.ndarray:
    return rng.choice(n_corpus, n_coded, replace=False)


# --- the estimate ---------------------------------------------------------------------------


def test_useless_model_gives_about_the_coded_share() -> None:
    rng = np.random.default_rng(0)
    truth, proba = simulate_corpus(rng, 20_000, 0.3, separation=0.0)
    coded = draw_coded(rng, len(truth), 300)
    share = truth[coded].mean()
    separate = assisted_prevalence(proba, truth[coded], proba[coded])
    assert separate.estimate == pytest.approx(share, abs=0.01)
    assert separate.coded_share == share
    assert separate.width == pytest.approx(
        separate.coded_ci_high - separate.coded_ci_low, rel=0.1)
    flat = assisted_prevalence(np.full(2_000, 0.7), truth[coded], np.full(300, 0.7),
                               coded_index=np.arange(300))
    assert flat.estimate == pytest.approx(share, abs=1e-12)  # lambda = 0: model ignored


def test_good_model_narrows_the_interval() -> None:
    rng = np.random.default_rng(1)
    truth, proba = simulate_corpus(rng, 5_000, 0.4, separation=2.5)
    coded = draw_coded(rng, len(truth), 200)
    found = assisted_prevalence(proba, truth[coded], coded_index=coded)
    wilson_width = found.coded_ci_high - found.coded_ci_low
    assert found.width < 0.7 * wilson_width
    assert found.estimate == pytest.approx(truth.mean(), abs=0.04)
    assert found.finite_population and found.method == PPI
    assert tuned_lambda(truth[coded], proba[coded]) > 0.5


def test_finite_population_counts_coded_posts_exactly() -> None:
    rng = np.random.default_rng(2)
    truth, proba = simulate_corpus(rng, 400, 0.35, separation=1.0)
    coded = draw_coded(rng, len(truth), 200)
    finite = assisted_prevalence(proba, truth[coded], coded_index=coded)
    separate = assisted_prevalence(proba, truth[coded], proba[coded])
    assert finite.width < 0.85 * separate.width  # half the corpus is known exactly
    everything = assisted_prevalence(proba, truth, coded_index=np.arange(len(truth)))
    assert everything.estimate == everything.ci_low == everything.ci_high == truth.mean()


@pytest.mark.parametrize(("n_corpus", "separation"), [(400, 0.0), (829, 0.5), (3_000, 2.0)])
def test_finite_population_interval_covers(n_corpus: int, separation: float) -> None:
    """Small corpora with half or a quarter coded: the share of the corpus itself is covered."""
    rng = np.random.default_rng(n_corpus)
    hits = []
    for _ in range(300):
        truth, proba = simulate_corpus(rng, n_corpus, rng.uniform(0.1, 0.6), separation, 1.0)
        coded = draw_coded(rng, n_corpus, 200)
        found = assisted_prevalence(proba, truth[coded], coded_index=coded)
        hits.append(found.ci_low <= truth.mean() <= found.ci_high)
    assert 0.9 <= np.mean(hits) <= 0.99


def test_coverage_under_shifted_prevalence_and_a_miscalibrated_model() -> None:
    """200 corpora whose prevalence (5-60%) is not the model's: the probabilities run high by
    a logit of 1.5, so the model's mean probability is biased; the interval still covers."""
    rng = np.random.default_rng(3)
    hits, biased = [], []
    for _ in range(200):
        prevalence = rng.uniform(0.05, 0.6)
        truth, proba = simulate_corpus(rng, 3_000, prevalence, separation=1.5, bias=1.5)
        coded = draw_coded(rng, len(truth), 200)
        found = assisted_prevalence(proba, truth[coded], coded_index=coded)
        hits.append(found.ci_low <= truth.mean() <= found.ci_high)
        biased.append(proba.mean() - truth.mean())
    assert np.mean(biased) > 0.1  # the model alone would be far off
    assert 0.9 <= np.mean(hits) <= 0.99


def test_all_coded_posts_alike_falls_back_to_wilson() -> None:
    proba = np.linspace(0.01, 0.3, 1_000)
    found = assisted_prevalence(proba, np.zeros(50, int), coded_index=np.arange(50))
    assert found.method == CODED_ONLY
    assert found.estimate == 0.0 and found.ci_low == 0.0
    assert found.ci_high > 0.02  # not the collapsed [0, 0] of the normal approximation
    separate = assisted_prevalence(proba, np.ones(50, int), proba[:50])
    assert (separate.ci_low, separate.ci_high) == pytest.approx(wilson_interval(50, 50))


def test_estimates_stay_within_zero_and_one() -> None:
    rng = np.random.default_rng(4)
    truth, proba = simulate_corpus(rng, 10_000, 0.01, separation=0.0)
    coded = draw_coded(rng, len(truth), 40)
    codes = truth[coded].copy()
    codes[0] = 1  # at least one of each code
    codes[1] = 0
    found = assisted_prevalence(proba, codes, coded_index=coded)
    assert 0.0 <= found.ci_low <= found.estimate <= found.ci_high <= 1.0


def test_boolean_codes_are_accepted() -> None:
    as_bools = assisted_prevalence([0.2, 0.8, 0.6, 0.1], [False, True, True, False],
                                   [0.2, 0.8, 0.6, 0.1])
    as_ints = assisted_prevalence([0.2, 0.8, 0.6, 0.1], [0, 1, 1, 0], [0.2, 0.8, 0.6, 0.1])
    assert as_bools == as_ints


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"coded_labels": [0, 1, 2], "coded_proba": [0.1, 0.2, 0.3]}, "not 0 or 1"),
        ({"coded_labels": [0, 1, "maybe"], "coded_proba": [0.1, 0.2, 0.3]}, "'maybe'"),
        ({"coded_labels": [0, 1, 1], "coded_proba": [0.1, 0.2]}, "3 codes but 2"),
        ({"coded_labels": [], "coded_proba": []}, "no coded posts"),
        ({"coded_labels": [1], "coded_proba": [0.4]}, "not a sample"),
        ({"coded_labels": [0, 1], "coded_proba": [0.1, 1.5]}, "between 0 and 1"),
        ({"coded_labels": [0, 1]}, "positions"),
        ({"coded_labels": [0, 1], "coded_index": [0, 0]}, "share a position"),
        ({"coded_labels": [0, 1], "coded_index": [0, 9]}, "from 0 to 3"),
        ({"coded_labels": [0, 1], "coded_index": [0]}, "2 codes but 1"),
        ({"coded_labels": [0, 1], "coded_index": [0, 1], "alpha": 5}, "alpha"),
    ],
)
def test_bad_input_is_a_plain_corpus_error(kwargs, words) -> None:
    with pytest.raises(CorpusError, match=words):
        assisted_prevalence([0.1, 0.2, 0.3, 0.4], **kwargs)


@pytest.mark.parametrize("proba_all", [[], [0.1, float("nan")], [[0.1, 0.2]]])
def test_bad_corpus_probabilities(proba_all) -> None:
    with pytest.raises(CorpusError):
        assisted_prevalence(proba_all, [0, 1], [0.1, 0.2])


# --- by group -------------------------------------------------------------------------------


def test_by_group_estimates_each_group_from_its_own_coded_posts() -> None:
    rng = np.random.default_rng(5)
    sizes = {"GB": 3_000, "US": 2_000, "IE": 300}
    shares = {"GB": 0.2, "US": 0.5, "IE": 0.4}
    groups = np.concatenate([[g] * n for g, n in sizes.items()])
    truth = np.concatenate([(rng.random(n) < shares[g]).astype(int) for g, n in sizes.items()])
    proba = np.clip(0.5 * truth + rng.uniform(0, 0.5, len(truth)), 0, 1)
    groups = groups.astype(object)
    groups[:5] = None  # unknown group
    coded = draw_coded(rng, len(truth), 400)
    table = assisted_prevalence_by_group(proba, groups, truth[coded], coded_index=coded)
    assert table["group"].tolist()[:3] == ["GB", "US", "IE"]
    assert "(not known)" in set(table["group"])
    assert table["n_corpus"].sum() == len(truth) and table["n_coded"].sum() == 400
    for row in table[~table["too_few"]].itertuples():
        mask = groups == row.group
        assert row.ci_low <= truth[mask].mean() <= row.ci_high
    few = table.set_index("group").loc["(not known)"]
    assert few["too_few"] and np.isnan(few["estimate"])
    assert "coded posts" in few["reason"] and "at least 30" in few["reason"]
    assert table.set_index("group").loc["GB", "reason"] == ""


def test_by_group_needs_coded_posts_per_group() -> None:
    proba = np.full(100, 0.5)
    groups = ["a"] * 60 + ["b"] * 40
    table = assisted_prevalence_by_group(proba, groups, [0, 1] * 20, coded_index=np.arange(40),
                                         min_coded=30)
    b = table.set_index("group").loc["b"]
    assert b["n_coded"] == 0 and b["too_few"] and "no coded posts" in b["reason"]
    with pytest.raises(CorpusError, match="group"):
        assisted_prevalence_by_group(proba, groups, [0, 1] * 20, np.full(40, 0.5))
    with pytest.raises(CorpusError, match="one group per post"):
        assisted_prevalence_by_group(proba, groups[:50], [0, 1], coded_index=[0, 1])


def test_match_coded_posts_by_exact_stripped_text() -> None:
    corpus = ["a post", "  copy ", "copy", "other", None]
    coded = ["copy", "a post ", "copy", "copy", "missing", "Other"]
    assert match_coded_posts(corpus, coded).tolist() == [1, 0, 2, -1, -1, -1]


# --- the combined result --------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_bundle(sample_dir) -> ModelBundle:
    coded = pd.read_csv(sample_dir / "train.csv")[["text", "label"]]
    run = train_models(coded, ["logistic_regression"], grid="fast", seed=0)
    return bundle_from_run(run, card_extra={"data": "train.csv"})


@pytest.fixture(scope="module")
def sample_corpus(sample_bundle, sample_dir) -> pd.DataFrame:
    corpus = pd.read_csv(sample_dir / "corpus.csv").dropna(subset=["text"])
    corpus = corpus[corpus["text"].str.strip() != ""].head(1_500)
    return corpus.assign(proba=score_texts(sample_bundle, corpus["text"])).reset_index()


def alike() -> Similarity:
    return Similarity("alike", 0.52, 0.48, 0.56, 500, 500, (), False, "", "")


def real_like(bundle: ModelBundle) -> ModelBundle:
    """The same model, as if trained on real text (not the synthetic sample)."""
    return ModelBundle(bundle.pipeline, bundle.threshold, bundle.metrics,
                       {**bundle.card, "synthetic_sample": False, "data": "coded.csv"})


def test_coding_time_is_computed() -> None:
    assert coding_minutes(200) == 40
    assert coding_minutes(100, raters=3) == 30
    assert coding_minutes(200, seconds_per_post=12) == 80


def test_without_coded_posts_uses_the_model_card_and_warns(sample_bundle, sample_corpus):
    result = corpus_prevalence(sample_bundle, sample_corpus["proba"],
                               groups=sample_corpus["platform"], texts=sample_corpus["text"])
    overall = result["overall"]
    assert set(overall) == FIELDS and result["method"] == ACC
    assert overall["n"] == len(sample_corpus)
    assert overall["ci_low"] <= overall["corrected"] <= overall["ci_high"]
    assert "out-of-fold, n = 640" in overall["error_rates_from"]
    assert "synthetic sample" in overall["warning"]
    assert "Code 200 random posts of this corpus (about 40 minutes for two raters)" in (
        overall["warning"])
    assert [g["group"] for g in result["groups"]] == ["twitter", "reddit", "tiktok"]
    assert all(set(g) == FIELDS | {"group"} and g["warning"] for g in result["groups"])
    assert result["similarity"]["verdict"] == "alike"
    json.dumps(result, allow_nan=False)


def test_without_coded_posts_no_warning_when_alike_and_real(sample_bundle, sample_corpus):
    bundle = real_like(sample_bundle)
    result = corpus_prevalence(bundle, sample_corpus["proba"], checked=alike())
    assert carry_over_warning(bundle, alike()) == ""
    assert result["overall"]["warning"] == ""  # unless the correction itself is unstable
    unchecked = corpus_prevalence(bundle, sample_corpus["proba"])
    assert "not checked" in unchecked["overall"]["warning"]
    differs = Similarity("very different", 0.95, 0.93, 0.97, 500, 500, ("length",), False,
                         "This corpus is very different.", "This corpus is very different.")
    warned = corpus_prevalence(bundle, sample_corpus["proba"], checked=differs)["overall"]
    assert warned["warning"].startswith("This corpus is very different.")
    assert "only carry over to posts like those" in warned["warning"]


def test_without_error_rates_in_the_card_nothing_is_corrected(sample_bundle, sample_corpus):
    card = {k: v for k, v in real_like(sample_bundle).card.items() if k != "error_rates"}
    bundle = ModelBundle(sample_bundle.pipeline, sample_bundle.threshold, {}, card)
    overall = corpus_prevalence(bundle, sample_corpus["proba"], checked=alike())["overall"]
    assert overall["corrected"] is None and overall["ci_low"] is None
    assert "no measured error rates" in overall["warning"]
    assert overall["raw"] == pytest.approx((sample_corpus["proba"] >= bundle.threshold).mean())


def test_with_coded_posts_uses_ppi(sample_bundle, sample_corpus) -> None:
    rng = np.random.default_rng(6)
    proba = sample_corpus["proba"].to_numpy()
    truth = (rng.random(len(proba)) < np.clip(proba * 0.6, 0, 1)).astype(int)  # shifted
    coded = draw_coded(rng, len(proba), 200)
    result = corpus_prevalence(sample_bundle, proba, coded=CodedPosts(truth[coded], index=coded),
                               groups=sample_corpus["platform"], texts=sample_corpus["text"])
    overall = result["overall"]
    assert result["method"] == PPI
    assert overall["error_rates_from"] == "coded random sample of this corpus (n = 200)"
    assert overall["warning"] == ""
    assert overall["ci_low"] <= overall["corrected"] <= overall["ci_high"]
    assert overall["ci_low"] <= truth.mean() <= overall["ci_high"]
    assert result["coded"]["finite_population"] is True
    groups = {g["group"]: g for g in result["groups"]}
    assert set(groups) == {"twitter", "reddit", "tiktok"}
    small = min(groups.values(), key=lambda g: g["n"])
    assert "n = " in small["error_rates_from"]
    for group in groups.values():
        if group["corrected"] is None:
            assert group["warning"].startswith("No estimate")
        else:
            assert group["ci_low"] <= group["corrected"] <= group["ci_high"]
    few = corpus_prevalence(sample_bundle, proba, coded=CodedPosts(truth[coded[:60]],
                                                                   index=coded[:60]))
    assert few["overall"]["warning"].startswith("Only 60 posts are coded")
    assert few["groups"] == []


def test_coded_posts_not_in_the_corpus_are_a_separate_sample(sample_bundle, sample_corpus):
    proba = sample_corpus["proba"].to_numpy()
    codes = (proba[:150] > 0.5).astype(int)
    coded = CodedPosts(codes, proba=proba[:150], groups=sample_corpus["platform"][:150],
                       unmatched=150)
    result = corpus_prevalence(sample_bundle, proba, coded=coded, groups=sample_corpus["platform"])
    assert "150 of them not found in this corpus" in result["overall"]["error_rates_from"]
    assert "not in this corpus" in result["overall"]["warning"]
    assert result["coded"]["finite_population"] is False


@pytest.mark.real_data
def test_real_corpus_with_a_coded_sample_covers_the_truth(sample_bundle, real_corpus_path):
    """The acceptance check: a model trained on the synthetic sample, applied to real text.

    Five random corpora of 829 real posts; in each, 200 random posts coded with their true
    codes. The corrected 95% interval must cover the corpus's true share in at least 4 of 5,
    with mean width at most 0.15; without the coded sample, the result must warn.
    """
    real = pd.read_csv(real_corpus_path)
    proba = score_texts(sample_bundle, real["text"])
    truth = real["stigma"].to_numpy()
    hits, widths = [], []
    for draw in range(5):
        rng = np.random.default_rng(draw)
        rows = rng.choice(len(real), 829, replace=False)
        coded = rng.choice(829, 200, replace=False)
        overall = corpus_prevalence(
            sample_bundle, proba[rows], coded=CodedPosts(truth[rows][coded], index=coded)
        )["overall"]
        hits.append(overall["ci_low"] <= truth[rows].mean() <= overall["ci_high"])
        widths.append(overall["ci_high"] - overall["ci_low"])
        assert overall["warning"] == ""
    assert sum(hits) >= 4
    assert np.mean(widths) <= 0.15
    rows = np.random.default_rng(0).choice(len(real), 829, replace=False)
    unaided = corpus_prevalence(sample_bundle, proba[rows], texts=real["text"].iloc[rows])
    assert unaided["overall"]["warning"]
    assert unaided["similarity"]["verdict"] == "very different"

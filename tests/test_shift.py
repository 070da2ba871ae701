"""Is a corpus like the model's training data: the numbers-only profile and the check."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from stigma_core.features import FEATURE_NAMES
from stigma_core.models import train_models
from stigma_core.persist import (
    ModelBundle,
    bundle_from_run,
    from_bytes,
    load_model,
    save_model,
    to_bytes,
)
from stigma_core.shift import (
    ALIKE_BELOW,
    KNOWN_WORDS,
    PROBABILITY,
    PROFILE_COLUMNS,
    VERY_DIFFERENT_FROM,
    delong_auc,
    is_synthetic_sample,
    looks_like_sample,
    profile_frame,
    similarity,
    training_profile,
    verdict_for,
)


@pytest.fixture(scope="module")
def sample_texts(sample_dir) -> pd.Series:
    return pd.read_csv(sample_dir / "train.csv")["text"]


@pytest.fixture(scope="module")
def sample_bundle(sample_dir) -> ModelBundle:
    coded = pd.read_csv(sample_dir / "train.csv")[["text", "label"]]
    run = train_models(coded, ["logistic_regression"], grid="fast", seed=0)
    return bundle_from_run(run, card_extra={"data": "train.csv"})


def with_card(bundle: ModelBundle, **changes) -> ModelBundle:
    card = {k: v for k, v in bundle.card.items() if k not in changes or changes[k] is not None}
    card |= {k: v for k, v in changes.items() if v is not None}
    return ModelBundle(bundle.pipeline, bundle.threshold, bundle.metrics, card)


# --- the profile in the card ----------------------------------------------------------------


def test_card_holds_a_numbers_only_profile(sample_bundle, sample_texts) -> None:
    profile = sample_bundle.card["training_profile"]
    assert profile["n_train"] == 640 and profile["seed"] == 0
    assert list(profile["columns"]) == list(PROFILE_COLUMNS)
    assert all(len(values) == 500 for values in profile["columns"].values())
    assert all(v is None or isinstance(v, float | int)
               for values in profile["columns"].values() for v in values)
    card_json = json.dumps(sample_bundle.card)
    words = {w for text in sample_texts for w in text.split() if len(w) > 9 and w.isalpha()}
    assert words and not any(w in card_json for w in words)  # no post text in the card
    frame = profile_frame(profile)
    assert frame[PROBABILITY].between(0, 1).all()
    assert frame[KNOWN_WORDS].dropna().between(0, 1).all()


def test_profile_survives_saving_and_loading(sample_bundle, tmp_path) -> None:
    path = save_model(sample_bundle, tmp_path / "m.skops")
    loaded = load_model(path)
    assert loaded.card["training_profile"] == sample_bundle.card["training_profile"]
    assert from_bytes(to_bytes(sample_bundle)).card == sample_bundle.card


def test_known_words_are_counted_leaving_the_post_out() -> None:
    texts = ["anxiety ruins everything", "anxiety helps nobody", "zebra quartz"]
    profile = profile_frame(training_profile(texts, [0.2, 0.4, 0.6], seed=1))
    shares = dict(zip(profile["word_count"], profile[KNOWN_WORDS], strict=True))
    # "anxiety" is held by another post, nothing else is; "zebra quartz" shares nothing.
    assert profile[KNOWN_WORDS].min() == 0.0
    assert 0 < profile[KNOWN_WORDS].max() < 1
    assert set(shares) == {3, 2}
    assert list(profile.columns) == [*FEATURE_NAMES, KNOWN_WORDS, PROBABILITY]
    assert sorted(profile[PROBABILITY]) == [0.2, 0.4, 0.6]


def test_profile_keeps_at_most_the_limit(sample_texts) -> None:
    texts = sample_texts.tolist()
    profile = training_profile(texts, np.linspace(0, 1, len(texts)), max_posts=50)
    assert len(profile["columns"][PROBABILITY]) == 50
    again = training_profile(texts, np.linspace(0, 1, len(texts)), max_posts=50)
    assert again == profile  # seeded


# --- synthetic sample -----------------------------------------------------------------------


def test_synthetic_sample_is_recognised(sample_bundle, sample_texts) -> None:
    assert sample_bundle.card["synthetic_sample"] is True  # found from the posts themselves
    assert is_synthetic_sample(sample_bundle)
    named = with_card(sample_bundle, synthetic_sample=False, data="sample train.csv")
    assert is_synthetic_sample(named)
    own = with_card(sample_bundle, synthetic_sample=False, data="train.csv")
    assert not is_synthetic_sample(own)
    assert looks_like_sample(sample_texts)
    assert not looks_like_sample(["my own post", "another one of mine"])


# --- the check ------------------------------------------------------------------------------


def test_delong_auc_matches_sklearn() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    score = np.round(y + rng.normal(0, 1.2, 400), 1)  # with ties
    found = delong_auc(y, score)
    assert found.auc == pytest.approx(roc_auc_score(y, score))
    assert found.ci_low < found.auc < found.ci_high
    assert 0.02 < found.ci_high - found.ci_low < 0.15
    assert delong_auc(np.array([0, 0, 1, 1]), np.array([0.1, 0.2, 0.8, 0.9])).auc == 1.0


def test_verdict_thresholds() -> None:
    assert verdict_for(0.5) == "alike"
    assert verdict_for(ALIKE_BELOW - 0.01) == "alike"
    assert verdict_for(ALIKE_BELOW) == "somewhat different"
    assert verdict_for(VERY_DIFFERENT_FROM) == "very different"


def test_sample_corpus_is_like_the_sample_training_data(sample_bundle, sample_dir) -> None:
    corpus = pd.read_csv(sample_dir / "corpus.csv")["text"]
    found = similarity(sample_bundle, corpus)
    assert found.verdict == "alike" and found.auc < ALIKE_BELOW
    assert found.n_corpus == 500 and found.n_training == 500
    assert found.detail == ""
    assert found.synthetic_sample  # still warned about: the sample is not real text
    assert found.warning.startswith("This model was trained on the synthetic sample posts")
    real_model = with_card(sample_bundle, synthetic_sample=False)
    assert similarity(real_model, corpus).warning == ""


@pytest.mark.real_data
def test_real_corpus_is_very_different_from_the_sample(sample_bundle, real_corpus_path) -> None:
    real = pd.read_csv(real_corpus_path)["text"]
    found = similarity(with_card(sample_bundle, synthetic_sample=False), real)
    assert found.verdict == "very different"
    assert found.auc > VERY_DIFFERENT_FROM and found.ci_low > ALIKE_BELOW
    assert found.most_different
    assert "very different from the model's training data" in found.warning


@pytest.mark.real_data
def test_real_corpus_is_like_a_model_trained_on_real_text(real_corpus_path) -> None:
    real = pd.read_csv(real_corpus_path)
    half = real.sample(frac=0.5, random_state=0)
    run = train_models(half.rename(columns={"stigma": "label"})[["text", "label"]],
                       ["logistic_regression"], grid="fast", seed=0)
    bundle = bundle_from_run(run, card_extra={"data": "half.csv"})
    assert bundle.card["synthetic_sample"] is False
    found = similarity(bundle, real.drop(half.index)["text"])
    assert found.verdict == "alike" and found.warning == ""


def test_model_without_a_profile_cannot_be_checked(sample_bundle, sample_dir) -> None:
    older = with_card(sample_bundle, synthetic_sample=False, training_profile=None)
    assert "training_profile" not in older.card
    found = similarity(older, pd.read_csv(sample_dir / "corpus.csv")["text"])
    assert found.verdict == "unknown" and found.auc is None
    assert "cannot be checked" in found.warning


def test_too_few_posts_cannot_be_checked(sample_bundle) -> None:
    found = similarity(sample_bundle, ["one post", "  ", None, "two posts"])
    assert found.verdict == "unknown" and found.n_corpus == 2
    assert "Too few posts" in found.warning

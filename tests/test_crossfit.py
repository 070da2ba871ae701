"""Cross-fitting: coded posts the model trained on are scored by models that never saw them,
so a prevalence interval from them still holds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from stigma_core.assisted import assisted_prevalence
from stigma_core.crossfit import cross_fitted_scores, knows_training_posts, trained_on
from stigma_core.errors import CorpusError
from stigma_core.models import train_models
from stigma_core.persist import bundle_from_run, from_bytes, to_bytes
from stigma_core.scale import score_texts


def _train(frame: pd.DataFrame, seed: int = 0) -> object:
    run = train_models(frame[["text", "label"]], ["logistic_regression"], grid="fast",
                       seed=seed)
    return run, bundle_from_run(run)


@pytest.fixture(scope="module")
def sample(sample_dir) -> pd.DataFrame:
    return pd.read_csv(sample_dir / "train.csv")[["text", "label"]]


def test_the_model_file_knows_its_training_posts_without_holding_them(sample) -> None:
    run, bundle = _train(sample.iloc[:300])
    bundle = from_bytes(to_bytes(bundle))
    assert knows_training_posts(bundle)
    assert trained_on(bundle, run.X_train["text"]).all()
    assert not trained_on(bundle, run.X_test["text"]).any()
    assert not trained_on(bundle, sample["text"].iloc[300:]).any()
    card_text = str(bundle.card)
    assert run.X_train["text"].iloc[0] not in card_text  # keys, not posts


def test_fold_models_never_score_their_own_training_posts(sample) -> None:
    train = sample.iloc[:300]
    _, bundle = _train(train)
    coded = train["text"].iloc[:120].tolist() + sample["text"].iloc[300:330].tolist()
    corpus = sample["text"].iloc[300:].tolist()
    coded_scores, corpus_scores = cross_fitted_scores(bundle, train["text"], train["label"],
                                                      coded, corpus)
    full = score_texts(bundle, coded[:120])
    labels = train["label"].iloc[:120].to_numpy()
    # the full model is over-confident on posts it trained on; the fold models are not
    assert np.abs(coded_scores[:120] - labels).mean() > np.abs(full - labels).mean()
    assert corpus_scores.shape == (len(corpus),)
    assert ((0 <= corpus_scores) & (corpus_scores <= 1)).all()
    # coded posts outside the training data are scored like corpus posts (mean of folds)
    assert coded_scores[120:] == pytest.approx(corpus_scores[:30])


def test_too_few_of_a_kind_is_a_plain_error(sample) -> None:
    train = sample.iloc[:300]
    _, bundle = _train(train)
    only_one = train[train["label"] == 1]["text"].iloc[:5].tolist()
    with pytest.raises(CorpusError, match="two coded posts of each kind"):
        cross_fitted_scores(bundle, train["text"], train["label"], only_one, ["x"])


@pytest.mark.real_data
def test_model_trained_on_the_coded_sample_still_gets_a_valid_interval(real_corpus_path) -> None:
    """The in-app loop: 200 random posts of a real corpus are coded, the model is trained on
    exactly those, and prevalence comes from the same 200 posts through cross-fitting."""
    real = pd.read_csv(real_corpus_path).rename(columns={"stigma": "label"})
    rng = np.random.default_rng(7)
    covered, widths = 0, []
    for _ in range(5):
        corpus = real.iloc[rng.choice(len(real), 829, replace=False)].reset_index(drop=True)
        index = rng.choice(len(corpus), 200, replace=False)
        coded = corpus.iloc[index]
        _, bundle = _train(coded)
        coded_scores, corpus_scores = cross_fitted_scores(
            bundle, coded["text"], coded["label"], coded["text"], corpus["text"])
        found = assisted_prevalence(corpus_scores, coded["label"], coded_scores,
                                    coded_index=index)
        truth = corpus["label"].mean()
        covered += found.ci_low <= truth <= found.ci_high
        widths.append(found.width)
    assert covered >= 4
    assert np.mean(widths) <= 0.15

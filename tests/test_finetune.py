"""The fine-tuned encoder family: it learns, it is seeded, it saves and loads exactly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from stigma_core import embeddings, finetune
from stigma_core.errors import ModelError
from stigma_core.models import FAMILIES, build_pipeline
from stigma_core.persist import ModelBundle, from_bytes, to_bytes

needs_encoder = pytest.mark.skipif(
    not embeddings.available(),
    reason="the optional embeddings extra is not installed (make installs it)")

STIGMA = ["They are dangerous and should be locked away", "People like that are weak",
          "I would keep my children away from them", "They only have themselves to blame",
          "Crazy people belong in an institution", "I would be scared to live next to them",
          "They are a burden and should just snap out of it", "I would not hire someone like that"]
SUPPORT = ["I would listen and help them find support", "Depression is an illness, not a choice",
           "I would happily have a coffee with him", "Anyone can struggle, I would be there",
           "They deserve kindness and good care", "I would check in and offer a hand",
           "It is brave to talk about your mental health", "I would welcome them as a neighbour"]


def _posts() -> tuple[pd.DataFrame, np.ndarray]:
    texts = STIGMA + SUPPORT
    return pd.DataFrame({"text": texts}), np.array([1] * len(STIGMA) + [0] * len(SUPPORT))


@needs_encoder
def test_fine_tuning_learns_the_codes_and_is_seeded() -> None:
    X, y = _posts()
    model = finetune.FineTunedClassifier(epochs=4, learning_rate=1e-4, batch_size=4,
                                         max_length=32, n_models=1, random_state=3)
    before = finetune.FineTunedClassifier(epochs=0, max_length=32, n_models=1,
                                          random_state=3).fit(X, y)
    fitted = model.fit(X, y)
    assert roc_auc_score(y, fitted.decision_function(X)) == 1.0
    assert roc_auc_score(y, before.decision_function(X)) < 1.0  # the head alone, untrained
    again = finetune.FineTunedClassifier(epochs=4, learning_rate=1e-4, batch_size=4,
                                         max_length=32, n_models=1, random_state=3).fit(X, y)
    assert np.allclose(again.decision_function(X), fitted.decision_function(X), atol=1e-5)
    proba = fitted.predict_proba(X)
    assert proba.shape == (len(y), 2) and np.allclose(proba.sum(axis=1), 1)
    assert list(fitted.predict(X)) == list(y)


@needs_encoder
def test_a_saved_model_scores_exactly_as_the_fitted_one() -> None:
    X, y = _posts()
    pipeline = build_pipeline("finetuned_minilm", [], seed=0)
    pipeline.set_params(model__epochs=1, model__max_length=32).fit(X, y)
    loaded = from_bytes(to_bytes(ModelBundle(pipeline, 0.5, {}, {}))).pipeline
    assert "_nets" not in vars(loaded.named_steps["model"])  # rebuilt from the weights
    assert np.array_equal(loaded.predict_proba(X), pipeline.predict_proba(X))
    first, second = loaded.named_steps["model"].weights_  # two networks by default
    assert not np.array_equal(first["head.weight"], second["head.weight"])
    weights = first
    assert all(isinstance(v, np.ndarray) and v.dtype == np.float32 for v in weights.values())
    assert weights["head.weight"].shape == (1, finetune.ENCODER_WIDTH)


@needs_encoder
def test_several_networks_average_their_logits() -> None:
    X, y = _posts()
    two = finetune.FineTunedClassifier(epochs=1, max_length=32, n_models=2,
                                       random_state=5).fit(X, y)
    members = two.member_logits(X)
    alone = finetune.FineTunedClassifier(epochs=1, max_length=32, n_models=1,
                                         random_state=6).fit(X, y)
    assert members.shape == (2, len(y)) and len(two.weights_) == 2
    assert np.allclose(members[1], alone.decision_function(X), atol=1e-5)  # seed 5 + 1
    assert not np.allclose(members[0], members[1])
    assert np.allclose(two.decision_function(X), members.mean(axis=0))
    with pytest.raises(ModelError, match="at least one"):
        finetune.FineTunedClassifier(n_models=0).fit(X, y)


def test_family_is_calibrated_and_searched_in_process() -> None:
    family = FAMILIES["finetuned_minilm"]
    assert family.calibration == "sigmoid" and family.in_process
    assert family.grid("fast") == {"model__epochs": [3]}


def test_one_class_and_missing_extra_are_plain_errors(monkeypatch) -> None:
    X, _ = _posts()
    monkeypatch.setattr(embeddings, "unavailable_reason", lambda *a: None)
    with pytest.raises(ModelError, match="coded both ways"):
        finetune.FineTunedClassifier().fit(X, np.ones(len(X), dtype=int))
    monkeypatch.setattr(embeddings, "unavailable_reason", lambda *a: "torch is not installed")
    with pytest.raises(ModelError, match="torch is not installed"):
        finetune.FineTunedClassifier().fit(X, np.r_[np.ones(8), np.zeros(8)])
    with pytest.raises(ModelError, match="not been trained"):
        finetune.FineTunedClassifier().predict_proba(X)


def test_schedule_warms_up_then_decays_to_zero() -> None:
    factor = finetune._warm_up_then_decay(100)
    rates = [factor(step) for step in range(100)]
    assert rates[0] == pytest.approx(0.1) and rates[9] == 1.0
    assert all(a >= b for a, b in zip(rates[9:], rates[10:], strict=False))
    assert rates[-1] == pytest.approx(1 / 90)



@needs_encoder
def test_training_says_it_is_fine_tuning_before_the_first_fold(monkeypatch) -> None:
    from stigma_core.models import Family, train_models

    quick = Family(**{**FAMILIES["finetuned_minilm"].__dict__, "make_estimator": lambda seed:
                      finetune.FineTunedClassifier(epochs=1, max_length=32, n_models=1,
                                                   random_state=seed)})
    monkeypatch.setitem(FAMILIES, "finetuned_minilm", quick)
    X, y = _posts()
    coded = pd.DataFrame({"text": list(X["text"]) * 2, "label": list(y) * 2})
    messages: list[str] = []
    run = train_models(coded, ["finetuned_minilm"], cv=2, test_size=0.25,
                       progress=lambda fraction, message: messages.append(message))
    first = next(m for m in messages if m.startswith(quick.label))
    assert first.endswith("fine-tuning on the first cross-validation fold (minutes per fold)")
    assert run.results["finetuned_minilm"].calibration in ("sigmoid", "none")

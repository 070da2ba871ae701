"""Sentence embeddings: cached per distinct text, optional, offline (real model when installed)."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from stigma_core import embeddings
from stigma_core.errors import ModelError


class CountingEncoder:
    """Stands in for the sentence model: counts calls and the texts it was given."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def encode(self, texts, **kwargs) -> np.ndarray:
        self.calls.append(list(texts))
        rows = [np.full(embeddings.DIMENSIONS, float(len(t)), dtype=np.float32) for t in texts]
        return np.asarray(rows).reshape(len(texts), embeddings.DIMENSIONS)


@pytest.fixture
def counting(monkeypatch) -> CountingEncoder:
    fake = CountingEncoder()
    monkeypatch.setattr(embeddings, "unavailable_reason", lambda *args: None)
    monkeypatch.setattr(embeddings, "_load_encoder", lambda model: fake)
    monkeypatch.setattr(embeddings, "_ENCODERS", {})
    monkeypatch.setattr(embeddings, "_CACHE", {})
    return fake


def test_each_distinct_text_is_encoded_once(counting: CountingEncoder) -> None:
    first = embeddings.embed(["a post", "another", "a post"])
    assert counting.calls == [["a post", "another"]]
    assert first.shape == (3, embeddings.DIMENSIONS) and first.dtype == np.float32
    assert np.array_equal(first[0], first[2])
    embeddings.embed(["another", "new one", None])
    assert counting.calls[1] == ["new one", ""]
    embeddings.embed(["a post", "new one"])
    assert len(counting.calls) == 2  # all cached: the model is not called
    assert embeddings.cached_count() == 4
    assert embeddings.embed([]).shape == (0, embeddings.DIMENSIONS)
    embeddings.clear_cache()
    embeddings.embed(["a post"])
    assert counting.calls[-1] == ["a post"]


def test_transformer_in_a_pipeline_uses_the_cache(counting: CountingEncoder) -> None:
    texts = pd.Series([f"post number {i % 7}" + "!" * (i % 3) for i in range(60)])
    y = np.array([i % 2 for i in range(60)])
    pipe = Pipeline([("emb", embeddings.SentenceEmbedder()), ("lr", LogisticRegression())])
    pipe.fit(texts, y)
    pipe.predict_proba(texts)
    pipe.predict_proba(texts.to_frame("text"))
    encoded = [t for call in counting.calls for t in call]
    assert sorted(encoded) == sorted(texts.unique())  # once each, however often asked
    names = embeddings.SentenceEmbedder().get_feature_names_out()
    assert names[0] == "embedding_0" and len(names) == embeddings.DIMENSIONS


def test_missing_extra_is_said_plainly(monkeypatch) -> None:
    real_find = embeddings.importlib.util.find_spec
    monkeypatch.setattr(embeddings.importlib.util, "find_spec",
                        lambda name: None if name == "torch" else real_find(name))
    reason = embeddings.unavailable_reason()
    assert "torch" in reason and "requirements-embeddings.txt" in reason
    assert not embeddings.available()
    with pytest.raises(ModelError, match="not installed"):
        embeddings.SentenceEmbedder().fit(["a"])


@pytest.mark.skipif(not embeddings.available(),
                    reason="the optional embeddings extra is not installed (make installs it)")
def test_real_model_loads_offline_and_means_something() -> None:
    vectors = embeddings.embed([
        "People with depression are dangerous and should be locked away.",
        "Depressed people are a danger to others and belong in an institution.",
        "I would happily have a coffee with him and listen.",
    ])
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert vectors.shape == (3, embeddings.DIMENSIONS)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    similar, different = vectors[0] @ vectors[1], vectors[0] @ vectors[2]
    assert similar > different + 0.2

"""Explanations: coefficient × feature value on linear models (adding up to the model's own
log-odds), occlusion on the others (the model's own probabilities with a word removed)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

from stigma_core.errors import ModelError
from stigma_core.explain import Explainer, explain_post, linear_view, log_odds, model_terms
from stigma_core.models import build_pipeline

STIGMA = ["people with schizophrenia are dangerous and violent",
          "depressed people are lazy and weak",
          "mentally ill people are dangerous, lock them up",
          "lazy attention seekers, they are weak",
          "violent psychos should be locked away",
          "keep dangerous crazy people away from children"]
OTHER = ["I got help for my depression and feel better",
         "talking to a therapist helped me a lot",
         "support your friends who struggle with anxiety",
         "mental health care should be free for everyone",
         "my sister has bipolar disorder and she is doing well",
         "kindness helps people with depression recover"]


def corpus(repeat: int = 4) -> tuple[pd.DataFrame, np.ndarray]:
    texts = (STIGMA + OTHER) * repeat
    y = np.array(([1] * len(STIGMA) + [0] * len(OTHER)) * repeat)
    return pd.DataFrame({"text": texts}), y


@pytest.fixture(scope="module")
def linear() -> Pipeline:
    X, y = corpus()
    return build_pipeline("logistic_regression", ["length", "sentiment"], 0).fit(X, y)


@pytest.fixture(scope="module")
def forest() -> Pipeline:
    X, y = corpus()
    return build_pipeline("random_forest", [], 0).fit(X, y)


def test_linear_contributions_are_coefficient_times_feature_value(linear: Pipeline) -> None:
    text = "Dangerous people, dangerous! They need help."
    explanation = explain_post(linear, text)
    assert explanation.method == "coefficients" and explanation.unit == "log-odds"
    head = linear[:-1]
    x = head.transform(pd.DataFrame({"text": [text]}))
    x = x.toarray()[0] if hasattr(x, "toarray") else np.asarray(x)[0]
    coef = linear[-1].coef_[0]
    names = list(head.get_feature_names_out())
    features = explanation.features.set_index("feature")
    for feature, row in features.iterrows():
        column = next(i for i, n in enumerate(names) if n.split("__")[-1] == feature)
        assert row["value"] == pytest.approx(x[column])
        assert row["coefficient"] == pytest.approx(coef[column])
        assert row["weight"] == pytest.approx(coef[column] * x[column])
    # every non-zero column is listed, and everything adds up to the model's own log-odds
    assert len(features) == int(np.count_nonzero(x))
    total = explanation.features["weight"].sum() + explanation.baseline
    assert total == pytest.approx(log_odds(linear.predict_proba(
        pd.DataFrame({"text": [text]}))[0, 1]), abs=1e-9)
    assert explanation.baseline == pytest.approx(linear[-1].intercept_[0])


def test_linear_word_weights_mark_the_words_that_produce_each_column(linear: Pipeline) -> None:
    text = "Dangerous people, dangerous! They need help."
    explanation = explain_post(linear, text)
    words = explanation.words.set_index("word")["weight"]
    dangerous = explanation.features.set_index("feature").loc["dangerous", "weight"]
    # the lemma "dangerous" is produced by two words: its weight is split between them
    assert words["Dangerous"] == pytest.approx(dangerous / 2)
    assert words["dangerous!"] == pytest.approx(dangerous / 2)
    assert dangerous > 0 and words["help."] < 0
    assert words["They"] == 0  # a stop word produces no column
    # engineered features are post-level: listed with no word
    kinds = explanation.features.set_index("feature")["kind"]
    assert kinds["length"] == "engineered" and kinds["dangerous"] == "word"
    top = explanation.top_words(1)
    assert top["word"].tolist() == ["dangerous"]
    assert top["weight"].iloc[0] == pytest.approx(dangerous)
    # the segments rebuild the post exactly
    assert "".join(piece for piece, _ in explanation.segments()) == text


def test_calibrated_linear_svm_and_word_char_union_read_their_coefficients() -> None:
    X, y = corpus()
    union = FeatureUnion([("word", TfidfVectorizer()),
                          ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 4)))])
    model = Pipeline([("features", ColumnTransformer([("text", union, "text")])),
                      ("model", CalibratedClassifierCV(LinearSVC(), ensemble=False, cv=3))])
    model.fit(X, y)
    explainer = Explainer(model)
    assert explainer.method == "coefficients"
    text = "lazy weak people"
    explanation = explainer.post(text)
    p = model.predict_proba(pd.DataFrame({"text": [text]}))[0, 1]
    assert explanation.features["weight"].sum() + explanation.baseline == pytest.approx(
        log_odds(p), abs=1e-9)
    kinds = set(explanation.features["kind"])
    assert kinds == {"word", "characters"}
    # the character n-grams of "lazy" belong to the word "lazy"
    lazy = explanation.features[explanation.features["words"] == "lazy"]
    assert {"lazy", " la", "laz", "azy "} <= set(lazy["feature"])
    words = explanation.words.set_index("word")["weight"]
    assert words.sum() == pytest.approx(explanation.features["weight"].sum())


def test_isotonic_calibration_is_not_read_as_linear_and_falls_back_to_occlusion() -> None:
    X, y = corpus()
    model = Pipeline([("features", ColumnTransformer([("t", TfidfVectorizer(), "text")])),
                      ("model", CalibratedClassifierCV(LogisticRegression(), method="isotonic",
                                                       ensemble=False, cv=3))]).fit(X, y)
    assert linear_view(model) is None
    assert Explainer(model).method == "occlusion"
    with pytest.raises(ModelError, match="not linear"):
        Explainer(model, method="coefficients")


def test_occlusion_weight_is_the_probability_drop_without_the_word(forest: Pipeline) -> None:
    text = "violent dangerous people should get help"
    explanation = explain_post(forest, text)
    assert explanation.method == "occlusion" and explanation.unit == "probability points"
    p_full = forest.predict_proba(pd.DataFrame({"text": [text]}))[0, 1]
    assert explanation.probability == pytest.approx(p_full)
    weights = explanation.words.set_index("word")["weight"]
    for word in ("violent", "help"):
        without = text.replace(word + " ", "").replace(" " + word, "")
        p_without = forest.predict_proba(pd.DataFrame({"text": [without]}))[0, 1]
        assert weights[word] == pytest.approx(p_full - p_without)
    # removing a stigmatising word lowers the score; removing "help" raises it
    assert weights["violent"] > 0
    assert weights["help"] < 0
    assert weights["violent"] != weights["help"]


def test_occlusion_splits_a_repeated_word_and_forcing_it_works_on_linear(
    linear: Pipeline,
) -> None:
    text = "lazy lazy weak people"
    explanation = Explainer(linear, method="occlusion").post(text)
    assert explanation.method == "occlusion"
    lazy = explanation.words[explanation.words["word"] == "lazy"]["weight"]
    p_full = explanation.probability
    p_without = linear.predict_proba(pd.DataFrame({"text": ["weak people"]}))[0, 1]
    assert lazy.tolist() == pytest.approx([(p_full - p_without) / 2] * 2)


def test_model_terms_each_way(linear: Pipeline, forest: Pipeline) -> None:
    terms = model_terms(linear, top=3)
    toward = terms[terms["direction"] == "toward"]
    away = terms[terms["direction"] == "away"]
    assert len(toward) == 3 and len(away) == 3
    assert (toward["weight"] > 0).all() and (away["weight"] < 0).all()
    assert toward["weight"].is_monotonic_decreasing
    coef = dict(zip([n.split("__")[-1] for n in linear[:-1].get_feature_names_out()],
                    linear[-1].coef_[0], strict=True))
    assert toward["weight"].iloc[0] == pytest.approx(max(
        v for k, v in coef.items() if k not in ("length", "sentiment")))
    assert "length" not in set(terms["term"])  # engineered features are not words
    with pytest.raises(ModelError, match="give some posts"):
        model_terms(forest)
    measured = model_terms(forest, top=5, texts=STIGMA + OTHER, min_posts=2)
    assert set(measured["term"]) & {"dangerous", "lazy", "weak", "violent"}
    assert (measured["n_posts"] >= 2).all()
    assert set(measured.loc[measured["direction"] == "away", "term"]) & {
        "depression", "help", "with", "and", "mental"}


def test_a_model_without_probabilities_is_refused() -> None:
    with pytest.raises(ModelError, match="no probabilities"):
        Explainer(LinearSVC())


def test_platt_calibrated_ngram_family_from_training_reads_its_coefficients() -> None:
    from stigma_core.models import train_models

    X, y = corpus(5)
    run = train_models(X.assign(label=y), ["ngrams_lr"], grid="fast", cv=3)
    model = run.results["ngrams_lr"].pipeline
    assert type(model[-1]).__name__ == "CalibratedModel"
    explainer = Explainer(model)
    assert explainer.method == "coefficients"
    text = "Violent, dangerous people need help"
    explanation = explainer.post(text)
    p = model.predict_proba(pd.DataFrame({"text": [text]}))[0, 1]
    # the n-gram columns are float32, so the sum agrees to float32 precision
    assert explanation.features["weight"].sum() + explanation.baseline == pytest.approx(
        log_odds(p), abs=1e-4)
    assert {"word", "characters"} <= set(explanation.features["kind"])
    weights = explanation.words.set_index("word")["weight"]
    assert weights["Violent,"] > 0 and weights["help"] < 0


def test_every_registry_family_can_be_explained() -> None:
    from stigma_core.models import FAMILIES

    X, y = corpus(3)
    for name, family in FAMILIES.items():
        if family.unavailable:
            continue
        model = build_pipeline(name, [], 0).fit(X, y)
        explanation = Explainer(model).post("dangerous lazy people need help")
        assert explanation.method in ("coefficients", "occlusion"), name
        assert len(explanation.words) == 5
        assert explanation.words["weight"].notna().all(), name

"""Attribution type: a multi-class model of what stigma attributes, scored per class with
author-bootstrap CIs, with and without the question topic."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from stigma_core import attribution
from stigma_core.errors import CorpusError, ModelError

WORDS = {
    "responsibility": ["their own fault", "could snap out of it", "lack willpower", "chose this"],
    "fear/dangerousness": ["dangerous", "scared of them", "violent and unpredictable",
                           "might attack"],
    "social distance": ["would not rent to them", "keep my distance", "not as a neighbour",
                        "avoid them"],
}
TOPIC = {"responsibility": "responsibility", "fear/dangerousness": "fear",
         "social distance": "social_distance"}


def fixture(authors: int = 24, seed: int = 0) -> pd.DataFrame:
    """Each author answers once per type with that type's words (in 1 of 6 answers the type
    differs from the question asked), plus one non-stigmatising answer."""
    rng = np.random.default_rng(seed)
    rows = []
    for a in range(authors):
        for kind, phrases in WORDS.items():
            text = f"I think people like that are {rng.choice(phrases)} honestly"
            topic = TOPIC[kind] if rng.random() > 1 / 6 else rng.choice(list(TOPIC.values()))
            rows.append({"text": text, "label": 1, "attribution": kind,
                         "participant": f"p{a}", "prompt_topic": topic})
        rows.append({"text": "they deserve support and kindness", "label": 0,
                     "attribution": "none", "participant": f"p{a}", "prompt_topic": "pity"})
    return pd.DataFrame(rows)


def test_coded_types_keeps_stigmatising_posts_with_a_type() -> None:
    df = fixture(4)
    df.loc[0, "label"] = 0  # coded not stigmatising: left out even with a type
    df.loc[1, "attribution"] = "  Fear/Dangerousness "
    coded = attribution.coded_types(df)
    assert len(coded) == 4 * 3 - 1
    assert "fear/dangerousness" in set(coded["attribution"])
    assert "none" not in set(coded["attribution"])
    assert attribution.type_column(df.rename(columns={"attribution": "group_attribution"})) \
        == "group_attribution"
    with pytest.raises(CorpusError, match="no attribution column"):
        attribution.coded_types(df.drop(columns="attribution"))


def test_trained_model_predicts_the_type_from_the_words() -> None:
    model = attribution.train(fixture())
    assert sorted(model.classes) == sorted(WORDS)
    posts = pd.DataFrame({"text": ["they are so dangerous and violent",
                                   "it is their own fault, they lack willpower",
                                   "I would not rent to them, keep my distance"]})
    predicted = model.predict(posts)
    assert predicted["attribution"].tolist() == [
        "fear/dangerousness", "responsibility", "social distance"]
    assert (predicted["attribution_probability"] > 1 / 3).all()


def test_cross_validated_per_class_f1_with_author_bootstrap_cis() -> None:
    scores = attribution.cross_validate(fixture(), group_col="participant", n_boot=200)
    table = scores.per_class.set_index("type")
    assert set(table.index) == set(WORDS)
    assert (table["n"] == 24).all()
    assert (table["f1"] > 0.9).all()
    assert ((table["f1_ci_low"] <= table["f1"]) & (table["f1"] <= table["f1_ci_high"])).all()
    assert scores.n_groups == 24
    macro, low, high = scores.summary["macro_f1"]
    assert low <= macro <= high and macro > 0.9


def test_scores_with_and_without_the_question_and_the_question_alone() -> None:
    scores = attribution.compare_inputs(fixture(), topic_col="prompt_topic",
                                        group_col="participant", n_boot=100)
    assert set(scores) == {"text", "text+topic", "topic"}
    topic_alone = scores["topic"].summary["accuracy"][0]
    # the question gives the type away in about 5 of 6 answers, not all
    assert 0.7 < topic_alone < 0.95
    assert scores["text"].summary["accuracy"][0] > topic_alone
    agreement = attribution.topic_agreement(fixture(), "prompt_topic")
    assert agreement == pytest.approx(topic_alone, abs=0.1)


def test_f1_and_bootstrap_by_hand() -> None:
    truth = ["a", "a", "b", "b"]
    predicted = ["a", "b", "b", "b"]
    per_class, summary = attribution.score_with_cis(truth, predicted, ["g1", "g1", "g2", "g3"],
                                                    n_boot=50)
    table = per_class.set_index("type")
    assert table.loc["a", "precision"] == 1.0 and table.loc["a", "recall"] == 0.5
    assert table.loc["a", "f1"] == pytest.approx(2 / 3)
    assert table.loc["b", "f1"] == pytest.approx(0.8)
    assert summary["accuracy"][0] == pytest.approx(0.75)
    assert summary["macro_f1"][0] == pytest.approx((2 / 3 + 0.8) / 2)


def test_too_few_posts_of_a_type_are_named_errors() -> None:
    df = fixture(4)
    with pytest.raises(ModelError, match="rarest attribution type has 4"):
        attribution.cross_validate(df)
    one_type = df[df["attribution"].isin(["anger", "responsibility", "none"])]
    with pytest.raises(ModelError, match="at least two types"):
        attribution.train(one_type)
    with pytest.raises(ModelError, match="needs the topic column"):
        attribution.cross_validate(fixture(), inputs="text+topic")

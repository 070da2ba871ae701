"""Model files (skops, trusted types only) and scoring with a loaded model."""

from __future__ import annotations

import json
import math
import os

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.model_selection import ParameterGrid, train_test_split

from stigma_core.errors import CorpusError, ModelError
from stigma_core.metrics import Estimate
from stigma_core.models import CHOICE_RULE, FAMILIES, TrainingRun, build_pipeline, train_models
from stigma_core.persist import (
    FORMAT,
    TRUSTED_TYPES,
    ModelBundle,
    bundle_from_run,
    from_bytes,
    load_model,
    save_model,
    to_bytes,
    to_plain,
)
from stigma_core.scale import score_frame, score_texts


@pytest.fixture(scope="module")
def coded(sample_dir) -> pd.DataFrame:
    df = pd.read_csv(sample_dir / "train.csv")[["text", "label"]]
    part, _ = train_test_split(df, train_size=200, stratify=df["label"], random_state=1)
    return part.reset_index(drop=True)


@pytest.fixture(scope="module")
def run(coded: pd.DataFrame) -> TrainingRun:
    return train_models(coded, ["logistic_regression", "naive_bayes"], cv=3, seed=2)


@pytest.fixture(scope="module")
def bundle(run: TrainingRun) -> ModelBundle:
    return bundle_from_run(run, card_extra={"data": "train.csv"})


def test_card_describes_the_model(run: TrainingRun, bundle: ModelBundle) -> None:
    card = bundle.card
    assert card["family"] == card["chosen_family"] == run.chosen
    assert card["families_tried"] == ["logistic_regression", "naive_bayes"]
    assert (card["data"], card["n_rows"], card["n_test"]) == ("train.csv", 200, 40)
    assert card["choice_rule"] == CHOICE_RULE
    assert card["recall_target"] == 0.9 and card["seed"] == 2
    assert card["selected_features"] == run.selected_features
    assert {"python", "scikit-learn", "numpy", "skops"} <= set(card["versions"])
    assert bundle.threshold == run.results[run.chosen].threshold
    assert bundle.metrics["auc"]["value"] == run.results[run.chosen].metrics["auc"].value
    other = bundle_from_run(run, family="logistic_regression")
    assert other.card["family"] == "logistic_regression"
    with pytest.raises(ModelError, match="was not trained"):
        bundle_from_run(run, family="knn")


def test_card_holds_out_of_fold_error_rates_at_the_threshold(run, bundle) -> None:
    result = run.results[run.chosen]
    flagged = result.oof_proba >= bundle.threshold
    positives = result.y_train == 1
    rates = bundle.card["error_rates"]
    assert rates["n_pos"] == positives.sum() and rates["n_neg"] == (~positives).sum()
    assert rates["tpr"] == pytest.approx(flagged[positives].mean())
    assert rates["fpr"] == pytest.approx(flagged[~positives].mean())


def test_a_chosen_threshold_remeasures_the_test_metrics(run) -> None:
    result = run.results["naive_bayes"]
    low = float(np.quantile(result.oof_proba, 0.05))  # flags nearly every post
    own = bundle_from_run(run, family="naive_bayes")
    chosen = bundle_from_run(run, family="naive_bayes", threshold=low,
                             card_extra={"decided_by": "advisory group"})
    assert chosen.threshold == chosen.card["threshold"] == low
    assert chosen.card["decided_by"] == "advisory group"
    flagged = (result.test_proba >= low).astype(int)
    missed = int(((run.y_test == 1) & (flagged == 0)).sum())
    assert chosen.metrics["false_negatives"]["value"] == missed
    assert chosen.metrics["predicted_positive_share"]["value"] == pytest.approx(flagged.mean())
    assert chosen.metrics["auc"]["value"] == pytest.approx(own.metrics["auc"]["value"])
    assert chosen.card["error_rates"]["tpr"] >= own.card["error_rates"]["tpr"]


def test_save_load_score_round_trip_is_identical(tmp_path, run, bundle) -> None:
    path = save_model(bundle, tmp_path / "model.skops")
    loaded = load_model(path)
    assert loaded.threshold == bundle.threshold
    assert loaded.metrics == bundle.metrics and loaded.card == bundle.card
    before = score_texts(bundle, run.X_test["text"])
    after = score_texts(loaded, run.X_test["text"])
    assert np.array_equal(before, after)
    assert np.array_equal(after, run.results[run.chosen].test_proba)
    assert from_bytes(to_bytes(bundle)).card == bundle.card


def test_every_family_saves_with_trusted_types_only(coded: pd.DataFrame) -> None:
    X, y = coded.head(120)[["text"]], coded.head(120)["label"]
    for name, family in FAMILIES.items():
        pipeline = build_pipeline(name, ["length", "sentiment"], seed=0)
        pipeline.set_params(**next(iter(ParameterGrid(family.grid("fast")))))
        pipeline.set_params(**_quick(name)).fit(X, y)
        bundle = ModelBundle(pipeline, 0.5, {}, {})
        untrusted = sio.get_untrusted_types(data=to_bytes(bundle))
        assert set(untrusted) <= set(TRUSTED_TYPES), name
        loaded = from_bytes(to_bytes(bundle))
        assert np.array_equal(
            loaded.pipeline.predict_proba(X.head(5)), pipeline.predict_proba(X.head(5))
        ), name


def _quick(name: str) -> dict[str, int]:
    """Fewer trees and one pass of fine-tuning, so the type check stays fast; the types
    saved are the same."""
    if name == "finetuned_minilm":
        return {"model__epochs": 1, "model__max_length": 32, "model__n_models": 1}
    return {"model__n_estimators": 5} if name in ("random_forest", "gradient_boosting") else {}


def test_untrusted_type_in_a_model_file_is_refused(tmp_path) -> None:
    payload = {"format": FORMAT, "format_version": 1, "pipeline": os.system, "meta": "{}"}
    path = tmp_path / "evil.skops"
    path.write_bytes(sio.dumps(payload))
    assert any("system" in t for t in sio.get_untrusted_types(file=path))
    with pytest.raises(ModelError, match="does not trust"):
        load_model(path)


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"this is a csv file, not a model", "not a Stigma Lens model"),
        (sio.dumps({"weights": [1, 2, 3]}), "no Stigma Lens model inside"),
    ],
)
def test_not_a_model_file_is_a_plain_error(tmp_path, content, match) -> None:
    path = tmp_path / "model.skops"
    path.write_bytes(content)
    with pytest.raises(ModelError, match=match):
        load_model(path)


def test_truncated_model_file_is_a_plain_error(bundle) -> None:
    data = to_bytes(bundle)
    with pytest.raises(ModelError, match="damaged"):
        from_bytes(data[: len(data) // 2])


def test_missing_model_file(tmp_path) -> None:
    with pytest.raises(ModelError, match="no model file"):
        load_model(tmp_path / "nowhere.skops")


def test_to_plain_makes_json_ready_values() -> None:
    plain = to_plain({"auc": Estimate(np.float64(0.8), math.nan, 0.9, np.int64(10)), "x": (1,)})
    assert plain == {"auc": {"value": 0.8, "ci_low": None, "ci_high": 0.9, "n": 10}, "x": [1]}
    assert type(plain["auc"]["n"]) is int


class _CountingModel:
    """A stand-in pipeline that records what it was asked to score."""

    classes_ = np.array([0, 1])

    def __init__(self) -> None:
        self.batches: list[list[str]] = []

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        self.batches.append(frame["text"].tolist())
        p = np.array([len(t) / 10 for t in frame["text"]])
        return np.c_[1 - p, p]


def test_score_texts_scores_each_distinct_text_once_in_chunks() -> None:
    model = _CountingModel()
    bundle = ModelBundle(model, 0.5, {}, {})
    seen: list[float] = []
    texts = ["abc", "abcdefgh", "abc", "abc", None, "   ", "abcdefgh", "a"]
    proba = score_texts(bundle, texts, chunk_size=2, progress=lambda f, m: seen.append(f))
    assert model.batches == [["abc", "abcdefgh"], ["a"]]
    assert seen == [pytest.approx(2 / 3), 1.0]
    assert np.allclose(proba[[0, 1, 2, 3, 6, 7]], [0.3, 0.8, 0.3, 0.3, 0.8, 0.1])
    assert np.isnan(proba[[4, 5]]).all()


def test_score_frame_adds_columns_and_keeps_the_rest(run, bundle) -> None:
    df = pd.DataFrame({"post": run.X_test["text"], "country": "GB"})
    scored = score_frame(bundle, df, "post")
    assert list(scored.columns) == ["post", "country", "stigma_probability", "stigma_predicted"]
    assert scored["stigma_predicted"].dtype == np.int64
    expected = (scored["stigma_probability"] >= bundle.threshold).astype(int)
    assert (scored["stigma_predicted"] == expected).all()
    assert "stigma_probability" not in df.columns
    with pytest.raises(CorpusError, match="no column called 'text'"):
        score_frame(bundle, df)


def test_score_frame_leaves_rows_without_text_unscored(bundle) -> None:
    scored = score_frame(bundle, pd.DataFrame({"text": ["they are dangerous", None]}))
    assert scored["stigma_predicted"].dtype == "Int64"
    assert scored["stigma_predicted"].isna().tolist() == [False, True]
    assert 0 <= scored["stigma_probability"][0] <= 1


def _crafted(fitted: object, **changes: object) -> bytes:
    """A model file as Stigma Lens writes it, with ``changes`` to its top level (None: drop)."""
    meta = {"threshold": 0.4, "metrics": {}, "card": {"family": "naive_bayes"}}
    payload = {"format": FORMAT, "format_version": 1, "pipeline": fitted,
               "meta": json.dumps(meta)}
    for key, value in changes.items():
        if value is None:
            payload.pop(key)
        else:
            payload[key] = value
    return sio.dumps(payload)


def _meta(**fields: object) -> str:
    """Metadata JSON text with ``fields`` changed (a value of ... drops the field)."""
    meta = {"threshold": 0.4, "metrics": {}, "card": {"family": "naive_bayes"}}
    meta.update(fields)
    return json.dumps({k: v for k, v in meta.items() if v is not ...})


BAD_FILES = [
    ({"meta": _meta(threshold=float("nan"))}, "threshold is nan, not a finite number"),
    ({"meta": _meta(threshold=float("inf"))}, "threshold is inf, not a finite number"),
    ({"meta": _meta(threshold="0.5")}, "threshold is '0.5', not a number"),
    ({"meta": _meta(threshold=True)}, "threshold is True, not a number"),
    ({"meta": _meta(threshold=None)}, "threshold is None, not a number"),
    ({"meta": _meta(threshold=1.5)}, "threshold is 1.5, outside 0 to 1"),
    ({"meta": _meta(threshold=-0.1)}, "threshold is -0.1, outside 0 to 1"),
    ({"meta": _meta(threshold=...)}, "lacks 'threshold'"),
    ({"meta": _meta(card=..., metrics=...)}, "lacks 'metrics', 'card'"),
    ({"meta": _meta(card=["a list"])}, "'card' is a list, not a JSON object"),
    ({"meta": _meta(metrics="none")}, "'metrics' is a str, not a JSON object"),
    ({"meta": None}, r"metadata \('meta'\) is missing"),
    ({"meta": "{threshold: 0.5"}, "not valid JSON"),
    ({"meta": "[0.5]"}, "not a JSON object"),
    ({"meta": 0.5}, "is a float, not JSON text"),
    ({"format_version": 2}, "format version 2.*newer Stigma Lens"),
    ({"format_version": "1"}, "format version is '1', not a whole number"),
    ({"format_version": None}, "format version is None"),
    ({"pipeline": None}, "'pipeline' is missing"),
]


@pytest.mark.parametrize(("changes", "words"), BAD_FILES)
def test_bad_model_metadata_is_one_plain_model_error(tmp_path, bundle, changes, words) -> None:
    path = tmp_path / "bad.skops"
    path.write_bytes(_crafted(bundle.pipeline, **changes))
    with pytest.raises(ModelError, match=words) as info:
        load_model(path)
    assert "Traceback" not in str(info.value)
    with pytest.raises(ModelError, match=words):
        from_bytes(path.read_bytes())


def test_crafted_good_file_loads(bundle) -> None:
    loaded = from_bytes(_crafted(bundle.pipeline))
    assert loaded.threshold == 0.4 and loaded.card == {"family": "naive_bayes"}
    assert from_bytes(_crafted(bundle.pipeline, meta=_meta(threshold=1))).threshold == 1.0


@pytest.mark.parametrize("threshold", [float("nan"), 1.5, -1.0, None])
def test_a_bundle_with_a_bad_threshold_is_not_saved(tmp_path, bundle, threshold) -> None:
    bad = ModelBundle(bundle.pipeline, threshold, bundle.metrics, bundle.card)
    with pytest.raises(ModelError, match="cannot be saved"):
        save_model(bad, tmp_path / "bad.skops")
    assert not (tmp_path / "bad.skops").exists()

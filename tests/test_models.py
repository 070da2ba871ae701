"""Training, comparing and choosing models (fast grids, small data)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.model_selection import ParameterGrid, train_test_split

from stigma_core.errors import CorpusError, ModelError
from stigma_core.features import FEATURE_NAMES
from stigma_core.metrics import METRIC_NAMES, Estimate
from stigma_core.models import (
    FAMILIES,
    PAPER_FAMILIES,
    PAPER_SET,
    Densify,
    Family,
    ModelResult,
    TrainingRun,
    build_pipeline,
    train_models,
)

FLAG_EVERYTHING = Family(
    "flag_everything",
    "Flags every post",
    lambda seed: DummyClassifier(strategy="constant", constant=1),
)


def _subset(df: pd.DataFrame, n: int, seed: int = 0) -> pd.DataFrame:
    """A stratified subset of ``n`` rows."""
    part, _ = train_test_split(df, train_size=n, stratify=df["label"], random_state=seed)
    return part.reset_index(drop=True)


@pytest.fixture(scope="module")
def coded(sample_dir) -> pd.DataFrame:
    df = pd.read_csv(sample_dir / "train.csv")
    return _subset(df[["text", "label"]], 300)


@pytest.fixture(scope="module")
def run(coded: pd.DataFrame) -> TrainingRun:
    calls: list[tuple[float, str]] = []
    result = train_models(
        coded,
        ["logistic_regression", "naive_bayes", FLAG_EVERYTHING],
        progress=lambda f, m: calls.append((f, m)),
    )
    result.progress_calls = calls  # type: ignore[attr-defined]
    return result


def test_families_and_grids_follow_the_paper() -> None:
    paper = [
        "random_forest",
        "gradient_boosting",
        "knn",
        "naive_bayes",
        "svm_rbf",
        "svm_linear",
        "svm_sigmoid",
        "svm_poly",
    ]
    assert list(PAPER_FAMILIES) == paper
    assert list(PAPER_SET) == [*paper, "logistic_regression"]
    assert list(FAMILIES)[:9] == list(PAPER_SET)
    assert list(FAMILIES)[9:] == ["ngrams_lr", "ngrams_svm", "embeddings_lr", "stacked",
                                  "stacked_two_encoders", "finetuned_minilm",
                                  "multilingual_lr"]
    assert all(FAMILIES[name].calibration == "none" for name in PAPER_SET)
    assert all(FAMILIES[name].make_features is None for name in PAPER_SET)
    sizes = {name: len(ParameterGrid(f.grid("paper"))) for name, f in FAMILIES.items()}
    assert sizes["random_forest"] == sizes["gradient_boosting"] == 4 * 5
    assert sizes["knn"] == 25 and sizes["naive_bayes"] == 10
    assert sizes["svm_rbf"] == sizes["svm_poly"] == sizes["svm_sigmoid"] == 8
    assert sizes["svm_linear"] == 4
    assert all(1 <= len(ParameterGrid(f.grid("fast"))) <= 3 for f in FAMILIES.values())
    assert all(key.startswith("model__") for key in FAMILIES["knn"].grid("paper"))
    with pytest.raises(ModelError, match="fast"):
        FAMILIES["knn"].grid("huge")


def test_build_pipeline_branches() -> None:
    nb = build_pipeline("naive_bayes", ["sentiment", "length"])
    features = nb.named_steps["features"]
    assert [name for name, *_ in features.transformers] == ["tfidf", "engineered"]
    assert isinstance(nb.named_steps["model"].named_steps["dense"], Densify)
    plain = build_pipeline("logistic_regression", [])
    assert [name for name, *_ in plain.named_steps["features"].transformers] == ["tfidf"]
    vec = plain.named_steps["features"].transformers[0][1].named_steps["vec"]
    assert (vec.smooth_idf, vec.sublinear_tf, vec.min_df) == (False, False, 1)
    with pytest.raises(ModelError, match="Unknown model family"):
        build_pipeline("deep_magic", [])


def test_densify_turns_sparse_into_dense() -> None:
    from scipy import sparse

    dense = Densify().fit_transform(sparse.csr_matrix(np.eye(3)))
    assert isinstance(dense, np.ndarray)
    assert np.array_equal(dense, np.eye(3))


def test_training_run_contents(run: TrainingRun, coded: pd.DataFrame) -> None:
    assert list(run.results) == ["logistic_regression", "naive_bayes", "flag_everything"]
    assert run.n_train == 240 and len(run.y_test) == len(run.X_test) == 60
    assert run.y_test.mean() == pytest.approx(coded["label"].mean(), abs=0.02)  # stratified
    assert set(run.selected_features) <= set(FEATURE_NAMES) and run.selected_features
    assert list(run.feature_table.index) == list(FEATURE_NAMES)
    for result in run.results.values():
        assert result.test_proba.shape == (60,)
        assert ((result.test_proba >= 0) & (result.test_proba <= 1)).all()
        assert result.oof_proba.shape == (240,)
        assert set(result.metrics) == set(METRIC_NAMES)
        oof_recall = (result.oof_proba[result.y_train == 1] >= result.threshold).mean()
        assert oof_recall >= run.recall_target
        assert result.fit_seconds > 0
    assert run.results["logistic_regression"].best_params["C"] in (1, 10)
    assert run.results["logistic_regression"].metrics["auc"].value > 0.6


def test_threshold_metrics_are_computed_at_the_threshold(run: TrainingRun) -> None:
    result = run.results["logistic_regression"]
    missed = int(((result.test_proba < result.threshold) & (run.y_test == 1)).sum())
    alarms = int(((result.test_proba >= result.threshold) & (run.y_test == 0)).sum())
    assert result.metrics["false_negatives"].value == missed
    assert result.metrics["false_positives"].value == alarms


def test_flag_everything_is_never_chosen(run: TrainingRun) -> None:
    flagger = run.results["flag_everything"]
    assert flagger.flags_everything
    assert flagger.metrics["false_negatives"].value == 0  # it wins a naive FN ranking...
    assert run.table("false_negatives")["family"].iloc[0] == "flag_everything"
    assert run.chosen != "flag_everything"  # ...but never the choice
    real = [run.results[f] for f in ("logistic_regression", "naive_bayes")]
    assert run.chosen == min(real, key=lambda r: (r.oof_false_positives, -r.oof_auc)).family
    assert run.table()["chosen"].sum() == 1


def _result(name: str, oof: list[float], threshold: float) -> ModelResult:
    nan = Estimate(float("nan"), float("nan"), float("nan"), 0)
    return ModelResult(
        family=name,
        label=name,
        pipeline=None,
        best_params={},
        test_proba=np.array([]),
        oof_proba=np.array(oof),
        y_train=np.array([0, 0, 0, 1, 1, 1]),
        threshold=threshold,
        metrics=dict.fromkeys(METRIC_NAMES, nan),
        fit_seconds=0.0,
    )


def _hand_run(*results: ModelResult) -> TrainingRun:
    return TrainingRun(
        results={r.family: r for r in results},
        feature_table=pd.DataFrame(),
        selected_features=[],
        notes=[],
        seed=0,
        recall_target=0.6,
        grid="fast",
        X_test=pd.DataFrame({"text": []}),
        y_test=np.array([]),
        n_train=6,
    )


def test_choice_rule_on_hand_built_results() -> None:
    everything = _result("everything", [1.0] * 6, 1.0)  # 3 false alarms, AUC 0.5
    backwards = _result("backwards", [0.9, 0.8, 0.7, 0.6, 0.5, 0.1], 0.5)  # 3 alarms, AUC 0
    assert backwards.oof_false_positives == everything.oof_false_positives == 3
    assert _hand_run(everything, backwards).chosen == "backwards"
    one_alarm = _result("one_alarm", [0.1, 0.2, 0.8, 0.7, 0.9, 0.95], 0.7)  # AUC 8/9
    tied = _result("tied", [0.1, 0.2, 0.8, 0.7, 0.75, 0.95], 0.7)  # 1 alarm, AUC 7/9
    assert one_alarm.oof_auc > tied.oof_auc
    assert _hand_run(everything, tied, one_alarm, backwards).chosen == "one_alarm"
    clean = _result("clean", [0.1, 0.2, 0.3, 0.6, 0.7, 0.8], 0.6)
    assert _hand_run(one_alarm, clean).chosen == "clean"


def test_table_ranking(run: TrainingRun) -> None:
    by_fn = run.table()
    assert list(by_fn.columns[:5]) == ["family", "label", "auc", "auc_ci_low", "auc_ci_high"]
    assert by_fn["false_negatives"].is_monotonic_increasing
    assert run.table("auc")["auc"].is_monotonic_decreasing
    assert run.table("false_positives")["false_positives"].is_monotonic_increasing
    assert {"threshold", "fit_seconds", "oof_false_positives", "chosen"} <= set(by_fn.columns)
    with pytest.raises(ModelError, match="Cannot rank"):
        run.table("vibes")


def test_progress_is_reported_per_family_and_per_fit(run: TrainingRun) -> None:
    calls = run.progress_calls  # type: ignore[attr-defined]
    fractions = [f for f, _ in calls]
    assert len([m for _, m in calls if m.startswith("Training ")]) == 3
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert "Logistic regression" in calls[0][1]
    assert len([m for _, m in calls if ", fold " in m]) >= 3 * 5  # after every fit


def test_same_seed_same_model(coded: pd.DataFrame) -> None:
    small = _subset(coded, 150)
    first = train_models(small, ["logistic_regression"], seed=3, cv=3)
    again = train_models(small, ["logistic_regression"], seed=3, cv=3)
    a, b = first.results["logistic_regression"], again.results["logistic_regression"]
    assert np.array_equal(a.test_proba, b.test_proba)
    assert np.array_equal(a.oof_proba, b.oof_proba)
    assert a.metrics == b.metrics


def test_rows_without_label_are_left_out_with_a_note(coded: pd.DataFrame) -> None:
    df = _subset(coded, 120).astype({"label": float})
    df.loc[:9, "label"] = np.nan
    run = train_models(df, ["logistic_regression"], cv=3)
    assert run.n_train + len(run.y_test) == 110
    assert any("10 rows" in note for note in run.notes)


@pytest.mark.parametrize(
    ("frame", "error", "match"),
    [
        (pd.DataFrame({"text": ["a", "b"]}), CorpusError, "'label'"),
        (pd.DataFrame({"text": ["a", "b", "c"], "label": [1, 1, 1]}), CorpusError, "same code"),
        (pd.DataFrame({"text": ["a", "b"], "label": [1, "maybe"]}), CorpusError, "maybe"),
        (
            pd.DataFrame({"text": [f"post {i}" for i in range(40)], "label": [1] * 3 + [0] * 37}),
            ModelError,
            "Only 3 posts",
        ),
    ],
)
def test_bad_training_requests_raise_plain_errors(frame, error, match) -> None:
    with pytest.raises(error, match=match):
        train_models(frame, ["logistic_regression"])


def test_bad_options_raise_model_errors(coded: pd.DataFrame) -> None:
    with pytest.raises(ModelError, match="Unknown model family"):
        train_models(coded, ["perceptron"])
    with pytest.raises(ModelError, match="grid"):
        train_models(coded, ["knn"], grid="huge")
    with pytest.raises(ModelError, match="recall target"):
        train_models(coded, ["knn"], recall_target=0)
    with pytest.raises(ModelError, match="at least one"):
        train_models(coded, [])


@pytest.mark.real_data
def test_logistic_regression_on_real_interview_corpus(real_corpus_path) -> None:
    """600 stratified rows of MHStigmaInterview; measured (seed 0): test AUC 0.763, recall 0.93."""
    df = pd.read_csv(real_corpus_path).rename(columns={"stigma": "label"})
    run = train_models(_subset(df[["text", "label"]], 600), ["logistic_regression"], seed=0)
    result = run.results["logistic_regression"]
    assert result.metrics["auc"].value > 0.7
    assert result.metrics["recall"].value > 0.7


# --- The stronger families: n-grams, sentence embeddings (faked here), the stacked ensemble ---


class _HashEncoder:
    """A stand-in for the sentence model: a fixed random vector per word, averaged, so
    posts sharing words are alike; counts its calls and the texts it encoded."""

    def __init__(self) -> None:
        self.calls = 0
        self.texts: list[str] = []

    def encode(self, texts, **kwargs) -> np.ndarray:
        from stigma_core.embeddings import DIMENSIONS

        self.calls += 1
        self.texts.extend(texts)
        rows = []
        for text in texts:
            vec = np.zeros(DIMENSIONS)
            for word in str(text).lower().split():
                seed = int.from_bytes(word.encode()[:8].ljust(8, b"\0"), "little") % 2**32
                vec += np.random.default_rng(seed).normal(size=DIMENSIONS)
            rows.append(vec / (np.linalg.norm(vec) or 1.0))
        return np.asarray(rows, dtype=np.float32)


@pytest.fixture
def fake_embeddings(monkeypatch) -> _HashEncoder:
    from stigma_core import embeddings

    fake = _HashEncoder()
    monkeypatch.setattr(embeddings, "unavailable_reason", lambda *args: None)
    monkeypatch.setattr(embeddings, "_load_encoder", lambda model: fake)
    monkeypatch.setattr(embeddings, "_ENCODERS", {})
    monkeypatch.setattr(embeddings, "_CACHE", {})
    for name in ("embeddings_lr", "stacked", "stacked_two_encoders"):
        family = FAMILIES[name]
        monkeypatch.setitem(FAMILIES, name, Family(**{**family.__dict__, "requires": None}))
    return fake


def test_stronger_families_fit_predict_and_calibrate(coded: pd.DataFrame,
                                                     fake_embeddings: _HashEncoder) -> None:
    from stigma_core.calibration import CalibratedModel
    from stigma_core.models import NgramEmbeddingStack

    names = ["ngrams_lr", "ngrams_svm", "embeddings_lr", "stacked"]
    run = train_models(coded, names, cv=3)
    assert list(run.results) == names
    for name, result in run.results.items():
        assert result.test_proba.shape == (60,) and result.oof_proba.shape == (240,)
        assert ((result.test_proba > 0) & (result.test_proba < 1)).all()
        recall = (result.oof_proba[result.y_train == 1] >= result.threshold).mean()
        assert recall >= 0.9, name
        # the saved pipeline gives exactly the test probabilities
        again = result.pipeline.predict_proba(run.X_test)[:, 1]
        assert np.allclose(again, result.test_proba)
        assert 0 <= result.brier.value <= 0.25 + 0.1
    # the sample data's words carry the label: n-gram models learn it well
    assert run.results["ngrams_lr"].metrics["auc"].value > 0.7
    assert run.results["ngrams_svm"].metrics["auc"].value > 0.7
    # Platt-calibrated families are wrapped; the stack calibrates itself
    assert run.results["ngrams_lr"].calibration == "sigmoid"
    assert isinstance(run.results["ngrams_lr"].pipeline.named_steps["model"], CalibratedModel)
    assert isinstance(run.results["stacked"].pipeline.named_steps["model"],
                      NgramEmbeddingStack)
    features = run.results["ngrams_svm"].pipeline.named_steps["features"]
    assert [name for name, *_ in features.transformers] == ["words", "chars"]
    # every distinct post was encoded once, however many folds and families used it
    assert len(fake_embeddings.texts) == len(set(fake_embeddings.texts))
    assert len(set(fake_embeddings.texts)) == coded["text"].nunique()


def test_calibration_keeps_the_ranking_and_can_be_switched_off(coded: pd.DataFrame) -> None:
    small = _subset(coded, 200)
    raw = train_models(small, ["logistic_regression"], cv=3, calibration="none")
    platt = train_models(small, ["logistic_regression"], cv=3, calibration="sigmoid")
    a, b = raw.results["logistic_regression"], platt.results["logistic_regression"]
    assert a.calibration == "none" and b.calibration == "sigmoid"
    assert not np.allclose(a.test_proba, b.test_proba)
    assert np.array_equal(np.argsort(a.test_proba, kind="stable"),
                          np.argsort(b.test_proba, kind="stable"))
    assert a.metrics["auc"].value == pytest.approx(b.metrics["auc"].value)
    assert a.oof_false_positives == b.oof_false_positives  # same posts flagged on CV
    with pytest.raises(ModelError, match="calibration"):
        train_models(small, ["logistic_regression"], calibration="magic")


def test_unavailable_family_is_refused_in_plain_words(monkeypatch, coded) -> None:
    from stigma_core import models

    family = FAMILIES["embeddings_lr"]
    blocked = Family(**{**family.__dict__, "requires": lambda: "torch is not installed"})
    monkeypatch.setitem(FAMILIES, "embeddings_lr", blocked)
    assert models.unavailable_families() == {"embeddings_lr": "torch is not installed"}
    assert "embeddings_lr" not in models.available_families()
    with pytest.raises(ModelError, match="cannot be trained here: torch is not installed"):
        train_models(coded, ["embeddings_lr"])


def test_recommended_set_falls_back_without_embeddings(monkeypatch) -> None:
    from stigma_core import models

    assert models.RECOMMENDED == ("ngrams_svm", "embeddings_lr", "stacked")
    for name in ("embeddings_lr", "stacked"):
        family = FAMILIES[name]
        monkeypatch.setitem(FAMILIES, name,
                            Family(**{**family.__dict__, "requires": lambda: "missing"}))
    assert models.recommended_families() == ["ngrams_lr", "ngrams_svm"]


def test_stack_combines_blocks_and_saves_safely(coded: pd.DataFrame,
                                                fake_embeddings: _HashEncoder) -> None:
    from stigma_core.persist import bundle_from_run, from_bytes, to_bytes

    run = train_models(coded, ["stacked"], cv=3)
    stack = run.results["stacked"].pipeline.named_steps["model"]
    assert len(stack.members_) == 2 and stack.combiner_.coef_.shape == (1, 2)
    bundle = from_bytes(to_bytes(bundle_from_run(run)))
    again = bundle.pipeline.predict_proba(run.X_test)[:, 1]
    assert np.allclose(again, run.results["stacked"].test_proba)


def test_two_encoder_stack_reads_each_block_with_its_own_member(
        coded: pd.DataFrame, fake_embeddings: _HashEncoder) -> None:
    from sklearn.svm import SVC, LinearSVC

    from stigma_core.persist import bundle_from_run, from_bytes, to_bytes

    run = train_models(coded, ["stacked_two_encoders"], cv=3)
    stack = run.results["stacked_two_encoders"].pipeline.named_steps["model"]
    kinds = [type(m) for m in stack.members_]
    assert kinds == [LinearSVC, SVC, SVC] and stack.combiner_.coef_.shape == (1, 3)
    # each SVM saw 384 columns: its own encoder's block, not both
    assert [m.shape_fit_[1] for m in stack.members_[1:]] == [384, 384]
    features = run.results["stacked_two_encoders"].pipeline.named_steps["features"]
    assert [name for name, *_ in features.transformers] == ["words", "chars", "embeddings",
                                                            "multilingual"]
    bundle = from_bytes(to_bytes(bundle_from_run(run)))
    again = bundle.pipeline.predict_proba(run.X_test)[:, 1]
    assert np.allclose(again, run.results["stacked_two_encoders"].test_proba)


def test_stack_files_from_before_the_rbf_head_still_load(coded: pd.DataFrame,
                                                         fake_embeddings: _HashEncoder) -> None:
    """A stack saved before ``embedding_blocks``/``embedding_kernel`` existed has neither
    attribute; it loads as the one-block, logistic-regression stack it was."""
    import skops.io

    from stigma_core.models import NgramEmbeddingStack
    from stigma_core.persist import TRUSTED_TYPES

    old = NgramEmbeddingStack(embedding_kernel="linear")
    X = np.random.default_rng(0).normal(size=(80, 390))
    y = np.arange(80) % 2
    old.fit(X, y)
    expected = old.predict_proba(X)
    del old.embedding_blocks, old.embedding_kernel
    loaded = skops.io.loads(skops.io.dumps(old),
                            trusted=[*TRUSTED_TYPES, "numpy.dtype"])
    params = loaded.get_params()
    assert (params["embedding_blocks"], params["embedding_kernel"]) == (1, "linear")
    assert np.array_equal(loaded.predict_proba(X), expected)


def test_a_tiny_test_set_is_called_too_small_to_read() -> None:
    """Six test posts gave 'AUC 1 (1 to 1)' in a user walk with no word of warning."""
    from dataclasses import replace

    from stigma_core.models import MIN_TEST_CLASS

    run = _hand_run(_result("one", [0.1, 0.9, 0.2, 0.8, 0.3, 0.7], 0.5))
    tiny = replace(run, y_test=np.array([1, 0, 1, 0, 1, 0]))
    assert "only 6 posts (3 stigmatising, 3 not)" in tiny.small_test_warning()
    enough = replace(run, y_test=np.array([1, 0] * MIN_TEST_CLASS))
    assert enough.small_test_warning() is None


def test_the_ngram_svm_gives_the_same_probabilities_on_every_fit() -> None:
    """Its liblinear solver shuffles posts: unseeded, two fits differed by ~1e-5."""
    rng = np.random.default_rng(1)
    words = np.array("they are weak crazy dangerous brave kind therapy helped me lazy".split())
    texts = [" ".join(rng.choice(words, 8)) for _ in range(120)]
    y = np.array([int(("weak" in t) or ("crazy" in t)) for t in texts])
    X = pd.DataFrame({"text": texts})
    first, second = (build_pipeline("ngrams_svm", [], seed=3).fit(X, y).predict_proba(X)
                     for _ in range(2))
    assert np.array_equal(first, second)

"""``python -m stigma_core train|score`` end to end on the sample data, and its errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from stigma_core.cli import main, report_path
from stigma_core.export import formula_safe
from stigma_core.persist import load_model
from stigma_core.privacy import mask_series

REPO = Path(__file__).resolve().parents[1]
FAMILIES = "logistic_regression,naive_bayes"


def _cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """Run the command line in a fresh Python, as a user would."""
    command = [sys.executable, "-m", "stigma_core", *map(str, args)]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def trained(tmp_path_factory, sample_dir) -> Path:
    model = tmp_path_factory.mktemp("cli") / "model.skops"
    done = _cli(
        "train", "--data", sample_dir / "train.csv", "--text-col", "text",
        "--label-col", "label", "--out", model, "--models", FAMILIES, "--seed", "1",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert "[100%]" in done.stderr  # progress goes to stderr
    return model


def test_train_writes_model_and_report(trained: Path) -> None:
    assert trained.is_file()
    report = json.loads(report_path(trained).read_text(encoding="utf-8"))
    assert report_path(trained).name == "model.metrics.json"
    assert set(report["models"]) == set(FAMILIES.split(","))
    assert report["chosen"] in report["models"]
    assert report["rule"].startswith("Each model's threshold")
    for model in report["models"].values():
        auc = model["test_metrics"]["auc"]
        assert auc["ci_low"] <= auc["value"] <= auc["ci_high"]
        assert set(model["test_metrics"]) >= {"false_negatives", "false_positives", "kappa"}
    assert len(report["feature_tests"]) == 10
    assert report["selected_features"]
    assert report["load_report"]["n_kept"] > 0
    card = load_model(trained).card
    assert card["family"] == report["chosen"] and card["data"] == "train.csv"


@pytest.mark.parametrize(
    ("source", "suffix"), [("corpus.csv", ".csv"), ("validation_batch_1.csv", ".parquet")]
)
def test_score_writes_input_rows_plus_scores(trained, tmp_path, sample_dir, source, suffix) -> None:
    out = tmp_path / f"scored{suffix}"
    done = _cli(
        "score",
        "--model",
        trained,
        "--data",
        sample_dir / source,
        "--text-col",
        "text",
        "--out",
        out,
    )
    assert done.returncode == 0, done.stderr
    original = pd.read_csv(sample_dir / source)
    scored = pd.read_csv(out) if suffix == ".csv" else pd.read_parquet(out)
    assert list(scored.columns) == [*original.columns, "stigma_probability", "stigma_predicted"]
    assert scored["id"].tolist() == original["id"].tolist()
    has_score = scored["stigma_probability"].notna()
    assert has_score.sum() >= len(scored) - 10
    proba = scored.loc[has_score, "stigma_probability"]
    assert ((proba >= 0) & (proba <= 1)).all()
    threshold = load_model(trained).threshold
    predicted = scored.loc[has_score, "stigma_predicted"].astype(int)
    assert (predicted == (proba >= threshold).astype(int)).all()
    assert 0 < predicted.mean() < 1
    masked = original[["text"]].assign(text=mask_series(original["text"]))
    if suffix == ".csv":  # a spreadsheet format: "@user ..." is kept from running as a formula
        masked = formula_safe(masked)
    pd.testing.assert_series_equal(scored["text"], masked["text"])


def test_score_no_mask_keeps_the_posts_as_they_are(trained, tmp_path, sample_dir) -> None:
    source = sample_dir / "corpus.csv"
    out = tmp_path / "scored.parquet"
    done = _cli("score", "--model", trained, "--data", source, "--text-col", "text",
                "--out", out, "--no-mask")
    assert done.returncode == 0, done.stderr
    original = pd.read_csv(source)["text"]
    written = pd.read_parquet(out)["text"]
    assert original.str.contains("@").sum() > 100  # the sample has handles to mask
    pd.testing.assert_series_equal(written, original)


PROFILES = pd.DataFrame({
    "id": ["p1", "p2", "p3"],
    "text": ['"=3+3" is what @amy typed', "people like that are dangerous", "  =HYPERLINK(x)"],
    "author": ["@bob_smith", "carol", "@dan"],
    "location": ["@home, https://maps.example/x", "ring 020 7946 0000", "London"],
    "bio": ["erin@example.org", "www.erin.example", "+44 20 7946 0000"],
    "notes": ["met @frank", "-1+cmd", "fine"],
    "score": [-1.5, 2.25, -3.0],
    "count": [-2, 1, 2024],
})
LEAKS = ("amy", "bob_smith", "@dan", "maps.example", "7946", "erin", "frank")


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_score_masks_every_column_and_keeps_numbers(trained, tmp_path, suffix) -> None:
    source = tmp_path / "profiles.csv"
    PROFILES.to_csv(source, index=False)
    out = tmp_path / f"scored{suffix}"
    done = _cli("score", "--model", trained, "--data", source, "--text-col", "text",
                "--out", out)
    assert done.returncode == 0, done.stderr
    if suffix == ".csv":
        written = pd.read_csv(out, dtype=str, keep_default_na=False)
    else:
        written = pd.read_excel(out, dtype=str, keep_default_na=False)
    cells = written.to_numpy().ravel().tolist()
    for leak in LEAKS:
        assert not any(leak in cell for cell in cells), leak
    assert written["author"].tolist() == ["'@user", "carol", "'@user"]
    assert written["location"].tolist() == ["'@user, <url>", "ring <phone>", "London"]
    assert written["bio"].tolist() == ["<email>", "<url>", "<phone>"]
    assert written["text"].tolist()[::2] == ["'\"=3+3\" is what @user typed",
                                             "'  =HYPERLINK(x)"]
    assert written["notes"].tolist() == ["met @user", "'-1+cmd", "fine"]
    assert written["score"].tolist() == ["-1.5", "2.25", "-3.0"]  # numbers stay numbers
    assert written["count"].tolist() == ["-2", "1", "2024"]


def test_score_no_mask_keeps_every_column_but_stays_formula_safe(trained, tmp_path) -> None:
    source = tmp_path / "profiles.csv"
    PROFILES.to_csv(source, index=False)
    out = tmp_path / "scored.csv"
    done = _cli("score", "--model", trained, "--data", source, "--text-col", "text",
                "--out", out, "--no-mask")
    assert done.returncode == 0, done.stderr
    written = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert written["bio"].tolist() == ["erin@example.org", "www.erin.example",
                                       "'+44 20 7946 0000"]  # not a plain number: quoted
    assert written["author"].tolist() == ["'@bob_smith", "carol", "'@dan"]
    assert written["score"].tolist() == ["-1.5", "2.25", "-3.0"]


def test_bad_column_name_is_one_clear_line_and_exit_2(trained, tmp_path, sample_dir) -> None:
    out = tmp_path / "scored.csv"
    done = _cli(
        "score",
        "--model",
        trained,
        "--data",
        sample_dir / "corpus.csv",
        "--text-col",
        "post",
        "--out",
        out,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].startswith("error: ")
    assert "'post'" in done.stderr and "Traceback" not in done.stderr
    assert not out.exists()


def _error_of(capsys, *argv: str | Path) -> str:
    """Run ``main`` in-process; check it failed cleanly; return the error line."""
    assert main([str(a) for a in argv]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    line = err.strip().splitlines()[-1]
    assert line.startswith("error: ")
    return line


def test_train_errors(capsys, tmp_path, sample_dir) -> None:
    data = sample_dir / "train.csv"
    out = tmp_path / "m.skops"
    common = ("train", "--data", data, "--text-col", "text", "--out", out)
    assert "nope" in _error_of(capsys, *common, "--label-col", "nope")
    assert "perceptron" in _error_of(
        capsys, *common, "--label-col", "label", "--models", "perceptron"
    )
    missing = (
        "train",
        "--data",
        tmp_path / "none.csv",
        "--text-col",
        "text",
        "--label-col",
        "label",
        "--out",
        out,
    )
    assert "none.csv" in _error_of(capsys, *missing)
    assert not out.exists()


def test_score_errors(capsys, trained, tmp_path, sample_dir) -> None:
    data = sample_dir / "corpus.csv"
    assert ".parquet" in _error_of(
        capsys,
        "score",
        "--model",
        trained,
        "--data",
        data,
        "--text-col",
        "text",
        "--out",
        tmp_path / "x.doc",
    )
    not_model = tmp_path / "fake.skops"
    not_model.write_text("hello", encoding="utf-8")
    assert "not a Stigma Lens model" in _error_of(
        capsys,
        "score",
        "--model",
        not_model,
        "--data",
        data,
        "--text-col",
        "text",
        "--out",
        tmp_path / "x.csv",
    )


def test_scored_probabilities_match_the_library(trained, tmp_path, sample_dir) -> None:
    source = sample_dir / "validation_batch_2.csv"
    out = tmp_path / "scored.parquet"
    assert (
        main(
            [
                "score",
                "--model",
                str(trained),
                "--data",
                str(source),
                "--text-col",
                "text",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    texts = pd.read_csv(source)["text"]
    bundle = load_model(trained)
    expected = bundle.pipeline.predict_proba(pd.DataFrame({"text": texts}))[:, 1]
    assert np.array_equal(pd.read_parquet(out)["stigma_probability"].to_numpy(), expected)


# --- prevalence -----------------------------------------------------------------------------

FIELDS = {"n", "raw", "corrected", "ci_low", "ci_high", "error_rates_from", "warning"}


def _posts(sample_dir: Path) -> pd.DataFrame:
    corpus = pd.read_csv(sample_dir / "corpus.csv")
    return corpus[corpus["text"].fillna("").str.strip() != ""]


def _check_result(entry: dict) -> None:
    assert set(entry) - {"group"} == FIELDS
    assert 0 <= entry["raw"] <= 1
    if entry["corrected"] is not None:
        assert 0 <= entry["ci_low"] <= entry["corrected"] <= entry["ci_high"] <= 1


def test_prevalence_without_coded_posts_warns(trained, tmp_path, sample_dir) -> None:
    out = tmp_path / "prevalence.json"
    done = _cli("prevalence", "--model", trained, "--data", sample_dir / "corpus.csv",
                "--text-col", "text", "--by", "platform", "--out", out)
    assert done.returncode == 0, done.stderr
    report = json.loads(out.read_text(encoding="utf-8"))
    overall = report["overall"]
    _check_result(overall)
    assert overall["n"] == len(_posts(sample_dir))
    assert overall["error_rates_from"].startswith("the model's training data (out-of-fold, n = ")
    assert "synthetic sample" in overall["warning"]
    assert "Code 200 random posts of this corpus (about 40 minutes for two raters)" in (
        overall["warning"])
    assert {g["group"] for g in report["groups"]} == {"twitter", "reddit", "tiktok"}
    assert sum(g["n"] for g in report["groups"]) == overall["n"]
    for group in report["groups"]:
        _check_result(group)
        assert group["warning"]
    assert report["similarity"]["verdict"] == "alike"
    assert "warning: This model was trained on the synthetic sample" in done.stderr
    assert "posts:" in done.stdout and "flagged by the model" in done.stdout


@pytest.fixture(scope="module")
def coded_sample(tmp_path_factory, sample_dir) -> tuple[Path, float]:
    """200 random posts of the sample corpus with (made-up) codes spelt yes/no."""
    posts = _posts(sample_dir).sample(200, random_state=3)
    codes = np.random.default_rng(3).random(200) < 0.3
    path = tmp_path_factory.mktemp("coded") / "coded.csv"
    pd.DataFrame({"text": posts["text"].to_numpy(),
                  "code": np.where(codes, "yes", "no")}).to_csv(path, index=False)
    return path, float(codes.mean())


def test_prevalence_with_a_coded_sample(trained, tmp_path, sample_dir, coded_sample) -> None:
    coded, share = coded_sample
    out = tmp_path / "prevalence.json"
    common = ("prevalence", "--model", trained, "--data", sample_dir / "corpus.csv",
              "--text-col", "text", "--coded", coded, "--coded-label-col", "code")
    assert main([str(a) for a in (*common, "--out", out)]) == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    overall = report["overall"]
    _check_result(overall)
    assert overall["error_rates_from"] == "coded random sample of this corpus (n = 200)"
    assert overall["warning"] == ""
    assert report["groups"] == []
    assert report["coded"]["finite_population"] is True
    assert report["coded"]["coded_share"] == pytest.approx(share)
    assert overall["corrected"] == pytest.approx(share, abs=0.05)  # codes unrelated to the model
    by_platform = tmp_path / "by.json"
    assert main([str(a) for a in (*common, "--by", "platform", "--out", by_platform)]) == 0
    groups = json.loads(by_platform.read_text(encoding="utf-8"))["groups"]
    assert [g["group"] for g in groups] == ["twitter", "reddit", "tiktok"]
    for group in groups:
        _check_result(group)
        assert group["error_rates_from"].startswith("coded random sample of this group (n = ")
    assert groups[0]["corrected"] is not None  # twitter: about 130 coded posts
    assert any(g["corrected"] is None and g["warning"].startswith("No estimate") for g in groups)


def test_prevalence_with_coded_posts_from_elsewhere(trained, tmp_path, sample_dir) -> None:
    out = tmp_path / "prevalence.json"
    assert main(["prevalence", "--model", str(trained), "--data", str(sample_dir / "corpus.csv"),
                 "--text-col", "text", "--coded", str(sample_dir / "validation_batch_1.csv"),
                 "--coded-label-col", "rater_a", "--out", str(out)]) == 0
    overall = json.loads(out.read_text(encoding="utf-8"))["overall"]
    _check_result(overall)
    assert "not found in this corpus" in overall["error_rates_from"]
    assert "not in this corpus" in overall["warning"]


def test_prevalence_errors(capsys, trained, tmp_path, sample_dir, coded_sample) -> None:
    coded, _ = coded_sample
    out = tmp_path / "p.json"
    common = ("prevalence", "--model", trained, "--data", sample_dir / "corpus.csv",
              "--text-col", "text")
    bad = tmp_path / "bad.csv"
    pd.read_csv(coded).assign(code=["maybe"] + ["yes"] * 199).to_csv(bad, index=False)
    assert "'maybe'" in _error_of(capsys, *common, "--coded", bad, "--coded-label-col", "code",
                                  "--out", out)
    blank = tmp_path / "blank.csv"
    pd.read_csv(coded).assign(code=[None] + ["no"] * 199).to_csv(blank, index=False)
    assert "no post or no code" in _error_of(capsys, *common, "--coded", blank,
                                             "--coded-label-col", "code", "--out", out)
    assert "--coded-label-col" in _error_of(capsys, *common, "--coded", coded, "--out", out)
    assert "'nope'" in _error_of(capsys, *common, "--coded", coded, "--coded-label-col", "nope",
                                 "--out", out)
    assert "'country'" in _error_of(capsys, *common, "--by", "country", "--out", out)
    assert ".json" in _error_of(capsys, *common, "--out", tmp_path / "p.csv")
    assert not out.exists()


def test_prevalence_refuses_coded_posts_the_model_trained_on(capsys, trained, tmp_path,
                                                              sample_dir) -> None:
    train = pd.read_csv(sample_dir / "train.csv").head(100)
    coded = tmp_path / "coded_from_training.csv"
    train[["text", "label"]].to_csv(coded, index=False)
    out = tmp_path / "p.json"
    message = _error_of(capsys, "prevalence", "--model", trained, "--data",
                        sample_dir / "train.csv", "--text-col", "text", "--coded", coded,
                        "--coded-label-col", "label", "--out", out)
    assert "were used to train this model" in message and "cross-fitting" in message
    assert not out.exists()


@pytest.mark.real_data
def test_prevalence_on_real_text_holds_with_a_coded_sample(tmp_path, sample_dir,
                                                          real_corpus_path) -> None:
    """The acceptance check through the command line: a fast logistic regression trained on
    the synthetic sample, five random corpora of 829 real posts, 200 of each coded with their
    true codes. The interval covers the true share in at least 4 of 5, mean width <= 0.15;
    without the coded sample the report warns."""
    model = tmp_path / "sample.skops"
    assert main(["train", "--data", str(sample_dir / "train.csv"), "--text-col", "text",
                 "--label-col", "label", "--out", str(model), "--grid", "fast",
                 "--models", "logistic_regression"]) == 0
    real = pd.read_csv(real_corpus_path)
    hits, widths = [], []
    for draw in range(5):
        rng = np.random.default_rng(draw)
        corpus = real.iloc[rng.choice(len(real), 829, replace=False)]
        coded = corpus.iloc[rng.choice(829, 200, replace=False)][["text", "stigma"]]
        corpus_file, coded_file = tmp_path / f"corpus{draw}.csv", tmp_path / f"coded{draw}.csv"
        corpus.drop(columns="stigma").to_csv(corpus_file, index=False)
        coded.to_csv(coded_file, index=False)
        out = tmp_path / f"prevalence{draw}.json"
        common = ["prevalence", "--model", str(model), "--data", str(corpus_file),
                  "--text-col", "text", "--by", "prompt_topic"]
        assert main([*common, "--coded", str(coded_file), "--coded-label-col", "stigma",
                     "--out", str(out)]) == 0
        overall = json.loads(out.read_text(encoding="utf-8"))["overall"]
        assert overall["error_rates_from"] == "coded random sample of this corpus (n = 200)"
        hits.append(overall["ci_low"] <= corpus["stigma"].mean() <= overall["ci_high"])
        widths.append(overall["ci_high"] - overall["ci_low"])
        if draw == 0:
            assert main([*common, "--out", str(out)]) == 0
            unaided = json.loads(out.read_text(encoding="utf-8"))
            assert unaided["overall"]["warning"]
            assert unaided["similarity"]["verdict"] == "very different"
            assert all(g["warning"] for g in unaided["groups"])
    assert sum(hits) >= 4
    assert np.mean(widths) <= 0.15


# --- train: the recommended set by default, the paper's set for replication ---


def test_training_plan_defaults() -> None:
    from stigma_core.cli import training_plan
    from stigma_core.models import PAPER_SET, recommended_families

    assert training_plan(None, None) == (recommended_families(), "fast")
    assert training_plan(None, "paper") == (list(PAPER_SET), "paper")
    assert training_plan("logistic_regression,naive_bayes", None) == (
        ["logistic_regression", "naive_bayes"], "paper")
    assert training_plan("ngrams_lr", None) == (["ngrams_lr"], "fast")
    assert training_plan("ngrams_lr", "paper") == (["ngrams_lr"], "paper")


def test_train_default_is_the_recommended_set(tmp_path, sample_dir, monkeypatch) -> None:
    """No --models, no --grid: the recommended families (embeddings faked: a counting stand-in
    for the sentence model), each with its calibration and Brier score in the report."""
    from stigma_core import embeddings
    from stigma_core.models import FAMILIES, RECOMMENDED, Family

    class Fake:
        """A fixed random vector per word, summed: posts sharing words are alike."""

        def encode(self, texts, **kwargs):
            import zlib

            rows = [sum((np.random.default_rng(zlib.crc32(w.encode())).normal(
                size=embeddings.DIMENSIONS) for w in t.lower().split()),
                np.zeros(embeddings.DIMENSIONS)) for t in texts]
            return np.asarray(rows, dtype=np.float32)

    monkeypatch.setattr(embeddings, "unavailable_reason", lambda *args: None)
    monkeypatch.setattr(embeddings, "_load_encoder", lambda model: Fake())
    monkeypatch.setattr(embeddings, "_ENCODERS", {})
    monkeypatch.setattr(embeddings, "_CACHE", {})
    for name in RECOMMENDED:
        monkeypatch.setitem(FAMILIES, name, Family(**{**FAMILIES[name].__dict__,
                                                      "requires": None}))
    data = tmp_path / "train.csv"
    pd.read_csv(sample_dir / "train.csv").head(300).to_csv(data, index=False)
    model = tmp_path / "model.skops"
    assert main(["train", "--data", str(data), "--text-col", "text", "--label-col", "label",
                 "--out", str(model)]) == 0
    report = json.loads(report_path(model).read_text(encoding="utf-8"))
    assert list(report["models"]) == list(RECOMMENDED)
    assert report["chosen"] in RECOMMENDED
    assert report["card"]["grid"] == "fast"
    for entry in report["models"].values():
        brier = entry["test_brier"]
        assert brier["ci_low"] <= brier["value"] <= brier["ci_high"] <= 1
        assert entry["test_reviews_per_catch"]["value"] >= 1
    assert report["models"]["embeddings_lr"]["calibration"] == "sigmoid"


def test_train_paper_grid_keeps_the_study(capsys, tmp_path, sample_dir, monkeypatch) -> None:
    """--grid paper alone trains the study's eight families plus the reference, on the
    paper's grids (train_models itself replaced: the paper grids take minutes)."""
    from stigma_core import cli
    from stigma_core.models import PAPER_SET

    seen = {}

    def fake_train(df, families, **kwargs):
        seen.update(families=families, **kwargs)
        raise cli.ModelError("stop here")

    monkeypatch.setattr(cli, "train_models", fake_train)
    assert main(["train", "--data", str(sample_dir / "train.csv"), "--text-col", "text",
                 "--label-col", "label", "--out", str(tmp_path / "m.skops"),
                 "--grid", "paper"]) == 2
    assert seen["families"] == list(PAPER_SET) and seen["grid"] == "paper"
    assert seen["calibration"] is None

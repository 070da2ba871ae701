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

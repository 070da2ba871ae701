"""Command line: train a stigma model on a coded corpus, or score a corpus with one.

    python -m stigma_core train --data coded.csv --text-col text --label-col label --out m.skops
    python -m stigma_core score --model m.skops --data posts.csv --text-col text --out scored.csv

``train`` writes the model file and, beside it, ``<model>.metrics.json``: every model's test
metrics with 95% CIs, the chosen model and the rule that chose it, the engineered features'
t-tests and the loading report. ``score`` writes the input rows, every column kept, plus
``stigma_probability`` and ``stigma_predicted``. Progress goes to stderr; a problem with the
user's input ends the run with one ``error: ...`` line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from stigma_core.errors import CorpusError, ModelError
from stigma_core.export import TABLE_FORMATS, mask_frame, write_table
from stigma_core.io import load_corpus, read_table
from stigma_core.models import CHOICE_RULE, FAMILIES, GRIDS, TrainingRun, train_models
from stigma_core.persist import ModelBundle, bundle_from_run, load_model, save_model, to_plain
from stigma_core.scale import score_frame

EXIT_USER_ERROR = 2


def _progress(fraction: float, message: str) -> None:
    """One progress line on stderr."""
    print(f"[{fraction:4.0%}] {message}", file=sys.stderr, flush=True)


def _families(models: str) -> list[str]:
    """The comma-separated family names, checked."""
    names = [name.strip() for name in models.split(",") if name.strip()]
    unknown = [name for name in names if name not in FAMILIES]
    if unknown or not names:
        raise ModelError(
            f"Unknown or no model families ({', '.join(unknown)}). "
            f"Choose from: {', '.join(FAMILIES)}."
        )
    return names


def report_path(model_path: str | Path) -> Path:
    """Where ``train`` writes the JSON report for a model file: ``<model>.metrics.json``."""
    return Path(model_path).with_suffix(".metrics.json")


def training_report(
    run: TrainingRun, bundle: ModelBundle, load_report: dict[str, Any] | None
) -> dict[str, Any]:
    """Everything a reader needs to judge the training run, JSON-ready."""
    models = {
        name: {
            "label": r.label,
            "best_params": r.best_params,
            "threshold": r.threshold,
            "oof_false_positives": r.oof_false_positives,
            "oof_auc": r.oof_auc,
            "fit_seconds": r.fit_seconds,
            "test_metrics": r.metrics,
        }
        for name, r in run.results.items()
    }
    return to_plain(
        {
            "chosen": run.chosen,
            "rule": CHOICE_RULE,
            "recall_target": run.recall_target,
            "ranking_by_false_negatives": run.table()["family"].tolist(),
            "models": models,
            "selected_features": run.selected_features,
            "feature_tests": run.feature_table.reset_index().to_dict(orient="records"),
            "notes": run.notes,
            "load_report": load_report,
            "card": bundle.card,
        }
    )


def _train(args: argparse.Namespace) -> None:
    """The ``train`` command."""
    families = _families(args.models)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    _progress(0.0, f"Loading {args.data}")
    df = load_corpus(args.data, text=args.text_col, label=args.label_col)
    load_report = df.attrs.get("load_report")
    run = train_models(
        df,
        families,
        grid=args.grid,
        seed=args.seed,
        recall_target=args.recall_target,
        progress=_progress,
    )
    extra = {"data": Path(args.data).name, "text_column": args.text_col}
    bundle = bundle_from_run(run, card_extra={**extra, "label_column": args.label_col})
    model_file = save_model(bundle, args.out)
    report = report_path(model_file)
    report_json = json.dumps(training_report(run, bundle, load_report), indent=2, allow_nan=False)
    report.write_text(report_json, encoding="utf-8")
    chosen = run.results[run.chosen].metrics
    print(
        f"Kept {run.chosen}: test AUC {chosen['auc'].value:.3f}, "
        f"{chosen['false_negatives'].value:.0f} missed and "
        f"{chosen['false_positives'].value:.0f} false alarms at threshold {bundle.threshold:.3f}."
        f"\nModel: {model_file}\nReport: {report}"
    )


def _check_output(path: str) -> None:
    """Refuse an output name whose format cannot be written, before any slow work."""
    if Path(path).suffix.lower().lstrip(".") not in TABLE_FORMATS:
        raise CorpusError(
            f"Cannot write '{path}': name the output file with one of "
            f"{', '.join('.' + f for f in TABLE_FORMATS)}."
        )


def _score(args: argparse.Namespace) -> None:
    """The ``score`` command."""
    _check_output(args.out)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    bundle = load_model(args.model)
    _progress(0.0, f"Reading {args.data}")
    raw = read_table(args.data)
    scored = score_frame(bundle, raw, args.text_col, progress=_progress)
    if not args.no_mask:
        scored = mask_frame(scored, [args.text_col])
    written = write_table(scored, args.out)
    flagged = int(scored["stigma_predicted"].sum())
    print(f"Scored {len(scored):,} rows ({flagged:,} flagged as stigmatising) into {written}")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for ``train`` and ``score``."""
    parser = argparse.ArgumentParser(
        prog="python -m stigma_core",
        description="Train a mental-health stigma classifier, or score posts with one.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="train and compare models on coded posts")
    train.add_argument("--data", required=True, help="coded corpus (csv, tsv, json, xlsx...)")
    train.add_argument("--text-col", required=True, help="column holding the posts")
    train.add_argument("--label-col", required=True, help="column of codes, 1 = stigmatising")
    train.add_argument("--out", required=True, help="model file to write (e.g. model.skops)")
    train.add_argument(
        "--models", default=",".join(FAMILIES), help="comma-separated families (default: all)"
    )
    train.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    train.add_argument(
        "--grid",
        choices=GRIDS,
        default="paper",
        help="settings grid to search: the paper's (default, thorough) or a small fast one",
    )
    train.add_argument(
        "--recall-target",
        type=float,
        default=0.9,
        help="share of stigmatising posts the threshold must find (default 0.9)",
    )
    train.set_defaults(handler=_train)
    score = commands.add_parser("score", help="score posts with a saved model")
    score.add_argument("--model", required=True, help="model file written by 'train'")
    score.add_argument("--data", required=True, help="posts to score (csv, tsv, json, xlsx...)")
    score.add_argument("--text-col", required=True, help="column holding the posts")
    score.add_argument("--out", required=True, help="output table (.csv, .parquet or .xlsx)")
    score.add_argument(
        "--no-mask",
        action="store_true",
        help="write the posts as they are (default: @handles, links and e-mails masked)",
    )
    score.set_defaults(handler=_score)
    return parser


def _os_message(err: OSError) -> str:
    """A file-system error in plain words."""
    where = f" '{err.filename}'" if err.filename else ""
    return f"cannot use the file{where}: {err.strerror or err}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 done, 2 a problem with the input)."""
    args = build_parser().parse_args(argv)
    try:
        args.handler(args)
    except (CorpusError, ModelError) as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USER_ERROR
    except OSError as err:
        print(f"error: {_os_message(err)}", file=sys.stderr)
        return EXIT_USER_ERROR
    return 0

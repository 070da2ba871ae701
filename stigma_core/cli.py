"""Command line: train a stigma model, score a corpus with one, or measure how common stigma is.

    python -m stigma_core train --data coded.csv --text-col text --label-col label --out m.skops
    python -m stigma_core score --model m.skops --data posts.csv --text-col text --out scored.csv
    python -m stigma_core prevalence --model m.skops --data posts.csv --text-col text \
        [--coded coded.csv --coded-label-col code] [--by country] --out prevalence.json

``train`` writes the model file and, beside it, ``<model>.metrics.json``: every model's test
metrics with 95% CIs, the chosen model and the rule that chose it, the engineered features'
t-tests and the loading report. ``score`` writes the input rows, every column kept, plus
``stigma_probability`` and ``stigma_predicted``; handles, e-mails, links and phone numbers are
masked in every text column (the post, a location, a bio...) unless ``--no-mask`` is given,
and CSV/XLSX cells that a spreadsheet would run as a formula are neutralised. ``prevalence``
writes the share of stigmatising posts, raw and corrected with a 95% CI, overall and by group (see
``stigma_core.assisted.corpus_prevalence``): from a coded random sample of the corpus when
``--coded`` is given, else from the model's own error rates with a warning when those may not
hold for this corpus. Progress goes to stderr; a problem with the user's input ends the run
with one ``error: ...`` line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from stigma_core.assisted import DEFAULT_MIN_CODED, CodedPosts, corpus_prevalence, match_coded_posts
from stigma_core.calibration import METHODS as CALIBRATIONS
from stigma_core.crossfit import trained_on
from stigma_core.errors import CorpusError, ModelError
from stigma_core.export import TABLE_FORMATS, write_table
from stigma_core.io import load_corpus, read_codes, read_table
from stigma_core.models import (
    CHOICE_RULE,
    FAMILIES,
    GRIDS,
    PAPER_SET,
    TrainingRun,
    recommended_families,
    train_models,
)
from stigma_core.persist import ModelBundle, bundle_from_run, load_model, save_model, to_plain
from stigma_core.privacy import mask_frame
from stigma_core.scale import STREAM_FORMATS, score_file, score_frame, score_texts
from stigma_core.shift import is_synthetic_sample

EXIT_USER_ERROR = 2
BULKY_CARD_ENTRIES = ("training_profile", "training_keys")
"""Card entries kept in the model file but not repeated in the readable metrics report."""
UNMATCHED_GROUP = "(coded post not in the corpus, group not given)"
"""Group of a coded post found neither in the corpus nor with a group of its own: it is
left out of the group estimates (no corpus post has this group)."""


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


def training_plan(models: str | None, grid: str | None) -> tuple[list[str], str]:
    """Which families on which grid ``train`` runs.

    Nothing named: the recommended set on the fast grid; ``--grid paper`` alone: the study's
    eight families plus the logistic-regression reference on the paper's grids (replication).
    Families named without a grid: the paper's grids when all are the paper's families (as
    before the stronger families existed), else the fast grid.
    """
    if models is None:
        if grid == "paper":
            return list(PAPER_SET), "paper"
        return recommended_families(), grid or "fast"
    families = _families(models)
    if grid is None:
        grid = "paper" if all(name in PAPER_SET for name in families) else "fast"
    return families, grid


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
            "calibration": r.calibration,
            "test_metrics": r.metrics,
            "test_brier": r.brier,
            "test_reviews_per_catch": r.reviews_per_catch,
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
            "card": {k: v for k, v in bundle.card.items() if k not in BULKY_CARD_ENTRIES},
        }
    )


def _train(args: argparse.Namespace) -> None:
    """The ``train`` command."""
    families, grid = training_plan(args.models, args.grid)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    _progress(0.0, f"Training {', '.join(families)} on the {grid} grid")
    _progress(0.0, f"Loading {args.data}")
    df = load_corpus(args.data, text=args.text_col, label=args.label_col,
                     language=None if args.language.lower() in ("any", "none") else args.language)
    load_report = df.attrs.get("load_report")
    run = train_models(
        df,
        families,
        grid=grid,
        seed=args.seed,
        recall_target=args.recall_target,
        progress=_progress,
        n_jobs=None,
        calibration=args.calibration,
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


STREAM_BYTES = 256 * 2**20
"""Inputs at least this big (CSV/TSV, JSON lines or Parquet, written to .parquet) stream
through ``scale.score_file``: batches of rows, so memory stays bounded."""


@contextmanager
def _cluster(args: argparse.Namespace, bundle: ModelBundle) -> Iterator[Any]:
    """The Dask scorer for ``--engine dask`` (None for the local engine)."""
    if getattr(args, "engine", "local") != "dask":
        yield None
        return
    from stigma_core.cluster import DaskScorer, dask_client

    where = args.scheduler or "a local cluster"
    _progress(0.0, f"Starting Dask on {where}")
    with dask_client(args.scheduler) as client:
        yield DaskScorer(client, bundle)


def _streams(args: argparse.Namespace) -> bool:
    """Whether ``score`` streams the input (big, in a streamable format, Parquet out)."""
    data = Path(args.data)
    return (Path(args.out).suffix.lower() == ".parquet" and data.is_file()
            and data.suffix.lower().lstrip(".") in STREAM_FORMATS
            and data.stat().st_size >= STREAM_BYTES)


def _score_streaming(args: argparse.Namespace, bundle: ModelBundle) -> None:
    """``score`` for a big input: batch by batch into the Parquet output (columns of a
    CSV/TSV input are written as text)."""
    _progress(0.0, f"Streaming {args.data}")
    with _cluster(args, bundle) as cluster:
        summary = score_file(bundle, args.data, args.text_col, args.out,
                             transform=None if args.no_mask else mask_frame,
                             progress=_progress, cluster=cluster)
    print(f"Scored {summary.rows:,} rows ({summary.flagged:,} flagged as stigmatising) into "
          f"{args.out}")


def _score(args: argparse.Namespace) -> None:
    """The ``score`` command."""
    _check_output(args.out)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    bundle = load_model(args.model)
    if _streams(args):
        _score_streaming(args, bundle)
        return
    _progress(0.0, f"Reading {args.data}")
    raw = read_table(args.data)
    with _cluster(args, bundle) as cluster:
        scored = score_frame(bundle, raw, args.text_col, progress=_progress, cluster=cluster)
    if not args.no_mask:
        scored = mask_frame(scored)
    written = write_table(scored, args.out)
    flagged = int(scored["stigma_predicted"].sum())
    print(f"Scored {len(scored):,} rows ({flagged:,} flagged as stigmatising) into {written}")


def _column(frame: pd.DataFrame, name: str, file: str, role: str) -> pd.Series:
    """Column ``name`` of a file, or a CorpusError listing the columns there are."""
    if name not in frame.columns:
        raise CorpusError(
            f"'{file}' has no column '{name}' ({role}). Its columns are: "
            f"{', '.join(map(str, frame.columns[:20]))}."
        )
    return frame[name]


def _stripped_texts(values: pd.Series) -> pd.Series:
    """Posts as stripped strings; missing or blank posts as <NA>."""
    texts = values.astype("string").str.strip()
    return texts.mask(texts == "")


def _coded_posts(
    args: argparse.Namespace, bundle: ModelBundle, texts: pd.Series, proba: np.ndarray,
    groups: pd.Series | None,
) -> CodedPosts:
    """The coded posts of ``--coded``, matched to the corpus's posts by exact text.

    All found: they count as known corpus posts (finite-population estimate). Any not found:
    every coded post is used as a separate random sample from the same source, scored by the
    model, with no post counted as known (see ``assisted.corpus_prevalence``).
    """
    if not args.coded_label_col:
        raise CorpusError("--coded needs --coded-label-col, the column holding the codes "
                          "(1 = stigmatising, 0 = not).")
    raw = read_table(args.coded)
    coded_texts = _stripped_texts(_column(raw, args.text_col, args.coded,
                                          "the posts, named as in the corpus"))
    codes = read_codes(_column(raw, args.coded_label_col, args.coded, "the codes"),
                       args.coded_label_col)
    missing = coded_texts.isna() | codes.isna()
    if missing.any():
        raise CorpusError(
            f"{int(missing.sum())} rows of '{args.coded}' have no post or no code (first: row "
            f"{int(np.flatnonzero(missing.to_numpy())[0]) + 2} of the file). Code every post "
            "of the random sample, or remove the rows that were not coded."
        )
    labels = codes.to_numpy(dtype=int)
    _refuse_training_posts(bundle, coded_texts, args.coded)
    position = match_coded_posts(texts.tolist(), coded_texts.tolist())
    found = position >= 0
    if found.all():
        return CodedPosts(labels=labels, index=position)
    coded_proba = np.empty(len(labels))
    coded_proba[found] = proba[position[found]]
    coded_proba[~found] = score_texts(bundle, coded_texts[~found])
    coded_groups = None
    if groups is not None:
        own = (raw[args.by].astype("string").to_numpy(dtype=object) if args.by in raw.columns
               else np.full(len(labels), UNMATCHED_GROUP, dtype=object))
        coded_groups = np.where(found, groups.to_numpy(dtype=object)[np.maximum(position, 0)],
                                own)
    return CodedPosts(labels=labels, proba=coded_proba, groups=coded_groups,
                      unmatched=int((~found).sum()))


def _refuse_training_posts(bundle: ModelBundle, coded_texts: pd.Series, file: str) -> None:
    """A model is no judge of its own training posts: coded posts it trained on would make
    the interval too narrow, so they are refused with what to do instead."""
    seen = trained_on(bundle, coded_texts.tolist())
    if seen.any():
        raise CorpusError(
            f"{int(seen.sum())} of the {len(seen)} coded posts in '{file}' were used to train "
            "this model, so they cannot measure its errors. Give --coded posts the model never "
            "saw (e.g. a fresh random sample), or use the dashboard's Prevalence page, which "
            "refits the model leaving each coded post out (cross-fitting)."
        )


def _check_json_output(path: str) -> None:
    """Refuse an output name that is not .json, before any slow work."""
    if Path(path).suffix.lower() != ".json":
        raise CorpusError(f"Cannot write '{path}': the prevalence report is JSON; name the "
                          "output file with .json.")


def _prevalence(args: argparse.Namespace) -> None:
    """The ``prevalence`` command."""
    _check_json_output(args.out)
    bundle = load_model(args.model)
    _progress(0.0, f"Reading {args.data}")
    raw = read_table(args.data)
    texts = _stripped_texts(_column(raw, args.text_col, args.data, "the posts"))
    groups = None if args.by is None else _column(raw, args.by, args.data, "the groups")
    keep = texts.notna().to_numpy()
    if not keep.any():
        raise CorpusError(f"No row of '{args.data}' has a post in '{args.text_col}'.")
    texts = texts[keep].reset_index(drop=True)
    groups = None if groups is None else groups[keep].reset_index(drop=True)
    with _cluster(args, bundle) as cluster:
        proba = score_texts(bundle, texts, progress=_progress, cluster=cluster)
    coded = None if args.coded is None else _coded_posts(args, bundle, texts, proba, groups)
    _progress(1.0, "Comparing the corpus with the model's training data")
    result = corpus_prevalence(bundle, proba, coded=coded, groups=groups, texts=texts,
                               min_coded=args.min_coded, seed=args.seed)
    result["corpus"] = {"file": Path(args.data).name, "rows": len(raw),
                        "rows_without_text": int((~keep).sum())}
    result["model"] = {"file": Path(args.model).name, "data": bundle.card.get("data"),
                       "family": bundle.card.get("family"), "threshold": bundle.threshold,
                       "synthetic_sample": is_synthetic_sample(bundle)}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(to_plain(result), indent=2, allow_nan=False) + "\n",
                              encoding="utf-8")
    _report_prevalence(result["overall"], args.out)


def _report_prevalence(overall: dict[str, Any], out: str) -> None:
    """The one-paragraph summary on stdout; the warning, if any, on stderr."""
    if overall["corrected"] is None:
        corrected = "no corrected share"
    else:
        corrected = (f"corrected {overall['corrected']:.1%} (95% CI {overall['ci_low']:.1%}-"
                     f"{overall['ci_high']:.1%}; error rates from {overall['error_rates_from']})")
    print(f"{overall['n']:,} posts: {overall['raw']:.1%} flagged by the model, {corrected}."
          f"\nReport: {out}")
    if overall["warning"]:
        print(f"warning: {overall['warning']}", file=sys.stderr)


def _engine_options(command: argparse.ArgumentParser) -> None:
    """``--engine`` and ``--scheduler``, shared by ``score`` and ``prevalence``."""
    command.add_argument(
        "--engine", choices=("local", "dask"), default="local",
        help="where to score: this machine's cores (default) or a Dask cluster",
    )
    command.add_argument(
        "--scheduler",
        help="with --engine dask: address of a running Dask scheduler (tcp://HOST:8786); "
        "without it a local cluster of worker processes is started",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for ``train``, ``score`` and ``prevalence``."""
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
        "--models",
        default=None,
        help="comma-separated families (default: the recommended set, "
        f"{','.join(recommended_families())}); any of: {', '.join(FAMILIES)}",
    )
    train.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    train.add_argument(
        "--grid",
        choices=GRIDS,
        default=None,
        help="settings grid: 'fast' (default for the recommended set) or 'paper' (alone: the "
        "study's eight families and grids plus the logistic-regression reference, for "
        "replication; the default when every family named is one of those)",
    )
    train.add_argument(
        "--calibration",
        choices=CALIBRATIONS,
        default=None,
        help="calibrate every family's probabilities on cross-validated scores: sigmoid "
        "(Platt), isotonic or none (default: each family's own; the paper's as the study had "
        "them)",
    )
    train.add_argument(
        "--recall-target",
        type=float,
        default=0.9,
        help="share of stigmatising posts the threshold must find (default 0.9)",
    )
    train.add_argument(
        "--language",
        default="en",
        help="keep only posts in this language, an ISO 639-1 code (default en); 'any' keeps "
        "every post, e.g. a Spanish or German corpus for the multilingual_lr family",
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
        help="write every column as it is (default: @handles, e-mails, links and phone "
        "numbers masked in every text column)",
    )
    _engine_options(score)
    score.set_defaults(handler=_score)
    prevalence = commands.add_parser(
        "prevalence", help="how common stigma is in a corpus, with an honest interval")
    prevalence.add_argument("--model", required=True, help="model file written by 'train'")
    prevalence.add_argument("--data", required=True, help="the corpus (csv, tsv, json, xlsx...)")
    prevalence.add_argument("--text-col", required=True, help="column holding the posts")
    prevalence.add_argument(
        "--coded",
        help="a random sample of the corpus's posts coded by people (text column named as in "
        "the corpus); gives an interval that holds for this corpus",
    )
    prevalence.add_argument("--coded-label-col",
                            help="column of codes in --coded (1/0, yes/no, true/false)")
    prevalence.add_argument("--by", help="corpus column to split by (country, platform...)")
    prevalence.add_argument(
        "--min-coded", type=int, default=DEFAULT_MIN_CODED,
        help=f"fewest coded posts a group needs for an estimate (default {DEFAULT_MIN_CODED})",
    )
    prevalence.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    _engine_options(prevalence)
    prevalence.add_argument("--out", required=True, help="JSON report to write (e.g. out.json)")
    prevalence.set_defaults(handler=_prevalence)
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

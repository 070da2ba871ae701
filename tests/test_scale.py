"""Scoring at scale: worker processes and streamed files give the one-process numbers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from stigma_core import scale
from stigma_core.errors import CorpusError, ModelError
from stigma_core.models import train_models
from stigma_core.parallel import worker_count
from stigma_core.persist import ModelBundle, bundle_from_run
from stigma_core.scale import (
    PREDICTED,
    PROBABILITY,
    distinct_texts,
    read_batches,
    score_file,
    score_frame,
    score_texts,
)

FAMILIES = ("logistic_regression", "naive_bayes", "knn", "random_forest")


@pytest.fixture(scope="module")
def bundles(sample_dir: Path) -> dict[str, ModelBundle]:
    df = pd.read_csv(sample_dir / "train.csv")
    run = train_models(df, list(FAMILIES), grid="fast", seed=0)
    return {f: bundle_from_run(run, f) for f in FAMILIES}


@pytest.fixture(scope="module")
def corpus(sample_dir: Path) -> pd.DataFrame:
    df = pd.read_csv(sample_dir / "corpus.csv")
    df.loc[3, "text"] = None  # a row without a post
    df.loc[5, "text"] = "   "
    return df


def test_worker_processes_give_identical_probabilities(
    bundles: dict[str, ModelBundle], corpus: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scale, "PARALLEL_MIN", 0)
    texts = corpus["text"]
    calls: list[float] = []
    for family, bundle in bundles.items():
        one = score_texts(bundle, texts, chunk_size=700, n_jobs=1)
        calls.clear()
        two = score_texts(bundle, texts, chunk_size=700, n_jobs=2,
                          progress=lambda f, m: calls.append(f))
        assert np.array_equal(one, two, equal_nan=True), family
        assert np.isnan(one[3]) and np.isnan(one[5]) and not np.isnan(one).all()
        assert calls[-1] == 1.0 and len(calls) == int(np.ceil(texts.nunique() / 700))


def test_chunk_size_does_not_change_probabilities(bundles: dict[str, ModelBundle],
                                                  corpus: pd.DataFrame) -> None:
    texts = corpus["text"].iloc[:1500]
    for bundle in bundles.values():
        assert np.array_equal(score_texts(bundle, texts, chunk_size=97, n_jobs=1),
                              score_texts(bundle, texts, n_jobs=1), equal_nan=True)


@pytest.mark.parametrize("fmt", ["csv", "tsv", "parquet", "jsonl"])
def test_score_file_streams_equal_to_scoring_at_once(
    bundles: dict[str, ModelBundle], corpus: pd.DataFrame, tmp_path: Path, fmt: str
) -> None:
    bundle = bundles["logistic_regression"]
    frame = pd.concat([corpus, corpus.iloc[:500]], ignore_index=True)  # repeats across batches
    frame["platform"] = frame["platform"].astype("string")
    source = tmp_path / f"posts.{fmt}"
    if fmt in ("csv", "tsv"):
        frame.to_csv(source, index=False, sep="\t" if fmt == "tsv" else ",")
    elif fmt == "parquet":
        frame.to_parquet(source, index=False)
    else:
        frame.to_json(source, orient="records", lines=True)
    out = tmp_path / "scored.parquet"
    summary = score_file(bundle, source, "text", out, by="platform", chunk_rows=1000,
                         memo_size=800)
    written = pq.read_table(out).to_pandas()
    want = score_frame(bundle, frame, "text", n_jobs=1)
    assert len(written) == len(frame) == summary.rows
    assert written.columns.tolist() == [*frame.columns, PROBABILITY, PREDICTED]
    assert np.array_equal(written[PROBABILITY].to_numpy(float),
                          want[PROBABILITY].to_numpy(float), equal_nan=True)
    assert written["text"].fillna("").tolist() == frame["text"].fillna("").tolist()
    assert summary.scored == int(want[PROBABILITY].notna().sum())
    assert summary.flagged == int(want[PREDICTED].fillna(0).sum())
    by_group = want.groupby(want["platform"].fillna("(missing)"))[PREDICTED].sum()
    assert {g: c["flagged"] for g, c in summary.groups.items()} == by_group.astype(int).to_dict()
    assert summary.as_dict()["raw_prevalence"] == pytest.approx(summary.flagged / summary.scored)


def test_score_file_on_worker_processes_overlapping_batches(
    bundles: dict[str, ModelBundle], corpus: pd.DataFrame, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scale, "PARALLEL_MIN", 0)
    monkeypatch.setattr(scale, "CHUNK_SIZE", 300)
    bundle = bundles["logistic_regression"]
    frame = pd.concat([corpus, corpus.iloc[:700], corpus.iloc[::-1]], ignore_index=True)
    source = tmp_path / "posts.csv"
    frame.to_csv(source, index=False)
    out = tmp_path / "scored.parquet"
    calls: list[str] = []
    summary = score_file(bundle, source, "text", out, chunk_rows=1000, memo_size=1500,
                         n_jobs=2, progress=lambda f, m: calls.append(m))
    written = pq.read_table(out).to_pandas()
    want = score_frame(bundle, frame, "text", n_jobs=1)
    assert summary.rows == len(written) == len(frame)
    assert np.array_equal(written[PROBABILITY].to_numpy(float),
                          want[PROBABILITY].to_numpy(float), equal_nan=True)
    assert written["id"].tolist() == frame["id"].tolist()
    assert len(calls) == int(np.ceil(len(frame) / 1000))


def test_distinct_texts_strip_and_number_posts_missing_and_blank_rows_excepted() -> None:
    rows = ["a post ", " a post", None, "", " \t\n", 5, 1.5, np.nan, "b\u00a0", "a post", pd.NA,
            "\u3000b"]
    codes, uniques = distinct_texts(rows)
    assert uniques == ["a post", "5", "1.5", "b"]
    assert codes.tolist() == [0, 0, -1, -1, -1, 1, 2, -1, 3, 0, -1, 3]
    series = pd.Series(rows[::-1], index=range(100, 100 + len(rows)), dtype=object)
    codes, uniques = distinct_texts(series)
    assert uniques == ["b", "a post", "1.5", "5"] and codes.tolist()[:4] == [0, -1, 1, 0]
    codes, uniques = distinct_texts([])
    assert codes.size == 0 and uniques == []


def test_read_batches_bounds_rows_and_keeps_multiline_posts(tmp_path: Path) -> None:
    frame = pd.DataFrame({"id": range(2500), "text": [f"line one\nline two {i}, \"q\""
                                                      for i in range(2500)]})
    source = tmp_path / "multi.csv"
    frame.to_csv(source, index=False)
    batches = list(read_batches(source, batch_rows=1000))
    assert sum(len(b) for b in batches) == 2500
    assert [len(b) for b in batches] == [1000, 1000, 500]
    assert pd.concat(batches)["text"].tolist() == frame["text"].tolist()
    assert pd.concat(batches)["id"].tolist() == [str(i) for i in range(2500)]  # all text


def test_score_file_refuses_what_it_cannot_stream(bundles: dict[str, ModelBundle],
                                                  tmp_path: Path) -> None:
    bundle = bundles["logistic_regression"]
    with pytest.raises(CorpusError, match="Cannot stream"):
        score_file(bundle, tmp_path / "posts.xlsx", "text")
    with pytest.raises(CorpusError, match=r"\.parquet output"):
        score_file(bundle, tmp_path / "posts.csv", "text", tmp_path / "out.csv")
    source = tmp_path / "posts.csv"
    pd.DataFrame({"body": ["hello"]}).to_csv(source, index=False)
    with pytest.raises(CorpusError, match="no column called 'text'"):
        score_file(bundle, source, "text")


def test_worker_count() -> None:
    assert worker_count(3) == 3
    assert worker_count(None) == worker_count(-1) >= 1
    with pytest.raises(ModelError, match="n_jobs"):
        worker_count(0)


def test_unreadable_file_is_a_plain_error(tmp_path: Path) -> None:
    source = tmp_path / "latin.csv"
    source.write_bytes("text\ncaf\xe9 ol\xe9\n".encode("latin-1"))
    with pytest.raises(CorpusError, match="Streaming needs UTF-8"):
        list(read_batches(source))


def test_csv_record_longer_than_a_block_is_read_once(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # pyarrow refuses a record longer than its block ("straddling object"); the reader
    # starts again with bigger blocks and skips the rows it already gave
    monkeypatch.setattr(scale, "CSV_BLOCK_BYTES", 4096)
    texts = [f"post {i} " + ("long words\n" * 3000 if i in (700, 1900) else "short")
             for i in range(2500)]
    frame = pd.DataFrame({"id": range(2500), "text": texts})
    source = tmp_path / "long.csv"
    frame.to_csv(source, index=False)
    batches = list(read_batches(source, batch_rows=1000))
    assert [len(b) for b in batches] == [1000, 1000, 500]
    assert pd.concat(batches)["text"].tolist() == texts
    assert pd.concat(batches)["id"].tolist() == [str(i) for i in range(2500)]


def test_reading_a_model_file_imports_neither_torch_nor_pingouin(bundles: dict[str, ModelBundle],
                                                    tmp_path: Path) -> None:
    import importlib.util
    import subprocess
    import sys

    from stigma_core.persist import save_model

    if importlib.util.find_spec("torch") is None:
        pytest.skip("torch is not installed, so nothing could import it")
    path = save_model(bundles["logistic_regression"], tmp_path / "model.skops")
    code = (
        "import sys\n"
        "from stigma_core.persist import load_model\n"
        f"bundle = load_model({str(path)!r})\n"
        "print('torch' in sys.modules, 'pingouin' in sys.modules)\n"
        "import sklearn.externals.array_api_compat.torch\n"  # still importable afterwards
        "print('torch' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.split() == ["False", "False", "True"]  # nor pingouin's plotting


def _stream_batches(stream: scale._MemoStream, frames: list[pd.DataFrame]) -> np.ndarray:
    out = []
    for frame in frames:
        job = stream.start(stream.prepare(frame, "text", None))
        out.append(stream.finish(job))
    return np.concatenate(out)


def test_stream_memo_pauses_for_new_posts_and_not_for_repeats(
    bundles: dict[str, ModelBundle], corpus: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scale, "MEMO_PAUSE_BATCHES", 2)
    bundle = bundles["logistic_regression"]
    texts = corpus["text"].fillna("").astype(str)
    new = pd.DataFrame({"text": [f"{t} ref{i}" for i, t in enumerate(texts)]})
    frames = [new.iloc[start : start + 200] for start in range(0, 2000, 200)]
    with scale._MemoStream(bundle, 10_000, 1, None) as stream:
        got = _stream_batches(stream, frames)
        # batch 1 is remembered; batch 2 finds nothing, so the memo pauses for batches 3-4;
        # batch 5 remembers again, 6 finds nothing and pauses it again (7-8), 9 remembers,
        # 10 pauses it: three pauses, and the memo left empty
        assert stream.pauses == 3 and not stream.memo
    assert np.array_equal(got, score_texts(bundle, new["text"].iloc[:2000], n_jobs=1))

    repeated = pd.DataFrame({"text": list(texts.iloc[:200]) * 10})
    frames = [repeated.iloc[start : start + 200] for start in range(0, 2000, 200)]
    with scale._MemoStream(bundle, 10_000, 1, None) as stream:
        got = _stream_batches(stream, frames)
        assert stream.pauses == 0 and len(stream.memo) == texts.iloc[:200].replace(
            r"^\s*$", np.nan, regex=True).dropna().str.strip().nunique()
    assert np.array_equal(got, score_texts(bundle, repeated["text"], n_jobs=1),
                          equal_nan=True)

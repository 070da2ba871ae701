"""The Dask engine gives the single-machine numbers (a LocalCluster of 2 worker processes)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("distributed")

import dask.dataframe as dd  # noqa: E402

from stigma_core import cluster as cluster_module  # noqa: E402
from stigma_core.cli import main  # noqa: E402
from stigma_core.cluster import DaskScorer, dask_client, score_dask_frame  # noqa: E402
from stigma_core.models import train_models  # noqa: E402
from stigma_core.persist import ModelBundle, bundle_from_run, save_model  # noqa: E402
from stigma_core.scale import PREDICTED, PROBABILITY, score_file, score_texts  # noqa: E402


@pytest.fixture(scope="module")
def bundle(sample_dir: Path) -> ModelBundle:
    run = train_models(pd.read_csv(sample_dir / "train.csv"), ["logistic_regression"],
                       grid="fast", seed=0)
    return bundle_from_run(run, "logistic_regression")


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    with dask_client(n_workers=2) as c:
        assert len(c.scheduler_info()["workers"]) == 2
        yield c


def test_dask_scoring_equals_one_process(
    bundle: ModelBundle, client: Any, sample_dir: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    corpus = pd.read_csv(sample_dir / "corpus.csv")
    corpus.loc[2, "text"] = None
    local = score_texts(bundle, corpus["text"], chunk_size=800, n_jobs=1)
    scorer = DaskScorer(client, bundle, window=2)
    sent: list[int] = []
    score_chunks = scorer.score_chunks
    monkeypatch.setattr(scorer, "score_chunks", lambda chunks, *rest: sent.append(len(chunks))
                        or score_chunks(chunks, *rest))
    assert np.array_equal(score_texts(bundle, corpus["text"], chunk_size=800, cluster=scorer),
                          local, equal_nan=True)
    assert sent == [-(-corpus["text"].nunique() // 800)]  # scored on the cluster, in chunks
    frame = score_dask_frame(bundle, dd.from_pandas(corpus, npartitions=3), "text",
                             client).compute()
    assert np.array_equal(frame[PROBABILITY].to_numpy(), local, equal_nan=True)
    assert frame[PREDICTED].isna().sum() == np.isnan(local).sum() >= 1
    assert frame[PREDICTED].dtype == "Int64"

    source = tmp_path / "corpus.csv"
    corpus.to_csv(source, index=False)
    out = tmp_path / "streamed.parquet"
    summary = score_file(bundle, source, "text", out, chunk_rows=2000, cluster=scorer)
    assert np.array_equal(pd.read_parquet(out)[PROBABILITY].to_numpy(), local, equal_nan=True)
    assert summary.rows == len(corpus)

    # the command line, --engine dask against --engine local (the CLI's own LocalCluster is
    # swapped for this module's, to keep the test short)
    @contextmanager
    def this_client(scheduler: str | None = None, n_workers: int | None = None) -> Iterator:
        yield client

    monkeypatch.setattr(cluster_module, "dask_client", this_client)
    model = save_model(bundle, tmp_path / "m.skops")
    common = ["--model", str(model), "--data", str(source), "--text-col", "text"]
    for engine in ("local", "dask"):
        assert main(["score", *common, "--out", str(tmp_path / f"{engine}.parquet"),
                     "--engine", engine]) == 0
        assert main(["prevalence", *common, "--by", "platform", "--out",
                     str(tmp_path / f"{engine}.json"), "--engine", engine]) == 0
    scored = {e: pd.read_parquet(tmp_path / f"{e}.parquet") for e in ("local", "dask")}
    pd.testing.assert_frame_equal(scored["local"], scored["dask"])
    reports = {e: json.loads((tmp_path / f"{e}.json").read_text()) for e in ("local", "dask")}
    assert reports["local"] == reports["dask"] and reports["local"]["groups"]


def _tokenizer_built() -> bool:
    from stigma_core.text import _tokenizer

    return _tokenizer.cache_info().currsize == 1


def _forget_tokenizer() -> None:
    from stigma_core.text import _tokenizer

    _tokenizer.cache_clear()


def test_dask_workers_are_warmed_up_like_the_local_pool(bundle: ModelBundle,
                                                        client: Any) -> None:
    # the warm-up builds the tokenizer (among the rest): forget it, then a new scorer must
    # build it again on every worker before any post is scored
    client.run(_forget_tokenizer)
    assert not any(client.run(_tokenizer_built).values())
    scorer = DaskScorer(client, bundle)
    assert scorer.warmed == 2
    assert all(client.run(_tokenizer_built).values())
    assert not DaskScorer(client, bundle, warm=False).warmed


def test_the_client_and_local_scheduler_keep_few_messages(bundle: ModelBundle, client: Any,
                                                        sample_dir: Path) -> None:
    """Dask keeps its last messages for debugging, and each task's message holds its chunk of
    posts: with Dask's default (1,000) the scoring process grew with the corpus."""
    texts = pd.read_csv(sample_dir / "corpus.csv")["text"].dropna().astype(str).tolist()
    scorer = DaskScorer(client, bundle, warm=False)
    chunks = [texts[i : i + 50] for i in range(0, 50 * (cluster_module.LOG_LENGTH + 10), 50)]
    assert len(list(scorer.score_chunks(chunks, 1, lambda done: None))) == len(chunks)
    streams = [*client.cluster.scheduler.stream_comms.values(), client.scheduler_comm]
    assert len(streams) == 3
    for stream in streams:
        assert stream.recent_message_log.maxlen == cluster_module.LOG_LENGTH
        assert len(stream.recent_message_log) <= cluster_module.LOG_LENGTH


def test_unreachable_scheduler_is_a_plain_error() -> None:
    from stigma_core.errors import ModelError

    with pytest.raises(ModelError, match="Cannot reach the Dask scheduler"), \
            dask_client("tcp://127.0.0.1:1", timeout="2s"):
        pass

"""Score corpora of any size with a saved model: every core, bounded memory.

Social-media corpora repeat posts heavily (retweets, copy-paste campaigns), so each distinct
text is scored once and the probability mapped back to every row that holds it. Distinct
texts are scored in chunks, which bounds memory and lets a caller show progress.

Big inputs use every core: chunks of distinct texts go to worker processes (loky, the
process pool joblib uses; tokenising holds the GIL, so threads would not help). Each worker
loads the fitted pipeline once, from a private temporary file. A chunk is scored by the same
code whichever process runs it, and the chunks are the same as in one process, so the
probabilities are identical to single-process scoring.

Files of any size stream through :func:`score_file`: read in batches of rows (pyarrow for CSV
and Parquet, pandas for JSON lines), scored, written to Parquet as they go and summed into
prevalence counts, so memory stays bounded by the batch size, not the corpus size.
"""

from __future__ import annotations

import os
import pickle
import shutil
import tempfile
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import as_completed
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from itertools import repeat
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from stigma_core.errors import CorpusError, ModelError
from stigma_core.fastscore import fast_pipeline
from stigma_core.parallel import executor, worker_count

if TYPE_CHECKING:  # worker processes import this module: persist pulls in much they never use
    from stigma_core.persist import ModelBundle

Progress = Callable[[float, str], None]
PROBABILITY = "stigma_probability"
PREDICTED = "stigma_predicted"
CHUNK_SIZE = 10_000
PARALLEL_MIN = 50_000
"""Fewest distinct posts worth starting worker processes for (they take a few seconds to
import the libraries; below this one process is as fast)."""
BATCH_ROWS = 25_000
STREAM_IN_FLIGHT = 2
"""Batches a stream keeps read and sent to the workers ahead of the one it writes: enough
that the workers always have a chunk waiting (two batches are five chunks), few enough that
memory holds about ``(STREAM_IN_FLIGHT + 1) * BATCH_ROWS`` rows (100,000-row batches, three
at a time, held about 190 MB more at the peak, and the workers idled at each batch's end;
four 25,000-row batches held 35-45 MB more than two in the main process at 1M tweet-like
posts, at the same speed)."""
CSV_BLOCK_BYTES = 1 << 20
"""Bytes pyarrow parses at a time when streaming a CSV. Bigger blocks read no faster here
but held far more memory (16 MiB blocks: about 260 MB more at the peak of a 1M-row file);
a record longer than a block makes the reader start again with bigger blocks."""
STREAM_FORMATS = ("csv", "tsv", "jsonl", "ndjson", "parquet")


def _positive_column(bundle: ModelBundle) -> int:
    """Index of the 'stigmatising' (1) class in the model's probability columns."""
    classes = list(getattr(bundle.pipeline, "classes_", []))
    if 1 not in classes:
        raise ModelError("The model was not trained on 0/1 stigma labels, so it cannot score.")
    return classes.index(1)


def score_chunk(pipeline: Any, texts: list[str], column: int) -> np.ndarray:
    """Probabilities of the stigmatising class for one chunk of (distinct, non-empty) posts
    (through ``fastscore.fast_pipeline``: the same numbers, less per-token Python)."""
    frame = pd.DataFrame({"text": np.asarray(texts, dtype=object)})
    return fast_pipeline(pipeline).predict_proba(frame)[:, column]


_WORKER: dict[str, Any] = {}


WORKER_TRIM_CHUNKS = 10
"""A worker hands freed heap memory back to the system (``malloc_trim``) after this many
chunks: each chunk frees millions of small blocks that glibc would otherwise keep."""


def _score_chunk_in_worker(path: str, key: str, texts: list[str], column: int) -> np.ndarray:
    """``score_chunk`` in a worker process, loading the pipeline from ``path`` once per key;
    every ``WORKER_TRIM_CHUNKS`` chunks the freed heap goes back to the system."""
    if _WORKER.get("key") != key:
        with open(path, "rb") as handle:
            _WORKER.update(key=key, pipeline=pickle.load(handle))  # noqa: S301 - our own file
    proba = score_chunk(_WORKER["pipeline"], texts, column)
    _WORKER["chunks"] = chunks = _WORKER.get("chunks", 0) + 1
    if chunks % WORKER_TRIM_CHUNKS == 0 and _LIBC is not None:
        _LIBC.malloc_trim(0)
    return proba


@contextmanager
def _pipeline_file(pipeline: Any) -> Iterator[tuple[str, str]]:
    """The pipeline pickled into a private temporary folder (removed afterwards), and a key
    naming this copy."""
    folder = tempfile.mkdtemp(prefix="stigma-model-")
    try:
        path = os.path.join(folder, "pipeline.pkl")
        with open(path, "wb") as handle:
            pickle.dump(pipeline, handle, protocol=pickle.HIGHEST_PROTOCOL)
        yield path, uuid.uuid4().hex
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def score_unique(
    bundle: ModelBundle,
    uniques: list[str],
    *,
    chunk_size: int = CHUNK_SIZE,
    progress: Progress | None = None,
    n_jobs: int | None = None,
    cluster: Any = None,
) -> np.ndarray:
    """Probabilities for distinct, non-empty posts, ``chunk_size`` at a time: on a Dask
    cluster when ``cluster`` (a ``stigma_core.cluster.DaskScorer``) is given, else in worker
    processes when there are enough posts (see ``PARALLEL_MIN``), else here."""
    if chunk_size < 1:
        raise ModelError("The chunk size must be at least 1 post.")
    column = _positive_column(bundle)
    out = np.empty(len(uniques))
    starts = list(range(0, len(uniques), chunk_size))

    def report(done: int) -> None:
        if progress:
            progress(done / len(uniques), f"Scored {done:,} of {len(uniques):,} distinct posts")

    if cluster is not None and uniques:
        chunks = [uniques[start : start + chunk_size] for start in starts]
        for start, result in zip(starts, cluster.score_chunks(chunks, column, report),
                                 strict=True):
            out[start : start + len(result)] = result
        return out

    if not _use_workers(len(uniques), chunk_size, n_jobs):
        for start in starts:
            chunk = uniques[start : start + chunk_size]
            out[start : start + len(chunk)] = score_chunk(bundle.pipeline, chunk, column)
            report(start + len(chunk))
        return out
    with _pipeline_file(bundle.pipeline) as (path, key):
        job = _submit(bundle, uniques, chunk_size, n_jobs, path, key)
        return job.collect(report)


def _use_workers(n_posts: int, chunk_size: int, n_jobs: int | None,
                 minimum: int | None = None) -> bool:
    """Whether ``n_posts`` distinct posts go to worker processes: at least two chunks, two
    processes and ``minimum`` posts (default ``PARALLEL_MIN``)."""
    chunks = -(-n_posts // chunk_size)
    least = PARALLEL_MIN if minimum is None else minimum
    return min(worker_count(n_jobs), chunks) > 1 and n_posts >= least


@dataclass
class _PoolJob:
    """Chunks of distinct posts submitted to the worker processes, not yet collected."""

    size: int
    futures: dict[Any, int]

    def done(self) -> bool:
        """Whether every chunk is scored (collecting will not wait)."""
        return all(future.done() for future in self.futures)

    def collect(self, report: Callable[[int], None] | None = None) -> np.ndarray:
        """Wait for every chunk; the probabilities in the posts' order."""
        out = np.empty(self.size)
        done = 0
        for future in as_completed(self.futures):
            start = self.futures[future]
            result = future.result()
            out[start : start + len(result)] = result
            done += len(result)
            if report:
                report(done)
        return out


def _submit(bundle: ModelBundle, uniques: list[str], chunk_size: int, n_jobs: int | None,
            path: str, key: str, *, every_worker: bool = False) -> _PoolJob:
    """Send ``uniques`` in chunks to the worker processes (the pipeline pickled at ``path``,
    named ``key``), without waiting; the pool has a process per chunk up to ``n_jobs``, or
    ``n_jobs`` processes with ``every_worker`` (a stream keeps one pool for all its
    batches, whatever their number of chunks)."""
    column = _positive_column(bundle)
    starts = range(0, len(uniques), chunk_size)
    workers = worker_count(n_jobs)
    pool = executor(workers if every_worker else min(workers, len(starts)))
    futures = {pool.submit(_score_chunk_in_worker, path, key,
                           uniques[start : start + chunk_size], column): start
               for start in starts}
    return _PoolJob(len(uniques), futures)


def distinct_texts(texts: Iterable[object]) -> tuple[np.ndarray, list[str]]:
    """A code per row (-1 where it has no text: missing, or blank once stripped) and the
    distinct stripped posts in order of first appearance. Values are read as pandas'
    ``string`` dtype reads them (a number becomes its digits)."""
    values = pd.Series(list(texts) if not isinstance(texts, pd.Series) else texts)
    codes, uniques = pd.factorize(values.astype("string").str.strip().replace("", pd.NA))
    return codes, np.asarray(uniques, dtype=object).tolist()


def score_texts(
    bundle: ModelBundle,
    texts: Iterable[object],
    *,
    chunk_size: int = CHUNK_SIZE,
    progress: Progress | None = None,
    n_jobs: int | None = None,
    cluster: Any = None,
) -> np.ndarray:
    """Probability that each post is stigmatising (NaN where a row has no text).

    Each distinct text is scored once, ``chunk_size`` distinct texts at a time, on
    ``n_jobs`` processes (None: every core; big inputs only, see ``PARALLEL_MIN``);
    ``progress(fraction, message)`` is called after each chunk. The result does not depend
    on ``n_jobs``.
    """
    codes, uniques = distinct_texts(texts)
    unique_proba = score_unique(bundle, uniques, chunk_size=chunk_size, progress=progress,
                                n_jobs=n_jobs, cluster=cluster)
    proba = np.full(len(codes), np.nan)
    present = codes >= 0
    proba[present] = unique_proba[codes[present]]
    return proba


def _with_scores(bundle: ModelBundle, df: pd.DataFrame, proba: np.ndarray) -> pd.DataFrame:
    """A copy of ``df`` with the probability and the prediction at the model's threshold."""
    scored = df.copy()
    scored[PROBABILITY] = proba
    predicted = pd.Series((proba >= bundle.threshold).astype(np.int64), index=df.index)
    missing = np.isnan(proba)
    scored[PREDICTED] = predicted.astype("Int64").mask(missing) if missing.any() else predicted
    return scored


def _require_column(df: pd.DataFrame, text_col: str) -> None:
    """A plain-words error when the post column is missing."""
    if text_col not in df.columns:
        raise CorpusError(
            f"There is no column called '{text_col}' to score. The columns are: "
            f"{', '.join(map(str, df.columns))}. Name the column that holds the posts."
        )


def score_frame(
    bundle: ModelBundle,
    df: pd.DataFrame,
    text_col: str = "text",
    *,
    chunk_size: int = CHUNK_SIZE,
    progress: Progress | None = None,
    n_jobs: int | None = None,
    cluster: Any = None,
) -> pd.DataFrame:
    """A copy of ``df`` with ``stigma_probability`` (0-1) and ``stigma_predicted`` (0/1).

    A post is predicted stigmatising when its probability reaches the model's saved
    threshold. Rows without text get no score: NaN probability and a missing prediction (the
    prediction column is then pandas' nullable ``Int64``; otherwise plain ``int64``).
    """
    _require_column(df, text_col)
    proba = score_texts(bundle, df[text_col], chunk_size=chunk_size, progress=progress,
                        n_jobs=n_jobs, cluster=cluster)
    return _with_scores(bundle, df, proba)


# --- streaming a file ----------------------------------------------------------------------


def file_format(path: str | Path) -> str:
    """The lower-case extension of a corpus file, checked to be one that streams."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in STREAM_FORMATS:
        raise CorpusError(
            f"Cannot stream '{path}': name a file ending in "
            f"{', '.join('.' + f for f in STREAM_FORMATS)}."
        )
    return suffix


def _csv_header(path: Path, delimiter: str) -> list[str]:
    """The column names of a delimited file (first record, quotes respected)."""
    import pyarrow.csv as pacsv

    reader = pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(block_size=1 << 20),
        parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
    )
    return list(reader.schema.names)


def read_batches(path: str | Path, batch_rows: int = BATCH_ROWS) -> Iterator[pd.DataFrame]:
    """The rows of a corpus file in DataFrames of about ``batch_rows`` rows (see
    ``_read_batches``); a file pyarrow or pandas cannot parse is a plain-words CorpusError."""
    import pyarrow as pa

    try:
        yield from _read_batches(path, batch_rows)
    except (pa.ArrowInvalid, ValueError, UnicodeDecodeError) as err:
        if isinstance(err, CorpusError):
            raise
        raise CorpusError(
            f"Cannot read '{Path(path).name}' in batches ({str(err).splitlines()[0][:200]}). "
            "Streaming needs UTF-8 CSV/TSV with one header row, JSON lines, or Parquet: "
            "save the file in one of those forms."
        ) from err


def _read_batches(path: str | Path, batch_rows: int) -> Iterator[pd.DataFrame]:
    """The rows of a CSV/TSV, JSON-lines or Parquet file as DataFrames of about
    ``batch_rows`` rows, without ever holding the whole file.

    CSV and TSV (UTF-8) are read by pyarrow with every column as text, so that a column
    whose values look numeric early on and textual later cannot fail half-way; quoted fields
    may hold line breaks. Parquet keeps its column types; JSON lines go through pandas.
    """
    path = Path(path)
    kind = file_format(path)
    if kind == "parquet":
        import pyarrow.parquet as pq

        for batch in pq.ParquetFile(path).iter_batches(batch_size=batch_rows):
            yield batch.to_pandas()
        return
    if kind in ("jsonl", "ndjson"):
        yield from pd.read_json(path, lines=True, chunksize=batch_rows, dtype=False)
        return
    import pyarrow as pa

    delimiter = "\t" if kind == "tsv" else ","
    pending: list[Any] = []
    rows = 0
    for batch in _csv_record_batches(path, delimiter):
        pending.append(batch)
        rows += batch.num_rows
        while rows >= batch_rows:
            table = pa.Table.from_batches(pending)
            yield table.slice(0, batch_rows).to_pandas()
            rest = table.slice(batch_rows)
            pending, rows = rest.to_batches(), rest.num_rows
    if rows:
        yield pa.Table.from_batches(pending).to_pandas()


def _csv_record_batches(path: Path, delimiter: str,
                        block_bytes: int = CSV_BLOCK_BYTES) -> Iterator[Any]:
    """pyarrow record batches of a delimited file, every column as text, parsed
    ``block_bytes`` at a time. pyarrow refuses a record longer than a block ("straddling
    object"); then the file is read again with blocks 16 times bigger, skipping the rows
    already given, so every row comes exactly once whatever the records' lengths."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    names = _csv_header(path, delimiter)
    size = path.stat().st_size
    given = 0
    while True:
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(block_size=block_bytes),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                 strings_can_be_null=True),
        )
        seen = 0
        try:
            for batch in reader:
                skip = min(max(given - seen, 0), batch.num_rows)
                seen += batch.num_rows
                if skip < batch.num_rows:
                    given += batch.num_rows - skip
                    yield batch.slice(skip) if skip else batch
            return
        except pa.ArrowInvalid as err:
            if "straddl" not in str(err) or block_bytes > size:
                raise
            block_bytes *= 16


@dataclass
class StreamSummary:
    """What :func:`score_file` counted while it streamed: rows, scored rows (with text),
    flagged rows (at the model's threshold), the sum of probabilities, and the same per
    group when a group column was given."""

    rows: int = 0
    scored: int = 0
    flagged: int = 0
    probability_sum: float = 0.0
    groups: dict[str, dict[str, float]] = field(default_factory=dict)
    out_path: str | None = None

    @property
    def raw_prevalence(self) -> float | None:
        """Share of scored posts flagged (None with no post)."""
        return self.flagged / self.scored if self.scored else None

    def add(self, scored: pd.DataFrame, by: str | None) -> None:
        """Count one scored batch in."""
        proba = scored[PROBABILITY].to_numpy(dtype=float)
        present = ~np.isnan(proba)
        flagged = scored[PREDICTED].fillna(0).to_numpy(dtype=np.int64)
        self.rows += len(scored)
        self.scored += int(present.sum())
        self.flagged += int(flagged.sum())
        self.probability_sum += float(proba[present].sum())
        if by is None:
            return
        frame = pd.DataFrame({"group": scored[by].astype("string").fillna("(missing)"),
                              "scored": present, "flagged": flagged,
                              "proba": np.where(present, proba, 0.0)})
        for group, row in frame.groupby("group", sort=False).sum().iterrows():
            counts = self.groups.setdefault(str(group),
                                            {"scored": 0, "flagged": 0, "probability_sum": 0.0})
            counts["scored"] += int(row["scored"])
            counts["flagged"] += int(row["flagged"])
            counts["probability_sum"] += float(row["proba"])

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready numbers, with the raw prevalence overall and per group."""
        groups = {
            g: {**c, "raw_prevalence": c["flagged"] / c["scored"] if c["scored"] else None}
            for g, c in self.groups.items()
        }
        return {"rows": self.rows, "scored": self.scored, "flagged": self.flagged,
                "probability_sum": self.probability_sum,
                "raw_prevalence": self.raw_prevalence, "groups": groups,
                "out_path": self.out_path}


RELEASE_ROWS = 100_000
"""A stream hands freed memory back (``release_memory``) after about this many rows: each
call walks the whole heap (tens of milliseconds), too dear after every small batch."""


def release_memory() -> None:
    """Hand memory freed by the last batch back to the system: Arrow's pool keeps freed
    buffers and glibc's malloc keeps freed small blocks (millions of short strings per batch)
    for reuse, so without this the resident size of a long stream creeps up with its length
    although nothing is kept. Changes no result."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _libc() -> Any:
    """glibc, for ``malloc_trim`` (None elsewhere)."""
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim  # noqa: B018 - only glibc has it
    except (OSError, AttributeError):
        return None
    return libc


_LIBC = _libc()


class _ParquetOut:
    """Writes scored batches to one Parquet file, every batch cast to the first one's
    schema (a column missing from the first batch's types becomes text)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.writer: Any = None
        self.schema: Any = None

    def write(self, frame: pd.DataFrame) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(frame, preserve_index=False)
        if self.writer is None:
            fields = [pa.field(f.name, pa.string()) if pa.types.is_null(f.type) else f
                      for f in table.schema]
            self.schema = pa.schema(fields)
            self.writer = pq.ParquetWriter(self.path, self.schema)
        self.writer.write_table(table.select(self.schema.names).cast(self.schema))

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def score_file(
    bundle: ModelBundle,
    path: str | Path,
    text_col: str,
    out_path: str | Path | None = None,
    *,
    by: str | None = None,
    chunk_rows: int = BATCH_ROWS,
    transform: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
    progress: Progress | None = None,
    n_jobs: int | None = None,
    memo_size: int = 100_000,
    cluster: Any = None,
) -> StreamSummary:
    """Score a corpus file of any size in batches of ``chunk_rows`` rows, writing each batch
    (every input column, plus ``stigma_probability`` and ``stigma_predicted``) to the Parquet
    file ``out_path`` as it goes (no file when None), and counting prevalence overall and,
    with ``by``, per value of that column.

    Memory holds a memo of up to ``memo_size`` recently scored distinct posts (so posts
    repeated across batches, like retweets, are mostly scored once) and a few batches: while
    worker processes score up to ``STREAM_IN_FLIGHT`` batches, this process writes the
    oldest as soon as it is scored and reads the next.
    ``transform`` (e.g. ``privacy.mask_frame``) is applied to each scored batch before it is
    written. Scoring runs on ``n_jobs`` local processes or on a Dask ``cluster``
    (``DaskScorer``). The probabilities equal ``score_texts`` on the whole file.
    """
    if out_path is not None and Path(out_path).suffix.lower() != ".parquet":
        raise CorpusError(f"Cannot stream into '{out_path}': name a .parquet output file.")
    summary = StreamSummary(out_path=None if out_path is None else str(out_path))
    writer = None if out_path is None else _ParquetOut(Path(out_path))
    stream = _MemoStream(bundle, memo_size, n_jobs, cluster)
    batches = iter(read_batches(path, chunk_rows))
    released = 0

    def emit(job: _BatchJob) -> None:
        nonlocal released
        scored = _with_scores(bundle, job.batch, stream.finish(job))
        summary.add(scored, by)
        if writer is not None:
            writer.write(transform(scored) if transform else scored)
        if progress:
            progress(0.0, f"Scored {summary.rows:,} rows of {Path(path).name}")
        del scored
        if summary.rows - released >= RELEASE_ROWS:
            released = summary.rows
            release_memory()

    # Batches are read and sent to the workers while earlier ones are scored; each is
    # written once scored, in order. A batch's posts are looked up in the memo when it is
    # read, so a post repeated within the batches in flight may be scored more than once
    # (with the same result: a post's probability does not depend on its chunk).
    in_flight: deque[_BatchJob] = deque()
    try:
        with stream:
            for batch in batches:
                in_flight.append(stream.start(stream.prepare(batch, text_col, by)))
                while in_flight and (len(in_flight) > STREAM_IN_FLIGHT
                                     or in_flight[0].ready()):
                    emit(in_flight.popleft())
            while in_flight:
                emit(in_flight.popleft())
    finally:
        if writer is not None:
            writer.close()
    return summary


@dataclass
class _BatchJob:
    """One batch on its way through ``_MemoStream``: its rows, each row's distinct post
    (code, -1 without text), the probabilities known so far per distinct post (NaN: being
    scored), which ones are being scored, and the workers' job when they score them."""

    batch: pd.DataFrame
    codes: np.ndarray
    known: np.ndarray
    todo: np.ndarray
    fresh: list[str]
    remember: bool = True
    """Whether the new posts go into the memo (not while it is paused)."""
    pool_job: Any = None
    """A ``_PoolJob`` (worker processes) or ``cluster._DaskJob`` while they score."""

    def ready(self) -> bool:
        """Whether the batch's posts are all scored."""
        return self.pool_job is None or self.pool_job.done()


MEMO_MIN_SHARE = 0.01
"""A stream's memo pauses when it found fewer than this share of a batch's distinct posts."""
MEMO_PAUSE_BATCHES = 8
"""Batches a paused memo sits out before it remembers posts again, to check once more."""


class _MemoStream:
    """``score_texts`` batch after batch, skipping posts already in a memo of recently
    scored posts and remembering the new ones (the memo starts afresh when it would pass
    ``memo_size``). Worker processes load the pipeline once for the whole stream.

    The memo pays off when posts repeat (retweets); in a stream of new posts it only costs
    (about half of this process's CPU time besides writing, at 1M new posts). So when it
    finds under ``MEMO_MIN_SHARE`` of a batch's posts it is emptied and sits out the next
    ``MEMO_PAUSE_BATCHES`` batches, then remembers again and is checked again. Which posts
    are looked up changes only how often a post is scored, never its probability."""

    def __init__(self, bundle: ModelBundle, memo_size: int, n_jobs: int | None,
                 cluster: Any) -> None:
        self.bundle, self.memo_size, self.n_jobs, self.cluster = bundle, memo_size, n_jobs, \
            cluster
        self.memo: dict[str, float] = {}
        self.paused = 0
        """Batches the memo still sits out (see the class doc)."""
        self.pauses = 0
        self._stack = ExitStack()
        self._file: tuple[str, str] | None = None

    def __enter__(self) -> _MemoStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def prepare(self, batch: pd.DataFrame, text_col: str,
                by: str | None) -> tuple[pd.DataFrame, np.ndarray, list[str]]:
        """A batch read, checked, and its posts cleaned and numbered."""
        _require_column(batch, text_col)
        if by is not None:
            _require_column(batch, by)
        codes, uniques = distinct_texts(batch[text_col])
        return batch, codes, uniques

    def start(self, ready: tuple[pd.DataFrame, np.ndarray, list[str]]) -> _BatchJob:
        """Look the batch's posts up in the memo and start scoring the others: sent to the
        worker processes when there are enough of them, else scored here and now."""
        batch, codes, unique_list = ready
        checked = bool(self.memo)
        known = np.fromiter(map(self.memo.get, unique_list, repeat(np.nan)), dtype=float,
                            count=len(unique_list))
        todo = np.flatnonzero(np.isnan(known))
        remember = not self.paused
        if self.paused:
            self.paused -= 1
        elif checked and len(unique_list) - todo.size < MEMO_MIN_SHARE * len(unique_list):
            self.memo.clear()
            self.paused, self.pauses, remember = MEMO_PAUSE_BATCHES, self.pauses + 1, False
        fresh = unique_list if todo.size == len(unique_list) else [
            unique_list[i] for i in todo.tolist()]
        job = _BatchJob(batch, codes, known, todo, fresh if todo.size else [],
                        remember=remember)
        if not todo.size:
            return job
        if self.cluster is None and _use_workers(len(fresh), CHUNK_SIZE, self.n_jobs,
                                                 min(PARALLEL_MIN, 2 * CHUNK_SIZE)):
            if self._file is None:
                self._file = self._stack.enter_context(_pipeline_file(self.bundle.pipeline))
            job.pool_job = _submit(self.bundle, fresh, CHUNK_SIZE, self.n_jobs, *self._file,
                                   every_worker=True)
        elif self.cluster is not None and hasattr(self.cluster, "submit"):
            job.pool_job = self.cluster.submit(fresh, _positive_column(self.bundle),
                                               CHUNK_SIZE)
        else:
            known[todo] = score_unique(self.bundle, fresh, n_jobs=self.n_jobs,
                                       cluster=self.cluster)
        return job

    def finish(self, job: _BatchJob) -> np.ndarray:
        """The batch's probabilities per row (NaN without text), once its posts are scored;
        the new posts go into the memo."""
        known, todo, fresh = job.known, job.todo, job.fresh
        if job.pool_job is not None:
            known[todo] = job.pool_job.collect()
        if todo.size and job.remember:
            memo = self.memo
            if len(memo) + len(fresh) > self.memo_size:
                memo.clear()
            if len(fresh) <= self.memo_size:
                memo.update(zip(fresh, known[todo].tolist(), strict=True))
        proba = np.full(len(job.codes), np.nan)
        present = job.codes >= 0
        proba[present] = known[job.codes[present]]
        return proba

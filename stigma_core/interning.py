"""Split a text at whitespace and number its distinct runs, without a Python object per run.

Preprocessing and sentiment both cut a batch of posts (joined into one string) at whitespace
and then work once per distinct run, remembered across batches; they share one numbering of
the runs (``RunNumbering``), so a batch is cut and numbered once. Done with ``str.split`` and
``pandas.factorize`` that costs a Python string and a hash look-up for every run of every
post (about 150 ns each, tens of millions of runs for a million posts). Here a compiled pass
over the text's code points finds the runs, hashes each one and looks it up in a table that
lives for the process (open addressing, the runs' code points kept to compare exactly), so a
Python string is made only for a run never seen before.

:meth:`StringInterner.factorize_runs` returns exactly what
``factorize_strings(text.split())`` returns (codes, and the distinct runs in order of first
appearance); tests check that on real posts and on every kind of Unicode whitespace.
"""

from __future__ import annotations

import functools
import sys
import threading
from collections.abc import Callable
from typing import TypeVar

import numba
import numpy as np

F = TypeVar("F", bound=Callable)

MEMO_LOCK = threading.RLock()
"""Held by every public function that reads or grows the process's memos (the interners
here, and the token and word tables of ``text``, ``sentiment`` and ``fastscore``): the
dashboard scores several sessions' posts in threads of one process, and two threads growing
one table at once lost a post's separator (found by the three-browsers test). One re-entrant
lock for all of them, so nested calls never deadlock; worker processes have one thread and
never wait on it."""


MEMO_LIMIT = 30_000
"""Entries remembered by the memos kept in dictionaries (sentiment's pieces) and by TF-IDF
counting's token numbering before they start afresh. Each entry costs a few hundred bytes in
every worker process, and a stream of new posts fills the memos with words met once (names,
numbers, links): on bench/scale.py's 1M new posts, all cores, 150,000-entry memos made each
scoring worker grow by about 320 MB, with no less CPU time per post."""


RUN_LIMIT = 200_000
"""Distinct runs remembered by a ``RunNumbering`` (``RUNS``: preprocessing's and sentiment's
tables); past it the numbering keeps the half met most recently
(``StringInterner.recent_keys``). The tables' entries live in arrays, at most about 250
bytes a run, so they can hold a large real vocabulary: with room for 30,000, bench/scale.py's
corpus of posts from 300,000 words made them forget the common words again and again
(BENCHMARKS.md, Scale); 200,000 costs at most about 65 MiB per scoring process once full."""


def holding_memo_lock(function: F) -> F:
    """Run ``function`` while holding ``MEMO_LOCK``."""
    @functools.wraps(function)
    def locked(*args: object, **kwargs: object) -> object:
        with MEMO_LOCK:
            return function(*args, **kwargs)
    return locked  # type: ignore[return-value]

_SPACE_LIMIT = 0x3001
"""Every whitespace code point (``str.isspace``) lies below this (tested)."""
SPACE = np.fromiter((chr(i).isspace() for i in range(_SPACE_LIMIT)), dtype=np.bool_,
                    count=_SPACE_LIMIT)
_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)


@numba.njit(cache=True, nogil=True)
def _rehash(hashes: np.ndarray, n_keys: int, slots: np.ndarray) -> None:  # pragma: no cover
    """Put keys 0 … n_keys-1 into an empty slot table (see ``_intern`` for a slot's bits)."""
    mask = slots.size - 1
    for k in range(n_keys):
        h = hashes[k]
        i = np.int64(h & np.uint64(mask))
        while slots[i] != 0:
            i = (i + 1) & mask
        slots[i] = ((h >> np.uint64(32)) << np.uint64(32)) | np.uint64(k + 1)


@numba.njit(cache=True, nogil=True)
def _intern(points: np.ndarray, space: np.ndarray, begin: int, slots: np.ndarray,
            hashes: np.ndarray, meta: np.ndarray, buffer: np.ndarray, state: np.ndarray,
            codes: np.ndarray, order: np.ndarray, first_new: np.ndarray,
            offset_basis: np.uint64, prime: np.uint64) -> int:  # pragma: no cover - compiled
    """Find the runs of non-whitespace (as ``str.split``) from code point ``begin`` on and
    key each one (adding new keys), renumbered in order of first appearance: fills
    ``codes`` (per run), ``order`` (the keys in order of first appearance) and ``first_new``
    (start and end of the first run of each new key, two entries each).

    A slot holds 0 (empty) or the upper half of the key's hash above ``key + 1``, so most
    probes that miss are settled without touching the key's row; ``meta`` has one row per
    key, [offset in ``buffer``, length, code in this text or -1], read in one cache line.
    ``state`` = [keys, code points used in ``buffer``, keys in ``order``, new keys, runs].
    Stops before a run that would need a key beyond ``hashes``, a slot table more than half
    full or more ``buffer`` than there is, and returns the code point where that run starts
    (the caller makes room and calls again); returns ``points.size`` when done. The codes
    in ``meta`` are left for the caller to reset.
    """
    mask = slots.size - 1
    limit = space.size
    n_keys = state[0]
    used = state[1]
    n_local = state[2]
    n_new = state[3]
    n_runs = state[4]
    n = points.size
    a = begin
    stop = n
    high = np.uint64(32)
    low_bits = np.uint64(0xFFFFFFFF)
    while True:
        while a < n:
            c = points[a]
            if (c <= 32 or c >= 127) and c < limit and space[c]:
                a += 1
            else:
                break
        if a >= n:
            break
        h = offset_basis
        b = a
        while b < n:
            c = points[b]
            if (c <= 32 or c >= 127) and c < limit and space[c]:
                break
            h = (h ^ np.uint64(c)) * prime
            b += 1
        tag = h >> high
        i = np.int64(h & np.uint64(mask))
        key = -1
        while True:
            slot = slots[i]
            if slot == 0:
                break
            if (slot >> high) == tag:
                k = np.int64(slot & low_bits) - 1
                if meta[k, 1] == b - a:
                    o = meta[k, 0]
                    same = True
                    for j in range(b - a):
                        if buffer[o + j] != points[a + j]:
                            same = False
                            break
                    if same:
                        key = k
                        break
            i = (i + 1) & mask
        if key == -1:
            if n_keys >= hashes.size or 2 * (n_keys + 1) > slots.size or (
                    used + b - a > buffer.size):
                stop = a
                break
            key = n_keys
            n_keys += 1
            slots[i] = (tag << high) | np.uint64(key + 1)
            hashes[key] = h
            meta[key, 0] = used
            meta[key, 1] = b - a
            meta[key, 2] = -1
            for j in range(b - a):
                buffer[used + j] = points[a + j]
            used += b - a
            first_new[2 * n_new] = a
            first_new[2 * n_new + 1] = b
            n_new += 1
        code = meta[key, 2]
        if code == -1:
            code = n_local
            meta[key, 2] = code
            order[n_local] = key
            n_local += 1
        codes[n_runs] = code
        n_runs += 1
        a = b
    state[0] = n_keys
    state[1] = used
    state[2] = n_local
    state[3] = n_new
    state[4] = n_runs
    return stop


@numba.njit(cache=True, nogil=True)
def _forget_local(meta: np.ndarray, order: np.ndarray) -> None:  # pragma: no cover
    """Reset the codes in ``meta`` to -1 at the keys of ``order``."""
    for c in range(order.size):
        meta[order[c], 2] = -1


class StringInterner:
    """Distinct whitespace-free runs of text met so far in this process, numbered.

    ``factorize_runs`` forgets them all once it holds more than ``limit`` (bounded memory);
    ``factorize_keys`` never forgets by itself (its caller trims with ``keep_only``). With
    ``keep_strings=False`` the runs are not kept as Python strings (each costs about 60
    bytes; ``string`` rebuilds one from the compiled table): for callers that only need the
    new runs' text, which ``factorize_keys`` hands over.
    """

    def __init__(self, limit: int = 1_000_000, keep_strings: bool = True) -> None:
        self.limit = limit
        self.keep_strings = keep_strings
        self.clear()

    def clear(self, capacity: int = 4096) -> None:
        """Forget every run."""
        self.strings: list[str] = []
        self.state = np.zeros(5, dtype=np.int64)
        self.hashes = np.zeros(capacity, dtype=np.uint64)
        self.meta = np.full((capacity, 3), -1, dtype=np.int64)
        self.slots = np.zeros(2 * capacity, dtype=np.uint64)
        self.buffer = np.zeros(8 * capacity, dtype=np.uint32)
        self.seen = np.zeros(capacity, dtype=np.int64)
        """Per key, the number of the last ``factorize_keys`` call that met it."""
        self.calls = 0

    def _grow(self, points: int) -> None:
        """Room for what stopped ``_intern``: twice the keys (slot table included) when
        they are full, else more buffer, for at least ``points`` more code points."""
        n_keys, used = int(self.state[0]), int(self.state[1])
        if n_keys >= self.hashes.size or 2 * (n_keys + 1) > self.slots.size:
            capacity = 2 * self.hashes.size
            hashes = np.zeros(capacity, dtype=np.uint64)
            hashes[:n_keys] = self.hashes[:n_keys]
            meta = np.full((capacity, 3), -1, dtype=np.int64)
            meta[:n_keys] = self.meta[:n_keys]
            seen = np.zeros(capacity, dtype=np.int64)
            seen[:n_keys] = self.seen[:n_keys]
            self.hashes, self.meta, self.seen = hashes, meta, seen
            self.slots = np.zeros(2 * capacity, dtype=np.uint64)
            _rehash(self.hashes, n_keys, self.slots)
            return
        buffer = np.zeros(max(2 * self.buffer.size, used + points), dtype=np.uint32)
        buffer[:used] = self.buffer[:used]
        self.buffer = buffer

    @property
    def size(self) -> int:
        """Keys held (distinct runs remembered)."""
        return int(self.state[0])

    def string(self, key: int) -> str:
        """The run of ``key``, rebuilt from the compiled table."""
        offset, length = int(self.meta[key, 0]), int(self.meta[key, 1])
        return self.buffer[offset : offset + length].tobytes().decode("utf-32-le",
                                                                      "surrogatepass")

    def factorize_runs(self, text: str) -> tuple[np.ndarray, list[str]]:
        """``factorize_strings(text.split())``: a code per run (int64) and the distinct runs
        in order of first appearance (needs ``keep_strings``)."""
        if self.state[0] > self.limit:
            self.clear()
        codes, keys, _ = self.factorize_keys(text)
        strings = self.strings
        return codes, [strings[k] for k in keys.tolist()]

    def factorize_keys(self, text: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """A code per run (int64), the key of each code (the runs' keys in order of first
        appearance) and the runs new to the table, in order: they got keys ``size - len(new)``
        on, so a caller can keep what it derives from a run in arrays indexed by key and
        compute it for new runs only. Never forgets (see ``keep_only``)."""
        points = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        most = points.size // 2 + 1  # runs at most (each needs a character and a space)
        codes = np.empty(most, dtype=np.int64)
        order = np.empty(most, dtype=np.int64)
        first_new = np.empty(2 * most, dtype=np.int64)
        self.state[2:] = 0
        done = 0
        while True:
            done = _intern(points, SPACE, done, self.slots, self.hashes, self.meta,
                           self.buffer, self.state, codes, order, first_new, _FNV_OFFSET,
                           _FNV_PRIME)
            if done == points.size:
                break
            self._grow(min(points.size - done, 1 << 16))
        order = order[: self.state[2]].copy()
        _forget_local(self.meta, order)
        self.seen[order] = self.calls
        self.calls += 1
        bounds = first_new[: 2 * self.state[3]].tolist()
        new = [text[a:b] for a, b in zip(bounds[::2], bounds[1::2], strict=True)]
        if self.keep_strings:
            self.strings.extend(new)
        codes = codes[: self.state[4]].copy() if self.state[4] else np.zeros(0, dtype=np.intp)
        return codes, order, new

    def recent_keys(self, room: int) -> np.ndarray:
        """The keys met most recently (by ``factorize_keys`` call), in key order: ``room``
        of them, or all of the last call's if there are more. What a full table keeps: the
        words a corpus keeps using stay, the rare ones go."""
        seen = self.seen[: self.size]
        take = max(room, int(np.count_nonzero(seen == self.calls - 1)))
        if take >= seen.size:
            return np.arange(seen.size, dtype=np.int64)
        return np.sort(np.argsort(-seen, kind="stable")[:take])

    def keep_only(self, keys: np.ndarray) -> None:
        """Forget every run but those of ``keys`` (distinct), which become keys 0, 1, … in
        that order: a caller's arrays indexed by key follow with ``array[keys]``."""
        keys = np.asarray(keys, dtype=np.int64)
        offsets, lengths = self.meta[keys, 0], self.meta[keys, 1]
        new_offsets = np.cumsum(lengths) - lengths
        used = int(lengths.sum())
        strings = [self.strings[k] for k in keys.tolist()] if self.keep_strings else []
        capacity, room = self.hashes.size, self.buffer.size  # as reached: it fills again
        while capacity < keys.size + 1:
            capacity *= 2
        hashes = self.hashes[keys]
        seen, calls = self.seen[keys], self.calls
        buffer = self.buffer[np.repeat(offsets - new_offsets, lengths) + np.arange(used)]
        self.clear(capacity)
        self.strings = strings
        self.seen[: keys.size] = seen
        self.calls = calls
        self.hashes[: keys.size] = hashes
        self.meta[: keys.size, 0] = new_offsets
        self.meta[: keys.size, 1] = lengths
        if max(used, room) > self.buffer.size:
            self.buffer = np.zeros(max(used, room), dtype=np.uint32)
        self.buffer[:used] = buffer
        self.state[0] = keys.size
        self.state[1] = used
        _rehash(self.hashes, keys.size, self.slots)


POST_BREAK = "\x00"
"""Stands between posts joined into one text (a run of its own, spaces either side); posts
holding it are done one at a time."""


def joined_posts(texts: list[str]) -> str:
    """Posts joined into the one text a batch is numbered by (see ``RunNumbering``)."""
    return f" {POST_BREAK} ".join(texts)


class RunNumbering:
    """The one numbering of whitespace-free runs that preprocessing and sentiment share.

    Both cut a batch of posts (``joined_posts``) at whitespace and keep what they derive from
    each distinct run in arrays indexed by its key, each filling the rows it lacks. A text is
    numbered once: a second call with an equal text (sentiment after preprocessing, on the
    same batch) gets the first call's codes and keys back, the same arrays, not to be
    written to. Past ``limit`` runs the numbering keeps the half met most recently
    (``StringInterner.recent_keys``) and every registered table follows
    (``KeyedColumns.keep_only``)."""

    def __init__(self, limit: int = RUN_LIMIT) -> None:
        self.names = StringInterner(keep_strings=False)
        self.limit = limit
        self.tables: list[KeyedColumns] = []
        self._last: tuple[str, np.ndarray, np.ndarray, int, list[str]] | None = None

    @property
    def size(self) -> int:
        """Keys held."""
        return self.names.size

    def register(self, table: KeyedColumns) -> None:
        """Have ``table`` follow the numbering when it forgets runs."""
        self.tables.append(table)

    def factorize(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """A code per run of ``text`` and, per code, its run's key (as
        ``StringInterner.factorize_keys``; see the class for an equal text)."""
        last = self._last
        if last is not None and last[0] == text:
            return last[1], last[2]
        self._trim()
        codes, keys, new = self.names.factorize_keys(text)
        self._last = (text, codes, keys, self.names.size - len(new), new)
        return codes, keys

    def strings(self, keys: np.ndarray) -> list[str]:
        """The runs of ``keys``: the last text's new runs as it handed them over, any older
        one rebuilt from the compiled table."""
        first, new = (self._last[3], self._last[4]) if self._last else (self.size, [])
        string = self.names.string
        return [new[k - first] if k >= first else string(k) for k in keys.tolist()]

    def _trim(self) -> None:
        if self.names.size <= self.limit:
            return
        keys = self.names.recent_keys(self.limit // 2)
        for table in self.tables:
            table.keep_only(keys)
        self.names.keep_only(keys)
        self._last = None

    def clear(self) -> None:
        """Forget every run, in every registered table too."""
        self.names.clear()
        self._last = None
        for table in self.tables:
            table.clear()


class KeyedColumns:
    """Columns of a table indexed by a ``RunNumbering``'s keys (one array each, dtypes given
    by keyword), grown with the numbering and kept in step with it when it forgets runs;
    ``filled`` says which rows the table has computed (``missing``)."""

    def __init__(self, numbering: RunNumbering, **dtypes: type) -> None:
        self.numbering = numbering
        self.dtypes: dict[str, type] = {"filled": bool, **dtypes}
        self.clear()
        numbering.register(self)

    def clear(self) -> None:
        """Forget every row."""
        self._resize(np.arange(0), 4096)

    def _resize(self, keys: np.ndarray | slice, capacity: int) -> None:
        """Rows ``keys`` of every column, then room for ``capacity`` rows."""
        for name, dtype in self.dtypes.items():
            old = getattr(self, name, np.zeros(0, dtype=dtype))[keys]
            new = np.zeros(capacity, dtype=dtype)
            new[: old.size] = old
            setattr(self, name, new)

    def missing(self, keys: np.ndarray) -> np.ndarray:
        """The keys among ``keys`` whose rows are still to compute (the columns grown to the
        numbering's size first)."""
        size = self.numbering.size
        if size > self.filled.size:
            self._resize(slice(None), max(2 * self.filled.size, size))
        return keys[~self.filled[keys]]

    def keep_only(self, keys: np.ndarray) -> None:
        """Keep the rows of ``keys`` only, as rows 0, 1, … (the numbering's ``keep_only``)."""
        self.missing(keys[:0])
        self._resize(keys, max(4096, 2 * keys.size))


RUNS = RunNumbering()
"""The process's numbering, shared by ``text`` and ``sentiment``."""


def max_space_code_point() -> int:
    """The largest code point ``str.isspace`` accepts (for the test of ``_SPACE_LIMIT``)."""
    return max(i for i in range(sys.maxunicode + 1) if chr(i).isspace())

"""Split a text at whitespace and number its distinct runs, without a Python object per run.

Preprocessing and sentiment both cut a batch of posts (joined into one string) at whitespace
and then work once per distinct run, remembered across batches. Done with ``str.split`` and
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

import sys

import numba
import numpy as np

_SPACE_LIMIT = 0x3001
"""Every whitespace code point (``str.isspace``) lies below this (tested)."""
SPACE = np.fromiter((chr(i).isspace() for i in range(_SPACE_LIMIT)), dtype=np.bool_,
                    count=_SPACE_LIMIT)
_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)


@numba.njit(cache=True, nogil=True)
def _split_runs(points: np.ndarray, space: np.ndarray) -> tuple:  # pragma: no cover
    """Start and end (code point offsets) of each run of non-whitespace, as ``str.split``."""
    limit = space.size
    starts = np.empty(points.size // 2 + 1, dtype=np.int64)
    ends = np.empty(points.size // 2 + 1, dtype=np.int64)
    k = 0
    inside = False
    for i in range(points.size):
        c = points[i]
        blank = (c <= 32 or c >= 127) and c < limit and space[c]
        if blank:
            if inside:
                ends[k] = i
                k += 1
                inside = False
        elif not inside:
            inside = True
            starts[k] = i
    if inside:
        ends[k] = points.size
        k += 1
    return starts[:k].copy(), ends[:k].copy()


@numba.njit(cache=True, nogil=True)
def _rehash(hashes: np.ndarray, n_keys: int, slots: np.ndarray) -> None:  # pragma: no cover
    """Put keys 0 … n_keys-1 into an empty slot table."""
    mask = slots.size - 1
    for k in range(n_keys):
        i = np.int64(hashes[k] & np.uint64(mask))
        while slots[i] != -1:
            i = (i + 1) & mask
        slots[i] = k


@numba.njit(cache=True, nogil=True)
def _intern(points: np.ndarray, starts: np.ndarray, ends: np.ndarray, begin: int,
            slots: np.ndarray, hashes: np.ndarray, offsets: np.ndarray, lengths: np.ndarray,
            buffer: np.ndarray, local: np.ndarray, state: np.ndarray, codes: np.ndarray,
            order: np.ndarray, first_new: np.ndarray, offset_basis: np.uint64,
            prime: np.uint64) -> int:  # pragma: no cover - compiled
    """Key of each run from ``begin`` on (adding new ones), renumbered in order of first
    appearance: fills ``codes`` (per run), ``order`` (the keys in order of first appearance)
    and ``first_new`` (the first run of each new key).

    ``state`` = [keys, code points used in ``buffer``, keys in ``order``, keys in
    ``first_new``]. Stops before a run that would need a key beyond ``hashes``, a slot table
    more than half full or more ``buffer`` than there is, and returns that run's index (the
    caller makes room and calls again); returns ``starts.size`` when done. ``local`` (per
    key, its code in this text or -1) is left for the caller to reset.
    """
    mask = slots.size - 1
    n_keys = state[0]
    used = state[1]
    n_local = state[2]
    n_new = state[3]
    stop = starts.size
    for r in range(begin, starts.size):
        a = starts[r]
        b = ends[r]
        h = offset_basis
        for i in range(a, b):
            h = (h ^ np.uint64(points[i])) * prime
        i = np.int64(h & np.uint64(mask))
        key = -1
        while True:
            k = slots[i]
            if k == -1:
                break
            if hashes[k] == h and lengths[k] == b - a:
                o = offsets[k]
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
                stop = r
                break
            key = n_keys
            n_keys += 1
            slots[i] = key
            hashes[key] = h
            offsets[key] = used
            lengths[key] = b - a
            for j in range(b - a):
                buffer[used + j] = points[a + j]
            used += b - a
            first_new[n_new] = r
            n_new += 1
        code = local[key]
        if code == -1:
            code = n_local
            local[key] = code
            order[n_local] = key
            n_local += 1
        codes[r] = code
    state[0] = n_keys
    state[1] = used
    state[2] = n_local
    state[3] = n_new
    return stop


@numba.njit(cache=True, nogil=True)
def _forget_local(local: np.ndarray, order: np.ndarray) -> None:  # pragma: no cover
    """Reset ``local`` to -1 at the keys of ``order``."""
    for c in range(order.size):
        local[order[c]] = -1


class StringInterner:
    """Distinct whitespace-free runs of text met so far in this process, numbered; forgets
    them all once it holds more than ``limit`` (bounded memory)."""

    def __init__(self, limit: int = 1_000_000) -> None:
        self.limit = limit
        self.clear()

    def clear(self, capacity: int = 4096) -> None:
        """Forget every run."""
        self.strings: list[str] = []
        self.state = np.zeros(4, dtype=np.int64)
        self.hashes = np.zeros(capacity, dtype=np.uint64)
        self.offsets = np.zeros(capacity, dtype=np.int64)
        self.lengths = np.zeros(capacity, dtype=np.int64)
        self.local = np.full(capacity, -1, dtype=np.int64)
        self.slots = np.full(2 * capacity, -1, dtype=np.int64)
        self.buffer = np.zeros(16 * capacity, dtype=np.uint32)

    def _grow(self, points: int) -> None:
        """Twice the room for keys (slot table included), and room for ``points`` more code
        points in the buffer."""
        n_keys, used = int(self.state[0]), int(self.state[1])
        capacity = 2 * self.hashes.size
        for name, fill in (("hashes", 0), ("offsets", 0), ("lengths", 0), ("local", -1)):
            old = getattr(self, name)
            new = np.full(capacity, fill, dtype=old.dtype)
            new[: old.size] = old
            setattr(self, name, new)
        self.slots = np.full(2 * capacity, -1, dtype=np.int64)
        _rehash(self.hashes, n_keys, self.slots)
        size = max(2 * self.buffer.size, used + points)
        buffer = np.zeros(size, dtype=np.uint32)
        buffer[:used] = self.buffer[:used]
        self.buffer = buffer

    def factorize_runs(self, text: str) -> tuple[np.ndarray, list[str]]:
        """``factorize_strings(text.split())``: a code per run (int64) and the distinct runs
        in order of first appearance."""
        if self.state[0] > self.limit:
            self.clear()
        points = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        starts, ends = _split_runs(points, SPACE)
        if not starts.size:
            return np.zeros(0, dtype=np.intp), []
        codes = np.empty(starts.size, dtype=np.int64)
        order = np.empty(starts.size, dtype=np.int64)
        first_new = np.empty(starts.size, dtype=np.int64)
        self.state[2:] = 0
        done = 0
        while True:
            done = _intern(points, starts, ends, done, self.slots, self.hashes, self.offsets,
                           self.lengths, self.buffer, self.local, self.state, codes, order,
                           first_new, _FNV_OFFSET, _FNV_PRIME)
            if done == starts.size:
                break
            self._grow(int(ends[done] - starts[done]))
        order = order[: self.state[2]]
        _forget_local(self.local, order)
        first_new = first_new[: self.state[3]]
        if first_new.size:
            self.strings.extend(text[a:b] for a, b in zip(starts[first_new].tolist(),
                                                          ends[first_new].tolist(),
                                                          strict=True))
        strings = self.strings
        return codes, [strings[k] for k in order.tolist()]


def max_space_code_point() -> int:
    """The largest code point ``str.isspace`` accepts (for the test of ``_SPACE_LIMIT``)."""
    return max(i for i in range(sys.maxunicode + 1) if chr(i).isspace())

"""What loading did to a corpus, row by row when asked.

Reading and canonicalising never change what a file says without saying so: every repair
(a line read in another encoding, a stray quote mark read literally, a post cut to length, a
list cell turned into text...) is logged as a ``Repair`` naming the row or line, what was done
and why. ``LoadReport`` carries those repairs beside the counts of dropped rows and the notes,
with ``summary()`` in plain words and ``repairs_frame()`` for the row-by-row view.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from stigma_core.io.limits import MAX_REPAIRS_LISTED, MAX_TEXT_CHARS

# How summary() counts each kind of repair ("3 lines read as Windows-1252").
REPAIR_KINDS: dict[str, str] = {
    "line_decoded": "lines read in another encoding than the rest of the file",
    "bytes_replaced": "lines with bytes that are no character, replaced by \ufffd",
    "nul_removed": "lines with NUL bytes, removed",
    "quote_repaired": "lines with unbalanced quote marks, read on their own",
    "column_renamed": "columns renamed (blank or repeated names)",
    "cell_to_text": "list or object cells turned into text",
    "item_skipped": "JSON items that are not posts, skipped",
    "text_cut": f"posts cut to {MAX_TEXT_CHARS:,} characters",
    "date_unreadable": "dates that could not be read, left empty",
}
REPAIR_COLUMNS = ("row", "line", "column", "kind", "action", "reason")


@dataclass(frozen=True)
class Repair:
    """One change made while loading, and where.

    ``row`` is the post's position among the file's data rows (the first post is row 1, the
    header not counted); ``line`` is the line of a text file as an editor numbers it (the
    header is line 1). Either may be None where it does not apply.
    """

    kind: str
    action: str
    reason: str
    row: int | None = None
    line: int | None = None
    column: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The repair as plain data, keys in ``REPAIR_COLUMNS`` order."""
        values = asdict(self)
        return {key: values[key] for key in REPAIR_COLUMNS}


class RepairSet(dict):
    """The repairs of a read, as plain data: ``{"entries": [repair dicts], "counts": {kind:
    n}}`` (``entries`` at most ``MAX_REPAIRS_LISTED`` of each kind, ``counts`` exact).

    It travels in ``DataFrame.attrs["repairs"]`` from ``read_table`` to ``canonicalise``, so
    it is a dict (pandas writes ``attrs`` as JSON into Parquet files) that is never changed
    once made: pandas deep-copies ``attrs`` on every operation, and ``__deepcopy__`` returns
    the set itself, so a long list of repairs costs nothing to carry along.
    """

    def __deepcopy__(self, memo: dict) -> RepairSet:
        return self

    @property
    def entries(self) -> list[Repair]:
        """The listed repairs as ``Repair`` objects."""
        return [Repair(**entry) for entry in self.get("entries", [])]


class RepairLog:
    """Collects repairs while a file is read; at most ``MAX_REPAIRS_LISTED`` of each kind are
    listed, all are counted."""

    def __init__(self, start: dict | Iterable[Repair] | None = None) -> None:
        self.entries: list[Repair] = []
        self.counts: Counter[str] = Counter()
        if isinstance(start, dict):  # a RepairSet, or one read back from JSON
            self.entries.extend(Repair(**entry) for entry in start.get("entries", []))
            self.counts.update(start.get("counts", {}))
        elif start is not None:
            for repair in start:
                self.append(repair)

    def add(self, kind: str, action: str, reason: str, *, row: int | None = None,
            line: int | None = None, column: str | None = None) -> None:
        """Log one repair (see ``Repair`` for what row and line mean)."""
        self.append(Repair(kind, action, reason, row=row, line=line, column=column))

    def append(self, repair: Repair) -> None:
        """Log a made ``Repair``."""
        self.counts[repair.kind] += 1
        if self.counts[repair.kind] <= MAX_REPAIRS_LISTED:
            self.entries.append(repair)

    def frozen(self) -> RepairSet:
        """A snapshot as plain data, for ``DataFrame.attrs``."""
        return RepairSet(entries=[r.as_dict() for r in self.entries], counts=dict(self.counts))

    def __len__(self) -> int:
        return sum(self.counts.values())


@dataclass
class LoadReport:
    """What loading did to a corpus: rows in and kept, drops by reason, choices, notes, and
    every repair (``repairs``: dicts with ``REPAIR_COLUMNS``; ``repair_counts`` by kind)."""

    n_input: int
    n_kept: int
    dropped: dict[str, int]
    mapping: dict[str, Any]
    guessed: list[str]
    notes: list[str]
    repairs: list[dict[str, Any]] = field(default_factory=list)
    repair_counts: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The report as plain data (for ``DataFrame.attrs`` and JSON)."""
        return asdict(self)

    def repairs_frame(self) -> pd.DataFrame:
        """The repairs row by row: ``row``, ``line``, ``column``, ``kind``, ``action``,
        ``reason`` (row and line as nullable integers)."""
        frame = pd.DataFrame(self.repairs, columns=list(REPAIR_COLUMNS))
        return frame.astype({"row": "Int64", "line": "Int64"})

    def summary(self) -> str:
        """The report in plain words, one line per topic."""
        reasons = {
            "empty_text": "with empty text",
            "duplicate_rows": "exact duplicate rows",
            "other_language": "in other languages",
        }
        drops = [f"{n:,} {reasons.get(k, k)}" for k, n in self.dropped.items() if n]
        lines = [f"Read {self.n_input:,} rows; kept {self.n_kept:,}."]
        lines.append(f"Dropped {', '.join(drops)}." if drops else "Nothing was dropped.")
        if self.guessed:
            chosen = [f"{k} = {self.mapping[k]!r}" for k in self.guessed]
            lines.append(f"Guessed columns: {'; '.join(chosen)}.")
        repairs = [f"{n:,} {REPAIR_KINDS.get(k, k)}" for k, n in self.repair_counts.items() if n]
        if repairs:
            lines.append(f"Repaired: {'; '.join(repairs)} (each listed with its row or line "
                         "in the report's repairs).")
        return "\n".join(lines + self.notes)

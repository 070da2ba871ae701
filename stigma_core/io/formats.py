"""``read_table``: any supported file to a raw table of plain cells, and what reading did.

The format comes from the file's name (else its first bytes); each format has its reader
(``delimited``, ``jsonfiles``, ``binary``). Whatever the format, the table then gets the same
treatment: column names as trimmed text, blank names called "Unnamed: i" and repeated names
numbered ("text.1"), each renaming logged; cells that hold lists, arrays, objects or bytes
(JSON arrays, Parquet list columns) turned into text by one fixed rule, so nothing downstream
(masking, features, exports) ever meets a cell that is not a plain value; and a CorpusError
for a table with no columns or no rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from stigma_core.errors import CorpusError
from stigma_core.io.binary import read_parquet, read_xlsx
from stigma_core.io.delimited import read_delimited
from stigma_core.io.jsonfiles import read_json
from stigma_core.io.report import RepairLog
from stigma_core.io.sources import DELIMITED, JSON_FORMATS, Source, blob_of, file_format

_NESTED = (list, tuple, set, frozenset, dict, np.ndarray, bytes, bytearray)
_ROWS_SHOWN = 10


def read_table(source: Source, name: str | None = None) -> pd.DataFrame:
    """The raw table in a file (path, bytes or binary file-like such as an upload).

    The format comes from the extension of ``name`` (or of the path / the file-like's
    ``.name``), else from the bytes. CSV/TSV/TXT cells are all read as text, so ids keep
    their leading zeros, and only empty cells are missing ("NA" or "null" are text);
    ``canonicalise`` does the typing. Excel: the first sheet. Cells holding lists or objects
    become text (see ``cell_as_text``).

    ``attrs``: ``"source"`` says how the file was read (format, encoding, delimiter);
    ``"repairs"`` is a ``RepairSet`` of what reading changed, line by line; ``"notes"`` are
    remarks for the load report. Problems the user can fix raise ``CorpusError``.
    """
    blob = blob_of(source, name)
    fmt = file_format(blob)
    details: dict[str, str] = {"name": blob.label, "format": fmt}
    repairs = RepairLog()
    notes: list[str] = []
    if fmt in DELIMITED:
        frame = read_delimited(blob, fmt, details, repairs)
    elif fmt in JSON_FORMATS:
        frame = read_json(blob, lines=fmt != "json", details=details, repairs=repairs,
                          notes=notes)
    elif fmt == "parquet":
        frame = read_parquet(blob)
    else:
        frame = read_xlsx(blob)
    frame = _named_columns(frame, repairs)
    frame = _checked_frame(frame, blob.label)
    frame = _cells_as_text(frame, repairs)
    frame.attrs["source"] = details
    frame.attrs["repairs"] = repairs.frozen()
    frame.attrs["notes"] = tuple(notes)
    return frame


def _named_columns(frame: pd.DataFrame, repairs: RepairLog) -> pd.DataFrame:
    """Column names as trimmed text, unique: a blank one becomes "Unnamed: i" (its position
    from 0), a repeated one "name.1", "name.2"... (as pandas names them); each logged."""
    given = ["" if _missing(c) else str(c).strip() for c in frame.columns]
    taken = set(given)
    seen: set[str] = set()
    numbers: dict[str, int] = {}
    names: list[str] = []
    for position, name in enumerate(given):
        new = name or f"Unnamed: {position}"
        if new in seen or (not name and new in taken):
            number = numbers.get(new, 0)
            while f"{new}.{number + 1}" in taken or f"{new}.{number + 1}" in seen:
                number += 1
            numbers[new] = number + 1
            new = f"{new}.{number + 1}"
        if new != name:
            why = (f"the header repeats the name {name!r}" if name else
                   "the header gives this column no name")
            repairs.add("column_renamed", f"column {position + 1} named {new!r}", why,
                        column=new)
        names.append(new)
        seen.add(new)
    frame.columns = names
    return frame


def _checked_frame(frame: pd.DataFrame, label: str) -> pd.DataFrame:
    """CorpusError when there are no columns or no rows."""
    if frame.columns.empty:
        raise CorpusError(f"'{label}' holds no records. Choose the file that holds the posts.")
    if frame.empty:
        raise CorpusError(
            f"'{label}' has a header row (columns: {names_of(frame.columns)}) but no data "
            "rows. Add the posts below the header, one per row."
        )
    return frame.reset_index(drop=True)


def names_of(columns: Iterable[object], limit: int = 20) -> str:
    """Column names for a message, quoted, at most ``limit`` of them."""
    names = [repr(str(c)) for c in columns]
    extra = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + extra


def cell_as_text(value: Any) -> Any:
    """A list, array, object or bytes cell as text, by one fixed rule; other values as they are.

    Bytes are decoded as UTF-8 (broken bytes as U+FFFD). A list (or array, tuple, set) of
    plain values becomes its items joined by single spaces, missing items left out (so a
    post stored as a list of sentences or tokens reads as one text); anything holding objects
    or further lists becomes compact JSON with sorted keys. Sets are sorted first.
    """
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, set | frozenset):
        value = sorted(value, key=repr)
    if isinstance(value, list | tuple):
        items = [v.tolist() if isinstance(v, np.ndarray) else v for v in value]
        if all(not isinstance(v, _NESTED) for v in items):
            return " ".join(str(v) for v in items if not _missing(v))
        value = items
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return value


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def _cells_as_text(frame: pd.DataFrame, repairs: RepairLog) -> pd.DataFrame:
    """Every list/array/object/bytes cell turned into text (``cell_as_text``), one repair
    per column that had any (with the first rows)."""
    for column in frame.columns:
        values = frame[column]
        if values.dtype != object:
            continue
        nested = values.map(lambda v: isinstance(v, _NESTED)).to_numpy(dtype=bool)
        if not nested.any():
            continue
        converted = values.copy()
        converted[nested] = [cell_as_text(v) for v in values[nested]]
        frame[column] = converted
        rows = np.flatnonzero(nested) + 1
        shown = ", ".join(str(r) for r in rows[:_ROWS_SHOWN])
        more = f" and {len(rows) - _ROWS_SHOWN:,} more" if len(rows) > _ROWS_SHOWN else ""
        repairs.add(
            "cell_to_text",
            f"{len(rows):,} cells (rows {shown}{more}) turned into text: list items joined "
            "by spaces, objects written as JSON",
            "a cell must hold one value; this column holds lists or objects",
            row=int(rows[0]) if len(rows) == 1 else None, column=str(column),
        )
    return frame

"""Parquet files and Excel workbooks, checked before they are unpacked.

Both are compressed containers, so a small file can claim gigabytes: the declared
uncompressed sizes are checked against ``MAX_UNPACKED_BYTES`` first. An Excel sheet is read
row by row (openpyxl's read-only mode) ignoring its declared dimension, blank rows skipped,
and refused as soon as the table it makes would exceed ``MAX_XLSX_CELLS`` cells, so a stray
cell far to the right or bottom costs nothing. Parquet struct columns are flattened into
dotted columns (as JSON objects are); list columns are turned into text by ``formats``.
"""

from __future__ import annotations

import io
import warnings
import zipfile
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from stigma_core.errors import CorpusError
from stigma_core.io.limits import GIB, MAX_UNPACKED_BYTES, MAX_XLSX_CELLS
from stigma_core.io.sources import Blob

KINDS = {"parquet": "a Parquet file", "xlsx": "an Excel workbook (.xlsx)"}


def damaged(label: str, fmt: str, why: str) -> CorpusError:
    """The error for a file that cannot be opened as the format its name says."""
    return CorpusError(
        f"'{label}' could not be opened as {KINDS[fmt]} ({why}). It may be damaged or "
        "another kind of file: open it in the program that made it and save it again as "
        f".{fmt} or .csv."
    )


def _too_big_unpacked(label: str, size: int) -> CorpusError:
    return CorpusError(
        f"'{label}' would unpack to {size / GIB:.1f} GiB; Stigma Lens unpacks at most "
        f"{MAX_UNPACKED_BYTES / GIB:.0f} GiB. Split the posts into smaller files, or save "
        "them as CSV."
    )


# ---------------------------------------------------------------------------------------------
# Parquet


def read_parquet(blob: Blob) -> pd.DataFrame:
    """The table in a Parquet file, struct columns flattened (``user.location``)."""
    source: Any = pa.BufferReader(blob.data) if blob.data is not None else str(blob.path)
    try:
        parquet = pq.ParquetFile(source)
        metadata = parquet.metadata
        unpacked = sum(metadata.row_group(i).total_byte_size
                       for i in range(metadata.num_row_groups))
        if unpacked > MAX_UNPACKED_BYTES:
            raise _too_big_unpacked(blob.label, unpacked)
        table = parquet.read()
        while any(pa.types.is_struct(f.type) for f in table.schema):
            table = table.flatten()
        return table.to_pandas()
    except CorpusError:
        raise
    except Exception as exc:  # any reader failure means the same thing to the user
        raise damaged(blob.label, "parquet", f"{type(exc).__name__}: {exc}") from None


# ---------------------------------------------------------------------------------------------
# Excel


def read_xlsx(blob: Blob) -> pd.DataFrame:
    """The first sheet of an Excel workbook: its first non-blank row as the header."""
    data = blob.read()
    _check_archive(data, blob.label)
    import openpyxl  # imported here: it costs a quarter of a second and few files are xlsx

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True,
                                          keep_links=False)
    except Exception as exc:  # any reader failure means the same thing to the user
        raise damaged(blob.label, "xlsx", f"{type(exc).__name__}: {exc}") from None
    try:
        if not book.worksheets:
            raise CorpusError(f"'{blob.label}' has no worksheet (only charts). Put the posts "
                              "on a sheet, one per row.")
        return _sheet_frame(book.worksheets[0], blob.label)
    finally:
        book.close()


def _check_archive(data: bytes, label: str) -> None:
    """CorpusError unless ``data`` is a ZIP archive holding a workbook whose parts declare
    no more than ``MAX_UNPACKED_BYTES`` in all."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
        raise damaged(label, "xlsx", f"it is not a ZIP archive, as every .xlsx is: {exc}") from None
    unpacked = sum(part.file_size for part in parts)
    if unpacked > MAX_UNPACKED_BYTES:
        raise _too_big_unpacked(label, unpacked)
    if not any(part.filename == "xl/workbook.xml" for part in parts):
        raise damaged(label, "xlsx", "it is a ZIP archive without a workbook in it, perhaps "
                                     "a zipped folder or an OpenDocument file")


def _sheet_frame(sheet: Any, label: str) -> pd.DataFrame:
    """Rows of a read-only sheet as a table, within ``MAX_XLSX_CELLS`` (blank rows skipped)."""
    declared = sheet.calculate_dimension() if sheet.max_row and sheet.max_column else None
    sheet.reset_dimensions()  # read the cells that are there, not the range it claims
    rows: list[tuple] = []
    width = 0
    try:
        for row in sheet.iter_rows(values_only=True):
            if not any(v is not None and v != "" for v in row):
                continue
            width = max(width, _used_width(row))
            rows.append(row)
            if width * len(rows) > MAX_XLSX_CELLS:
                raise _too_many_cells(label, len(rows), width, declared)
    except CorpusError:
        raise
    except Exception as exc:  # any reader failure means the same thing to the user
        raise damaged(label, "xlsx", f"{type(exc).__name__}: {exc}") from None
    if not rows:
        return pd.DataFrame()
    header = list(rows[0][:width]) + [None] * (width - len(rows[0][:width]))
    columns = {i: [r[i] if i < len(r) else None for r in rows[1:]] for i in range(width)}
    frame = pd.DataFrame(columns, index=range(len(rows) - 1))
    frame.columns = [None if h is None else str(h) for h in header]
    return frame


def _used_width(row: tuple) -> int:
    """The position of the last filled cell of ``row`` (1-based)."""
    for position in range(len(row), 0, -1):
        value = row[position - 1]
        if value is not None and value != "":
            return position
    return 0


def _too_many_cells(label: str, rows: int, width: int, declared: str | None) -> CorpusError:
    claims = f" (its first sheet declares the range {declared})" if declared else ""
    return CorpusError(
        f"The first sheet of '{label}' makes a table of at least {rows:,} rows by {width:,} "
        f"columns{claims}, more than the {MAX_XLSX_CELLS:,} cells Stigma Lens reads from "
        "Excel. If most of it is empty, a stray value far to the right or bottom stretches it: "
        "delete the empty rows and columns after the table. Otherwise save the sheet as CSV."
    )

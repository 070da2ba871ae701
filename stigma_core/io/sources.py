"""Where a corpus comes from (a path, bytes or an upload) and what kind of file it is.

A file on disk is not read into memory up front: ``Blob`` keeps the path and hands out
streams, so a large CSV can be checked and parsed in pieces (see ``delimited``). Bytes and
uploads are kept as they came. The size limit is checked before anything is read.
"""

from __future__ import annotations

import codecs
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO

from stigma_core.errors import CorpusError
from stigma_core.io.limits import GIB, MAX_FILE_BYTES

Source = str | Path | bytes | bytearray | IO[bytes]

DELIMITED = ("csv", "tsv", "txt")
JSON_FORMATS = ("json", "jsonl", "ndjson")
SUPPORTED = (*DELIMITED, *JSON_FORMATS, "parquet", "xlsx")
CHUNK_BYTES = 16 << 20

# How a file starts tells binary files apart from text tables.
SIGNATURES = {
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"%PDF": "a PDF document",
    b"PK\x03\x04": "a ZIP archive (an Excel workbook is one: if it is, name it .xlsx)",
    b"\xd0\xcf\x11\xe0": "an old-style Excel (.xls) or Word file, or a password-protected "
                         "workbook (save it as .xlsx or .csv, without a password)",
    b"\x1f\x8b": "a gzip-compressed file (unpack it first)",
    b"PAR1": "a Parquet file (name it .parquet)",
}


@dataclass
class Blob:
    """The bytes of one input: in memory (``data``) or in a file (``path``), with the name
    used for its format and in messages (``label``) and its size in bytes."""

    label: str
    size: int
    data: bytes | None = None
    path: Path | None = None

    def open(self) -> BinaryIO:
        """A fresh binary stream over the whole input."""
        if self.data is not None:
            return io.BytesIO(self.data)
        assert self.path is not None
        return self.path.open("rb")

    def head(self, n: int) -> bytes:
        """The first ``n`` bytes (fewer when the input is shorter)."""
        if self.data is not None:
            return self.data[:n]
        with self.open() as stream:
            return stream.read(n)

    def read(self) -> bytes:
        """All the bytes (read from disk once, then kept)."""
        if self.data is None:
            assert self.path is not None
            self.data = self.path.read_bytes()
        return self.data

    def chunks(self, size: int = CHUNK_BYTES) -> Iterator[bytes]:
        """The bytes in pieces of about ``size``, each ending at the end of a line (or, in a
        line longer than ``size``, where a UTF-8 character ends), so that every piece can be
        decoded on its own and a line is rarely split."""
        with self.open() as stream:
            pending = b""
            while True:
                piece = stream.read(size)
                if not piece:
                    break
                piece = pending + piece
                cut = _piece_end(piece)
                pending = piece[cut:]
                if cut:
                    yield piece[:cut]
            if pending:
                yield pending


def _piece_end(piece: bytes) -> int:
    """Where to cut ``piece``: after its last newline, else before an unfinished UTF-8
    character at its end (a lead byte followed by fewer continuation bytes than it needs)."""
    newline = piece.rfind(b"\n")
    if newline >= 0:
        return newline + 1
    for back in range(1, min(len(piece), 4) + 1):
        byte = piece[-back]
        if byte < 0x80:
            return len(piece)
        if byte >= 0xC0:  # a lead byte: keep it only if its sequence is complete
            needed = 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4
            return len(piece) if back >= needed else len(piece) - back
    return len(piece)


def blob_of(source: Source, name: str | None) -> Blob:
    """The input as a Blob; CorpusError for a missing, unreadable, empty or too large file."""
    if isinstance(source, str | Path):
        path = Path(source)
        try:
            size = path.stat().st_size
            if not path.is_file():
                raise CorpusError(f"{path} is a folder, not a file. Choose the file itself.")
        except FileNotFoundError:
            raise CorpusError(f"There is no file at {path}. Check the path.") from None
        except OSError as exc:
            raise CorpusError(f"Could not read {path}: {exc.strerror}.") from None
        blob = Blob(name or path.name, size, path=path)
    elif isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        blob = Blob(name or "the uploaded data", len(data), data=data)
    elif hasattr(source, "read"):
        if hasattr(source, "seek"):
            source.seek(0)
        data = source.read()
        data = data.encode("utf-8") if isinstance(data, str) else bytes(data)
        own = getattr(source, "name", None)
        label = name or (Path(own).name if isinstance(own, str) else "the uploaded data")
        blob = Blob(label, len(data), data=data)
    else:
        raise TypeError(f"read_table needs a path, bytes or a binary file, not {type(source)}")
    _check_size(blob)
    return blob


def _check_size(blob: Blob) -> None:
    """CorpusError for an empty file or one over ``MAX_FILE_BYTES``."""
    if blob.size == 0:
        raise CorpusError(
            f"'{blob.label}' is empty (0 bytes). Choose the file that holds the posts.")
    if blob.size > MAX_FILE_BYTES:
        raise CorpusError(
            f"'{blob.label}' is {blob.size / GIB:.1f} GiB; Stigma Lens reads files up to "
            f"{MAX_FILE_BYTES / GIB:.0f} GiB. Split it into smaller files, or save it as "
            "Parquet (which is far smaller), and load those."
        )


def file_format(blob: Blob) -> str:
    """The file format from the name's extension, or from the bytes when there is none."""
    suffix = Path(blob.label).suffix.lower().lstrip(".")
    if suffix in SUPPORTED:
        return suffix
    if suffix:
        raise CorpusError(
            f"'{blob.label}' ends in .{suffix}, which Stigma Lens cannot read. Save the posts "
            f"as one of: {', '.join('.' + s for s in SUPPORTED)}."
        )
    head = blob.head(4096)
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    start = head.lstrip(codecs.BOM_UTF8 + b" \t\r\n")[:1]
    return "json" if start in (b"{", b"[") else "csv"


def reject_binary(head: bytes, label: str) -> None:
    """CorpusError when the bytes start like an image, archive or other binary file."""
    for signature, what in SIGNATURES.items():
        if head.startswith(signature):
            raise CorpusError(not_text(label, f"it is {what}"))


def not_text(label: str, why: str) -> str:
    """The message for a file that should be a text table but is not."""
    return (
        f"'{label}' does not look like a text table: {why}. Choose a CSV, TSV, JSON, "
        "Parquet or Excel (.xlsx) file with one post per row."
    )

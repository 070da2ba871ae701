"""CSV, TSV and TXT tables: the delimiter, the header, quote errors, and a lean parse.

How a delimited file is read, and why:

1. It is decoded to UTF-8 (``decoding``), and its delimiter sniffed from the start.
2. A streaming pass with Python's csv reader in strict mode checks the structure without
   keeping the cells (in C alone when every record is one line as wide as the header; row
   by row otherwise): every row must have as many fields as the header (else a CorpusError
   names the line: mixed delimiters, or an unquoted delimiter in a post), and every quote
   mark must pair up. An unclosed quote would silently swallow the following lines into one
   post (and shift every later label by a row), so such a line is read on its own instead,
   its quote mark kept as text, and the repair is logged with its line; if even that does
   not give a row of the right width, a CorpusError names the line. A quote that closes
   just where a later row ends merges rows with no error at all: a "post" spanning lines of
   which every line reads alone as a full row (starting with a number, when the first
   column holds numbers) is taken for such a merge and split back into its rows, logged.
3. A file with no quote problems is parsed by pyarrow straight from its bytes, every cell as
   text (ids keep their leading zeros; ``canonicalise`` does the typing) into pyarrow-backed
   strings: no decoded copy of the whole file is ever held, so a 300 MiB CSV peaks at well
   under 1 GB. Only truly empty cells are missing: "NA", "None", "null", "nan" are posts.
"""

from __future__ import annotations

import csv
import io
import re
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from stigma_core.errors import CorpusError
from stigma_core.io.decoding import SNIFF_BYTES, utf8_blob
from stigma_core.io.report import RepairLog
from stigma_core.io.sources import Blob

DELIMITERS = ",;\t|"
ONE_COLUMN = "\x1f"  # the ASCII unit separator: a "delimiter" for files of a single column
DELIMITER_NAMES = {"\t": "tab", ",": "comma", ";": "semicolon", "|": "bar"}
HEADER_BYTES = 1 << 20
MIN_BLOCK_BYTES = 16 << 20
QUOTE_ADVICE = (
    "Close the quote, write a quote mark inside a post as two (\"\"), or save the file again "
    "from a spreadsheet as CSV."
)


@dataclass
class Header:
    """The header row: its names, the byte just after it, and the lines it took."""

    names: list[str]
    offset: int
    lines: int


@dataclass
class Scan:
    """What the structural pass found (no cells kept)."""

    records: int = 0
    multiline: bool = False
    longest: int = 0
    ragged: list[tuple[int, int]] = field(default_factory=list)
    n_ragged: int = 0
    quote_problem: bool = False


def read_delimited(blob: Blob, fmt: str, details: dict[str, str],
                   repairs: RepairLog) -> pd.DataFrame:
    """The table in a CSV/TSV/TXT file, every cell as text (empty cells missing)."""
    csv.field_size_limit(sys.maxsize)  # posts of any length; the file size is limited
    utf8, details["encoding"] = utf8_blob(blob, repairs)
    sample = utf8.head(SNIFF_BYTES).decode("utf-8", errors="ignore").removeprefix("\ufeff")
    delimiter = "\t" if fmt == "tsv" else sniff_delimiter(sample, utf8.size > SNIFF_BYTES)
    details["delimiter"] = "none (one column)" if delimiter == ONE_COLUMN else delimiter
    header = read_header(utf8, delimiter)
    width = len(header.names)
    scan = scan_records(utf8, header, delimiter)
    if scan.n_ragged:
        raise CorpusError(_ragged_message(scan, width, delimiter, blob.label))
    if scan.quote_problem:
        frame = _python_frame(utf8, header, delimiter, repairs)
    else:
        frame = _arrow_frame(utf8, header, scan, delimiter)
        if frame is None:  # pyarrow disagreed with the scan: take the careful way
            frame = _python_frame(utf8, header, delimiter, repairs)
    frame.columns = header.names
    return frame


# ---------------------------------------------------------------------------------------------
# Delimiter and header


def sniff_delimiter(text: str, truncated: bool = False) -> str:
    """The delimiter among , ; tab | that splits the first rows into equal, >1 fields.

    csv.Sniffer's guess is tried first, then the candidates by how often they occur in the
    header; a file with no consistent choice gets the most likely one, and the field-count
    check then names the line that does not fit. A header with none of them is one column
    (``ONE_COLUMN``): commas in its posts are then text, not delimiters. ``truncated``:
    ``text`` is only the start of the file (its last row may be cut short).
    """
    lines = re.split(r"\r\n|\r|\n", text)
    header = next((line for line in lines if line.strip()), "")
    if not any(d in header for d in DELIMITERS):
        return ONE_COLUMN
    candidates = sorted(DELIMITERS, key=lambda d: -header.count(d))
    try:
        candidates.insert(0, csv.Sniffer().sniff(text, delimiters=DELIMITERS).delimiter)
    except csv.Error:
        pass
    for delimiter in candidates:
        try:
            rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
        except csv.Error:
            continue
        widths = {len(r) for r in (rows[:-1] if truncated else rows) if any(c.strip() for c in r)}
        if len(widths) == 1 and widths.pop() > 1:
            return delimiter
    return candidates[0]


def read_header(blob: Blob, delimiter: str) -> Header:
    """The first row that is not blank; CorpusError when there is none, or when a quote
    mark in it never closes."""
    head = blob.head(HEADER_BYTES)
    lines = head.splitlines(keepends=True)
    offset = used = 0
    start = 0
    while start < len(lines):
        text = ""
        for end in range(start, len(lines)):
            text += lines[end].decode("utf-8", errors="replace")
            fields = _one_record(text, delimiter)
            if fields is not None:
                break
        else:
            raise CorpusError(_header_quote_message(blob, used + 1))
        taken = lines[start:end + 1]
        offset += sum(map(len, taken))
        used += len(taken)
        start = end + 1
        if fields and any(f.strip() for f in fields):
            fields[0] = fields[0].removeprefix("\ufeff")
            return Header(fields, offset, used)
    if len(head) < blob.size:
        raise CorpusError(
            f"The first {HEADER_BYTES:,} bytes of '{blob.label}' hold no header row. Check "
            "that it is a table with column names in its first line.")
    raise CorpusError(f"'{blob.label}' holds no table (only blank lines).")


def _one_record(text: str, delimiter: str) -> list[str] | None:
    """The fields of the record ``text`` holds, or None when a quote in it is still open."""
    try:
        return next(csv.reader([text], delimiter=delimiter, strict=True), [])
    except csv.Error as exc:
        if "unexpected end of data" in str(exc) or "new-line character" in str(exc):
            return None
    return next(csv.reader([text], delimiter=delimiter), [])


def _header_quote_message(blob: Blob, line: int) -> str:
    return (
        f"The header row (line {line}) of '{blob.label}' has a quote mark that is opened but "
        f"never closed, so the column names cannot be read. {QUOTE_ADVICE}"
    )


# ---------------------------------------------------------------------------------------------
# The structural pass


class _Lines:
    """Lines of a text stream for csv.reader, remembering those of the current record."""

    def __init__(self, lines: Iterator[str], before: int) -> None:
        self._lines = lines
        self._pushed: list[str] = []
        self.number = before  # lines handed out so far (the header's included)
        self.record: list[str] = []

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = self._pushed.pop() if self._pushed else next(self._lines)
        self.number += 1
        self.record.append(line)
        return line

    def push_back(self, lines: list[str]) -> None:
        """Hand ``lines`` out again, in order, before the rest."""
        self._pushed.extend(reversed(lines))
        self.number -= len(lines)


def _text_lines(blob: Blob, header: Header) -> tuple[io.TextIOWrapper, _Lines]:
    stream = blob.open()
    stream.seek(header.offset)
    text = io.TextIOWrapper(stream, encoding="utf-8", errors="replace", newline="")
    return text, _Lines(iter(text), header.lines)


def _blank(row: list[str], width: int) -> bool:
    """An empty line, or a line of spaces that is not a row of the right width."""
    return not row or (len(row) != width and not any(cell.strip() for cell in row))


def scan_records(blob: Blob, header: Header, delimiter: str) -> Scan:
    """Count the records and check their widths and quotes, keeping no cells.

    Most files have one record per line, every one as wide as the header: a quick pass
    (csv's C reader counting widths, no Python per row) proves that. Any other file (posts
    over several lines, rows of another width, quote errors) gets the thorough pass.
    """
    width = len(header.names)
    text, _ = _text_lines(blob, header)
    with text:
        reader = csv.reader(text, delimiter=delimiter, strict=True)
        try:
            widths = Counter(map(len, reader))
        except csv.Error:
            widths = None
        if widths is not None and set(widths) <= {0, width} and (
                reader.line_num == sum(widths.values())):
            return Scan(records=widths[width])
    return _thorough_scan(blob, header, delimiter)


def _thorough_scan(blob: Blob, header: Header, delimiter: str) -> Scan:
    """The scan for files that are not one record per line of the header's width."""
    width = len(header.names)
    scan = Scan()
    text, lines = _text_lines(blob, header)
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    digits: list[bool] = []
    with text:
        while True:
            lines.record.clear()
            start = lines.number + 1
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error:
                scan.quote_problem = True
                break
            if _blank(row, width):
                continue
            if len(row) != width:
                scan.n_ragged += 1
                if len(scan.ragged) < 1:
                    scan.ragged.append((start, len(row)))
                continue
            scan.records += 1
            if len(digits) < 1000:
                digits.append(row[0].strip().isdigit())
            record = lines.record
            if len(record) == 1:
                scan.longest = max(scan.longest, len(record[0]))
                continue
            scan.multiline = True
            scan.longest = max(scan.longest, sum(map(len, record)))
            if _looks_merged(record, delimiter, width, _mostly(digits)):
                scan.quote_problem = True
                break
    return scan


def _mostly(flags: list[bool]) -> bool:
    return bool(flags) and sum(flags) >= 0.9 * len(flags)


def _looks_merged(record: list[str], delimiter: str, width: int, digit_ids: bool) -> bool:
    """True when a record spanning lines is rather several rows run together by a quote
    mark that never closed: read alone, each of its lines is a full row (and, in a file
    whose first column is numbers, each starts with one)."""
    for line in record:
        fields = _unquoted_fields(line, delimiter)
        if len(fields) != width or (digit_ids and not fields[0].strip().isdigit()):
            return False
    return True


def _unquoted_fields(line: str, delimiter: str) -> list[str]:
    """The fields of one line split on every delimiter, quote marks being plain text."""
    line = line.rstrip("\r\n")
    return next(csv.reader([line], delimiter=delimiter, quoting=csv.QUOTE_NONE), [])


def _ragged_message(scan: Scan, width: int, delimiter: str, label: str) -> str:
    line, count = scan.ragged[0]
    more = scan.n_ragged - 1
    also = f" ({more:,} more lines do not fit either)" if more else ""
    if delimiter == ONE_COLUMN:
        split = "one column"
    else:
        split = f"fields split on {DELIMITER_NAMES.get(delimiter, repr(delimiter))}s"
    return (
        f"Line {line} of '{label}' has {count} field{'s' * (count != 1)} but the header has "
        f"{width} ({split}){also}. The file may mix delimiters (commas and semicolons) or "
        "have a post with an unquoted delimiter in it. Save it again from a spreadsheet as "
        "CSV, or put quote marks around each post."
    )


# ---------------------------------------------------------------------------------------------
# Parsing: pyarrow for sound files, Python with repairs for files with quote errors


def _arrow_frame(blob: Blob, header: Header, scan: Scan, delimiter: str) -> pd.DataFrame | None:
    """The records parsed by pyarrow, straight from the bytes; None if its count of rows
    differs from the scan's (then the careful parser decides)."""
    width = len(header.names)
    if scan.records == 0:
        return pd.DataFrame({i: pd.Series([], dtype="str") for i in range(width)})
    names = [f"c{i}" for i in range(width)]
    read_options = pacsv.ReadOptions(
        column_names=names, use_threads=False,
        block_size=max(MIN_BLOCK_BYTES, 4 * scan.longest + (1 << 16)),
    )
    parse_options = pacsv.ParseOptions(
        delimiter=delimiter, quote_char='"', double_quote=True, escape_char=False,
        newlines_in_values=scan.multiline, ignore_empty_lines=True,
        invalid_row_handler=lambda row: "skip" if not row.text.strip() else "error",
    )
    convert_options = pacsv.ConvertOptions(
        column_types={n: pa.string() for n in names}, null_values=[""],
        strings_can_be_null=True, quoted_strings_can_be_null=True,
    )
    try:
        table = _arrow_table(blob, header.offset, read_options, parse_options,
                             convert_options)
    except pa.ArrowInvalid:
        return None
    if table.num_rows != scan.records:
        return None
    frame = table.to_pandas(self_destruct=True, split_blocks=True)
    del table
    frame.columns = range(width)
    return frame


def _arrow_table(blob: Blob, offset: int, read_options: pacsv.ReadOptions,
                 parse_options: pacsv.ParseOptions,
                 convert_options: pacsv.ConvertOptions) -> pa.Table:
    """pyarrow's parse of the bytes after the header. A record longer than a block (a post
    of megabytes) makes pyarrow give up; it is then parsed again as one block."""
    for attempt in range(2):
        source = _arrow_input(blob, offset)
        try:
            return pacsv.read_csv(source, read_options=read_options,
                                  parse_options=parse_options, convert_options=convert_options)
        except pa.ArrowInvalid as exc:
            if attempt or "straddling" not in str(exc):
                raise
            read_options.block_size = max(read_options.block_size, blob.size + 1)
        finally:
            if isinstance(source, pa.NativeFile):
                source.close()
    raise AssertionError("unreachable")


def _arrow_input(blob: Blob, offset: int) -> pa.NativeFile | pa.Buffer:
    """The bytes after the header, for pyarrow: a slice of memory, or the file seeked."""
    if blob.data is not None:
        return pa.py_buffer(blob.data).slice(offset)
    source = pa.OSFile(str(blob.path))
    source.seek(offset)
    return source


def _python_frame(blob: Blob, header: Header, delimiter: str,
                  repairs: RepairLog) -> pd.DataFrame:
    """The records parsed by Python's csv, each quote error repaired (or a CorpusError)."""
    width = len(header.names)
    columns: list[list[str | None]] = [[] for _ in range(width)]
    for row in _repaired_rows(blob, header, delimiter, repairs):
        for column, cell in zip(columns, row, strict=True):
            column.append(cell if cell != "" else None)
    return pd.DataFrame({i: pd.array(c, dtype="str") for i, c in enumerate(columns)})


def _repaired_rows(blob: Blob, header: Header, delimiter: str,
                   repairs: RepairLog) -> Iterator[list[str]]:
    """The data rows, with every line where a quote error starts read on its own."""
    width = len(header.names)
    text, lines = _text_lines(blob, header)
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    digits: list[bool] = []
    rows = 0
    with text:
        while True:
            lines.record.clear()
            start = lines.number + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error:
                record = list(lines.record)
                lines.push_back(record[1:])
                reader = csv.reader(lines, delimiter=delimiter, strict=True)
                rows += 1
                yield _repaired_line(record[0], start, rows, delimiter, width, blob.label,
                                     repairs)
                continue
            if _blank(row, width):
                continue
            if len(row) != width:
                ragged = Scan(ragged=[(start, len(row))], n_ragged=1)
                raise CorpusError(_ragged_message(ragged, width, delimiter, blob.label))
            record = list(lines.record)
            if len(record) > 1 and _looks_merged(record, delimiter, width, _mostly(digits)):
                for number, line in enumerate(record, start=start):
                    rows += 1
                    yield _repaired_line(line, number, rows, delimiter, width, blob.label,
                                         repairs)
                continue
            rows += 1
            if len(digits) < 1000:
                digits.append(row[0].strip().isdigit())
            yield row


def _repaired_line(line: str, number: int, row: int, delimiter: str, width: int,
                   label: str, repairs: RepairLog) -> list[str]:
    """One line where a quote error starts, read as a row on its own: split on every
    delimiter (a field wrapped in quotes is unwrapped), else parsed leniently; CorpusError
    when neither gives a row as wide as the header."""
    fields = _unquoted_fields(line, delimiter)
    how = "quote marks that do not pair up are kept as text"
    if len(fields) == width:
        fields = [_unwrapped(f) for f in fields]
    else:
        fields = next(csv.reader([line.rstrip("\r\n")], delimiter=delimiter), [])
        how = "quote marks that do not pair up are dropped"
    if len(fields) != width:
        raise CorpusError(
            f"Line {number} of '{label}' has a quote mark that is opened but never closed "
            f"(or closed in the middle of a post), so the rows after it would run together "
            f"and their labels shift. {QUOTE_ADVICE}"
        )
    repairs.add("quote_repaired", f"read line {number} as a row on its own; {how}",
                "a quote mark on it is opened but never closed, which would have merged it "
                "with the following lines into one post", row=row, line=number)
    return fields


def _unwrapped(cell: str) -> str:
    """A field written "like this" without its outer quotes, doubled inner quotes undone."""
    if len(cell) >= 2 and cell[0] == cell[-1] == '"':
        return cell[1:-1].replace('""', '"')
    return cell

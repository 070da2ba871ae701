"""Reading corpora in the common formats and mapping their columns to canonical names.

A corpus arrives as whatever a researcher has: a CSV from Excel (any encoding, commas or
semicolons), a TSV, a JSON list of records, a Twitter API v2 export, a Reddit dump (JSON
lines), Parquet or an Excel workbook. ``read_table`` turns any of these into a raw frame;
``guess_mapping`` guesses which column is which from common names; ``canonicalise`` renames,
normalises and cleans it into the canonical columns every other module relies on, and says
in a ``LoadReport`` what it dropped, what it repaired (row by row) and why. Every problem the
user can fix raises ``CorpusError`` in plain words (what, where, how to fix).

One module per concern:

- ``sources``: paths, bytes and uploads; the file's format; the file size limit.
- ``decoding``: bytes to UTF-8, line by line as the evidence says.
- ``delimited``: CSV/TSV/TXT (delimiter, header, quote errors, a lean pyarrow parse).
- ``jsonfiles``: JSON/JSONL, Twitter API v2 and Reddit shapes.
- ``binary``: Parquet and Excel, checked before unpacking.
- ``formats``: ``read_table`` over all of them; column names; list cells as text.
- ``mapping``: ``ColumnMapping`` and ``guess_mapping``.
- ``canonical``: ``canonicalise``, ``read_codes``, ``load_corpus``.
- ``report``: ``LoadReport`` and the repairs it lists.
- ``limits``: every limit, named, with why.
"""

from stigma_core.io.canonical import DATE_RANGE, canonicalise, load_corpus, read_codes
from stigma_core.io.formats import cell_as_text, read_table
from stigma_core.io.limits import (
    MAX_FILE_BYTES,
    MAX_JSON_DEPTH,
    MAX_REPAIRS_LISTED,
    MAX_TEXT_CHARS,
    MAX_UNPACKED_BYTES,
    MAX_XLSX_CELLS,
)
from stigma_core.io.mapping import CANDIDATES, MAPPING_FIELDS, ColumnMapping, guess_mapping
from stigma_core.io.report import REPAIR_KINDS, LoadReport, Repair
from stigma_core.io.sources import DELIMITED, JSON_FORMATS, SUPPORTED, Source

__all__ = [
    "CANDIDATES",
    "DATE_RANGE",
    "DELIMITED",
    "JSON_FORMATS",
    "MAPPING_FIELDS",
    "MAX_FILE_BYTES",
    "MAX_JSON_DEPTH",
    "MAX_REPAIRS_LISTED",
    "MAX_TEXT_CHARS",
    "MAX_UNPACKED_BYTES",
    "MAX_XLSX_CELLS",
    "REPAIR_KINDS",
    "SUPPORTED",
    "ColumnMapping",
    "LoadReport",
    "Repair",
    "Source",
    "canonicalise",
    "cell_as_text",
    "guess_mapping",
    "load_corpus",
    "read_codes",
    "read_table",
]

"""The limits of reading, named in one place so the README, the messages and the tests agree.

Each limit is deliberate: it turns a file that would exhaust the machine (or that no
researcher means to load) into a plain ``CorpusError`` before any memory is spent on it, or,
for posts, says how long a post may be. Messages name the limit and how to get under it.
"""

from __future__ import annotations

GIB = 1 << 30

MAX_FILE_BYTES = 1 * GIB
"""Largest file read at all (1 GiB). Reading a CSV needs about the file's size again in
memory (the table itself), so this keeps a load within a few GiB; split larger corpora, or
convert them to Parquet, which reads far more compactly."""

MAX_TEXT_CHARS = 10_000
"""Longest post kept whole (10,000 characters, several times the longest tweet, Reddit
comment or interview answer in the corpora seen). Longer posts are cut to this length and
kept; each cut is listed in the load report with its row. A post far longer is almost always
a whole file pasted into one cell, and would dominate the text features."""

MAX_XLSX_CELLS = 5_000_000
"""Most cells an Excel sheet may fill, counted as rows x columns of the table it makes (5
million: a million posts of five columns). openpyxl spends hundreds of bytes per cell, and
every empty cell up to a far-away filled one counts: a single stray cell at XFD1048576 would
otherwise ask for 17 billion. Blank rows are not counted. Save bigger sheets as CSV."""

MAX_UNPACKED_BYTES = 2 * GIB
"""Largest uncompressed size an .xlsx (a ZIP archive) or a Parquet file may declare (2 GiB).
A small compressed file can unpack into gigabytes ("zip bomb"); the declared sizes are checked
before anything is unpacked (Python's zipfile never unpacks more than the declared size)."""

MAX_JSON_DEPTH = 200
"""Deepest nesting of lists and objects a JSON file may have (200 levels). Twitter exports use
under 10; a Reddit comment tree adds five per reply, so threads up to about 35 replies deep
fit. Deeper files are not post exports, and much deeper ones would exhaust Python's stack."""

MAX_REPAIRS_LISTED = 10_000
"""Most repairs of one kind listed row by row in a load report (the count is always exact)."""

"""Reading corpora in the common formats and mapping their columns to canonical names.

A corpus arrives as whatever a researcher has: a CSV from Excel (any encoding, commas or
semicolons), a TSV, a JSON list of records, a Twitter API v2 export, a Reddit dump (JSON
lines), Parquet or an Excel workbook. ``read_table`` turns any of these into a raw frame;
``guess_mapping`` guesses which column is which from common names; ``canonicalise`` renames,
normalises and cleans it into the canonical columns every other module relies on, and says
in a ``LoadReport`` what it dropped and why. Every problem the user can fix raises
``CorpusError`` in plain words (what, where, how to fix).
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import IO, Any

import charset_normalizer
import numpy as np
import pandas as pd
import pycountry

from stigma_core import language as lang
from stigma_core.errors import CorpusError

Source = str | Path | bytes | bytearray | IO[bytes]

MAX_TEXT_CHARS = 10_000
DELIMITED = ("csv", "tsv", "txt")
JSON_FORMATS = ("json", "jsonl", "ndjson")
SUPPORTED = (*DELIMITED, *JSON_FORMATS, "parquet", "xlsx")
_SNIFF_CHARS = 65_536

# Column names (compared case-insensitively) that guess_mapping recognises, best first.
CANDIDATES: dict[str, tuple[str, ...]] = {
    "text": ("text", "tweet", "full_text", "body", "content", "post", "message", "comment"),
    "label": ("label", "stigma", "stigmatising", "stigmatizing", "is_stigma", "class", "y"),
    "location": ("user_location", "location", "user.location", "author_location"),
    "country": ("country", "country_code"),
    "platform": ("platform", "source_platform", "site"),
    "date": ("created_at", "date", "timestamp", "created_utc"),
    "retweet": ("is_retweet", "retweeted", "rt", "retweet"),
    "id": ("id", "tweet_id", "post_id"),
    "lang": ("lang", "language", "lang_code", "language_code"),
}
_RATER_NAME = re.compile(r"^(rater|coder|annotator)_.+", re.IGNORECASE)

# How a file starts tells binary files apart from text tables.
_SIGNATURES = {
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"%PDF": "a PDF document",
    b"PK\x03\x04": "a ZIP archive (an Excel workbook is one: if it is, name it .xlsx)",
    b"\xd0\xcf\x11\xe0": "an old-style Excel (.xls) or Word file (save it as .xlsx or .csv)",
    b"\x1f\x8b": "a gzip-compressed file (unpack it first)",
    b"PAR1": "a Parquet file (name it .parquet)",
}
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Letters of scripts a cp1252 misreading never produces (Greek, Cyrillic, Hebrew, Arabic,
# Thai, kana, CJK, Hangul): a legacy-encoded file that decodes to them is not cp1252.
_NON_LATIN = re.compile(
    "[\u0370-\u052f\u0590-\u06ff\u0e00-\u0e7f\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af]"
)

_STIGMA_WORDS = ("stigma", "stigmatising", "stigmatizing", "stigmatised", "stigmatized")
_NEGATIONS = ("not ", "not-", "not_", "non-", "non ", "non_", "non", "no ")
_YES = ("1", "1.0", "true", "t", "yes", "y", *_STIGMA_WORDS)
_NO = ("0", "0.0", "false", "f", "no", "n", *(n + w for n in _NEGATIONS for w in _STIGMA_WORDS))
_BINARY_KEYS: dict[str, Any] = {**dict.fromkeys(_YES, 1), **dict.fromkeys(_NO, 0), "": pd.NA}
_REDDIT_GONE = ("[removed]", "[deleted]")


# ---------------------------------------------------------------------------------------------
# Mapping and report


@dataclass
class ColumnMapping:
    """Which column of the raw file holds each canonical field (None: not in the file).

    ``guessed`` lists the fields ``guess_mapping`` filled in, so the report can say which
    choices were the program's rather than the user's; it is not part of ``as_dict``.
    """

    text: str | None = None
    label: str | None = None
    country: str | None = None
    location: str | None = None
    platform: str | None = None
    date: str | None = None
    retweet: str | None = None
    id: str | None = None
    lang: str | None = None
    raters: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    guessed: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The column choices as a plain dict (fit for JSON and ``ColumnMapping(**d)``)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "guessed"}


MAPPING_FIELDS = tuple(f.name for f in fields(ColumnMapping) if f.name != "guessed")


@dataclass
class LoadReport:
    """What loading did to a corpus: rows in and kept, drops by reason, choices, notes."""

    n_input: int
    n_kept: int
    dropped: dict[str, int]
    mapping: dict[str, Any]
    guessed: list[str]
    notes: list[str]

    def as_dict(self) -> dict[str, Any]:
        """The report as plain data (for ``DataFrame.attrs`` and JSON)."""
        return asdict(self)

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
        return "\n".join(lines + self.notes)


# ---------------------------------------------------------------------------------------------
# Reading raw tables


def read_table(source: Source, name: str | None = None) -> pd.DataFrame:
    """The raw table in a file (path, bytes or binary file-like such as an upload).

    The format comes from the extension of ``name`` (or of the path / the file-like's
    ``.name``), else from the bytes. CSV/TSV/TXT cells are all read as text, so ids keep
    their leading zeros; ``canonicalise`` does the typing. Excel: the first sheet.
    ``attrs["source"]`` says how the file was read (format, encoding, delimiter).
    """
    data, label = _source_bytes(source, name)
    if not data:
        raise CorpusError(f"'{label}' is empty (0 bytes). Choose the file that holds the posts.")
    fmt = _format(label, data)
    details: dict[str, str] = {"name": label, "format": fmt}
    if fmt in DELIMITED:
        frame = _read_delimited(data, label, fmt, details)
    elif fmt in JSON_FORMATS:
        frame = _read_json(data, label, lines=fmt != "json", details=details)
    else:
        frame = _read_binary_table(data, label, fmt)
    frame = _checked_frame(frame, label)
    frame.attrs["source"] = details
    return frame


def _source_bytes(source: Source, name: str | None) -> tuple[bytes, str]:
    """The bytes of ``source`` and the file name used for its format and in messages."""
    if isinstance(source, str | Path):
        path = Path(source)
        try:
            return path.read_bytes(), name or path.name
        except FileNotFoundError:
            raise CorpusError(f"There is no file at {path}. Check the path.") from None
        except OSError as exc:
            raise CorpusError(f"Could not read {path}: {exc.strerror}.") from None
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source), name or "the uploaded data"
    if hasattr(source, "read"):
        if hasattr(source, "seek"):
            source.seek(0)
        data = source.read()
        data = data.encode("utf-8") if isinstance(data, str) else bytes(data)
        own = getattr(source, "name", None)
        return data, name or (Path(own).name if isinstance(own, str) else "the uploaded data")
    raise TypeError(f"read_table needs a path, bytes or a binary file, not {type(source)}")


def _format(label: str, data: bytes) -> str:
    """The file format from the name's extension, or from the bytes when there is none."""
    suffix = Path(label).suffix.lower().lstrip(".")
    if suffix in SUPPORTED:
        return suffix
    if suffix:
        raise CorpusError(
            f"'{label}' ends in .{suffix}, which Stigma Lens cannot read. Save the posts as "
            f"one of: {', '.join('.' + s for s in SUPPORTED)}."
        )
    if data.startswith(b"PAR1"):
        return "parquet"
    if data.startswith(b"PK\x03\x04"):
        return "xlsx"
    start = data.lstrip(codecs.BOM_UTF8 + b" \t\r\n")[:1]
    return "json" if start in (b"{", b"[") else "csv"


def _reject_binary(data: bytes, label: str) -> None:
    """CorpusError when the bytes start like an image, archive or other binary file."""
    for signature, what in _SIGNATURES.items():
        if data.startswith(signature):
            raise CorpusError(_not_text(label, f"it is {what}"))


def _not_text(label: str, why: str) -> str:
    """The message for a file that should be a text table but is not."""
    return (
        f"'{label}' does not look like a text table: {why}. Choose a CSV, TSV, JSON, "
        "Parquet or Excel (.xlsx) file with one post per row."
    )


def _decode(data: bytes, label: str) -> tuple[str, str]:
    """The text and its encoding: a BOM, UTF-16 by its NUL bytes, UTF-8, else a legacy one."""
    _reject_binary(data, label)
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data.decode(encoding, errors="replace"), encoding
    encoding = _utf16_by_nuls(data[:4096])
    if encoding:
        return data.decode(encoding, errors="replace"), encoding
    if b"\x00" in data[:_SNIFF_CHARS]:
        raise CorpusError(_not_text(label, "it holds binary bytes, not characters"))
    try:
        text, encoding = data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        encoding = _legacy_encoding(data)
        text = data.decode(encoding, errors="replace")
    sample = text[:_SNIFF_CHARS]
    if len(_CONTROL.findall(sample)) > 0.01 * len(sample):
        raise CorpusError(_not_text(label, "it is full of control characters"))
    return text, encoding


def _utf16_by_nuls(sample: bytes) -> str | None:
    """utf-16-le/-be when NULs fill one byte of every pair (ASCII text without a BOM)."""
    even, odd = sample[0::2], sample[1::2]
    if not odd:
        return None
    even_nul, odd_nul = even.count(0) / len(even), odd.count(0) / len(odd)
    if odd_nul > 0.3 and even_nul < 0.05:
        return "utf-16-le"
    if even_nul > 0.3 and odd_nul < 0.05:
        return "utf-16-be"
    return None


def _legacy_encoding(data: bytes) -> str:
    """cp1252 (what Excel on Windows writes for Western text) unless charset-normalizer
    finds a coherent reading in a non-Latin script (e.g. Cyrillic cp1251).

    charset-normalizer alone is not trusted for Latin text: on short cp1252 samples it often
    prefers cp1250 or even Big5 (seen here), which would garble "crème" or "it’s".
    """
    best = charset_normalizer.from_bytes(data).best()
    if best is not None and best.coherence >= 0.2 and _NON_LATIN.search(str(best)):
        return best.encoding
    try:
        data.decode("cp1252")
    except UnicodeDecodeError:
        return best.encoding if best is not None else "cp1252"
    return "cp1252"


def _read_delimited(data: bytes, label: str, fmt: str, details: dict[str, str]) -> pd.DataFrame:
    """A CSV/TSV/TXT table with sniffed encoding and delimiter; every cell as text."""
    text, details["encoding"] = _decode(data, label)
    delimiter = "\t" if fmt == "tsv" else _sniff_delimiter(text)
    details["delimiter"] = delimiter
    _check_field_counts(text, delimiter, label)
    try:
        return pd.read_csv(io.StringIO(text), sep=delimiter, dtype=str, index_col=False)
    except pd.errors.EmptyDataError:
        raise CorpusError(f"'{label}' holds no table (only blank lines).") from None
    except pd.errors.ParserError as exc:
        raise CorpusError(
            f"'{label}' could not be read as a table ({exc}). Check for a quote mark that "
            "is opened but never closed, or save the file again from a spreadsheet as CSV."
        ) from None


def _sniff_delimiter(text: str) -> str:
    """The delimiter among , ; tab | that splits the first rows into equal, >1 fields.

    csv.Sniffer's guess is tried first, then the candidates by how often they occur in the
    header; a file with no consistent choice gets the most likely one, and the field-count
    check then names the line that does not fit.
    """
    sample = text[:_SNIFF_CHARS]
    truncated = len(text) > len(sample)
    header = sample.splitlines()[0] if sample else ""
    candidates = sorted(",;\t|", key=lambda d: -header.count(d))
    try:
        candidates.insert(0, csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter)
    except csv.Error:
        pass
    for delimiter in candidates:
        try:
            rows = list(csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter))
        except csv.Error:
            continue
        widths = {len(r) for r in (rows[:-1] if truncated else rows) if r}
        if len(widths) == 1 and widths.pop() > 1:
            return delimiter
    return candidates[0]


def _check_field_counts(text: str, delimiter: str, label: str) -> None:
    """CorpusError naming the first line whose number of fields differs from the header's.

    Such lines mean mixed delimiters or an unquoted delimiter inside a post; pandas would
    silently shift or pad them, so they are reported instead.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        width = len(next(reader, []))
        bad = [(reader.line_num, len(row)) for row in reader
               if len(row) != width and any(cell.strip() for cell in row)]
    except csv.Error as exc:
        raise CorpusError(
            f"'{label}' cannot be read near line {reader.line_num}: {exc}. Check for a quote "
            "mark that is opened but never closed."
        ) from None
    if bad:
        line, count = bad[0]
        more = f" ({len(bad) - 1:,} more lines do not fit either)" if len(bad) > 1 else ""
        name = {"\t": "tab", ",": "comma", ";": "semicolon", "|": "bar"}[delimiter]
        raise CorpusError(
            f"Line {line} of '{label}' has {count} field{'s' * (count != 1)} but the header "
            f"has {width} "
            f"(fields split on {name}s){more}. The file may mix delimiters (commas and "
            "semicolons) or have a post with an unquoted delimiter in it. Save it again from "
            "a spreadsheet as CSV, or put quote marks around each post."
        )


def _read_json(data: bytes, label: str, *, lines: bool, details: dict[str, str]) -> pd.DataFrame:
    """Records from JSON or JSON lines (a .json that holds one object per line also works)."""
    text, details["encoding"] = _decode(data, label)
    if lines:
        return _frame_from_json(_json_lines(text, label), label)
    try:
        return _frame_from_json(json.loads(text), label)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data":
            return _frame_from_json(_json_lines(text, label), label)
        raise CorpusError(
            f"'{label}' is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}. "
            "Export it again, or save it as CSV."
        ) from None


def _json_lines(text: str, label: str) -> list[Any]:
    """One JSON value per non-blank line."""
    values = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            values.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise CorpusError(
                f"Line {number} of '{label}' is not valid JSON ({exc.msg}). A JSON-lines file "
                "needs one complete JSON object per line."
            ) from None
    return values


def _frame_from_json(value: Any, label: str) -> pd.DataFrame:
    """A table from a list of records, API pages (Twitter v2) or a Reddit listing."""
    if isinstance(value, dict) and isinstance(value.get("data"), list):
        return _twitter_frame([value])
    if isinstance(value, dict) and isinstance(value.get("data"), dict):
        value = [child.get("data", child) for child in value["data"].get("children", [])]
    elif isinstance(value, dict):
        lists = [v for v in value.values() if isinstance(v, list)]
        value = lists[0] if len(lists) == 1 else None
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise CorpusError(
            f"'{label}' is JSON but not a list of posts. Stigma Lens reads a list of records "
            '([{"text": ...}, ...]), one record per line (.jsonl), a Twitter API v2 export '
            "or a Reddit dump."
        )
    if value and all(isinstance(v.get("data"), list) for v in value):
        return _twitter_frame(value)
    return _reddit_text(pd.json_normalize(value))


def _twitter_frame(pages: list[dict]) -> pd.DataFrame:
    """Tweets of Twitter API v2 pages, with each author's username and location joined in.

    A tweet is a retweet when a referenced tweet has type "retweeted" (only decided when
    the export holds ``referenced_tweets``; otherwise canonicalise looks for "RT @").
    """
    tweets = [t for page in pages for t in page["data"] if isinstance(t, dict)]
    users = {str(u.get("id")): u for page in pages
             for u in (page.get("includes") or {}).get("users", []) if isinstance(u, dict)}
    frame = pd.json_normalize(tweets)
    if "referenced_tweets" in frame:
        frame["is_retweet"] = [
            any(isinstance(r, dict) and r.get("type") == "retweeted"
                for r in t.get("referenced_tweets") or [])
            for t in tweets
        ]
        frame = frame.drop(columns="referenced_tweets")
    if "author_id" in frame:
        authors = frame["author_id"].astype(str)
        frame["username"] = authors.map({k: u.get("username") for k, u in users.items()})
        frame["user_location"] = authors.map({k: u.get("location") for k, u in users.items()})
        frame["platform"] = "twitter"
    return frame


def _reddit_text(frame: pd.DataFrame) -> pd.DataFrame:
    """A Reddit dump gains ``text`` (a comment's body, or a submission's title and selftext),
    ``kind`` (comment / submission) and ``platform``; "[removed]"/"[deleted]" count as empty.
    """
    if "subreddit" not in frame or "text" in frame or not {"body", "title"} & set(frame):
        return frame

    def part(column: str) -> pd.Series:
        values = frame[column] if column in frame else pd.Series("", index=frame.index)
        return values.fillna("").astype(str).replace(list(_REDDIT_GONE), "")

    body = part("body")
    submission = (part("title") + "\n\n" + part("selftext")).str.strip()
    is_comment = frame["body"].notna() if "body" in frame else pd.Series(False, frame.index)
    frame = frame.assign(text=body.where(is_comment, submission),
                         kind=np.where(is_comment, "comment", "submission"))
    if "platform" not in frame:
        frame["platform"] = "reddit"
    return frame


def _read_binary_table(data: bytes, label: str, fmt: str) -> pd.DataFrame:
    """A Parquet file or the first sheet of an Excel workbook."""
    kind = {"parquet": "a Parquet file", "xlsx": "an Excel workbook (.xlsx)"}[fmt]
    try:
        if fmt == "parquet":
            return pd.read_parquet(io.BytesIO(data))
        return pd.read_excel(io.BytesIO(data), sheet_name=0, engine="openpyxl")
    except Exception as exc:  # any reader failure means the same thing to the user
        raise CorpusError(
            f"'{label}' could not be opened as {kind} ({type(exc).__name__}: {exc}). It may "
            "be damaged or another kind of file: open it in the program that made it and "
            f"save it again as .{fmt} or .csv."
        ) from None


def _checked_frame(frame: pd.DataFrame, label: str) -> pd.DataFrame:
    """Column names as trimmed strings; CorpusError when there are no columns or no rows."""
    frame.columns = [str(c).strip() for c in frame.columns]
    if frame.columns.empty:
        raise CorpusError(f"'{label}' holds no records. Choose the file that holds the posts.")
    if frame.empty:
        raise CorpusError(
            f"'{label}' has a header row (columns: {_names(frame.columns)}) but no data rows. "
            "Add the posts below the header, one per row."
        )
    return frame.reset_index(drop=True)


def _names(columns: Iterable[object], limit: int = 20) -> str:
    """Column names for a message, quoted, at most ``limit`` of them."""
    names = [repr(str(c)) for c in columns]
    extra = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + extra


# ---------------------------------------------------------------------------------------------
# Guessing the mapping


def guess_mapping(columns: Iterable[object]) -> ColumnMapping:
    """Which column is which, from common names (case-insensitive); ``.guessed`` lists
    the fields found. Raters: every column named rater_*, coder_* or annotator_*."""
    names = [str(c) for c in columns]
    by_key: dict[str, str] = {}
    for column in names:
        by_key.setdefault(column.strip().lower(), column)
    used: set[str] = set()
    chosen: dict[str, Any] = {}
    for target, keys in CANDIDATES.items():
        match = next((by_key[k] for k in keys if k in by_key and by_key[k] not in used), None)
        if match is not None:
            chosen[target] = match
            used.add(match)
    raters = [c for c in names if _RATER_NAME.match(c.strip()) and c not in used]
    if raters:
        chosen["raters"] = raters
    return ColumnMapping(**chosen, guessed=list(chosen))


# ---------------------------------------------------------------------------------------------
# Canonicalising


def canonicalise(
    raw: pd.DataFrame,
    mapping: ColumnMapping,
    *,
    language: str | None = "en",
    drop_duplicates: bool = True,
) -> tuple[pd.DataFrame, LoadReport]:
    """The canonical corpus and what was done to get it.

    Maps and normalises the columns (labels and rater codes to 0/1, dates, retweet flags,
    countries to ISO alpha-2), then drops rows with empty text, exact duplicate raw rows
    (``drop_duplicates``) and posts in another language than ``language`` (None keeps all),
    and cuts posts longer than 10,000 characters to that length (kept, noted).
    """
    raw = raw.reset_index(drop=True)
    if raw.empty:
        raise CorpusError("The table has no rows, so there are no posts to load.")
    if language is not None:
        language = lang.known_language(language)
    mapping = _resolved_mapping(raw, mapping)
    notes = _source_notes(raw.attrs.get("source"))
    frame = _canonical_columns(raw, mapping, notes)
    dropped = {"empty_text": 0, "duplicate_rows": 0, "other_language": 0}
    frame = _drop_empty(frame, mapping.text, dropped)
    if drop_duplicates:
        duplicate = _duplicate_rows(raw.loc[frame.index])
        frame, dropped["duplicate_rows"] = frame[~duplicate], int(duplicate.sum())
    if language is not None:
        frame = _keep_language(frame, language, dropped, notes)
    frame = _truncate_long(frame, notes)
    report = LoadReport(
        n_input=len(raw), n_kept=len(frame), dropped=dropped, mapping=mapping.as_dict(),
        guessed=list(mapping.guessed), notes=notes,
    )
    return frame.reset_index(drop=True), report


def _resolved_mapping(raw: pd.DataFrame, mapping: ColumnMapping) -> ColumnMapping:
    """The mapping with each name matched to a raw column (exact, else the one column equal
    ignoring case and spaces); CorpusError for a missing text mapping or column."""
    if not mapping.text:
        raise CorpusError(
            f"No text column found. The file's columns are: {_names(raw.columns)}. Tell "
            "Stigma Lens which column holds the posts: choose it as the text column on the "
            "Data page, or pass --text-col NAME on the command line (text='NAME' in Python)."
        )
    lookup = {f: getattr(mapping, f) for f in MAPPING_FIELDS}
    single = {f: _column(raw, v, f) for f, v in lookup.items() if isinstance(v, str | None)}
    many = {f: [_column(raw, v, f) for v in lookup[f]] for f in ("raters", "groups")}
    return replace(mapping, **single, **many)


def _column(raw: pd.DataFrame, name: str | None, role: str) -> str | None:
    """The raw column called ``name`` (exactly, else ignoring case and surrounding spaces)."""
    if name is None or name in raw.columns:
        return name
    loose = [c for c in raw.columns if str(c).strip().lower() == str(name).strip().lower()]
    if len(loose) == 1:
        return loose[0]
    raise CorpusError(
        f"The column {name!r} chosen for {role} is not in this file. Its columns are: "
        f"{_names(raw.columns)}. Choose one of those."
    )


def _source_notes(source: dict[str, str] | None) -> list[str]:
    """A note on how the file was read, when read_table recorded it."""
    if not source:
        return []
    parts = [source["format"].upper()]
    if "encoding" in source:
        parts.append(f"encoding {source['encoding']}")
    if "delimiter" in source:
        parts.append(f"delimiter {source['delimiter']!r}")
    return [f"Read '{source['name']}' as {', '.join(parts)}."]


def _canonical_columns(raw: pd.DataFrame, m: ColumnMapping, notes: list[str]) -> pd.DataFrame:
    """The mapped columns under canonical names and types (rows not yet filtered)."""
    out: dict[str, pd.Series] = {}
    if m.id:
        out["id"] = _as_str(raw[m.id])
    out["text"] = raw[m.text].astype("str").fillna("").str.strip()
    if m.label:
        out["label"] = _binary(raw[m.label], m.label, "label", "stigmatising (1) or not (0)")
        _check_label_classes(out["label"], m.label, notes)
    for canonical, column in _prefixed(m.raters, "rater_").items():
        out[canonical] = _binary(raw[column], column, "rater", "stigmatising (1) or not (0)")
    if m.country:
        out["country"] = _countries(raw[m.country], m.country, notes)
    if m.location:
        out["location"] = _as_str(raw[m.location])
    if m.platform:
        out["platform"] = _as_str(raw[m.platform]).str.lower()
    if m.date:
        out["date"] = _dates(raw[m.date], m.date, notes)
    out["is_retweet"] = _retweets(raw, m.retweet, out["text"], notes)
    for canonical, column in _prefixed(m.groups, "group_").items():
        out[canonical] = _as_str(raw[column])
    if m.lang:
        out["lang"] = _languages(raw[m.lang], m.lang, notes)
    return pd.DataFrame(out, index=raw.index)


def _as_str(values: pd.Series) -> pd.Series:
    """Trimmed text, empty as missing; whole-number floats (Excel ids) lose their ".0"."""
    if pd.api.types.is_float_dtype(values) and values.dropna().mod(1).eq(0).all():
        values = values.astype("Int64")
    text = values.astype("str").str.strip()
    return text.mask(text.eq(""))


def _prefixed(columns: Sequence[str], prefix: str) -> dict[str, str]:
    """Canonical name (``prefix`` + the column's name in snake case) -> raw column."""
    out: dict[str, str] = {}
    for column in columns:
        slug = re.sub(r"\W+", "_", str(column).strip().lower()).strip("_")
        canonical = slug if slug.startswith(prefix) else prefix + slug
        if canonical in out:
            raise CorpusError(
                f"The columns {out[canonical]!r} and {column!r} would both be called "
                f"{canonical!r}. Rename one of them in the file."
            )
        out[canonical] = column
    return out


def _code_key(value: object) -> str:
    """How a coded cell is looked up: 1/0 for booleans and numbers, trimmed lower text."""
    if isinstance(value, bool | np.bool_):
        return str(int(value))
    if isinstance(value, int | float | np.number) and float(value) in (0.0, 1.0):
        return str(int(value))
    return str(value).strip().lower()


def _binary(values: pd.Series, column: str, role: str, meaning: str) -> pd.Series:
    """0/1 (nullable Int64, empty cells missing) from the usual spellings of yes and no:
    1/0, true/false, yes/no, stigma/not stigma, stigmatising/non-stigmatising..."""
    codes = {v: _BINARY_KEYS.get(_code_key(v), None) for v in values.dropna().unique()}
    unknown = [v for v, code in codes.items() if code is None]
    if unknown:
        counts = values[values.isin(unknown)].value_counts()
        shown = ", ".join(f"{str(v)!r} ({n:,} rows)" for v, n in counts.head(5).items())
        raise CorpusError(
            f"The {role} column {column!r} has values that do not say {meaning}: {shown}. "
            "Use 1/0, yes/no, true/false or stigma/not stigma, leave a cell empty when it is "
            "not known, or choose a different column."
        )
    return values.map(codes).astype("Int64")


def read_codes(values: pd.Series, column: str) -> pd.Series:
    """People's stigma codes as nullable 0/1 (``Int64``; empty cells missing), read from the
    usual spellings: 1/0, yes/no, true/false, stigma/not stigma... ``CorpusError`` naming the
    values that say neither."""
    return _binary(values, column, "code", "stigmatising (1) or not (0)")


def _check_label_classes(labels: pd.Series, column: str, notes: list[str]) -> None:
    """CorpusError when every coded post has the same label; a note when none is coded."""
    classes = labels.dropna().unique()
    missing = int(labels.isna().sum())
    if len(classes) == 1:
        name = "stigmatising (1)" if classes[0] == 1 else "not stigmatising (0)"
        raise CorpusError(
            f"The label column {column!r} has only one class: every coded post is {name}. "
            "Training and testing need both stigmatising and other posts; check that "
            f"{column!r} is the label column, or leave the label unmapped to load the posts "
            "unlabelled."
        )
    if len(classes) == 0:
        notes.append(f"The label column {column!r} is empty: the posts are loaded unlabelled.")
    elif missing:
        notes.append(f"{missing:,} rows have no label in {column!r}; kept with the label empty.")


def _countries(values: pd.Series, column: str, notes: list[str]) -> pd.Series:
    """ISO 3166-1 alpha-2 codes from codes (GB, GBR) or names ("United Kingdom", "UK")."""
    text = _as_str(values)
    codes = {v: _country_code(v) for v in text.dropna().unique()}
    unknown = [v for v, code in codes.items() if code is None]
    if unknown:
        n = int(text.isin(unknown).sum())
        notes.append(
            f"{n:,} rows have a {column!r} value that names no known country (e.g. "
            f"{unknown[0]!r}); their country is left empty."
        )
    return text.map(codes).astype("str")


def _country_code(value: str) -> str | None:
    """Alpha-2 code of one country code or name; None when it names no country."""
    try:
        return pycountry.countries.lookup(value).alpha_2
    except LookupError:
        from stigma_core.geo import resolve_country  # the gazetteer is slow to build: lazily

        return resolve_country(value)


def _dates(values: pd.Series, column: str, notes: list[str]) -> pd.Series:
    """Naive UTC datetimes from ISO text, other common formats or Unix epoch seconds/ms;
    unreadable values become NaT and are counted in a note."""
    present = values.notna() & values.astype("str").str.strip().ne("")
    numbers = pd.to_numeric(values.where(present), errors="coerce")[present]
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = pd.to_datetime(values, utc=True)
    elif len(numbers) and numbers.notna().all() and numbers.median() > 1e8:
        unit = "ms" if numbers.median() > 1e11 else "s"
        parsed = pd.to_datetime(pd.to_numeric(values, errors="coerce"), unit=unit, utc=True)
    else:
        parsed = pd.to_datetime(values, utc=True, errors="coerce", format="ISO8601")
        retry = parsed.isna() & present
        if retry.any():
            parsed[retry] = pd.to_datetime(values[retry], utc=True, errors="coerce",
                                           format="mixed")
    failed = int((parsed.isna() & present).sum())
    if failed:
        notes.append(f"{failed:,} values in {column!r} are not dates; their date is left empty.")
    return parsed.dt.tz_convert(None)


def _retweets(raw: pd.DataFrame, column: str | None, text: pd.Series,
              notes: list[str]) -> pd.Series:
    """The retweet flag from its column (missing = original post), or, with no column,
    from texts that start with "RT @" (the old retweet convention)."""
    if column is None:
        flags = text.str.startswith("RT @")
        notes.append(
            f"No retweet column: {int(flags.sum()):,} posts starting with 'RT @' are marked "
            "as retweets."
        )
        return flags.astype(bool)
    codes = _binary(raw[column], column, "retweet", "whether the post is a retweet")
    missing = int(codes.isna().sum())
    if missing:
        notes.append(f"{missing:,} rows have no value in {column!r}; counted as original posts.")
    return codes.fillna(0).astype(bool)


def _drop_empty(frame: pd.DataFrame, column: str, dropped: dict[str, int]) -> pd.DataFrame:
    """Rows with text; CorpusError when no row has any."""
    empty = frame["text"].eq("")
    if empty.all():
        raise CorpusError(
            f"Every row of the text column {column!r} is empty ({len(frame):,} rows), so "
            "there are no posts to analyse. Check that the right column is chosen as text."
        )
    dropped["empty_text"] = int(empty.sum())
    return frame[~empty]


def _duplicate_rows(rows: pd.DataFrame) -> pd.Series:
    """True for a raw row equal in every column to an earlier one (nested JSON values are
    compared by their text, since lists cannot be hashed)."""
    comparable = rows.apply(lambda c: c.astype(str) if c.dtype == object else c)
    return comparable.duplicated()


def _languages(values: pd.Series, column: str, notes: list[str]) -> pd.Series:
    """The file's language codes as ISO 639-1 ("und" where a value names no language, missing
    where blank), with a note on the values that name none."""
    codes = pd.Series(lang.given_languages(values.tolist()), index=values.index, dtype=object)
    unnamed = values[codes.eq(lang.UNDECIDED)].astype(str).str.strip()
    if len(unnamed):
        examples = ", ".join(repr(v) for v in unnamed.value_counts().index[:3])
        notes.append(f"Posts whose '{column}' names no language (such as {examples}): "
                     f"{len(unnamed):,}; they count as undecidable and are kept.")
    return codes


def _keep_language(frame: pd.DataFrame, language: str, dropped: dict[str, int],
                   notes: list[str]) -> pd.DataFrame:
    """Posts in ``language`` or undecidable; the others dropped, counted by language.

    The file's own language codes are used where it has them; the rest are detected.
    """
    given = frame["lang"].tolist() if "lang" in frame else None
    keep = lang.language_mask(frame["text"].tolist(), language, given)
    if given is not None:
        n_given = int(frame["lang"].notna().sum())
        detected = len(frame) - n_given
        notes.append(f"Language given by the file for {n_given:,} posts"
                     + (f", detected for {detected:,}." if detected else "."))
    if not keep.any():
        raise CorpusError(
            f"No post is in the chosen language ({language!r}); all {len(frame):,} are in "
            "other languages. Choose their language or turn the filter off."
        )
    dropped["other_language"] = int((~keep).sum())
    if dropped["other_language"]:
        dropped_given = None if given is None else frame["lang"][~keep].tolist()
        others = pd.Series(lang.post_languages(frame["text"][~keep].tolist(), dropped_given))
        others = others.value_counts()
        found = ", ".join(f"{code} {n:,}" for code, n in others.head(5).items())
        notes.append(f"Posts in other languages dropped ({found}).")
    return frame[keep]


def _truncate_long(frame: pd.DataFrame, notes: list[str]) -> pd.DataFrame:
    """Posts longer than MAX_TEXT_CHARS cut to that length (kept, and counted in a note)."""
    long = frame["text"].str.len() > MAX_TEXT_CHARS
    if long.any():
        frame = frame.copy()
        frame.loc[long, "text"] = frame.loc[long, "text"].str.slice(0, MAX_TEXT_CHARS)
        notes.append(
            f"{int(long.sum()):,} posts longer than {MAX_TEXT_CHARS:,} characters were cut "
            f"to their first {MAX_TEXT_CHARS:,}."
        )
    return frame


# ---------------------------------------------------------------------------------------------
# All in one


def load_corpus(
    source: Source, *, name: str | None = None, language: str | None = "en", **mapping: Any
) -> pd.DataFrame:
    """Read, guess the columns, and canonicalise a corpus in one call.

    ``mapping`` takes ColumnMapping fields (``text="tweet"``, ``label="stigma"``,
    ``raters=["r1", "r2"]``...) that override the guesses; ``label=None`` unmaps a guess.
    ``lang`` is the file's language column (used by the ``language`` filter where it gives a
    code); ``lang=None`` ignores it and detects every post's language.
    The LoadReport is in ``df.attrs["load_report"]`` as a dict.
    """
    unknown = sorted(set(mapping) - set(MAPPING_FIELDS))
    if unknown:
        raise TypeError(f"unknown column mapping field(s) {unknown}; use {MAPPING_FIELDS}")
    for key in ("raters", "groups"):
        if isinstance(mapping.get(key), str):
            mapping[key] = [mapping[key]]
    raw = read_table(source, name=name)
    guess = guess_mapping(raw.columns)
    chosen = replace(guess, **mapping, guessed=[f for f in guess.guessed if f not in mapping])
    frame, report = canonicalise(raw, chosen, language=language)
    frame.attrs["load_report"] = report.as_dict()
    return frame

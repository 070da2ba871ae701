"""From a raw table to the canonical corpus: ``canonicalise``, ``read_codes`` and
``load_corpus`` (read + guess + canonicalise in one call).

``canonicalise`` renames, types and cleans the mapped columns into the canonical ones every
other module relies on (``text`` always; ``label``, ``country``, ``date``... when mapped),
drops what cannot be analysed (empty posts, exact duplicate rows, posts in another
language) and says so in a ``LoadReport``, with every repair the reading made and its own
(posts cut to ``MAX_TEXT_CHARS``, dates that are no dates) row by row.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.compute as pc
import pycountry

from stigma_core import language as lang
from stigma_core.errors import CorpusError
from stigma_core.io.formats import cell_as_text, names_of, read_table
from stigma_core.io.limits import MAX_TEXT_CHARS
from stigma_core.io.mapping import MAPPING_FIELDS, ColumnMapping, guess_mapping
from stigma_core.io.report import LoadReport, RepairLog
from stigma_core.io.sources import Source

_STIGMA_WORDS = ("stigma", "stigmatising", "stigmatizing", "stigmatised", "stigmatized")
_NEGATIONS = ("not ", "not-", "not_", "non-", "non ", "non_", "non", "no ")
_YES = ("1", "1.0", "true", "t", "yes", "y", *_STIGMA_WORDS)
_NO = ("0", "0.0", "false", "f", "no", "n", *(n + w for n in _NEGATIONS for w in _STIGMA_WORDS))
_BINARY_KEYS: dict[str, Any] = {**dict.fromkeys(_YES, 1), **dict.fromkeys(_NO, 0), "": pd.NA}
# Dates outside these years are taken for wrong numbers, not dates of posts.
DATE_RANGE = (pd.Timestamp("1900-01-01"), pd.Timestamp("2100-01-01"))
# Unix time in seconds, milliseconds, microseconds or nanoseconds: told apart by size.
_EPOCH_UNITS = ((1e8, 1e11, 1.0), (1e11, 1e14, 1e3), (1e14, 1e17, 1e6), (1e17, np.inf, 1e9))
_FAR_OUTSIDE = pd.Timestamp("1800-01-01").timestamp()


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
    (``drop_duplicates``) and posts in another language than ``language`` (None keeps all;
    see ``stigma_core.language`` for short and unclear posts), and cuts posts longer than
    ``MAX_TEXT_CHARS`` (10,000) characters to that length (kept; each cut listed).

    The report carries the repairs ``read_table`` logged (``raw.attrs["repairs"]``) and
    those made here; row numbers count the raw table's rows from 1.
    """
    raw = raw.reset_index(drop=True)
    if raw.empty:
        raise CorpusError("The table has no rows, so there are no posts to load.")
    if language is not None:
        language = lang.known_language(language)
    mapping = _resolved_mapping(raw, mapping)
    notes = _source_notes(raw.attrs.get("source")) + list(raw.attrs.get("notes", ()))
    repairs = RepairLog(raw.attrs.get("repairs"))
    frame = _canonical_columns(raw, mapping, notes, repairs)
    notes.extend(_unused_note(raw.columns, mapping))
    dropped = {"empty_text": 0, "duplicate_rows": 0, "other_language": 0}
    frame = _drop_empty(frame, mapping.text, dropped)
    if drop_duplicates:
        duplicate = _duplicate_rows(raw, frame.index)
        dropped["duplicate_rows"] = int(duplicate.sum())
        if dropped["duplicate_rows"]:
            frame = frame[~duplicate]
    if language is not None:
        frame = _keep_language(frame, language, dropped, notes)
    frame = _truncate_long(frame, mapping.text, notes, repairs)
    report = LoadReport(
        n_input=len(raw), n_kept=len(frame), dropped=dropped, mapping=mapping.as_dict(),
        guessed=list(mapping.guessed), notes=notes,
        repairs=[r.as_dict() for r in repairs.entries], repair_counts=dict(repairs.counts),
    )
    return frame.reset_index(drop=True), report


def _resolved_mapping(raw: pd.DataFrame, mapping: ColumnMapping) -> ColumnMapping:
    """The mapping with each name matched to a raw column (exact, else the one column equal
    ignoring case and spaces); CorpusError for a missing text mapping or column."""
    if not mapping.text:
        raise CorpusError(
            f"No text column found. The file's columns are: {names_of(raw.columns)}. Tell "
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
        f"{names_of(raw.columns)}. Choose one of those."
    )


def _unused_note(columns: pd.Index, mapping: ColumnMapping) -> list[str]:
    """A note naming the file's columns that no mapping field uses (they are not loaded), so a
    column such as a bio or a coder's extra code is never dropped without a word."""
    used = set()
    for value in mapping.as_dict().values():
        used.update(value if isinstance(value, list | tuple) else [value])
    unused = [str(c) for c in columns if c not in used]
    if not unused:
        return []
    shown = ", ".join(repr(c) for c in unused[:8]) + (" …" if len(unused) > 8 else "")
    return [f"Columns not loaded ({len(unused)}): {shown}. To use one, map it (for instance as "
            "a group column on the Data page, or groups=[...] in Python)."]


def _source_notes(source: dict[str, str] | None) -> list[str]:
    """A note on how the file was read, when read_table recorded it."""
    if not source:
        return []
    parts = [source["format"].upper()]
    if "encoding" in source:
        parts.append(f"encoding {source['encoding']}")
    if source.get("delimiter") == "none (one column)":
        parts.append("one column")
    elif "delimiter" in source:
        parts.append(f"delimiter {source['delimiter']!r}")
    return [f"Read '{source['name']}' as {', '.join(parts)}."]


def _canonical_columns(raw: pd.DataFrame, m: ColumnMapping, notes: list[str],
                       repairs: RepairLog) -> pd.DataFrame:
    """The mapped columns under canonical names and types (rows not yet filtered).

    The posts come last: trimming them copies the biggest column, so the other columns'
    temporary copies are gone by then (peak memory of loading a large file)."""
    out: dict[str, pd.Series] = {}
    if m.id:
        out["id"] = _as_str(raw[m.id])
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
        out["date"] = _dates(raw[m.date], m.date, notes, repairs)
    for canonical, column in _prefixed(m.groups, "group_").items():
        out[canonical] = _as_str(raw[column])
    if m.lang:
        out["lang"] = _languages(raw[m.lang], m.lang, notes)
    out["text"] = _texts(raw[m.text])
    out["is_retweet"] = _retweets(raw, m.retweet, out["text"], notes)
    groups = list(_prefixed(m.groups, "group_"))
    singles = [c for c in out if c not in ("id", "text", "is_retweet", "lang", *groups)]
    order = ["id", "text", *singles, "is_retweet", *groups, "lang"]
    return pd.DataFrame({c: out[c] for c in order if c in out}, index=raw.index)


def _texts(values: pd.Series) -> pd.Series:
    """Posts as trimmed text, missing ones empty; a list or object cell (in a frame that did
    not come from ``read_table``) as text by ``cell_as_text``, never a non-string."""
    if values.dtype == object:
        values = values.map(cell_as_text)
    return _trimmed(values.astype("str").fillna(""))


def _trimmed(values: pd.Series) -> pd.Series:
    """``values.str.strip()``, without the copy of the whole column when no value starts or
    ends with white space (the usual case: posts are the biggest column of a corpus, and a
    copy of it was a third of the peak memory of loading a large file)."""
    if getattr(values.dtype, "storage", None) == "pyarrow":
        # Arrow's own kernels, on each post's first and last character only (pandas'
        # str.contains goes through Python objects here: +0.8 GB on 1.9M posts).
        array = values.array._pa_array
        ends = (pc.utf8_slice_codeunits(array, 0, 1), pc.utf8_slice_codeunits(array, -1))
        padded = any(pc.any(pc.utf8_is_space(end)).as_py() for end in ends)
    else:
        padded = bool(values.str.contains(r"^\s|\s$", regex=True).any())
    return values.str.strip() if padded else values


def _as_str(values: pd.Series) -> pd.Series:
    """Trimmed text, empty as missing; whole-number floats (Excel ids) lose their ".0"."""
    if pd.api.types.is_float_dtype(values) and values.dropna().mod(1).eq(0).all():
        values = values.astype("Int64")
    text = _trimmed(values.astype("str"))
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


def _dates(values: pd.Series, column: str, notes: list[str], repairs: RepairLog) -> pd.Series:
    """Naive UTC datetimes from dates, ISO text, other common formats or Unix time (seconds,
    milliseconds, microseconds or nanoseconds, told apart by size). A value that is no date,
    or one that would be a date outside ``DATE_RANGE``, is left empty: counted in a note and
    listed as a repair by row."""
    present = values.notna() & _trimmed(values.astype("str")).ne("")
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = pd.to_datetime(values, utc=True)
    else:
        numbers = pd.to_numeric(values.where(present), errors="coerce")
        if present.any() and numbers[present].notna().all():
            parsed = _epoch_dates(numbers)
        else:
            parsed = _text_dates(values.where(present).astype("str"), present)
    outside = _outside_range(parsed)
    parsed = parsed.where(~outside)
    unreadable = parsed.isna() & present & ~outside
    if unreadable.any():
        notes.append(f"{int(unreadable.sum()):,} values in {column!r} are not dates; their "
                     "date is left empty.")
    if outside.any():
        notes.append(f"{int(outside.sum()):,} values in {column!r} would be dates outside "
                     f"{DATE_RANGE[0].year}-{DATE_RANGE[1].year - 1}, so they are taken for "
                     "errors; their date is left empty.")
    for row in np.flatnonzero((unreadable | outside).to_numpy()):
        repairs.add("date_unreadable", f"date {str(values.iloc[row])[:40]!r} left empty",
                    f"it is no date between {DATE_RANGE[0].year} and "
                    f"{DATE_RANGE[1].year - 1}", row=int(row) + 1, column=column)
    return parsed.dt.tz_convert(None)


def _epoch_dates(numbers: pd.Series) -> pd.Series:
    """Unix times as UTC datetimes. Each number's size gives its unit (seconds below 10^11,
    then milliseconds, microseconds, nanoseconds: for dates of posts the ranges do not
    overlap); a number under 10^8 is no Unix time of a post (before 1973) and is left empty,
    and one far beyond ``DATE_RANGE`` becomes 1800-01-01 so that it counts as outside. A
    column of numbers mostly under 10^8 is read as YYYYMMDD where it fits."""
    if float(numbers.abs().median()) < 1e8:
        whole = numbers.where(numbers.mod(1).eq(0)).astype("Int64").astype("str")
        return pd.to_datetime(whole, format="%Y%m%d", errors="coerce", utc=True)
    scale = pd.Series(np.nan, index=numbers.index)
    for low, high, factor in _EPOCH_UNITS:
        scale[(numbers >= low) & (numbers < high)] = factor
    seconds = numbers / scale
    low, high = (t.timestamp() for t in DATE_RANGE)
    seconds = seconds.where(seconds.isna() | seconds.between(low, high), _FAR_OUTSIDE)
    micros = (seconds * 1e6).round().astype("Int64")
    return pd.to_datetime(micros, unit="us", utc=True)


def _text_dates(values: pd.Series, present: pd.Series) -> pd.Series:
    """Dates written as text: ISO 8601 first, then any format pandas recognises."""
    parsed = pd.to_datetime(values, utc=True, errors="coerce", format="ISO8601")
    retry = parsed.isna() & present
    if retry.any():
        parsed[retry] = pd.to_datetime(values[retry], utc=True, errors="coerce",
                                       format="mixed")
    return parsed


def _outside_range(parsed: pd.Series) -> pd.Series:
    """True for dates outside ``DATE_RANGE`` (missing ones are not outside)."""
    low, high = (t.tz_localize("UTC") for t in DATE_RANGE)
    return parsed.notna() & ((parsed < low) | (parsed >= high))


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
    return frame[~empty] if dropped["empty_text"] else frame


def _duplicate_rows(raw: pd.DataFrame, kept: pd.Index) -> pd.Series:
    """True (indexed like ``kept``) for a kept raw row equal in every column to an earlier
    kept one.

    Rows are compared by a 64-bit hash of all their cells (no copy of the table), and each
    row whose hash repeats is then compared cell by cell with the first row of that hash, so
    a hash collision can never drop a post.
    """
    hashes = _row_hashes(raw)
    if len(kept) < len(raw):
        hashes = hashes[kept.to_numpy()]
    candidate, first = _repeats(hashes)
    candidate = pd.Series(candidate, index=kept)
    if first is None:
        return candidate
    first = kept[first[candidate.to_numpy()]]
    later = raw.loc[candidate[candidate].index]
    earlier = raw.loc[first]
    same = pd.Series(True, index=later.index)
    for column in raw.columns:
        a, b = _comparable(later[column]), _comparable(earlier[column])
        same &= (a == b) | (pd.isna(a) & pd.isna(b))
    candidate[candidate] = same.to_numpy()
    return candidate


def _repeats(hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """For each position: whether an earlier position has the same hash, and (only when some
    has) the position of the first one that has it. By a stable sort, in place where it can:
    about half the memory of a hash table over millions of rows."""
    order = np.argsort(hashes, kind="stable")
    ordered = hashes[order]
    repeat = np.zeros(len(hashes), dtype=bool)
    np.equal(ordered[1:], ordered[:-1], out=repeat[1:])
    del ordered
    candidate = np.empty_like(repeat)
    candidate[order] = repeat
    if not candidate.any():
        return candidate, None
    starts = np.arange(len(hashes))
    starts[repeat] = 0
    np.maximum.accumulate(starts, out=starts)
    first = np.empty_like(order)
    first[order] = order[starts]
    return candidate, first


def _row_hashes(raw: pd.DataFrame, chunk: int = 20_000) -> np.ndarray:
    """One 64-bit hash per row of all its cells, computed ``chunk`` rows at a time (hashing
    text makes a Python object per cell: a whole column at once would double the memory)."""
    combined = np.zeros(len(raw), dtype=np.uint64)
    for start in range(0, len(raw), chunk):
        part = combined[start:start + chunk]
        for position in range(raw.shape[1]):
            values = raw.iloc[start:start + chunk, position]
            try:
                hashed = pd.util.hash_pandas_object(values, index=False).to_numpy()
            except TypeError:
                hashed = pd.util.hash_pandas_object(values.astype(str), index=False).to_numpy()
            part *= np.uint64(1_000_003)
            part ^= hashed
    return combined


def _comparable(values: pd.Series) -> np.ndarray:
    """Cells as an array ``==`` can compare (unhashable objects by their text)."""
    array = values.to_numpy(dtype=object)
    return np.array([str(v) if isinstance(v, list | dict | np.ndarray) else v for v in array],
                    dtype=object)


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
    choice = lang.choose_posts(frame["text"].tolist(), language, given)
    keep = choice.keep
    if given is not None:
        n_given = int(frame["lang"].notna().sum())
        detected = len(frame) - n_given
        notes.append(f"Language given by the file for {n_given:,} posts"
                     + (f", detected for {detected:,}." if detected else "."))
    if not keep.any():
        raise CorpusError(f"No post is in the chosen language ({language!r}). "
                          + lang.other_language_message(choice.codes, language))
    dropped["other_language"] = int((~keep).sum())
    if dropped["other_language"]:
        dropped_given = None if given is None else frame["lang"][~keep].tolist()
        others = pd.Series(lang.post_languages(frame["text"][~keep].tolist(), dropped_given))
        others = others.value_counts()
        found = ", ".join(f"{code} {n:,}" for code, n in others.head(5).items())
        notes.append(f"Posts in other languages dropped ({found}).")
    if choice.note:
        notes.append(choice.note)
    return frame[keep]


def _truncate_long(frame: pd.DataFrame, column: str, notes: list[str],
                   repairs: RepairLog) -> pd.DataFrame:
    """Posts longer than ``MAX_TEXT_CHARS`` cut to that length: kept, each cut listed by row
    (the raw table's row, counted from 1)."""
    lengths = frame["text"].str.len()
    long = lengths > MAX_TEXT_CHARS
    if not long.any():
        return frame
    frame = frame.copy()
    frame.loc[long, "text"] = frame.loc[long, "text"].str.slice(0, MAX_TEXT_CHARS)
    for index, length in lengths[long].items():
        repairs.add("text_cut", f"post cut from {length:,} to {MAX_TEXT_CHARS:,} characters",
                    f"posts longer than {MAX_TEXT_CHARS:,} characters are cut (a longer one is "
                    "almost always a whole document pasted into one cell)",
                    row=int(index) + 1, column=column)
    notes.append(f"{int(long.sum()):,} posts longer than {MAX_TEXT_CHARS:,} characters were "
                 f"cut to their first {MAX_TEXT_CHARS:,}.")
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

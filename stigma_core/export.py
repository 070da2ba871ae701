"""Save results safely: formula-safe CSV/XLSX, Parquet, and one self-contained HTML report.

Posts are written by strangers, so a post reading ``=HYPERLINK(...)`` must never run as a
formula when a colleague opens the export in a spreadsheet (OWASP "CSV injection"): every
text cell that a spreadsheet would read as a formula gets a leading single quote (see
:func:`runs_as_formula` for the rule). The HTML report is one file that opens offline: inline
CSS, plotly.js inlined once, images as base64. Masking personal details is
``stigma_core.privacy.mask_frame``'s job, done before a table reaches this module.
"""

from __future__ import annotations

import base64
import html
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from stigma_core.errors import CorpusError
from stigma_core.privacy import PERSONAL_TEXT_NAMES, mask_frame

if TYPE_CHECKING:
    import plotly.graph_objects as go

# What makes a spreadsheet run a cell (OWASP CSV injection): = + - @ first, in ASCII or their
# full-width and small-form variants (some spreadsheets fold those to ASCII), or a tab or
# carriage return first; spreadsheets may skip leading spaces and quote marks before deciding.
FORMULA_TRIGGERS = frozenset("=+-@\uff1d\uff0b\uff0d\uff20\ufe66\ufe62\ufe63\ufe6b\u2212")
CONTROL_TRIGGERS = frozenset("\t\r")
# Quote marks skipped before the first real character. Not the ASCII apostrophe: a cell
# starting with ' is text in every spreadsheet, which is why it is the neutraliser.
LEADING_QUOTES = frozenset(
    '"\uff02\uff07\u201c\u201d\u201e\u201f\u2018\u2019\u201a\u201b\u00ab\u00bb'
)
# A plain number ("-1.5", "+3", "-1,234.5", "-2e3", "-12.5%"): read as a number, never run,
# so it is written exactly as it came.
PLAIN_NUMBER_RE = re.compile(
    r"[+-]?(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?%?"
)
TABLE_FORMATS = ("csv", "parquet", "xlsx")
MIME_TYPES = {
    "csv": "text/csv",
    "parquet": "application/vnd.apache.parquet",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
EXCEL_MAX_ROWS = 1_048_576
MAX_REPORT_ROWS = 1000
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def runs_as_formula(value: str) -> bool:
    """True when a spreadsheet could run ``value`` as a formula.

    The rule (OWASP): skipping leading whitespace and quote marks, the first character is a
    tab or carriage return, or one of = + - @ (or a full-width variant) — unless the whole
    cell is a plain number such as "-1.5", which a spreadsheet reads as that number.
    """
    for char in value:
        if char in CONTROL_TRIGGERS:
            return True
        if char.isspace() or char in LEADING_QUOTES:
            continue
        return char in FORMULA_TRIGGERS and not PLAIN_NUMBER_RE.fullmatch(value.strip())
    return False


def _safe_cell(value: object) -> object:
    """Prefix a quote to a string a spreadsheet would run as a formula; leave the rest."""
    if isinstance(value, str) and runs_as_formula(value):
        return "'" + value
    return value


def _is_text_column(series: pd.Series) -> bool:
    """True for columns that may hold strings (not numbers, booleans or dates)."""
    return not (
        pd.api.types.is_numeric_dtype(series) or pd.api.types.is_datetime64_any_dtype(series)
    )


def formula_safe(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` in which no cell or column name would run as a spreadsheet formula.

    Strings :func:`runs_as_formula` flags get a leading ``'``, as OWASP advises; numeric,
    boolean and date columns are untouched, and so is a string that is a plain number, so
    "-1.5" stays "-1.5" whether it came as a number or as text.
    """
    safe = df.copy()
    for i in range(safe.shape[1]):
        if _is_text_column(safe.iloc[:, i]):
            safe.isetitem(i, safe.iloc[:, i].astype(object).map(_safe_cell))
    safe.columns = [_safe_cell(col) for col in safe.columns]
    return safe


def _printable(value: object) -> object:
    """A string without the control characters an XLSX file cannot hold; the rest untouched."""
    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


def _excel_ready(df: pd.DataFrame) -> pd.DataFrame:
    """Formula-safe copy that openpyxl can write: no control characters, no time zones."""
    if len(df) >= EXCEL_MAX_ROWS:
        raise CorpusError(
            f"The table has {len(df):,} rows, more than an Excel sheet holds "
            f"({EXCEL_MAX_ROWS - 1:,} plus the header). Save it as CSV or Parquet instead."
        )
    ready = formula_safe(df)
    for i in range(ready.shape[1]):
        series = ready.iloc[:, i]
        if isinstance(series.dtype, pd.DatetimeTZDtype):
            ready.isetitem(i, series.dt.tz_convert(None))
        elif _is_text_column(series):
            ready.isetitem(i, series.map(_printable))
    return ready


def _parquet_bytes(df: pd.DataFrame) -> bytes:
    """Parquet (pyarrow) bytes; a column pyarrow cannot store becomes a plain-words error."""
    buffer = io.BytesIO()
    try:
        df.to_parquet(buffer, index=False, engine="pyarrow")
    except (pa.ArrowException, ValueError) as err:
        raise CorpusError(
            f"The table could not be saved as Parquet ({err}). A column probably mixes "
            "kinds of values (e.g. numbers and words); save as CSV instead."
        ) from err
    return buffer.getvalue()


def _format_of(fmt: str) -> str:
    """Normalise '.CSV', 'csv'... to 'csv', refusing formats we cannot write."""
    name = fmt.lower().lstrip(".")
    if name not in TABLE_FORMATS:
        raise CorpusError(
            f"Cannot save a table as '{fmt}'. Choose a file name ending in "
            f"{', '.join('.' + f for f in TABLE_FORMATS)}."
        )
    return name


def table_bytes(df: pd.DataFrame, fmt: str) -> bytes:
    """The table as file bytes in ``fmt`` (csv, parquet or xlsx), e.g. for a download button.

    CSV (UTF-8, RFC 4180 CRLF rows, so a cell holding a bare carriage return is quoted
    rather than split into a new row) and XLSX are formula-safe; Parquet keeps the data
    exactly as it is, since no spreadsheet runs it.
    """
    name = _format_of(fmt)
    if name == "parquet":
        return _parquet_bytes(df)
    if name == "csv":
        return formula_safe(df).to_csv(index=False, lineterminator="\r\n").encode("utf-8")
    buffer = io.BytesIO()
    _excel_ready(df).to_excel(buffer, index=False, engine="openpyxl")
    return buffer.getvalue()


def write_table(df: pd.DataFrame, path: str | Path) -> Path:
    """Write the table to ``path``, in the format its extension names (.csv, .parquet, .xlsx)."""
    target = Path(path)
    target.write_bytes(table_bytes(df, target.suffix or target.name))
    return target


@dataclass
class ReportSection:
    """One part of the HTML report, shown in this order: heading, text, figures, images, tables.

    ``tables`` take a DataFrame or a (DataFrame, caption) pair; ``images`` take PNG bytes or a
    (PNG bytes, caption) pair — see :func:`png_bytes` for matplotlib figures and word clouds.
    """

    heading: str
    text: str = ""
    figures: list[go.Figure] = field(default_factory=list)
    tables: list[pd.DataFrame | tuple[pd.DataFrame, str]] = field(default_factory=list)
    images: list[bytes | tuple[bytes, str]] = field(default_factory=list)


def png_bytes(image: object) -> bytes:
    """PNG bytes of a matplotlib figure (``savefig``) or a PIL image (``save``).

    For the report's images, e.g. a word cloud (``WordCloud.to_image()`` is a PIL image).
    """
    buffer = io.BytesIO()
    if hasattr(image, "savefig"):
        image.savefig(buffer, format="png", bbox_inches="tight")
    else:
        image.save(buffer, format="PNG")
    return buffer.getvalue()


def _with_caption(item: object) -> tuple[object, str]:
    """Split an optional (thing, caption) pair."""
    return item if isinstance(item, tuple) else (item, "")


def _paragraphs(text: str) -> str:
    """Escaped <p> blocks, one per blank-line-separated paragraph."""
    blocks = [b.strip() for b in text.split("\n\n") if b.strip()]
    return "".join(f"<p>{html.escape(b)}</p>" for b in blocks)


def _table_html(frame: pd.DataFrame, caption: str, presenter_mode: bool,
                privacy_mode: bool) -> str:
    """An escaped HTML table; columns named like posts or profile fields dropped in presenter
    mode, personal details masked in privacy mode; long tables cut."""
    if presenter_mode:
        hidden = [c for c in frame.columns if str(c).strip().lower() in PERSONAL_TEXT_NAMES]
        frame = frame.drop(columns=hidden)
    if privacy_mode:
        frame = mask_frame(frame)
    note = ""
    if len(frame) > MAX_REPORT_ROWS:
        note = f" (first {MAX_REPORT_ROWS:,} of {len(frame):,} rows)"
        frame = frame.head(MAX_REPORT_ROWS)
    body = frame.to_html(
        index=False, escape=True, border=0, na_rep="", float_format=lambda v: f"{v:.4g}"
    )
    head = f"<figcaption>{html.escape(caption)}{note}</figcaption>" if caption or note else ""
    return f'<figure class="table">{head}{body}</figure>'


def _image_html(data: bytes, caption: str) -> str:
    """A PNG as an inline base64 <img>, so the report needs no other file."""
    if not data.startswith(PNG_SIGNATURE):
        raise ValueError("Report images must be PNG bytes; use png_bytes() to convert.")
    encoded = base64.b64encode(data).decode("ascii")
    alt = html.escape(caption or "figure", quote=True)
    head = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
    return f'<figure><img alt="{alt}" src="data:image/png;base64,{encoded}">{head}</figure>'


def _figures_html(figures: Sequence[go.Figure], plotly_inlined: bool) -> tuple[str, bool]:
    """Plotly figures as divs, inlining plotly.js with the first figure of the whole report."""
    parts = []
    for fig in figures:
        parts.append(
            fig.to_html(
                full_html=False,
                include_plotlyjs=not plotly_inlined,
                default_height="480px",
                config={"displaylogo": False},
            )
        )
        plotly_inlined = True
    return "".join(f'<div class="plot">{p}</div>' for p in parts), plotly_inlined


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;
max-width:1100px;padding:1.5rem;color:#1f2933;line-height:1.5}
header{border-bottom:2px solid #3b6ea5;margin-bottom:1.5rem}
.meta{color:#52606d;font-size:.9rem}
.notice{background:#fff4d6;border-left:4px solid #d69e2e;padding:.5rem .8rem}
section{margin-bottom:2.5rem}
figure{margin:1rem 0}
figcaption{font-weight:600;margin-bottom:.4rem}
figure.table{overflow-x:auto}
table{border-collapse:collapse;font-size:.85rem}
th,td{border-bottom:1px solid #d9e2ec;padding:.3rem .6rem;text-align:left;vertical-align:top}
th{background:#f0f4f8}
img{max-width:100%;height:auto}
@media print{.plot{break-inside:avoid}section{break-before:auto}}
"""


def render_report_html(
    sections: Sequence[ReportSection],
    *,
    title: str,
    created: datetime | str,
    presenter_mode: bool = False,
    privacy_mode: bool = True,
) -> str:
    """One self-contained HTML report: opens offline, with nothing fetched from the web.

    All user text is escaped. In presenter mode, table columns named like a post or a profile
    field (``text``, ``location``, ``bio``, ``author``...: ``privacy.PERSONAL_TEXT_NAMES``) are
    dropped so no raw post or profile is shown on a projector; the caller drops any other
    free-text column (``privacy.drop_personal_text`` judges by values too). In privacy mode
    (the default) handles, e-mails, links and phone numbers are masked in every table cell.
    Figures are drawn as given: keep raw posts out of their hover text.
    """
    if isinstance(created, datetime):
        created = created.isoformat(sep=" ", timespec="minutes")
    notice = '<p class="notice">Presenter mode: raw posts are hidden.</p>' if presenter_mode else ""
    body, plotly_inlined = [], False
    for section in sections:
        figures, plotly_inlined = _figures_html(section.figures, plotly_inlined)
        images = "".join(_image_html(*_with_caption(i)) for i in section.images)
        tables = "".join(
            _table_html(*_with_caption(t), presenter_mode=presenter_mode,
                        privacy_mode=privacy_mode)
            for t in section.tables
        )
        body.append(
            f"<section><h2>{html.escape(section.heading)}</h2>"
            f"{_paragraphs(section.text)}{figures}{images}{tables}</section>"
        )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
        f"<header><h1>{html.escape(title)}</h1>"
        f'<p class="meta">Created {html.escape(created)} with Stigma Lens</p>{notice}</header>'
        f"{''.join(body)}</body></html>\n"
    )

"""Save results safely: formula-safe CSV/XLSX, Parquet, and one self-contained HTML report.

Posts are written by strangers, so a post reading ``=HYPERLINK(...)`` must never run as a
formula when a colleague opens the export in a spreadsheet (OWASP "CSV injection"): every
text cell that a spreadsheet would read as a formula gets a leading single quote. The HTML
report is one file that opens offline: inline CSS, plotly.js inlined once, images as base64.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from stigma_core.errors import CorpusError
from stigma_core.privacy import mask_series

if TYPE_CHECKING:
    import plotly.graph_objects as go

FORMULA_PREFIXES = ("=", "+", "-", "@")
CONTROL_PREFIXES = ("\t", "\r")
TABLE_FORMATS = ("csv", "parquet", "xlsx")
MIME_TYPES = {
    "csv": "text/csv",
    "parquet": "application/vnd.apache.parquet",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
EXCEL_MAX_ROWS = 1_048_576
PRESENTER_HIDDEN = frozenset({"text", "post", "snippet"})
MAX_REPORT_ROWS = 1000
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _safe_cell(value: object) -> object:
    """Prefix a quote to a string a spreadsheet would run as a formula; leave the rest."""
    if isinstance(value, str) and (
        value.startswith(CONTROL_PREFIXES) or value.lstrip().startswith(FORMULA_PREFIXES)
    ):
        return "'" + value
    return value


def _is_text_column(series: pd.Series) -> bool:
    """True for columns that may hold strings (not numbers, booleans or dates)."""
    return not (
        pd.api.types.is_numeric_dtype(series) or pd.api.types.is_datetime64_any_dtype(series)
    )


def formula_safe(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` in which no cell or column name would run as a spreadsheet formula.

    Strings starting with = + - @ (after any whitespace) or with a tab or carriage return
    get a leading ``'``, as OWASP advises; numeric, boolean and date columns are untouched,
    so a negative number stays a number.
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


def mask_frame(df: pd.DataFrame, cols: Iterable[str] = ("text",)) -> pd.DataFrame:
    """A copy with handles, URLs and e-mails masked in the named columns that are present.

    For sharing scored posts without identifying their authors (privacy mode).
    """
    masked = df.copy()
    for col in cols:
        if col in masked.columns:
            masked[col] = mask_series(masked[col])
    return masked


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


def _table_html(frame: pd.DataFrame, caption: str, presenter_mode: bool) -> str:
    """An escaped HTML table; raw-post columns dropped in presenter mode; long tables cut."""
    if presenter_mode:
        hidden = [c for c in frame.columns if str(c).lower() in PRESENTER_HIDDEN]
        frame = frame.drop(columns=hidden)
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
) -> str:
    """One self-contained HTML report: opens offline, with nothing fetched from the web.

    All user text is escaped. In presenter mode, table columns named text/post/snippet are
    dropped so raw posts are not shown on a projector (figures are drawn as given: keep raw
    posts out of their hover text).
    """
    if isinstance(created, datetime):
        created = created.isoformat(sep=" ", timespec="minutes")
    notice = '<p class="notice">Presenter mode: raw posts are hidden.</p>' if presenter_mode else ""
    body, plotly_inlined = [], False
    for section in sections:
        figures, plotly_inlined = _figures_html(section.figures, plotly_inlined)
        images = "".join(_image_html(*_with_caption(i)) for i in section.images)
        tables = "".join(
            _table_html(*_with_caption(t), presenter_mode=presenter_mode) for t in section.tables
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

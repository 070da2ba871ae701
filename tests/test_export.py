"""Exports: formula-safe CSV/XLSX, Parquet round trip, masking, the self-contained HTML report."""

from __future__ import annotations

import base64
import os
import re
from datetime import datetime
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import pytest
from matplotlib.figure import Figure
from openpyxl import load_workbook

from stigma_core import export
from stigma_core.errors import CorpusError
from stigma_core.export import (
    ReportSection,
    formula_safe,
    mask_frame,
    png_bytes,
    render_report_html,
    table_bytes,
    write_table,
)

DANGEROUS = [
    "=1+1", "+44 20 7946 0000", "-2+3", "@SUM(A1:A9)", "\tx", "\r=cmd", "  =HYPERLINK(x)",
]
SAFE = ["hello", "a = b", "", "2+2=4", "'already quoted", "e-mail"]
XSS = "<script>alert(1)</script>"


@pytest.fixture
def hostile() -> pd.DataFrame:
    """Posts that would run as formulas, next to numbers that must stay numbers."""
    n = len(DANGEROUS)
    return pd.DataFrame(
        {
            "text": DANGEROUS,
            "score": [-1.5, -2.0, 0.25, 3.0, -0.0, 7.5, -9.0][:n],
            "count": list(range(-3, n - 3)),
            "flag": [True, False] * (n // 2) + [True] * (n % 2),
            "=cmd": ["ok"] * n,
        }
    )


def starts_dangerous(cell: str) -> bool:
    return cell.startswith(("\t", "\r")) or cell.lstrip().startswith(("=", "+", "-", "@"))


@pytest.mark.parametrize("value", DANGEROUS)
def test_formula_safe_quotes_every_dangerous_prefix(value: str) -> None:
    safe = formula_safe(pd.DataFrame({"c": [value]}))
    assert safe.loc[0, "c"] == "'" + value


@pytest.mark.parametrize("value", SAFE)
def test_formula_safe_leaves_safe_text_alone(value: str) -> None:
    assert formula_safe(pd.DataFrame({"c": [value]})).loc[0, "c"] == value


def test_formula_safe_keeps_numbers_and_names_columns_safely(hostile: pd.DataFrame) -> None:
    before = hostile.copy()
    safe = formula_safe(hostile)
    assert list(safe.columns) == ["text", "score", "count", "flag", "'=cmd"]
    pd.testing.assert_series_equal(safe["score"], hostile["score"])
    assert safe["count"].dtype.kind == "i" and safe["count"].min() == -3
    pd.testing.assert_frame_equal(hostile, before)  # input untouched
    mixed = formula_safe(pd.DataFrame({"m": ["=x", -4, None]}))
    assert mixed["m"].tolist()[:2] == ["'=x", -4] and pd.isna(mixed.loc[2, "m"])


def test_csv_export_has_no_formula_cells(hostile: pd.DataFrame, tmp_path: Path) -> None:
    path = write_table(hostile.assign(note="naïve 🙂"), tmp_path / "out.csv")
    back = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    for col in ["text", "flag", "'=cmd", "note"]:
        assert not any(starts_dangerous(cell) for cell in back[col]), col
    assert back["text"].str.startswith("'").all() and back.loc[0, "text"] == "'=1+1"
    assert back.loc[0, "'=cmd"] == "ok" and len(back) == len(DANGEROUS)
    assert back.loc[5, "text"] == "'\r=cmd"  # quoted, so the carriage return splits no row
    assert pd.to_numeric(back["score"]).tolist() == hostile["score"].tolist()
    assert back.loc[0, "note"] == "naïve 🙂"
    assert path.read_bytes() == table_bytes(hostile.assign(note="naïve 🙂"), "csv")


def test_xlsx_export_has_no_formula_cells(hostile: pd.DataFrame, tmp_path: Path) -> None:
    frame = hostile.assign(
        note="bell\x07 here",
        when=pd.Timestamp("2021-03-04 05:06", tz="UTC"),
    )
    path = write_table(frame, tmp_path / "out.xlsx")
    cells = [cell for row in load_workbook(path).active.iter_rows() for cell in row]
    assert all(cell.data_type != "f" for cell in cells)
    values = [cell.value for cell in cells]
    assert "'=1+1" in values and "'=cmd" in values and "bell here" in values
    assert -1.5 in values and -3 in values
    assert not any(isinstance(v, str) and starts_dangerous(v) for v in values)


def test_xlsx_refuses_more_rows_than_a_sheet_holds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export, "EXCEL_MAX_ROWS", 3)
    with pytest.raises(CorpusError, match="CSV or Parquet"):
        table_bytes(pd.DataFrame({"a": range(5)}), "xlsx")


def test_parquet_round_trip_keeps_data_exactly(hostile: pd.DataFrame, tmp_path: Path) -> None:
    path = write_table(hostile, tmp_path / "out.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(path), hostile, check_dtype=False)
    assert pd.read_parquet(path)["score"].dtype == "float64"


def test_unknown_extension_is_a_plain_corpus_error(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match=r"'\.txt'.*\.csv, \.parquet, \.xlsx") as info:
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "out.txt")
    assert isinstance(info.value, ValueError)
    assert not (tmp_path / "out.txt").exists()
    with pytest.raises(CorpusError):
        table_bytes(pd.DataFrame({"a": [1]}), "json")


def test_mask_frame_masks_named_columns_only() -> None:
    df = pd.DataFrame(
        {
            "text": ["@alice see https://x.example/p and mail bob@example.org"],
            "location": ["@home"],
        }
    )
    masked = mask_frame(df, cols=("text", "snippet"))
    out = masked.loc[0, "text"]
    assert "@user" in out and "<url>" in out and "<email>" in out
    assert "alice" not in out and "x.example" not in out and "bob@" not in out
    assert masked.loc[0, "location"] == "@home"
    assert df.loc[0, "text"].startswith("@alice")


@pytest.fixture(scope="module")
def figures() -> list[go.Figure]:
    return [
        go.Figure(go.Bar(x=["a", "b"], y=[1, 2])),
        go.Figure(go.Scatter(x=[1, 2], y=[3, 1])),
    ]


def report(figures: list[go.Figure], presenter_mode: bool) -> str:
    posts = pd.DataFrame({"text": [XSS, "fine post"], "stigma_probability": [0.91, 0.12]})
    sections = [
        ReportSection(
            heading="Model <vs> raters",
            text=f"First paragraph & {XSS}\n\nSecond paragraph.",
            figures=figures[:1],
            tables=[(posts, "Scored <posts>")],
        ),
        ReportSection(heading="More", figures=figures[1:]),
    ]
    return render_report_html(
        sections, title="Stigma <report>", created=datetime(2024, 5, 6, 7, 8),
        presenter_mode=presenter_mode,
    )


def test_report_is_self_contained_and_escaped(figures: list[go.Figure]) -> None:
    page = report(figures, presenter_mode=False)
    assert not re.search(r"<script[^>]*\bsrc\s*=", page, re.IGNORECASE)
    assert not re.search(r"<link[^>]*href\s*=\s*[\"']?https?:", page, re.IGNORECASE)
    assert not re.search(r"<(img|iframe)[^>]*src\s*=\s*[\"']?https?:", page, re.IGNORECASE)
    assert page.count("plotly.js v") == 1  # plotly.js inlined once for both figures
    assert page.count('class="plotly-graph-div"') == 2
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert XSS not in page
    assert "Stigma &lt;report&gt;" in page and "Model &lt;vs&gt; raters" in page
    assert "Scored &lt;posts&gt;" in page and "2024-05-06 07:08" in page
    assert "<p>Second paragraph.</p>" in page and "0.91" in page


def test_presenter_mode_hides_raw_posts(figures: list[go.Figure]) -> None:
    page = report(figures, presenter_mode=True)
    assert "fine post" not in page
    assert page.count("alert(1)") == 1  # the section's own paragraph, not the post
    assert "<th>text</th>" not in page
    assert "stigma_probability" in page and "0.91" in page
    assert "Presenter mode" in page
    assert "<th>text</th>" in report(figures, presenter_mode=False)


def test_report_embeds_images_as_base64_png() -> None:
    fig = Figure(figsize=(2, 1))
    fig.add_subplot().plot([0, 1], [1, 0])
    png = png_bytes(fig)
    page = render_report_html(
        [ReportSection(heading="Words", images=[(png, "Word cloud"), png])],
        title="t", created="today", presenter_mode=False,
    )
    encoded = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(encoded) == 2 and base64.b64decode(encoded[0]) == png
    assert 'alt="Word cloud"' in page and "plotly.js" not in page
    with pytest.raises(ValueError, match="PNG"):
        render_report_html(
            [ReportSection(heading="x", images=[b"GIF89a"])],
            title="t", created="today", presenter_mode=False,
        )


def test_long_tables_are_cut_with_a_note(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export, "MAX_REPORT_ROWS", 5)
    section = ReportSection(heading="Big", tables=[pd.DataFrame({"v": range(12)})])
    page = render_report_html([section], title="t", created="now", presenter_mode=False)
    assert page.count("<tr") == 6  # header + 5 rows
    assert "first 5 of 12 rows" in page


CHROMIUM = Path("/usr/bin/chromium")


@pytest.mark.browser
def test_report_draws_its_plots_in_a_browser_with_no_network(
    figures: list[go.Figure], tmp_path: Path
) -> None:
    """Open the report in headless Chromium, refusing every network request: plots still draw."""
    if not CHROMIUM.exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{CHROMIUM} is missing; `make browser` installs it")
        pytest.skip(f"{CHROMIUM} is missing; `make browser` installs it")
    from playwright.sync_api import sync_playwright

    path = tmp_path / "report.html"
    path.write_text(report(figures, presenter_mode=False), encoding="utf-8")
    asked, errors = [], []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        page = browser.new_page()
        page.route(
            lambda url: url.startswith(("http:", "https:")),
            lambda route: (asked.append(route.request.url), route.abort()),
        )
        page.on("pageerror", lambda err: errors.append(str(err)))
        page.goto(path.as_uri())
        page.wait_for_selector(".plotly-graph-div .main-svg", timeout=20_000)
        drawn = page.locator(".plotly-graph-div .main-svg").count()
        height = page.evaluate(
            "document.querySelector('.plotly-graph-div').getBoundingClientRect().height"
        )
        browser.close()
    assert asked == [] and errors == []
    assert drawn >= 2 and height > 100

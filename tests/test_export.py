"""Exports: formula-safe CSV/XLSX, Parquet round trip, the self-contained HTML report."""

from __future__ import annotations

import base64
import csv
import io
import os
import re
from datetime import datetime
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure
from openpyxl import load_workbook

from stigma_core import export
from stigma_core.errors import CorpusError
from stigma_core.export import (
    ReportSection,
    formula_safe,
    png_bytes,
    render_report_html,
    runs_as_formula,
    table_bytes,
    write_table,
)

DANGEROUS = [
    "=1+1", "+44 20 7946 0000", "-2+3", "@SUM(A1:A9)", "\tx", "\r=cmd", "  =HYPERLINK(x)",
]
QUOTED_OR_SPACED = [
    '"=3+3" is what they typed', "\"\u201c=1+1", '  "  =cmd|x', "\u201c=HYPERLINK(x)\u201d",
    "\n=1+1", "\u00a0@SUM(A1)", "\u3000=1", "\uff1d1+1", "\uff0bcmd", "\uff0d1+1", "\uff20SUM(A1)",
    " \t=1", '"\r', "-1.5+cmd", "- 1", "-", "+", "-1.5 a",
]
PLAIN_NUMBERS = ["-1.5", "+3", "-0", "-.5", "-1,234.5", "-2e3", "+1E-7", "-12.5%", " -1.5 ",
                 "1.5", "2024"]
SAFE = ["hello", "a = b", "", "2+2=4", "'already quoted", "e-mail", "'=1+1", *PLAIN_NUMBERS]
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


@pytest.mark.parametrize("value", QUOTED_OR_SPACED)
def test_quote_led_whitespace_led_and_full_width_formulas_are_neutralised(value: str) -> None:
    assert runs_as_formula(value)
    assert formula_safe(pd.DataFrame({"c": [value]})).loc[0, "c"] == "'" + value


@pytest.mark.parametrize("value", SAFE)
def test_formula_safe_leaves_safe_text_alone(value: str) -> None:
    assert not runs_as_formula(value)
    assert formula_safe(pd.DataFrame({"c": [value]})).loc[0, "c"] == value


def test_numbers_written_as_text_stay_exactly_as_they_came(tmp_path: Path) -> None:
    """A CLI input column read as text ("-1.5") is not turned into "'-1.5"."""
    frame = pd.DataFrame({"score": ["-1.5", "+3", "-1,234.5", None], "n": [-1, 2, 3, 4]})
    back = pd.read_csv(io.BytesIO(table_bytes(frame, "csv")), dtype=str, keep_default_na=False)
    assert back["score"].tolist() == ["-1.5", "+3", "-1,234.5", ""]
    assert back["n"].tolist() == ["-1", "2", "3", "4"]
    cells = _xlsx_cells(write_table(frame, tmp_path / "n.xlsx"))
    assert "-1.5" in cells and -1 in cells and "'-1.5" not in cells


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


def _xlsx_cells(path: Path) -> list[object]:
    """Every cell value of the workbook's first sheet; fails on any formula cell."""
    cells = [cell for row in load_workbook(path).active.iter_rows() for cell in row]
    assert all(cell.data_type != "f" for cell in cells)
    return [cell.value for cell in cells]


# An oracle written apart from export.runs_as_formula: what a spreadsheet could run.
TRIGGERS = set("=+-@\uff1d\uff0b\uff0d\uff20\ufe66\ufe62\ufe63\ufe6b\u2212")
SKIPPED = " \n\f\v\u00a0\u3000\"\u201c\u201d\u2018\u2019\uff02"  # not tab, CR or '
NUMBER = re.compile(r"[+-]?(\d[\d,]*(\.\d*)?|\.\d+)([eE][+-]?\d+)?%?")


def spreadsheet_would_run(cell: str) -> bool:
    """After leading spaces and quote marks: a tab or CR, or a trigger that is not a number."""
    rest = cell.lstrip(SKIPPED)
    if rest[:1] in ("\t", "\r"):
        return True
    return rest[:1] in TRIGGERS and not NUMBER.fullmatch(cell.strip())


CELL_TEXT = st.text(
    alphabet=st.sampled_from(list("=+-@\t\r\n \"'\u201c\uff1d\uff0b\uff0d\uff20\u00a0"
                                  "0123456789.,e%aZ(|)")),
    max_size=8,
)
CELLS = st.one_of(CELL_TEXT, st.floats(allow_nan=False, allow_infinity=False),
                  st.integers(-10**6, 10**6), st.none())


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(columns=st.lists(st.lists(CELLS, min_size=3, max_size=3), min_size=1, max_size=4),
       names=st.lists(CELL_TEXT.filter(lambda n: "'" not in n), min_size=4, max_size=4,
                      unique=True))
def test_no_exported_csv_cell_would_run_as_a_formula(columns, names) -> None:
    frame = pd.DataFrame({name: values for name, values in zip(names, columns, strict=False)})
    text = table_bytes(frame, "csv").decode("utf-8")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert len(rows) == 4  # the header and three rows: no cell split a row
    for row in rows:
        for cell in row:
            assert not spreadsheet_would_run(cell), (cell, text)
    for name, values in zip(names, columns, strict=False):  # numbers stay numbers
        at = rows[0].index(formula_safe(pd.DataFrame(columns=[name])).columns[0])
        for written, value in zip((r[at] for r in rows[1:]), values, strict=True):
            if isinstance(value, int | float) and not isinstance(value, bool):
                assert float(written) == pytest.approx(value)
            elif isinstance(value, str) and re.fullmatch(r"[+-]?\d+(\.\d+)?", value):
                assert written == value  # a number written as text is not altered


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=st.lists(CELL_TEXT, min_size=1, max_size=6),
       numbers=st.lists(st.floats(-1e6, 1e6), min_size=6, max_size=6))
def test_no_exported_xlsx_cell_would_run_as_a_formula(values, numbers, tmp_path_factory) -> None:
    frame = pd.DataFrame({"post": values, "score": numbers[: len(values)]})
    path = write_table(frame, tmp_path_factory.mktemp("x") / "out.xlsx")
    cells = _xlsx_cells(path)
    assert not any(isinstance(c, str) and spreadsheet_would_run(c) for c in cells)
    assert [c for c in cells if isinstance(c, float | int)] == pytest.approx(
        numbers[: len(values)])


def test_oracle_agrees_with_the_known_cases() -> None:
    assert all(spreadsheet_would_run(v) for v in DANGEROUS + QUOTED_OR_SPACED)
    assert not any(spreadsheet_would_run(v) for v in SAFE)


def test_export_offers_no_second_way_to_mask() -> None:
    from stigma_core import privacy
    assert getattr(export, "mask_frame", privacy.mask_frame) is privacy.mask_frame


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


def test_report_masks_every_table_column_and_presenter_drops_profiles() -> None:
    people = pd.DataFrame({
        "text": ["ring me on 020 7946 0000"], "location": ["@home_town"],
        "author": ["@carol_h"], "bio": ["www.carol.example, carol@example.org"],
        "platform": ["twitter"], "stigma_probability": [0.5],
    })
    section = ReportSection(heading="People", tables=[people])
    masked = render_report_html([section], title="t", created="now")
    for detail in ("7946", "home_town", "carol_h", "carol.example", "carol@"):
        assert detail not in masked
    assert "&lt;phone&gt;" in masked and "@user" in masked and "&lt;email&gt;" in masked
    raw = render_report_html([section], title="t", created="now", privacy_mode=False)
    assert "@carol_h" in raw and "020 7946 0000" in raw
    shown = render_report_html([section], title="t", created="now", presenter_mode=True,
                               privacy_mode=False)
    for column in ("text", "location", "author", "bio"):
        assert f"<th>{column}</th>" not in shown
    assert "<th>platform</th>" in shown and "carol" not in shown and "7946" not in shown


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

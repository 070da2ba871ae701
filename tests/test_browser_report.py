"""Real-browser test of the advisory group's keyboard use and of the report a presenter takes away.

Model lab with the keyboard only (Tab, arrow keys, typing, Space and Enter: the model box, the
cost slider, the "who decided" box and the button that keeps the model), then the report
downloaded in normal and in presenter mode, opened in Chromium, printed to PDF (A4) and checked:
a sane page count, no internal column names, under 1.5 MB, a text alternative for every chart,
no raw post in presenter mode. Screenshots, the PDFs and their pages as PNG (when poppler's
pdftoppm is installed) are kept in tests/artifacts/ to be looked at.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import browser_support as support
import pandas as pd
import pytest
from browser_support import ARTIFACTS, REPO, chromium_browser, running_dashboard

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

pytestmark = pytest.mark.browser
TIMEOUT_MS = 90_000
LIMIT_BYTES = 1_500_000
WHO = "keyboard advisory group"
INTERNAL = re.compile(r"\b(n_predicted|corrected_ci_(?:low|high)|raw_ci_(?:low|high)|too_few|"
                      r"ci_width|stigma_probability|stigma_predicted)\b")
expect.set_options(timeout=30_000)


@pytest.fixture(scope="module")
def page() -> Iterator[object]:
    """One Chromium tab on a fresh dashboard (the session must carry over between tests)."""
    with running_dashboard("streamlit_report.log") as url, chromium_browser() as browser:
        context = browser.new_context(viewport={"width": 1400, "height": 1000},
                                      accept_downloads=True)
        tab = context.new_page()
        tab.set_default_timeout(TIMEOUT_MS)
        tab.goto(url)
        support.settle(tab, TIMEOUT_MS)
        yield tab


def focused(tab: object) -> str:
    """What has the keyboard focus: its accessible label or its text."""
    return tab.evaluate("""() => { const e = document.activeElement;
        return (e.getAttribute('aria-label') || e.innerText || e.value || e.tagName).trim(); }""")


def tab_to(tab: object, pattern: str, presses: int = 60) -> None:
    """Press Tab until the focused control's label matches ``pattern`` (fail after
    ``presses``): the control is reachable with the keyboard alone."""
    seen = []
    for _ in range(presses):
        tab.keyboard.press("Tab")
        seen.append(focused(tab))
        if re.search(pattern, seen[-1]):
            return
    raise AssertionError(f"{pattern!r} never got the focus; Tab went through {seen}")


def test_the_decision_panel_works_with_the_keyboard_alone(page: object) -> None:
    support.go_to(page, "Model lab", TIMEOUT_MS)
    support.choose_fast_models(page)
    page.get_by_role("button", name="Train", exact=True).focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Compare the models")).to_be_visible()
    support.settle(page, TIMEOUT_MS)
    # the model box: focus, type, Enter
    box = page.get_by_test_id("stSelectbox").filter(has_text="Model").get_by_role("combobox")
    box.focus()
    page.keyboard.type("Logistic")
    page.keyboard.press("Enter")
    support.settle(page, TIMEOUT_MS)
    expect(box).to_have_value(re.compile("^Logistic regression"))
    # the slider: reached with Tab from the model box, moved with the arrow keys
    tab_to(page, r"^One missed stigmatising post costs")
    value = page.get_by_test_id("stSliderThumbValue")
    before = int(value.inner_text())
    for _ in range(3):  # 5 -> 2: a miss costs two false alarms
        page.keyboard.press("ArrowLeft")
    support.settle(page, TIMEOUT_MS)
    assert int(value.inner_text()) == before - 3
    # the button with no name given: Space presses it, and the page asks who decided
    tab_to(page, r"^Use this model and threshold")
    page.keyboard.press("Space")
    expect(page.get_by_text("Say who made this choice first")).to_be_visible()
    support.settle(page, TIMEOUT_MS)
    page.get_by_label(re.compile("^Who made this choice")).focus()
    page.keyboard.type(WHO)
    page.keyboard.press("Enter")  # Streamlit takes a text box's value on Enter
    support.settle(page, TIMEOUT_MS)
    tab_to(page, r"^Use this model and threshold")
    page.keyboard.press("Enter")
    expect(page.get_by_text(f"Recorded: chosen by {WHO}")).to_be_visible()
    support.settle(page, TIMEOUT_MS)
    page.screenshot(path=str(ARTIFACTS / "6_model_lab_keyboard.png"), full_page=True)


def pdf_pages(path: Path) -> int:
    """Pages of a PDF: pdfinfo when installed, else the page objects in the file."""
    if shutil.which("pdfinfo"):
        info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True,
                              check=True).stdout
        return int(re.search(r"Pages:\s+(\d+)", info)[1])
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", path.read_bytes()))


def download_report(tab: object, name: str) -> str:
    """Build the report on the Report page, download it, keep it as tests/artifacts/NAME."""
    tab.get_by_role("button", name="Build the report").click()
    expect(tab.get_by_text("Report ready")).to_be_visible()
    support.settle(tab, TIMEOUT_MS)
    with tab.expect_download() as download:
        tab.get_by_role("button", name="Download the HTML report").click()
    html = Path(download.value.path()).read_text(encoding="utf-8")
    (ARTIFACTS / name).write_text(html, encoding="utf-8")
    return html


def open_and_print(tab: object, name: str) -> int:
    """Open tests/artifacts/NAME.html in its own tab (offline, as a colleague would), check it
    on screen, print it to NAME.pdf (A4) and keep a print-media screenshot and, with pdftoppm,
    every PDF page as PNG. Returns the PDF's page count."""
    opened = tab.context.new_page()
    try:
        opened.goto((ARTIFACTS / f"{name}.html").as_uri())
        expect(opened.get_by_role("heading", name="Summary")).to_be_visible()
        images = opened.locator("main img")
        assert images.count() >= 5
        for i in range(images.count()):  # every chart drew, and says what it shows
            image = images.nth(i)
            assert opened.evaluate("e => e.complete && e.naturalWidth > 0", image.element_handle())
            assert re.search(r"\d", image.get_attribute("alt") or "")
        opened.screenshot(path=str(ARTIFACTS / f"{name}_screen.png"), full_page=True)
        opened.emulate_media(media="print")
        opened.screenshot(path=str(ARTIFACTS / f"{name}_print.png"), full_page=True)
        pdf = ARTIFACTS / f"{name}.pdf"
        opened.pdf(path=str(pdf), format="A4", print_background=True)
    finally:
        opened.close()
    if shutil.which("pdftoppm"):
        folder = ARTIFACTS / f"{name}_pages"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        subprocess.run(["pdftoppm", "-r", "60", "-png", str(pdf), str(folder / "page")],
                       check=True)
    return pdf_pages(pdf)


def check_report(html: str) -> None:
    """What every report must be: small, in plain words, a text alternative per chart."""
    assert len(html.encode()) < LIMIT_BYTES, f"{len(html.encode()):,} bytes"
    assert "<script" not in html
    assert not INTERNAL.search(html), INTERNAL.search(html)
    assert f"chosen by {WHO} on" in html
    assert re.search(r"Stigmatising posts: \d+\.\d% \(\d+\.\d% to \d+\.\d%\)", html)
    alts = re.findall(r'<img alt="([^"]*)"', html)
    assert len(alts) == html.count("<img ") and all(alts)


def test_report_downloads_opens_and_prints_in_normal_and_presenter_mode(page: object) -> None:
    support.go_to(page, "Report", TIMEOUT_MS)
    normal = download_report(page, "report_normal.html")
    check_report(normal)
    assert "highest-scoring posts" in normal and "@user" in normal  # masked posts shown
    page.screenshot(path=str(ARTIFACTS / "6_report_page.png"), full_page=True)
    pages = open_and_print(page, "report_normal")
    assert 6 <= pages <= 20, pages

    page.get_by_test_id("stSidebar").get_by_text("Presenter mode").click()
    support.settle(page, TIMEOUT_MS)
    presenter = download_report(page, "report_presenter.html")
    check_report(presenter)
    assert "Presenter mode: raw posts and profiles are hidden." in presenter
    corpus = pd.read_csv(REPO / "sample_data" / "corpus.csv")
    snippets = corpus["text"].dropna().astype(str).str.slice(0, 30)
    assert not [s for s in snippets if len(s) == 30 and s in presenter]
    if "user_location" in corpus:
        places = corpus["user_location"].dropna().astype(str)
        profiles = [p for p in places.unique() if "," in p and len(p) > 8]  # "Seattle, WA"
        assert profiles and not [p for p in profiles if p in presenter]
    assert 5 <= open_and_print(page, "report_presenter") <= pages

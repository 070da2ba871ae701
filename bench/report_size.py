"""Size and build time of the HTML report on the sample data, against the report before it changed.

Issue goal: the report of the sample analysis under 1.5 MB, figures still sharp. Measured here,
in one run, each in a fresh Python process driving the dashboard through Streamlit's AppTest
(sample data; logistic regression and naive Bayes on the small grids; logistic regression kept
at the default cost ratio; Report page, minimum 30 posts per group):

1. This checkout: the report built in normal and in presenter mode, ``--repeats`` builds each
   (the first build of a process starts the figure renderer, Chromium through kaleido; later
   builds reuse its figures); bytes of the file and what they are (SVG figures, PNG word clouds,
   tables and text), printed pages (A4, Chromium's PDF printing, when Chromium is installed).
2. The naive alternative in the same process: the same sections rendered by
   ``stigma_core.export.render_report_html`` (interactive figures, plotly.js inlined once).
3. The baseline: the report of the commit before this work (``--baseline``, default
   90ca851~1), checked out into a temporary git worktree and built the same way.

Run: .venv/bin/python bench/report_size.py [--repeats 3] [--baseline REV]
     -> bench/results/report_size.json
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

GOAL_BYTES = 1_500_000
DEFAULT_BASELINE = "90ca851~1"  # the commit before the report's rewrite
CHROMIUM = Path("/usr/bin/chromium")


def composition(html: str) -> dict[str, int]:
    """Bytes of the report by kind: SVG figures, PNG images, scripts, the rest."""
    svg = sum(map(len, re.findall(r"data:image/svg\+xml;base64,[^\"]+", html)))
    png = sum(map(len, re.findall(r"data:image/png;base64,[^\"]+", html)))
    scripts = sum(map(len, re.findall(r"<script.*?</script>", html, flags=re.S)))
    total = len(html.encode())
    return {"total": total, "svg_figures": svg, "png_images": png, "scripts": scripts,
            "tables_and_text": total - svg - png - scripts}


def pdf_pages(html: str) -> int | None:
    """Pages of the report printed to A4 by Chromium (None without Chromium)."""
    if not CHROMIUM.exists():
        return None
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder, sync_playwright() as driver:
        page_file = Path(folder) / "report.html"
        page_file.write_text(html, encoding="utf-8")
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                         args=["--no-sandbox", "--disable-gpu"])
        try:
            tab = browser.new_page()
            tab.goto(page_file.as_uri())
            tab.wait_for_timeout(500)
            pdf = tab.pdf(format="A4", print_background=True)
        finally:
            browser.close()
        if shutil.which("pdfinfo"):  # poppler's count; else count the page objects
            (Path(folder) / "report.pdf").write_bytes(pdf)
            info = subprocess.run(["pdfinfo", str(Path(folder) / "report.pdf")],
                                  capture_output=True, text=True, check=True).stdout
            return int(re.search(r"Pages:\s+(\d+)", info)[1])
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf))


def child(root: Path, repeats: int) -> dict:
    """In a fresh process: build the report of the checkout at ``root`` and measure it."""
    sys.path[:0] = [str(root / "tests"), str(root)]
    from app_support import open_app, train_fast, use_model

    import stigma_core
    from dashboard import state
    assert Path(stigma_core.__file__).is_relative_to(root), stigma_core.__file__

    at = train_fast(open_app())
    at.selectbox(key="lab_family").set_value("logistic_regression").run()
    use_model(at, decided_by="benchmark advisory group")
    at.switch_page("pages/report.py").run()
    out: dict = {"root": str(root)}
    for mode, presenter in (("normal", False), ("presenter", True)):
        at.sidebar.toggle(key="presenter_mode").set_value(presenter).run()
        seconds = []
        for _ in range(repeats):
            start = time.perf_counter()
            at.button(key="rep_build").click().run()
            seconds.append(round(time.perf_counter() - start, 3))
            assert not at.exception, [e.value for e in at.exception]
        html = at.session_state[state.REPORT]
        out[mode] = {"build_seconds": seconds, "bytes": composition(html),
                     "pdf_pages_a4": pdf_pages(html)}
    out["interactive_same_sections"] = naive_same_sections(at)
    return out


def naive_same_sections(at: object) -> dict | None:
    """The same sections through the library's interactive renderer (plotly.js inlined once):
    what the report would weigh with interactive figures. Measured by wrapping the page's
    renderer for one more build (AppTest runs the page in this process). None before the
    rewrite, which used that renderer itself."""
    from dashboard import report
    from stigma_core.export import ReportSection, render_report_html

    if not hasattr(report, "render_html"):
        return None
    original, measured = report.render_html, {}

    def both(parts: list, **options: object) -> str:
        plain = [ReportSection(p.heading, p.text, tables=p.tables, images=p.images,
                               figures=[f[0] if isinstance(f, tuple) else f for f in p.figures])
                 for p in parts]
        start = time.perf_counter()
        html = render_report_html(plain, **options)
        measured.update(render_seconds=round(time.perf_counter() - start, 3),
                        bytes=composition(html))
        return original(parts, **options)

    report.render_html = both
    try:
        at.sidebar.toggle(key="presenter_mode").set_value(False).run()
        at.button(key="rep_build").click().run()
    finally:
        report.render_html = original
    return measured or None


def run_child(root: Path, repeats: int) -> dict:
    """``child`` in a fresh interpreter with ``root`` first on the path."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    done = subprocess.run([sys.executable, __file__, "--child", str(root), "--repeats",
                           str(repeats)], cwd=root, env=env, capture_output=True, text=True,
                          timeout=1800)
    if done.returncode:
        raise RuntimeError(f"report build in {root} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--baseline", default=DEFAULT_BASELINE)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child.resolve(), args.repeats)))
        return
    sys.path.insert(0, str(REPO))  # here, not at the top: a child imports its own checkout
    from bench.common import RESULTS, machine, utc_now, write_json

    load_before = os.getloadavg()
    started = utc_now()
    current = run_child(REPO, args.repeats)
    commit = subprocess.run(["git", "rev-parse", args.baseline], cwd=REPO, capture_output=True,
                            text=True, check=True).stdout.strip()
    with tempfile.TemporaryDirectory() as folder:
        tree = Path(folder) / "baseline"
        subprocess.run(["git", "worktree", "add", "--detach", str(tree), commit], cwd=REPO,
                       check=True, capture_output=True)
        try:
            baseline = run_child(tree, args.repeats)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=REPO,
                           capture_output=True)
    now = current["normal"]["bytes"]["total"]
    before = baseline["normal"]["bytes"]["total"]
    result = {
        "benchmark": "report_size",
        "started": started,
        "finished": utc_now(),
        "machine": machine(),
        "load_average_before": [round(v, 2) for v in load_before],
        "load_average_after": [round(v, 2) for v in os.getloadavg()],
        "setup": "sample data; logistic regression + naive Bayes (small grids); logistic "
                 "regression kept at cost ratio 5; minimum 30 posts per group; AppTest",
        "goal_bytes": GOAL_BYTES,
        "current": current,
        "baseline": {"commit": commit, **baseline},
        "ratio_baseline_to_current": round(before / now, 1),
        "meets_goal": now < GOAL_BYTES and current["presenter"]["bytes"]["total"] < GOAL_BYTES,
    }
    path = write_json(result, RESULTS / "report_size.json")
    print(json.dumps({k: result[k] for k in ("ratio_baseline_to_current", "meets_goal")}))
    print(f"now {now:,} B, before {before:,} B -> {path}")


if __name__ == "__main__":
    main()

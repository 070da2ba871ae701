"""Real-browser test of the coding loop: an unlabelled corpus is uploaded, two raters code a
random sample in two separate browser contexts, agreement shows, the settled codes train a
model, and Prevalence gives an interval from the coded sample.

The raters "read" each post on screen and code it as the synthetic sample's own label says
(R2 differs on a few posts), so the test knows the truth it should recover.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import browser_support as support
import pandas as pd
import pytest
from browser_support import (
    ARTIFACTS,
    choose_fast_models,
    chromium_browser,
    running_dashboard,
)

from stigma_core.privacy import mask_pii

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

pytestmark = pytest.mark.browser
TIMEOUT_MS = 60_000
N_CORPUS = 300
N_CODED = 40
R2_DIFFERS_EVERY = 13  # R2 codes every 13th post the other way: a few disagreements
expect.set_options(timeout=30_000)


@pytest.fixture(scope="module")
def corpus(sample_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """An unlabelled CSV (text and platform only) and the truth behind it, keyed as shown."""
    frame = pd.read_csv(sample_dir / "train.csv").head(N_CORPUS)
    path = tmp_path_factory.mktemp("upload") / "my_posts.csv"
    frame[["text", "platform"]].to_csv(path, index=False)
    truth = {mask_pii(t).strip(): int(v) for t, v in zip(frame["text"], frame["label"],
                                                           strict=True)}
    return path, truth | {"__share__": float(frame["label"].mean())}


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The coding database file of this module's dashboard."""
    return tmp_path_factory.mktemp("coding") / "coding.sqlite"


@pytest.fixture(scope="module")
def server(database: Path) -> Iterator[str]:
    """The dashboard with a coding database of its own."""
    with running_dashboard("streamlit_coding.log",
                           env={"STIGMA_CODING_DB": str(database), "DATABASE_URL": ""}) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with chromium_browser() as chromium:
        yield chromium


def new_tab(browser: object, url: str) -> object:
    """A page in its own browser context: its own Streamlit session, like another person."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    tab.set_default_timeout(TIMEOUT_MS)
    tab.goto(url)
    settle(tab)
    return tab


def settle(tab: object) -> None:
    support.settle(tab, TIMEOUT_MS, pause_ms=300)


def go_to(tab: object, name: str) -> None:
    support.go_to(tab, name, TIMEOUT_MS)


def choose(tab: object, label: str, option: str) -> None:
    """Pick `option` in the selectbox labelled `label`."""
    tab.get_by_test_id("stSelectbox").filter(has_text=label).get_by_role("combobox").click()
    tab.get_by_role("option", name=option, exact=True).click()
    settle(tab)


def code_everything(tab: object, rater: str, truth: dict, flip_every: int = 0) -> int:
    """Code every post on this rater's screen as the truth says, by keyboard (1 or 2)."""
    go_to(tab, "Coding")
    tab.get_by_text("Code posts (rater)").click()
    settle(tab)
    choose(tab, "I am", rater)
    progress = tab.get_by_text(re.compile(r"^\d+ of \d+ coded$"))
    coded = 0
    while tab.get_by_text("posts assigned to you are coded").count() == 0:
        before = progress.inner_text()
        post = tab.locator("div[style*='1.6rem']").inner_text().strip()
        code = truth[post]
        if flip_every and coded % flip_every == flip_every - 1:
            code = 1 - code
        tab.get_by_role("heading", name="Coding", exact=True).click()  # focus off inputs
        tab.keyboard.press("1" if code == 1 else "2")
        expect(progress).not_to_have_text(before)
        settle(tab)
        coded += 1
    return coded


def test_two_raters_code_in_two_browsers_then_a_model_and_prevalence(
    server: str, browser: object, corpus: tuple[Path, dict],
) -> None:
    path, truth = corpus
    analyst = new_tab(browser, server)
    # 1. the unlabelled corpus, uploaded as the corpus to score
    analyst.get_by_text("Corpus to score (for prevalence)").click()
    analyst.get_by_text("My own file").click()
    analyst.locator("input[type=file]").set_input_files(str(path))
    analyst.get_by_role("button", name="Load with this mapping").click()
    expect(analyst.get_by_text(f"Loaded my_posts.csv: {N_CORPUS} posts kept.")).to_be_visible()
    # 2. a coding project with a random sample of it
    go_to(analyst, "Coding")
    analyst.get_by_label("Project name").fill("Browser pilot")
    analyst.get_by_label(re.compile("^Raters: names or codes")).fill("R1, R2")
    analyst.get_by_role("button", name="Create project").click()
    expect(analyst.get_by_text("Created the coding project 'Browser pilot'.")).to_be_visible()
    analyst.get_by_text("Set up and follow the project (analyst)").click()
    settle(analyst)
    analyst.get_by_label("Random posts to draw").fill(str(N_CODED))
    analyst.get_by_label("Random posts to draw").press("Enter")
    settle(analyst)
    analyst.get_by_role("button", name="Draw random posts").click()
    expect(analyst.get_by_text(f"Added {N_CODED} random posts")).to_be_visible()
    analyst.screenshot(path=str(ARTIFACTS / "5_coding_setup.png"), full_page=True)
    # 3. two raters, each in their own browser context (own session), code blind
    rater_two = new_tab(browser, server)
    assert code_everything(analyst, "R1", truth) == N_CODED
    analyst.screenshot(path=str(ARTIFACTS / "5_coding_done_r1.png"), full_page=True)
    assert code_everything(rater_two, "R2", truth, flip_every=R2_DIFFERS_EVERY) == N_CODED
    # 4. agreement, then the settled codes become the training set
    analyst.get_by_text("Set up and follow the project (analyst)").click()
    settle(analyst)
    analyst.get_by_role("tab", name="Agreement").click()
    disagreements = N_CODED // R2_DIFFERS_EVERY
    settled = analyst.get_by_test_id("stMetric").filter(has_text="Settled")
    expect(settled).to_contain_text(str(N_CODED - disagreements))
    expect(analyst.get_by_test_id("stMetric").filter(has_text="Waiting for a third rater")
           ).to_contain_text(str(disagreements))
    expect(analyst.get_by_test_id("stDataFrame").first).to_be_visible()
    analyst.screenshot(path=str(ARTIFACTS / "5_coding_agreement.png"), full_page=True)
    analyst.get_by_role("tab", name="Results").click()
    analyst.get_by_role("button", name="Use these labels as the training set").click()
    expect(analyst.get_by_text("The settled posts are now the training set")).to_be_visible()
    # 5. a model trained on them
    go_to(analyst, "Model lab")
    choose_fast_models(analyst)
    analyst.get_by_role("button", name="Train", exact=True).click()
    expect(analyst.get_by_role("heading", name="Compare the models")).to_be_visible()
    settle(analyst)
    analyst.get_by_label(re.compile("^Who made this choice")).fill("browser test group")
    analyst.get_by_role("button", name="Use this model and threshold").click()
    expect(analyst.get_by_text("are now in use")).to_be_visible()
    # 6. prevalence from the coded random sample, with an interval that holds
    go_to(analyst, "Prevalence")
    estimate = analyst.get_by_test_id("stMetric").filter(has_text="From the coded sample")
    expect(estimate).to_be_visible()
    caption = analyst.get_by_text(re.compile(r"^With 95% CI: .*coded posts"))
    bounds = re.findall(r"(\d+\.\d)%", caption.inner_text())
    low, high = float(bounds[1]) / 100, float(bounds[2]) / 100
    analyst.screenshot(path=str(ARTIFACTS / "5_prevalence_coded.png"), full_page=True)
    assert low <= truth["__share__"] <= high


def test_a_rater_chooses_domain_and_theme_by_keyboard(server: str, browser: object,
                                                      database: Path) -> None:
    """The rater screen of a project that asks for domain and theme: large choices, one key
    each, the chosen ones highlighted, then 1 saves everything; the screenshot is looked at."""
    from stigma_core.coding.store import CodingStore

    store = CodingStore(f"sqlite:///{database}")
    store.create_project("Domains and themes", schemes=["domain", "theme"])
    store.add_raters("Domains and themes", ["R1", "R2"])
    posts = ["My family says therapy is for weak people and I should just pray more.",
             "Does anyone know how to get a GP referral for counselling?"]
    store.add_posts("Domains and themes", posts)
    tab = new_tab(browser, server)
    tab.set_viewport_size({"width": 1400, "height": 1500})  # the whole screen in one shot
    go_to(tab, "Coding")
    choose(tab, "Coding project", "Domains and themes")
    tab.get_by_text("Code posts (rater)").click()
    settle(tab)
    choose(tab, "I am", "R1")
    expect(tab.get_by_text("Where does it sit?", exact=False)).to_be_visible()
    community = tab.get_by_role("button", name=re.compile(r"^Community"))
    awareness = tab.get_by_role("button", name=re.compile(r"^Awareness"))
    expect(community).to_be_visible()
    tab.screenshot(path=str(ARTIFACTS / "5_coding_rater_domain_theme_blank.png"), full_page=True)
    tab.get_by_role("heading", name="Coding", exact=True).click()  # focus off inputs
    tab.keyboard.press("w")
    settle(tab)
    tab.keyboard.press("a")
    settle(tab)
    expect(community).to_have_attribute("kind", "primary")
    expect(awareness).to_have_attribute("kind", "primary")
    tab.screenshot(path=str(ARTIFACTS / "5_coding_rater_domain_theme.png"), full_page=True)
    progress = tab.get_by_text(re.compile(r"^\d+ of \d+ coded$"))
    tab.keyboard.press("1")
    expect(progress).to_have_text("1 of 2 coded")
    codes = store.codes("Domains and themes")
    assert codes[["rater", "value", "domain", "theme"]].values.tolist() == [
        ["R1", 1, "community", "awareness"]]
    # more posts, coded by both raters (R2 differs on every fifth domain): the agreement tab
    store.add_posts("Domains and themes", [f"Post {i} about my therapist and my family"
                                           for i in range(40)])
    domains, themes = ("self", "community", "professional"), ("awareness", "personal_story")
    for rater in ("R1", "R2"):
        for item in store.queue("Domains and themes", rater):
            domain = domains[item.post_id % 3]
            if rater == "R2" and item.post_id % 5 == 0:
                domain = domains[(item.post_id + 1) % 3]
            store.save_code("Domains and themes", rater, item.assignment_id, item.post_id % 2,
                            domain=domain, theme=themes[item.post_id % 2])
    tab.get_by_text("Set up and follow the project (analyst)").click()
    settle(tab)
    tab.get_by_role("tab", name="Agreement").click()
    expect(tab.get_by_text("Domain and theme codes", exact=False)).to_be_visible()
    both = store.codes("Domains and themes").pivot_table(
        index="post_id", columns="rater", values=["domain", "theme"], aggfunc="first")
    waiting = int(((both[("domain", "R1")] != both[("domain", "R2")])
                   | (both[("theme", "R1")] != both[("theme", "R2")])).sum())
    assert waiting >= 9  # every fifth domain, and the first post's theme
    expect(tab.get_by_test_id("stMetric").filter(has_text="Waiting for a third rater")
           ).to_contain_text(str(waiting))
    expect(tab.get_by_text("add a third rater under Set up")).to_be_visible()
    table = store.codes("Domains and themes")
    assert table["domain"].notna().sum() == 2 * 42  # every post coded by both
    tab.screenshot(path=str(ARTIFACTS / "5_coding_agreement_domain_theme.png"), full_page=True)
    store.dispose()

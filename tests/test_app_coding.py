"""Coding page (AppTest): create a project, draw posts, code them as two raters, see agreement,
and hand the settled labels to Model lab as the training set."""

from __future__ import annotations

import pandas as pd
import pytest
from app_support import REPO, metric, open_app, texts
from streamlit.testing.v1 import AppTest

from stigma_core.coding.store import CodingStore


@pytest.fixture
def coding_db(tmp_path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("STIGMA_CODING_DB", str(tmp_path / "coding.sqlite"))
    return f"sqlite:///{tmp_path / 'coding.sqlite'}"


def _submit(at: AppTest, label: str) -> AppTest:
    next(b for b in at.button if b.label == label).click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _new_project(at: AppTest, name: str = "Pilot", raters: str = "R1, R2") -> AppTest:
    at.text_input(key="code_new_name").input(name)
    at.text_input(key="code_new_raters").input(raters)
    return _submit(at, "Create project")


def _code_as(at: AppTest, rater: str, value: int, limit: int = 100) -> int:
    at.radio(key="code_view").set_value("Code posts (rater)").run()
    at.selectbox(key="coding_rater").set_value(rater).run()
    coded = 0
    while coded < limit and any(b.key == f"code_btn_{value}" for b in at.button):
        at.button(key=f"code_btn_{value}").click().run()
        assert not at.exception, [e.value for e in at.exception]
        coded += 1
    return coded


def test_a_new_project_draws_random_posts_for_two_raters(coding_db: str) -> None:
    at = _new_project(open_app("pages/coding.py"))
    assert "Created the coding project 'Pilot'." in texts(at.success)
    at.radio(key="code_view").set_value("Set up and follow the project (analyst)").run()
    at.number_input(key="code_n_random").set_value(20).run()
    at.button(key="code_draw").click().run()
    assert not at.exception
    store = CodingStore(coding_db)
    posts = store.posts("Pilot")
    assert len(posts) == 20 and (posts["drawn_by"] == "random").all()
    corpus = set(at.session_state["corpus"]["text"])
    assert set(posts["text"]) <= corpus
    assert store.progress("Pilot", "R1") == (0, 20) == store.progress("Pilot", "R2")


def test_rater_screen_is_blind_shows_progress_and_resumes(coding_db: str) -> None:
    store = CodingStore(coding_db)
    store.create_project("Pilot")
    store.add_raters("Pilot", ["R1", "R2"])
    store.add_posts("Pilot", [f"Post {i} mentions @someone and feeling low" for i in range(6)])
    for item in store.queue("Pilot", "R2"):  # R2 codes everything first
        store.save_code("Pilot", "R2", item.assignment_id, 1)
    at = open_app("pages/coding.py")
    at.selectbox(key="coding_rater").set_value("R1").run()
    progress = at.get("progress")[0].proto
    assert progress.text == "0 of 6 coded"
    shown = [m.value for m in at.main.markdown if "Post " in str(m.value)]
    assert shown and "@user" in shown[0] and "@someone" not in shown[0]  # masked by default
    at.text_input(key=next(t.key for t in at.text_input if t.key.startswith("code_note_"))
                  ).input("unsure about tone")
    at.button(key="code_btn_1").click().run()
    assert at.get("progress")[0].proto.text == "1 of 6 coded"
    page = " ".join(texts(at.main.markdown) + texts(at.main.caption))
    assert "R2" not in page and "(stigmatising)" not in page  # nobody else's code
    assert "model called" not in page.lower()  # nor the model's opinion
    codes = store.codes("Pilot")
    assert codes.iloc[0]["note"] == "unsure about tone" and codes.iloc[0]["value"] == 1
    # a new session (reload) resumes at the next post
    again = open_app("pages/coding.py")
    again.selectbox(key="coding_rater").set_value("R1").run()
    assert again.get("progress")[0].proto.text == "1 of 6 coded"


def test_two_raters_then_agreement_then_training_set(coding_db: str) -> None:
    store = CodingStore(coding_db)
    store.create_project("Pilot", verify_share=0.0)
    store.add_raters("Pilot", ["R1", "R2", "R3"])
    store.add_posts("Pilot", [f"Sample post number {i}" for i in range(9)])
    at = open_app("pages/coding.py")
    assert _code_as(at, "R1", 1) == 6
    assert _code_as(at, "R3", 0) == 6
    assert _code_as(at, "R2", 1) == 6 + 3  # own six, then settles three R1-vs-R3 posts
    assert _code_as(at, "R1", 1) == 3  # settles the three R2-vs-R3 posts
    assert any("All 9 posts assigned to you are coded" in s for s in texts(at.success))
    at.radio(key="code_view").set_value("Set up and follow the project (analyst)").run()
    assert metric(at, "Posts") == "9" and metric(at, "Settled") == "9"
    frames = [d.value for d in at.dataframe]
    pairs = next(f for f in frames if "Cohen's kappa (95% CI)" in f.columns)
    assert set(pairs["Raters"]) == {"R1 vs R2", "R1 vs R3", "R2 vs R3"}
    at.button(key="code_use").click().run()
    dataset = at.session_state["dataset"]
    assert len(dataset) == 9 and set(dataset["label"]) == {1}  # R1 and R2 outvote R3
    how = store.final_labels("Pilot")["settled_by"].value_counts().to_dict()
    assert how == {"agreement": 3, "third rater": 6}
    assert at.session_state["dataset_name"] == "coding project Pilot"


def test_an_unlabelled_training_set_leads_to_coding(coding_db: str, sample_dir) -> None:
    posts = pd.read_csv(sample_dir / "train.csv")[["text"]].head(60)
    at = open_app()
    at.radio(key="data_source").set_value("My own file").run()
    at.file_uploader(key="data_upload").set_value(
        ("posts.csv", posts.to_csv(index=False).encode(), "text/csv")).run()
    _submit(at, "Load with this mapping")
    at.switch_page("pages/model_lab.py").run()
    assert any("has no labels" in w for w in texts(at.warning))
    assert not any(b.key == "lab_train" for b in at.button)
    at.button(key="lab_start_coding").click().run()
    assert not at.exception, [e.value for e in at.exception]
    store = CodingStore(coding_db)
    (project,) = store.projects()
    assert project == "Coding posts.csv"
    assert set(store.posts(project)["text"]) == set(posts["text"])
    assert store.raters(project) == ["R1", "R2", "R3"]


def test_validation_reads_codes_and_reviews_from_the_coding_database(coding_db: str) -> None:
    from app_support import train_fast, use_model
    sample = pd.read_csv(REPO / "sample_data" / "validation_batch_1.csv")
    store = CodingStore(coding_db)
    store.create_project("Check", verify_share=0.0)
    store.add_raters("Check", ["A", "B"])
    store.add_posts("Check", sample["text"].head(40))
    truth = dict(zip(sample["text"].str.strip(), sample["rater_a"], strict=True))
    for rater in ("A", "B"):
        for item in store.queue("Check", rater):
            store.save_code("Check", rater, item.assignment_id, int(truth[item.text]))
    at = use_model(train_fast(open_app()))
    at.switch_page("pages/validation.py").run()
    at.radio(key="val_source").set_value("A coding project").run()
    assert not at.exception and not at.error, texts(at.error)
    table = at.dataframe[0].value
    assert list(table["Pair"]) == ["model vs rater_A", "model vs rater_B", "rater_A vs rater_B"]
    assert table["Kappa (95% CI)"].iloc[2].startswith("1.000 (")  # both coded as rater_a did
    assert (table["Posts (n)"] == 40).all()


def test_posts_imported_from_a_file_are_marked_imported(coding_db: str) -> None:
    store = CodingStore(coding_db)
    store.create_project("Pilot")
    store.add_raters("Pilot", ["R1", "R2"])
    at = open_app("pages/coding.py")
    at.radio(key="code_view").set_value("Set up and follow the project (analyst)").run()
    upload = pd.DataFrame({"post": ["First imported post", "Second one", "First imported post"]})
    at.file_uploader(key="code_import").set_value(
        ("mine.csv", upload.to_csv(index=False).encode(), "text/csv")).run()
    at.button(key="code_import_go").click().run()
    assert not at.exception, [e.value for e in at.exception]
    posts = store.posts("Pilot")
    assert sorted(posts["text"]) == ["First imported post", "Second one"]
    assert (posts["drawn_by"] == "imported").all()


def _choose_and_save(at: AppTest, domain: str, theme: str, value: int) -> AppTest:
    """What a rater does with the keyboard-usable buttons: pick a domain, a theme, then save."""
    at.button(key=f"code_domain_btn_{domain}").click().run()
    at.button(key=f"code_theme_btn_{theme}").click().run()
    at.button(key=f"code_btn_{value}").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_a_rater_chooses_domain_and_theme_with_the_buttons_and_they_are_stored(
        coding_db: str) -> None:
    at = open_app("pages/coding.py")
    at.text_input(key="code_new_name").input("Themes")
    at.text_input(key="code_new_raters").input("R1, R2, R3")
    at.checkbox(key="code_new_schemes").check()
    _submit(at, "Create project")
    store = CodingStore(coding_db)
    assert store.project("Themes").schemes == ("stigma", "domain", "theme")
    store.add_posts("Themes", [f"My family says therapy is for the weak, post {i}"
                               for i in range(3)])
    at.radio(key="code_view").set_value("Code posts (rater)").run()
    at.selectbox(key="coding_rater").set_value("R1").run()
    buttons = {b.key: b for b in at.button}
    for key in ("code_domain_btn_self", "code_domain_btn_community",
                "code_domain_btn_professional", "code_domain_btn_none",
                "code_theme_btn_awareness", "code_theme_btn_actionable",
                "code_theme_btn_help_seeking", "code_theme_btn_personal_story",
                "code_theme_btn_other"):
        assert buttons[key].proto.shortcut, key  # each has its own key on the keyboard
    assert all(b.proto.type != "primary" for k, b in buttons.items()
               if k.startswith(("code_domain", "code_theme")))  # nothing chosen for them
    page = " ".join(texts(at.main.markdown) + texts(at.main.caption))
    assert "model" not in page.lower().replace("the model's opinion", "")  # no model tag
    # saving without a theme is refused and said plainly; nothing stored
    at.button(key="code_domain_btn_community").click().run()
    assert at.button(key="code_domain_btn_community").proto.type == "primary"  # highlighted
    at.button(key="code_btn_1").click().run()
    assert any("Choose the post's theme" in s for s in texts(at.warning) + texts(at.info)
               + texts(at.success) + texts(at.error) + texts(at.toast)), "no message shown"
    assert store.codes("Themes").empty
    at.button(key="code_theme_btn_awareness").click().run()
    at.button(key="code_btn_1").click().run()
    _choose_and_save(at, "professional", "help_seeking", 0)
    codes = store.codes("Themes")
    assert codes[["rater", "value", "domain", "theme"]].values.tolist() == [
        ["R1", 1, "community", "awareness"], ["R1", 0, "professional", "help_seeking"]]
    # the next post starts with nothing chosen (no carry-over from the last one)
    assert all(b.proto.type != "primary" for b in at.button
               if b.key.startswith(("code_domain", "code_theme")))
    # the partner codes blind: never sees R1's choices
    at.selectbox(key="coding_rater").set_value("R2").run()
    assert all(b.proto.type != "primary" for b in at.button
               if b.key.startswith(("code_domain", "code_theme")))
    _choose_and_save(at, "community", "awareness", 1)
    final = store.final_labels("Themes")
    settled = final[final["domain"].notna()]
    assert settled[["domain", "domain_settled_by", "theme"]].values.tolist() == [
        ["community", "agreement", "awareness"]]
    at.radio(key="code_view").set_value("Set up and follow the project (analyst)").run()
    table = next(d.value for d in at.dataframe if "Krippendorff's alpha" in d.value.columns
                 and "Code" in d.value.columns)
    assert list(table["Code"]) == ["Domain", "Theme"]
    assert any(b.key == "code_download_schemes" for b in at.get("download_button"))


def test_adding_raters_confirms_them_and_empties_the_box(coding_db: str) -> None:
    at = _new_project(open_app("pages/coding.py"))
    at.radio(key="code_view").set_value("Set up and follow the project (analyst)").run()
    at.text_input(key="code_more_raters").input(" R3 , R4,").run()
    at.button(key="code_add_raters").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert CodingStore(coding_db).raters("Pilot") == ["R1", "R2", "R3", "R4"]
    assert "Added 2 raters: R3, R4." in texts(at.success)
    assert at.text_input(key="code_more_raters").value == ""  # ready for the next names
    # a name too long: a plain message, the typed names kept to correct, nobody added
    at.text_input(key="code_more_raters").input("R5, " + "x" * 120).run()
    at.button(key="code_add_raters").click().run()
    assert any("at most 100 characters" in e for e in texts(at.error))
    assert at.text_input(key="code_more_raters").value.startswith("R5, xxx")
    assert CodingStore(coding_db).raters("Pilot") == ["R1", "R2", "R3", "R4"]

"""Domain and theme codes in the coding store, on SQLite and PostgreSQL: asked for per project,
stored beside the stigma code, settled like it (agreement of the two coders, else the third
rater), their agreement measured, exported; projects without them (and databases made before
them) unchanged."""

from __future__ import annotations

import re

import krippendorff
import pandas as pd
import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import insert, text

from stigma_core.coding import agreement
from stigma_core.coding.schema import SCHEMES, Assignment, Code, Post, Rater, utcnow
from stigma_core.coding.store import MIGRATIONS, CodingStore, make_engine
from stigma_core.errors import CodingError

POSTS = [f"post number {i} about someone's mental health" for i in range(40)]


def _index(text_value: str) -> int:
    return int(re.search(r"number (\d+)", text_value).group(1))


def _domain(rater: str, i: int) -> str:
    """Everyone says "self", except R1 on every fourth post ("community")."""
    return "community" if rater == "R1" and i % 4 == 0 else "self"


def _theme(rater: str, i: int) -> str:
    """Everyone says "awareness", except R2 on every third post ("other")."""
    return "other" if rater == "R2" and i % 3 == 0 else "awareness"


def _code_everything(store: CodingStore, raters: tuple[str, ...]) -> None:
    """Every rater codes their queue until no work is left (third raters arrive on the way)."""
    for _ in range(3):
        for rater in raters:
            while (item := store.next_item("study", rater)) is not None:
                i = _index(item.text)
                store.save_code("study", rater, item.assignment_id, i % 2,
                                domain=_domain(rater, i), theme=_theme(rater, i))


def _scheme_project(url: str, raters=("R1", "R2", "R3")) -> CodingStore:
    store = CodingStore(url)
    info = store.create_project("study", verify_share=0.0, seed=1, schemes=["theme", "domain"])
    assert info.schemes == ("stigma", "domain", "theme")
    assert "**Domain** — where the talk sits" in info.guidelines  # raters see what they mean
    store.add_raters("study", raters)
    store.add_posts("study", POSTS)
    return store


def test_domain_and_theme_are_stored_and_settled_like_the_stigma_code(coding_url: str) -> None:
    store = _scheme_project(coding_url)
    _code_everything(store, ("R1", "R2", "R3"))
    codes = store.codes("study")
    assert codes["domain"].notna().all() and codes["theme"].notna().all()
    for row in codes.itertuples():  # every choice stored as its rater gave it
        i = _index(row.text)
        assert (row.domain, row.theme) == (_domain(row.rater, i), _theme(row.rater, i))
    primaries = codes[codes["role"] == "primary"].groupby("post_id")["rater"].agg(set)
    final = store.final_labels("study").set_index("post_id")
    assert list(final.columns[-6:]) == ["domain", "domain_settled_by", "domain_verification",
                                        "theme", "theme_settled_by", "theme_verification"]
    assert (final["domain_verification"] == "not sampled").all()  # verify_share 0
    for post_id, raters in primaries.items():
        i = _index(final.loc[post_id, "text"])
        row = final.loc[post_id]
        # stigma: both coders gave i % 2, so agreement, whoever else came in
        assert (row["label"], row["settled_by"]) == (i % 2, "agreement")
        domain_split = "R1" in raters and i % 4 == 0
        theme_split = "R2" in raters and i % 3 == 0
        assert row["domain_settled_by"] == ("third rater" if domain_split else "agreement")
        assert row["theme_settled_by"] == ("third rater" if theme_split else "agreement")
        # the third rater is never the one who disagreed, so the majority class wins
        assert (row["domain"], row["theme"]) == ("self", "awareness")
        third = codes[(codes["post_id"] == post_id) & (codes["role"] == "third")]
        assert len(third) == int(domain_split or theme_split)
    assert (final["domain_settled_by"] == "third rater").sum() > 0
    assert (final["theme_settled_by"] == "third rater").sum() > 0
    status = store.status("study")
    assert status["domain settled"] == status["theme settled"] == len(POSTS)
    assert status["needs third rater"] == 0
    domains = store.scheme_labels("study", "domain")
    assert list(domains.columns) == ["text", "label", "settled_by", "drawn_by"]
    assert len(domains) == len(POSTS) and set(domains["label"]) == {"self"}
    exported = store.training_set("study")
    assert {"domain", "domain_settled_by", "theme", "theme_settled_by"} <= set(exported)


def test_agreement_per_scheme_is_krippendorffs_alpha_with_a_ci(coding_url: str) -> None:
    store = _scheme_project(coding_url)
    _code_everything(store, ("R1", "R2", "R3"))
    codes = store.codes("study")
    table = agreement.scheme_agreement(codes, ("stigma", "domain", "theme"), n_boot=200)
    assert list(table["scheme"]) == ["stigma", "domain", "theme"]
    rows = table.set_index("scheme")
    assert rows.loc["stigma", "value"] == pytest.approx(1.0)
    assert rows.loc["stigma", "percent_agreement"] == pytest.approx(100.0)
    for scheme in ("domain", "theme"):
        classes = {c: i for i, c in enumerate(SCHEMES[scheme])}
        wide = codes.pivot_table(index="rater", columns="post_id", values=scheme,
                                 aggfunc="first").map(classes.get)
        expected = krippendorff.alpha(reliability_data=wide.to_numpy(float),
                                      level_of_measurement="nominal")
        assert rows.loc[scheme, "value"] == pytest.approx(expected)
        assert rows.loc[scheme, "value"] < 1.0  # the disagreements count
        assert rows.loc[scheme, "ci_low"] <= rows.loc[scheme, "value"] <= rows.loc[
            scheme, "ci_high"]
        assert rows.loc[scheme, "n"] == len(POSTS)
        split = (wide.nunique() > 1).mean()
        assert rows.loc[scheme, "percent_agreement"] == pytest.approx(100 * (1 - split))
    assert "too few" not in rows.loc["domain", "reading"]


def test_choices_are_required_checked_and_cant_tell_goes_to_the_third_rater(
        coding_url: str) -> None:
    store = _scheme_project(coding_url)
    item = store.next_item("study", "R1")
    with pytest.raises(CodingError, match="Choose the post's domain"):
        store.save_code("study", "R1", item.assignment_id, 1, theme="awareness")
    with pytest.raises(CodingError, match="Choose the post's theme"):
        store.save_code("study", "R1", item.assignment_id, 0, domain="self")
    with pytest.raises(CodingError, match="not 'work'"):
        store.save_code("study", "R1", item.assignment_id, 1, domain="work", theme="other")
    assert store.codes("study").empty  # nothing half-stored
    store.save_code("study", "R1", item.assignment_id, -1)  # can't tell: no domain or theme
    partner = next(r for r in ("R2", "R3")
                   if any(i.post_id == item.post_id for i in store.queue("study", r)))
    mine = next(i for i in store.queue("study", partner) if i.post_id == item.post_id)
    store.save_code("study", partner, mine.assignment_id, 1, domain="community",
                    theme="awareness")
    row = store.final_labels("study").set_index("post_id").loc[item.post_id]
    assert row["domain_settled_by"] == "waiting for third rater"
    assert store.status("study")["needs third rater"] == 1
    third_rater = ({"R1", "R2", "R3"} - {"R1", partner}).pop()
    third = next(i for i in store.queue("study", third_rater)
                 if i.post_id == item.post_id and i.role == "third")
    store.save_code("study", third_rater, third.assignment_id, 1, domain="professional",
                    theme="actionable")
    row = store.final_labels("study").set_index("post_id").loc[item.post_id]
    assert (row["domain"], row["domain_settled_by"]) == ("professional", "third rater")
    assert (row["theme"], row["label"]) == ("actionable", 1)
    codes = store.codes("study")
    assert codes.loc[codes["rater"] == "R1", "domain"].isna().all()


def test_a_project_without_the_schemes_is_unchanged(coding_url: str) -> None:
    store = CodingStore(coding_url)
    info = store.create_project("study", verify_share=0.0)
    assert info.schemes == ("stigma",) and info.extra_schemes == ()
    store.add_raters("study", ["R1", "R2"])
    store.add_posts("study", POSTS[:4])
    item = store.next_item("study", "R1")
    with pytest.raises(CodingError, match="does not ask raters for the domain"):
        store.save_code("study", "R1", item.assignment_id, 1, domain="self")
    for rater in ("R1", "R2"):
        while (item := store.next_item("study", rater)) is not None:
            store.save_code("study", rater, item.assignment_id, 1)
    final = store.final_labels("study")
    assert list(final.columns) == ["post_id", "text", "drawn_by", "label", "settled_by",
                                   "coders", "settled_at", "verification", "verifier"]
    assert (final["settled_by"] == "agreement").all()
    assert "domain settled" not in store.status("study")
    with pytest.raises(CodingError, match="does not ask raters for the theme"):
        store.scheme_labels("study", "theme")
    # the schemes are set while nothing is coded, and only then
    with pytest.raises(CodingError, match="already coded"):
        store.set_schemes("study", ["domain"])
    store.create_project("fresh")
    assert store.set_schemes("fresh", ["domain"]).schemes == ("stigma", "domain")
    assert "**Theme**" in store.project("fresh").guidelines
    assert "**Theme**" not in store.project("study").guidelines
    with pytest.raises(CodingError, match="Unknown coding scheme 'mood'"):
        store.set_schemes("fresh", ["mood"])
    # a review never carries a domain or theme, even in a project that asks for them
    store.create_project("schemed", schemes=["domain", "theme"])
    store.add_raters("schemed", ["R1", "R2"])
    store.add_posts("schemed", POSTS[:2])
    store.add_raters("schemed", ["R3"])  # every post has its two coders already
    store.set_model_calls("schemed", {POSTS[0]: 1, POSTS[1]: 0})
    assert store.request_reviews("schemed", "R3", 1) == 1
    review = store.next_item("schemed", "R3")
    assert review.role == "review"
    with pytest.raises(CodingError, match="does not ask raters for the domain"):
        store.save_code("schemed", "R3", review.assignment_id, 1, domain="self")
    store.save_code("schemed", "R3", review.assignment_id, 1)


def test_a_database_made_before_the_schemes_upgrades_in_place(coding_url: str) -> None:
    """Build the tables at migration 0001, store a project and a code as that version did,
    then open the store: the project codes stigma only, its code is kept, coding goes on."""
    engine = make_engine(coding_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
    now = utcnow()
    with engine.begin() as connection:  # no explicit ids: PostgreSQL's sequences must move on
        # raw SQL: the ORM table has a column that 0001 did not make yet
        connection.execute(text("INSERT INTO coding_projects (name, guidelines, "
                                "raters_per_post, verify_share, seed, created_at) VALUES "
                                "('old', 'g', 2, 0.0, 0, :now)"), {"now": now})
        project = connection.scalar(text("SELECT id FROM coding_projects"))
        raters = [connection.scalar(insert(Rater.__table__).values(
            project_id=project, name=name, created_at=now).returning(Rater.__table__.c.id))
            for name in ("R1", "R2")]
        post = connection.scalar(insert(Post.__table__).values(
            project_id=project, text="an old post", text_hash="h", source_id=None,
            drawn_by="random", model_call=None, created_at=now).returning(Post.__table__.c.id))
        slots = [connection.scalar(insert(Assignment.__table__).values(
            post_id=post, rater_id=rater, slot=slot, role="primary", assigned_at=now)
            .returning(Assignment.__table__.c.id)) for slot, rater in enumerate(raters, 1)]
        connection.execute(insert(Code.__table__).values(  # only the columns 0001 had
            assignment_id=slots[0], value=1, note="kept", coded_at=now))
    engine.dispose()
    store = CodingStore(coding_url)
    assert store.project("old").schemes == ("stigma",)
    codes = store.codes("old")
    assert codes[["rater", "value", "note"]].values.tolist() == [["R1", 1, "kept"]]
    assert pd.isna(codes["domain"].iloc[0])
    store.save_code("old", "R2", slots[1], 1)
    final = store.final_labels("old")
    assert (final["label"].iloc[0], final["settled_by"].iloc[0]) == (1, "agreement")
    assert agreement.scheme_agreement(store.codes("old"))["n"].tolist() == [1]


def test_the_verifiers_domain_and_theme_are_checked_too(coding_url: str) -> None:
    store = CodingStore(coding_url)
    store.create_project("checked", verify_share=1.0, seed=1, schemes=["domain", "theme"])
    store.add_raters("checked", ["R1", "R2"])
    store.add_posts("checked", POSTS[:6])
    for rater in ("R1", "R2"):
        while (item := store.next_item("checked", rater)) is not None:
            store.save_code("checked", rater, item.assignment_id, 1, domain="self",
                            theme="awareness")
    final = store.final_labels("checked")
    assert (final["domain_verification"] == "waiting for verifier").all()
    store.add_raters("checked", ["V"])  # the verifier joins once the posts are settled
    verified = store.queue("checked", "V")
    assert len(verified) == 6 and {i.role for i in verified} == {"verifier"}
    answers = [("self", "awareness"), ("community", "awareness"), ("self", "actionable")]
    for item, (domain, theme) in zip(verified, answers * 2, strict=True):
        store.save_code("checked", "V", item.assignment_id, 1, domain=domain, theme=theme)
    final = store.final_labels("checked").set_index("post_id").loc[
        [i.post_id for i in verified]]
    assert (final["verification"] == "verified").all()  # the stigma code agreed every time
    assert list(final["domain_verification"]) == ["verified", "verifier disagreed",
                                                  "verified"] * 2
    assert list(final["theme_verification"]) == ["verified", "verified",
                                                 "verifier disagreed"] * 2

"""The coding store on both databases: the workflow, blindness, provenance, and raters coding
at the same time without losing or overwriting each other's work."""

from __future__ import annotations

import multiprocessing as mp

import pandas as pd
import pytest
from sqlalchemy import create_engine, inspect

from stigma_core.coding.store import CodingStore, database_url, picked_for_verification, settle
from stigma_core.errors import CodingError

POSTS = [f"post number {i} about someone's mental health" for i in range(40)]


def _project(url: str, raters: tuple[str, ...] = ("R1", "R2", "R3", "R4"),
             posts: list[str] = POSTS, verify_share: float = 0.2) -> CodingStore:
    store = CodingStore(url)
    store.create_project("study", verify_share=verify_share, seed=1)
    store.add_raters("study", raters)
    store.add_posts("study", posts)
    return store


def _code_all(store: CodingStore, rater: str, rule) -> int:
    done = 0
    while (item := store.next_item("study", rater)) is not None:
        store.save_code("study", rater, item.assignment_id, rule(item))
        done += 1
    return done


def test_settle_rules() -> None:
    assert settle([1, 1], None) == (1, "agreement")
    assert settle([0, 0], None) == (0, "agreement")
    assert settle([1, 0], None) == (None, "waiting for third rater")
    assert settle([-1, -1], None) == (None, "waiting for third rater")
    assert settle([1, 0], 0) == (0, "third rater")
    assert settle([1, -1], -1) == (None, "undecided")
    assert settle([1, None], None) == (None, "waiting for coders")


def test_migrations_create_the_tables(coding_url: str) -> None:
    CodingStore(coding_url).dispose()
    CodingStore(coding_url).dispose()  # opening again is a no-op upgrade
    tables = set(inspect(create_engine(coding_url.replace("postgresql://",
                                                          "postgresql+psycopg://")))
                 .get_table_names())
    assert {"alembic_version", "coding_projects", "coding_raters", "coding_posts",
            "coding_assignments", "coding_codes"} <= tables


def test_each_post_goes_to_two_different_raters_balanced(coding_url: str) -> None:
    store = _project(coding_url)
    codes_per_rater = {r: store.progress("study", r)[1] for r in store.raters("study")}
    assert sum(codes_per_rater.values()) == 2 * len(POSTS)
    assert max(codes_per_rater.values()) - min(codes_per_rater.values()) <= 1
    for rater in store.raters("study"):
        texts = [item.text for item in store.queue("study", rater)]
        assert len(texts) == len(set(texts))


def test_blind_items_carry_no_codes_and_no_model_call(coding_url: str) -> None:
    store = _project(coding_url)
    store.set_model_calls("study", {t: 1 for t in POSTS})
    first = store.next_item("study", "R1")
    store.save_code("study", "R1", first.assignment_id, 1)
    for rater in ("R1", "R2", "R3", "R4"):
        for item in store.queue("study", rater):
            assert item.role == "primary" and item.model_call is None
            assert set(vars(item)) == {"assignment_id", "post_id", "text", "role", "model_call"}


def test_results_hide_codes_of_posts_not_yet_settled(coding_url: str) -> None:
    """The results table names who coded a post, but shows the codes only once it is settled:
    the app has no logins, so a rater opening the analyst view would otherwise see a
    colleague's code on a post still to code (found by a user walk)."""
    store = _project(coding_url)
    first = store.next_item("study", "R1")
    store.save_code("study", "R1", first.assignment_id, 1)
    final = store.final_labels("study").set_index("post_id")
    assert final.loc[first.post_id, "coders"] == "R1 (coded)"
    assert final.loc[first.post_id, "label"] is None or pd.isna(final.loc[first.post_id, "label"])


def test_disagreement_goes_to_a_third_rater_who_settles_it(coding_url: str) -> None:
    store = _project(coding_url, raters=("R1", "R2", "R3"), verify_share=0.0)
    _code_all(store, "R1", lambda item: 1)
    _code_all(store, "R2", lambda item: 0)
    # R3 was the blind partner of some posts and is now third rater of R1-vs-R2 posts
    roles = {item.role for item in store.queue("study", "R3")}
    assert roles == {"primary", "third"} or roles == {"third"}
    _code_all(store, "R3", lambda item: 1)
    _code_all(store, "R1", lambda item: 1)
    _code_all(store, "R2", lambda item: 0)
    final = store.final_labels("study")
    third = final[final["settled_by"] == "third rater"]
    assert len(third) > 0
    assert (third["label"] == 1).all()
    deciders = third["coders"].str.split(", ")
    assert (deciders.str.len() == 3).all()
    assert deciders.str[-1].str.endswith("(stigmatising)").all()
    assert final["label"].notna().all()


def test_cant_tell_goes_to_third_rater(coding_url: str) -> None:
    store = _project(coding_url, raters=("R1", "R2", "R3"), posts=POSTS[:3], verify_share=0.0)
    item = store.next_item("study", "R1")
    partner = next(r for r in ("R2", "R3")
                   if any(i.post_id == item.post_id for i in store.queue("study", r)))
    store.save_code("study", "R1", item.assignment_id, -1, note="sarcasm? no context")
    partner_item = next(i for i in store.queue("study", partner) if i.post_id == item.post_id)
    store.save_code("study", partner, partner_item.assignment_id, 1)
    third = next(r for r in ("R2", "R3") if r != partner)
    assert any(i.post_id == item.post_id and i.role == "third"
               for i in store.queue("study", third))
    codes = store.codes("study")
    assert codes.loc[codes["rater"] == "R1", "note"].iloc[0] == "sarcasm? no context"


def test_a_share_of_settled_posts_goes_to_a_verifier(coding_url: str) -> None:
    posts = [f"verification post {i}" for i in range(200)]
    store = _project(coding_url, raters=("R1", "R2", "R3"), posts=posts, verify_share=0.2)
    for _ in range(2):
        for rater in ("R1", "R2", "R3"):
            _code_all(store, rater, lambda item: item.post_id % 2)
    final = store.final_labels("study")
    verified = final["verification"] == "verified"
    expected = sum(picked_for_verification(1, int(p), 0.2) for p in final["post_id"])
    assert verified.sum() == expected
    assert 0.12 < verified.mean() < 0.28  # a seeded random 20%, not exactly 40 of 200
    verifiers = final.loc[verified, "verifier"]
    coders = final.loc[verified, "coders"]
    assert all(v not in c for v, c in zip(verifiers, coders, strict=True))


def test_provenance_and_training_set_export(coding_url: str) -> None:
    store = _project(coding_url, verify_share=0.0)
    for rater in ("R1", "R2", "R3", "R4"):
        _code_all(store, rater, lambda item: int("1" in item.text))
    training = store.training_set("study")
    assert len(training) == len(POSTS)
    assert {"text", "label", "settled_by", "coders", "settled_at", "drawn_by"} <= set(training)
    assert (training["label"] == training["text"].str.contains("1").astype(int)).all()
    assert (training["settled_by"] == "agreement").all()
    assert training["settled_at"].notna().all()


def test_resume_where_they_left_off(coding_url: str) -> None:
    store = _project(coding_url)
    first = [store.next_item("study", "R1") for _ in range(1)][0]
    store.save_code("study", "R1", first.assignment_id, 0)
    reopened = CodingStore(coding_url)
    assert reopened.progress("study", "R1") == (1, store.progress("study", "R1")[1])
    assert reopened.next_item("study", "R1").assignment_id != first.assignment_id


def test_nobody_codes_someone_elses_post(coding_url: str) -> None:
    store = _project(coding_url)
    theirs = store.next_item("study", "R2")
    mine = {i.assignment_id for i in store.queue("study", "R1")}
    assert theirs.assignment_id not in mine
    with pytest.raises(CodingError, match="not assigned to R1"):
        store.save_code("study", "R1", theirs.assignment_id, 1)
    with pytest.raises(CodingError, match="1 \\(stigmatising\\)"):
        store.save_code("study", "R2", theirs.assignment_id, 5)
    with pytest.raises(CodingError, match="not a rater"):
        store.next_item("study", "nobody")


def test_bad_requests_are_plain_errors(coding_url: str) -> None:
    store = CodingStore(coding_url)
    with pytest.raises(CodingError, match="name"):
        store.create_project("  ")
    store.create_project("p")
    with pytest.raises(CodingError, match="exists already"):
        store.create_project("p")
    with pytest.raises(CodingError, match="no coding project"):
        store.raters("missing")
    with pytest.raises(CodingError, match="every text given was empty"):
        store.add_posts("p", ["", "  "])
    assert store.add_posts("p", ["a post", "a post ", "another"]) == 2


def test_unblind_review_shows_the_model_call(coding_url: str) -> None:
    store = _project(coding_url, raters=("R1", "R2", "R3"))
    store.set_model_calls("study", {t: i % 2 for i, t in enumerate(POSTS)})
    given = store.request_reviews("study", "R1", 10)
    assert given == 10
    queue = store.queue("study", "R1")
    reviews = [i for i in queue if i.role == "review"]
    assert len(reviews) == 10 and all(i.model_call in (0, 1) for i in reviews)
    assert queue[-1].role == "review"  # blind work first
    blind_posts = {i.post_id for i in queue if i.role != "review"}
    assert not blind_posts & {i.post_id for i in reviews}
    for item in reviews:
        store.save_code("study", "R1", item.assignment_id, 1)
    wide = store.rater_columns("study")
    assert wide["agree_R1"].notna().sum() == 10


def test_database_url_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("STIGMA_CODING_DB", str(tmp_path / "x.sqlite"))
    assert database_url() == f"sqlite:///{tmp_path / 'x.sqlite'}"
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@h/db")
    assert database_url() == "postgresql+psycopg://u@h/db"


# --- several raters at once -----------------------------------------------------------------


def _rater_worker(url: str, rater: str, barrier: mp.Barrier, out: mp.Queue) -> None:
    store = CodingStore(url)
    barrier.wait()
    coded = []
    for _ in range(3):  # third-rater and verifier work arrives while others code
        while (item := store.next_item("study", rater)) is not None:
            value = (item.post_id + len(rater)) % 2
            store.save_code("study", rater, item.assignment_id, value, note=f"by {rater}")
            coded.append((item.assignment_id, value))
    store.dispose()
    out.put((rater, coded))


def test_ten_raters_coding_at_once_lose_nothing(coding_url: str) -> None:
    raters = tuple(f"R{i:02d}" for i in range(10))
    posts = [f"concurrent post {i}" for i in range(150)]
    store = _project(coding_url, raters=raters, posts=posts, verify_share=0.2)
    store.dispose()
    context = mp.get_context("spawn")
    barrier, out = context.Barrier(len(raters)), context.Queue()
    workers = [context.Process(target=_rater_worker, args=(coding_url, r, barrier, out))
               for r in raters]
    for worker in workers:
        worker.start()
    results = dict(out.get(timeout=240) for _ in workers)
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    # finish whatever arrived last (a third rater added after that rater's loop ended)
    store = CodingStore(coding_url)
    for rater in raters:
        results[rater] += [(i.assignment_id, None) for i in store.queue("study", rater)]
        _code_all(store, rater, lambda item, r=rater: (item.post_id + len(r)) % 2)
    stored = store.codes("study")
    # every assignment any rater was given holds exactly one code, by that rater
    assert len(stored) == sum(store.progress("study", r)[1] for r in raters)
    assert (stored.groupby("rater").size() == pd.Series(
        {r: store.progress("study", r)[0] for r in raters})).all()
    for rater in raters:
        notes = stored.loc[stored["rater"] == rater, "note"]
        assert notes.isin([f"by {rater}", ""]).all()  # nobody's note overwrote another's
        pairs = [a for a, v in results[rater] if v is not None]
        assert len(pairs) == len(set(pairs))  # no assignment was served twice
    expected = (stored["post_id"] + stored["rater"].str.len()) % 2
    assert (stored["value"] == expected).all()  # each code is the value its rater wrote
    slots = stored.groupby(["post_id", "slot"]).size()
    assert (slots == 1).all()
    final = store.final_labels("study")
    assert final["label"].notna().all()
    assert (final["settled_by"].isin(["agreement", "third rater"])).all()
    assert not pd.isna(final["settled_at"]).any()

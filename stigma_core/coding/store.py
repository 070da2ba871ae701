"""The coding store: projects, raters, posts and codes in a real database.

SQLite file by default (``STIGMA_CODING_DB`` or ``~/.stigma_lens/coding.sqlite``), PostgreSQL
(or any SQLAlchemy URL) when ``DATABASE_URL`` is set. The schema is brought up to date by
Alembic on opening.

The workflow is the study's (Jilka et al. 2022): each post goes to two raters who code it
blind; a disagreement (or a "can't tell") goes to a third rater, whose code settles it; a
seeded random 20% of settled posts goes to a verifier. Every final label keeps who coded it,
when, and how it was settled.

A project may also ask for each post's **domain** (self / community / professional / none)
and **theme** (awareness / actionable / help_seeking / personal_story / other) — its
``schemes``. Each is settled like the stigma code, from the same raters: the two blind coders'
agreement, else the third rater's choice; a disagreement in any scheme brings in the third
rater. A project that asks only for the stigma code (every project made before these schemes
existed) works exactly as before.

Why several raters can code at once without losing work: each code is written to the rater's
own assignment row, and the step that reacts to a new code (adding a third rater or a
verifier) runs in the same transaction with the post's row locked (``SELECT ... FOR UPDATE`` on
PostgreSQL; SQLite transactions start ``BEGIN IMMEDIATE`` and so run one writer at a time). The
unique ``(post, slot)`` and ``(post, rater)`` constraints make a duplicate third rater or a
double code impossible even if that logic were wrong.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from stigma_core.coding.sampling import draw_random
from stigma_core.coding.sampling import post_key as text_hash
from stigma_core.coding.schema import (
    FIRST_REVIEW_SLOT,
    PRIMARY_SLOTS,
    SCHEMES,
    THIRD_SLOT,
    VERIFIER_SLOT,
    Assignment,
    Code,
    Post,
    Project,
    Rater,
    utcnow,
)
from stigma_core.errors import CodingError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
DEFAULT_DB = Path.home() / ".stigma_lens" / "coding.sqlite"
DEFAULT_GUIDELINES = (
    "A post is stigmatising when it expresses or endorses negative stereotypes, prejudice or "
    "discrimination about people with mental-health problems: calling them dangerous, "
    "violent, unpredictable, weak, to blame or 'crazy'; mocking them or their diagnosis; "
    "using a diagnosis as an insult; or saying they should be kept away, controlled or "
    "excluded.\n\n"
    "A post is not stigmatising when it describes experiences, reports news neutrally, "
    "challenges stigma or supports people.\n\n"
    "A post with both stigmatising and non-stigmatising parts counts as stigmatising.\n\n"
    "Choose \"can't tell\" only when the post cannot be understood (e.g. no context, another "
    "language); it goes to a third rater."
)
SCHEME_GUIDELINES = (
    "**Domain** — where the talk sits: *self* (the writer's own shame or condition: \"I feel "
    "weak for needing meds\"), *community* (family, friends, peers, faith groups, society, "
    "slurs aimed at others), *professional* (workplace, employers, clinicians, care "
    "settings), or *none of these* (nothing about mental health).\n\n"
    "**Theme** — what the post does: *awareness* (stigma exists and must be broken), "
    "*actionable* (concrete steps or a call to act), *help-seeking* (asks how to get help), "
    "*personal story* (first-person experience), or *other*. Choose the one that fits best."
)
"""Added to the default guidelines of a project that asks for domain and theme."""
CODE_NAMES = {1: "stigmatising", 0: "not stigmatising", -1: "can't tell"}
DEFAULT_RATERS = ("R1", "R2", "R3")
"""Raters a project started in one click gets (renamed or added to under Set up)."""
REVIEW_NAMES = {1: "agree with the model", 0: "disagree with the model"}


def database_url() -> str:
    """The database to use: ``DATABASE_URL`` if set, else the SQLite file (``STIGMA_CODING_DB``)."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if url:
        return normalise_url(url)
    path = Path(os.environ.get("STIGMA_CODING_DB", "") or DEFAULT_DB).expanduser()
    return f"sqlite:///{path}"


def normalise_url(url: str) -> str:
    """``postgres://`` and ``postgresql://`` use the psycopg 3 driver this project installs."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def make_engine(url: str) -> Engine:
    """An engine whose transactions are safe for several writers at once (see module doc)."""
    url = normalise_url(url)
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    path = url.split("///", 1)[-1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 60})

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: object, _record: object) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy's "begin" below starts them
        cursor = dbapi_connection.cursor()
        for pragma in ("journal_mode=WAL", "foreign_keys=ON", "busy_timeout=60000"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: object) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration (creates the tables in a new database)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":  # two apps opening at once: one migrates
            connection.execute(text("SELECT pg_advisory_xact_lock(734215)"))
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


@dataclass(frozen=True)
class ProjectInfo:
    """A coding project's settings."""

    id: int
    name: str
    guidelines: str
    raters_per_post: int
    verify_share: float
    seed: int
    schemes: tuple[str, ...] = ("stigma",)
    """What raters code: always "stigma", then "domain" and/or "theme" when asked for."""

    @property
    def extra_schemes(self) -> tuple[str, ...]:
        """The schemes beside the stigma code ("domain", "theme"), in that order."""
        return self.schemes[1:]


@dataclass(frozen=True)
class Item:
    """One post on a rater's screen: only what that rater may see.

    ``model_call`` is set for unblind reviews only; a blind item never carries anyone's code.
    """

    assignment_id: int
    post_id: int
    text: str
    role: str
    model_call: int | None = None


def picked_for_verification(seed: int, post_id: int, share: float) -> bool:
    """Seeded random draw, the same answer every time for a post: is it in the verified share?"""
    digest = hashlib.sha256(f"{seed}:{post_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


def settle(primary: Sequence[int | None], third: int | None) -> tuple[int | None, str]:
    """The final label of a post and how it was reached, from its coders' codes.

    Both blind coders gave the same definite code: "agreement". They differ, or either said
    "can't tell": the third rater's definite code settles it ("third rater"); a third "can't
    tell" leaves it "undecided". Missing codes: "waiting for coders" / "waiting for third
    rater".
    """
    if any(code is None for code in primary):
        return None, "waiting for coders"
    if len(set(primary)) == 1 and primary[0] != -1:
        return primary[0], "agreement"
    if third is None:
        return None, "waiting for third rater"
    if third == -1:
        return None, "undecided"
    return third, "third rater"


def extra_schemes(schemes: Iterable[str] | None) -> tuple[str, ...]:
    """The known extra schemes among ``schemes`` in their fixed order ("domain", "theme");
    "stigma" is always coded and may be named or not. CodingError names an unknown one."""
    wanted = {str(s).strip().lower() for s in (schemes or ()) if str(s).strip()}
    unknown = sorted(wanted - set(SCHEMES) - {"stigma"})
    if unknown:
        raise CodingError(f"Unknown coding scheme {unknown[0]!r}: a project codes stigma, and "
                          f"may also code {' and '.join(SCHEMES)}.")
    return tuple(s for s in SCHEMES if s in wanted)


def _scheme_value(value: int | None, choice: str | None) -> str | int | None:
    """A coder's answer in one extra scheme, in ``settle``'s terms: None (not coded yet), -1
    (coded, but no choice: the stigma code was "can't tell") or the class chosen."""
    if value is None:
        return None
    return -1 if choice is None else choice


class CodingStore:
    """All reads and writes of coding projects (one instance per database URL)."""

    def __init__(self, url: str | None = None) -> None:
        self.url = normalise_url(url) if url else database_url()
        self.engine = make_engine(self.url)
        upgrade(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def _session(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session

    @property
    def safe_url(self) -> str:
        """The database URL as it may be shown: any password hidden."""
        return self.engine.url.render_as_string(hide_password=True)

    def dispose(self) -> None:
        """Close the pooled connections (tests, and before a process forks)."""
        self.engine.dispose()

    # --- projects and raters ---------------------------------------------------------------

    def create_project(
        self, name: str, *, guidelines: str = DEFAULT_GUIDELINES, raters_per_post: int = 2,
        verify_share: float = 0.2, seed: int = 0, schemes: Iterable[str] = (),
    ) -> ProjectInfo:
        """A new, empty project; CodingError if the name is empty or taken.

        ``schemes``: what raters code beside the stigma code — ``("domain", "theme")``, either
        one, or nothing (the default: the stigma code only)."""
        extra = extra_schemes(schemes)
        if extra and guidelines.strip() == DEFAULT_GUIDELINES:
            guidelines = f"{DEFAULT_GUIDELINES}\n\n{SCHEME_GUIDELINES}"
        name = name.strip()
        if not name:
            raise CodingError("Give the coding project a name.")
        if raters_per_post != len(PRIMARY_SLOTS):
            raise CodingError("Each post goes to two blind raters (the study's design).")
        if not 0.0 <= verify_share <= 1.0:
            raise CodingError("The verified share must lie between 0 and 1 (e.g. 0.2 for 20%).")
        try:
            with self._session() as session:
                project = Project(name=name, guidelines=guidelines.strip() or DEFAULT_GUIDELINES,
                                  raters_per_post=raters_per_post, verify_share=verify_share,
                                  seed=seed, created_at=utcnow(), extra_schemes=",".join(extra))
                session.add(project)
                session.flush()
                return _info(project)
        except IntegrityError as err:
            raise CodingError(f"A coding project called {name!r} exists already; open it, "
                              "or choose another name.") from err

    def projects(self) -> list[str]:
        """Names of every project, oldest first."""
        with self._session() as session:
            return list(session.scalars(select(Project.name).order_by(Project.id)))

    def project(self, name: str) -> ProjectInfo:
        """The project called ``name``; CodingError if there is none."""
        with self._session() as session:
            return _info(_project(session, name))

    def set_guidelines(self, project: str, guidelines: str) -> None:
        """Replace the guidelines raters see above every post."""
        if not guidelines.strip():
            raise CodingError("The guidelines cannot be empty.")
        with self._session() as session:
            _project(session, project).guidelines = guidelines.strip()

    def set_schemes(self, project: str, schemes: Iterable[str]) -> ProjectInfo:
        """Change what raters code beside the stigma code (e.g. ``("domain", "theme")``), only
        while nobody has coded a post of the project yet: codes given under other questions
        could not be settled alongside the new ones. Returns the updated settings."""
        extra = extra_schemes(schemes)
        with self._session() as session:
            info = _project(session, project)
            coded = session.scalar(
                select(func.count(Code.id)).join(Assignment, Assignment.id == Code.assignment_id)
                .join(Post, Post.id == Assignment.post_id).where(Post.project_id == info.id))
            if coded and ",".join(extra) != info.extra_schemes:
                raise CodingError(f"Raters have already coded posts of {project!r}, so what "
                                  "they code can no longer change; start a new project to code "
                                  "domain or theme as well.")
            info.extra_schemes = ",".join(extra)
            if extra and info.guidelines.strip() == DEFAULT_GUIDELINES:
                info.guidelines = f"{DEFAULT_GUIDELINES}\n\n{SCHEME_GUIDELINES}"
            return _info(info)

    def add_raters(self, project: str, names: Iterable[str]) -> list[str]:
        """Add raters by name or code (no real identity needed); known names are kept once.

        Posts still missing a blind coder are then assigned, so new raters get work at once.
        """
        wanted = [n.strip() for n in names if n and n.strip()]
        if not wanted:
            raise CodingError("Give at least one rater name or code (e.g. R1).")
        too_long = [n for n in wanted if len(n) > 100]
        if too_long:
            raise CodingError(f"Rater names must be at most 100 characters: {too_long[0][:40]}…")
        with self._session() as session:
            info = _project(session, project)
            known = set(session.scalars(select(Rater.name).where(Rater.project_id == info.id)))
            for name in dict.fromkeys(wanted):
                if name not in known:
                    session.add(Rater(project_id=info.id, name=name, created_at=utcnow()))
        self.assign_pending(project)
        return self.raters(project)

    def raters(self, project: str) -> list[str]:
        """The project's rater names, in the order they were added."""
        with self._session() as session:
            info = _project(session, project)
            return list(session.scalars(
                select(Rater.name).where(Rater.project_id == info.id).order_by(Rater.id)))

    # --- posts and assignments -------------------------------------------------------------

    def add_posts(
        self, project: str, texts: Iterable[str], *, drawn_by: str = "random",
        source_ids: Iterable[str | None] | None = None,
        model_calls: Iterable[int | None] | None = None,
    ) -> int:
        """Add posts to code (exact repeats of a post already there are skipped); returns how
        many were added. ``drawn_by`` says how they were chosen — "random" (the only ones a
        prevalence estimate may rest on), "active" (chosen by the model's uncertainty) or
        "imported"."""
        if drawn_by not in ("random", "active", "imported"):
            raise CodingError(f"Unknown way of drawing posts: {drawn_by!r}.")
        rows = _post_rows(texts, source_ids, model_calls)
        with self._session() as session:
            info = _project(session, project)
            known = set(session.scalars(select(Post.text_hash).where(Post.project_id == info.id)))
            added = 0
            for text_value, source, call in rows:
                digest = text_hash(text_value)
                if digest in known:
                    continue
                known.add(digest)
                session.add(Post(project_id=info.id, text=text_value.strip(), text_hash=digest,
                                 source_id=source, drawn_by=drawn_by, model_call=call,
                                 created_at=utcnow()))
                added += 1
        self.assign_pending(project)
        return added

    def draw_into(self, project: str, texts: Sequence[str], n: int, *, seed: int = 0,
                  raters: Sequence[str] = DEFAULT_RATERS) -> int:
        """Add ``n`` posts drawn at random from ``texts`` (leaving out posts already in the
        project) to ``project``, creating it with ``raters`` when it does not exist yet;
        returns how many were added. The one-click way to start coding a corpus."""
        if project not in self.projects():
            self.create_project(project)
            self.add_raters(project, raters)
        drawn = draw_random(texts, n, seed=seed, exclude=self.posts(project)["text"])
        return self.add_posts(project, drawn, drawn_by="random")

    def random_sample(self, project: str, corpus_texts: Iterable[str]) -> pd.DataFrame:
        """The project's settled posts that were drawn at random and are in the corpus
        (``text``, ``label``): the only coded posts a prevalence estimate may rest on."""
        corpus = {str(t).strip() for t in corpus_texts}
        settled = self.training_set(project)
        random = settled[(settled["drawn_by"] == "random")
                         & settled["text"].str.strip().isin(corpus)]
        return random[["text", "label"]].astype({"label": int}).reset_index(drop=True)

    def assign_pending(self, project: str) -> int:
        """Give every post its two blind coders (least-loaded raters first), and every post
        that needs one a third rater or a verifier; returns how many assignments were made."""
        with self._session() as session:
            info = _project(session, project)
            raters = _rater_ids(session, info.id)
            if len(raters) < len(PRIMARY_SLOTS):
                return 0
            load = _loads(session, info.id, raters)
            made = 0
            for post_id, taken, coders in _primary_gaps(session, info.id):
                for slot in (s for s in PRIMARY_SLOTS if s not in taken):
                    rater = _least_loaded(load, exclude=coders)
                    if rater is None:
                        break
                    session.add(Assignment(post_id=post_id, rater_id=rater, slot=slot,
                                           role="primary", assigned_at=utcnow()))
                    load[rater] += 1
                    coders.add(rater)
                    made += 1
            session.flush()
            for post in session.scalars(select(Post).where(Post.project_id == info.id)):
                made += _advance(session, info, post, load)
            return made

    # --- the rater's screen ----------------------------------------------------------------

    def next_item(self, project: str, rater: str) -> Item | None:
        """The rater's next post to code (oldest assignment first; None when all are done).

        Blind work comes before unblind reviews, so a rater never sees the model's opinion
        before finishing their blind codes. Resuming is automatic: codes are saved at once.
        """
        items = self.queue(project, rater, limit=1)
        return items[0] if items else None

    def queue(self, project: str, rater: str, limit: int | None = None) -> list[Item]:
        """The rater's posts still to code, in the order they will be shown."""
        with self._session() as session:
            rater_row = _rater(session, project, rater)
            order = (Assignment.role == "review", Assignment.id)
            query = (select(Assignment, Post)
                     .join(Post, Post.id == Assignment.post_id)
                     .outerjoin(Code, Code.assignment_id == Assignment.id)
                     .where(Assignment.rater_id == rater_row.id, Code.id.is_(None))
                     .order_by(*order).limit(limit))
            return [Item(a.id, p.id, p.text, a.role,
                         p.model_call if a.role == "review" else None)
                    for a, p in session.execute(query)]

    def progress(self, project: str, rater: str) -> tuple[int, int]:
        """(posts coded, posts assigned) for this rater: the "38 of 200" on their screen."""
        with self._session() as session:
            rater_row = _rater(session, project, rater)
            total = session.scalar(select(func.count(Assignment.id))
                                   .where(Assignment.rater_id == rater_row.id))
            done = session.scalar(select(func.count(Code.id))
                                  .join(Assignment, Assignment.id == Code.assignment_id)
                                  .where(Assignment.rater_id == rater_row.id))
            return int(done or 0), int(total or 0)

    def save_code(self, project: str, rater: str, assignment_id: int, value: int,
                  note: str = "", *, domain: str | None = None,
                  theme: str | None = None) -> None:
        """Record the rater's code for one of their own assignments (changing it is allowed).

        ``value``: 1 stigmatising, 0 not, -1 can't tell (reviews: 1 agree, 0 disagree).
        ``domain`` / ``theme``: the rater's choice, required when the project asks for that
        scheme (``ProjectInfo.schemes``) unless ``value`` is -1 (a post nobody can read has
        no domain or theme either), refused when it does not, and never part of a review.
        Then, in the same transaction with the post locked, add a third rater or a verifier
        if the post now needs one.
        """
        if value not in (1, 0, -1):
            raise CodingError("A code is 1 (stigmatising), 0 (not) or -1 (can't tell).")
        with self._session() as session:
            info = _project(session, project)
            rater_row = _rater(session, project, rater)
            assignment = session.get(Assignment, assignment_id)
            if assignment is None or assignment.rater_id != rater_row.id:
                raise CodingError(f"That post is not assigned to {rater}; codes can only be "
                                  "given by the rater a post was assigned to.")
            if assignment.role == "review" and value == -1:
                raise CodingError("A review is agree (1) or disagree (0).")
            given = {"domain": domain, "theme": theme}
            if assignment.role == "review":  # a review answers the model's call only
                choices = _checked_choices((), given, value)
            else:
                choices = _checked_choices(_extra_of(info), given, value)
            post = session.scalars(select(Post).where(Post.id == assignment.post_id)
                                   .with_for_update()).one()
            code = session.scalar(select(Code).where(Code.assignment_id == assignment_id))
            if code is None:
                session.add(Code(assignment_id=assignment_id, value=value, note=note or "",
                                 coded_at=utcnow(), **choices))
            else:
                code.value, code.note, code.coded_at = value, note or "", utcnow()
                code.domain, code.theme = choices["domain"], choices["theme"]
            session.flush()
            _advance(session, info, post, _loads(session, info.id, _rater_ids(session, info.id)))

    def request_reviews(self, project: str, rater: str, n: int) -> int:
        """Unblind validation: give the rater up to ``n`` posts that carry the model's call and
        that they have not coded, to mark agree/disagree; returns how many were given."""
        with self._session() as session:
            info = _project(session, project)
            rater_row = _rater(session, project, rater)
            mine = select(Assignment.post_id).where(Assignment.rater_id == rater_row.id)
            posts = list(session.scalars(
                select(Post).where(Post.project_id == info.id, Post.model_call.is_not(None),
                                   Post.id.not_in(mine)).order_by(Post.id).limit(n)))
            for post in posts:
                slot = FIRST_REVIEW_SLOT + int(session.scalar(
                    select(func.count(Assignment.id)).where(Assignment.post_id == post.id,
                                                            Assignment.role == "review")))
                session.add(Assignment(post_id=post.id, rater_id=rater_row.id, slot=slot,
                                       role="review", assigned_at=utcnow()))
            return len(posts)

    def set_model_calls(self, project: str, calls: dict[str, int]) -> int:
        """Store the model's 0/1 call per post text (for unblind reviews); returns how many."""
        with self._session() as session:
            info = _project(session, project)
            by_hash = {text_hash(t): int(c) for t, c in calls.items()}
            posts = session.scalars(select(Post).where(Post.project_id == info.id))
            changed = 0
            for post in posts:
                if post.text_hash in by_hash:
                    post.model_call = by_hash[post.text_hash]
                    changed += 1
            return changed

    # --- reading results -------------------------------------------------------------------

    def codes(self, project: str) -> pd.DataFrame:
        """Every code given, one row each: post_id, text, drawn_by, rater, role, slot, value,
        note, coded_at, domain, theme (the last two empty unless the project asks for them;
        the analyst's view, never shown to raters)."""
        with self._session() as session:
            info = _project(session, project)
            query = (select(Post.id, Post.text, Post.drawn_by, Post.model_call, Rater.name,
                            Assignment.role, Assignment.slot, Code.value, Code.note,
                            Code.coded_at, Code.domain, Code.theme)
                     .join(Assignment, Assignment.post_id == Post.id)
                     .join(Rater, Rater.id == Assignment.rater_id)
                     .join(Code, Code.assignment_id == Assignment.id)
                     .where(Post.project_id == info.id).order_by(Post.id, Assignment.slot))
            rows = session.execute(query).all()
        return pd.DataFrame(rows, columns=["post_id", "text", "drawn_by", "model_call", "rater",
                                           "role", "slot", "value", "note", "coded_at",
                                           "domain", "theme"])

    def posts(self, project: str) -> pd.DataFrame:
        """Every post of the project: post_id, text, source_id, drawn_by, model_call."""
        with self._session() as session:
            info = _project(session, project)
            rows = session.execute(select(Post.id, Post.text, Post.source_id, Post.drawn_by,
                                          Post.model_call)
                                   .where(Post.project_id == info.id).order_by(Post.id)).all()
        return pd.DataFrame(rows, columns=["post_id", "text", "source_id", "drawn_by",
                                           "model_call"])

    def final_labels(self, project: str) -> pd.DataFrame:
        """Each post's state and final label with its provenance.

        Columns: post_id, text, drawn_by, label (1/0, empty until settled), settled_by
        ("agreement", "third rater", "undecided", "waiting for ..."), coders, settled_at,
        verification ("verified", "verifier disagreed", "verifier unsure", "waiting for
        verifier", "not sampled", ""), verifier; then, for each extra scheme the project asks
        for, ``<scheme>`` (the settled class, empty until settled), ``<scheme>_settled_by``
        (same words as ``settled_by``) and ``<scheme>_verification`` (the verifier's answer in
        that scheme, same words as ``verification``; empty until the scheme is settled).
        """
        codes = self.codes(project)
        posts = self.posts(project)
        info = self.project(project)
        by_post: dict[int, list] = {}  # one pass over the codes, not one filter per post
        for code in codes.itertuples(index=False):
            by_post.setdefault(code.post_id, []).append(code)
        rows = [_final_row(info, post, by_post.get(post.post_id, []))
                for post in posts.itertuples(index=False)]
        columns = ["post_id", "text", "drawn_by", "label", "settled_by", "coders",
                   "settled_at", "verification", "verifier"]
        columns += [c for s in info.extra_schemes
                    for c in (s, f"{s}_settled_by", f"{s}_verification")]
        frame = pd.DataFrame(rows, columns=columns)
        return frame.astype({"label": "Int64"})

    def training_set(self, project: str) -> pd.DataFrame:
        """The settled posts as a training set: text, label and provenance columns (with the
        domain and theme columns of ``final_labels`` when the project asks for them)."""
        final = self.final_labels(project)
        settled = final[final["label"].notna()].reset_index(drop=True)
        return settled.drop(columns=["post_id"])

    def scheme_labels(self, project: str, scheme: str) -> pd.DataFrame:
        """The posts whose ``scheme`` ("domain" or "theme") is settled: ``text, label,
        settled_by, drawn_by`` — what a domain or theme tagger trains on. Empty when nothing is
        settled yet; CodingError when the project does not ask for that scheme."""
        if scheme not in SCHEMES:
            raise CodingError(f"Settled labels come per scheme: {', '.join(SCHEMES)}, not "
                              f"{scheme!r}.")
        if scheme not in self.project(project).extra_schemes:
            raise CodingError(f"Project {project!r} does not ask raters for the {scheme}.")
        final = self.final_labels(project)
        settled = final[final[scheme].notna()]
        return (settled[["text", scheme, f"{scheme}_settled_by", "drawn_by"]]
                .rename(columns={scheme: "label", f"{scheme}_settled_by": "settled_by"})
                .astype({"label": str}).reset_index(drop=True))

    def status(self, project: str) -> dict[str, int]:
        """How many posts are in each state ("agreement", "waiting for coders", ...), plus
        "posts", "settled" (with a final label), "verified" and "verifier disagreed", and
        "domain settled" / "theme settled" when the project asks for them, and "needs third
        rater" (posts waiting for a third rater in any of their codes)."""
        final = self.final_labels(project)
        counts = final["settled_by"].value_counts().to_dict()
        counts["posts"] = len(final)
        counts["settled"] = int(final["label"].notna().sum())
        counts["verified"] = int((final["verification"] == "verified").sum())
        counts["verifier disagreed"] = int((final["verification"] == "verifier disagreed").sum())
        waiting = final["settled_by"] == "waiting for third rater"
        for scheme in SCHEMES:
            if scheme in final:
                counts[f"{scheme} settled"] = int(final[scheme].notna().sum())
                waiting |= final[f"{scheme}_settled_by"] == "waiting for third rater"
        counts["needs third rater"] = int(waiting.sum())
        return {str(k): int(v) for k, v in counts.items()}

    def rater_columns(self, project: str) -> pd.DataFrame:
        """One row per post, one column of codes per rater (1/0, empty where not coded or
        "can't tell"), plus ``agree_<rater>`` columns for unblind reviews and ``model_call``:
        the shape ``validation`` reads."""
        codes = self.codes(project)
        posts = self.posts(project).set_index("post_id")
        blind = codes[codes["role"] != "review"].assign(
            value=lambda d: d["value"].where(d["value"] >= 0))
        wide = blind.pivot_table(index="post_id", columns="rater", values="value",
                                 aggfunc="first")
        wide.columns = [f"rater_{c}" for c in wide.columns]
        reviews = codes[codes["role"] == "review"].pivot_table(
            index="post_id", columns="rater", values="value", aggfunc="first")
        reviews.columns = [f"agree_{c}" for c in reviews.columns]
        frame = posts[["text", "drawn_by", "model_call"]].join(wide).join(reviews)
        return frame.reset_index()


# --- helpers ------------------------------------------------------------------------------


def _info(project: Project) -> ProjectInfo:
    return ProjectInfo(project.id, project.name, project.guidelines, project.raters_per_post,
                       project.verify_share, project.seed, ("stigma", *_extra_of(project)))


def _extra_of(project: Project | ProjectInfo) -> tuple[str, ...]:
    """The extra schemes of a project row or its settings."""
    if isinstance(project, ProjectInfo):
        return project.extra_schemes
    return tuple(s for s in (project.extra_schemes or "").split(",") if s)


def _checked_choices(extra: tuple[str, ...], given: dict[str, str | None],
                     value: int) -> dict[str, str | None]:
    """The domain/theme choices to store: each asked-for scheme's class (required unless the
    stigma code is "can't tell"), nothing for a scheme the project does not ask for."""
    choices: dict[str, str | None] = {}
    for scheme, classes in SCHEMES.items():
        choice = given.get(scheme)
        choice = None if choice is None or not str(choice).strip() else str(choice).strip()
        if scheme not in extra:
            if choice is not None:
                raise CodingError(f"This project does not ask raters for the {scheme}.")
        elif choice is None and value != -1:
            raise CodingError(f"Choose the post's {scheme} too ({', '.join(classes)}).")
        elif choice is not None and choice not in classes:
            raise CodingError(f"A {scheme} is one of {', '.join(classes)}, not {choice!r}.")
        choices[scheme] = choice
    return choices


def _project(session: Session, name: str) -> Project:
    project = session.scalar(select(Project).where(Project.name == name))
    if project is None:
        raise CodingError(f"There is no coding project called {name!r}. Create it first.")
    return project


def _rater(session: Session, project: str, name: str) -> Rater:
    info = _project(session, project)
    rater = session.scalar(select(Rater).where(Rater.project_id == info.id, Rater.name == name))
    if rater is None:
        raise CodingError(f"{name!r} is not a rater of project {project!r}; add them first.")
    return rater


def _rater_ids(session: Session, project_id: int) -> list[int]:
    return list(session.scalars(select(Rater.id).where(Rater.project_id == project_id)
                                .order_by(Rater.id)))


def _loads(session: Session, project_id: int, raters: list[int]) -> dict[int, int]:
    """Assignments per rater in the project (who is least busy gets the next post)."""
    counts = dict(session.execute(
        select(Assignment.rater_id, func.count(Assignment.id))
        .join(Rater, Rater.id == Assignment.rater_id)
        .where(Rater.project_id == project_id).group_by(Assignment.rater_id)).all())
    return {rater: int(counts.get(rater, 0)) for rater in raters}


def _least_loaded(load: dict[int, int], exclude: set[int]) -> int | None:
    free = [r for r in load if r not in exclude]
    return min(free, key=lambda r: (load[r], r)) if free else None


def _primary_gaps(session: Session, project_id: int) -> list[tuple[int, set[int], set[int]]]:
    """Posts missing a blind coder: (post id, primary slots taken, raters already on it)."""
    rows = session.execute(
        select(Post.id, Assignment.slot, Assignment.rater_id)
        .outerjoin(Assignment, Assignment.post_id == Post.id)
        .where(Post.project_id == project_id).order_by(Post.id)).all()
    taken: dict[int, set[int]] = {}
    coders: dict[int, set[int]] = {}
    for post_id, slot, rater in rows:
        taken.setdefault(post_id, set())
        coders.setdefault(post_id, set())
        if slot is not None:
            coders[post_id].add(rater)
            if slot in PRIMARY_SLOTS:
                taken[post_id].add(slot)
    return [(p, taken[p], coders[p]) for p in taken if len(taken[p]) < len(PRIMARY_SLOTS)]


def _advance(session: Session, project: Project | ProjectInfo, post: Post,
             load: dict[int, int]) -> int:
    """Add the third rater or verifier this post now needs (0 or 1 assignment made)."""
    rows = session.execute(
        select(Assignment.slot, Assignment.rater_id, Code.value, Code.domain, Code.theme)
        .outerjoin(Code, Code.assignment_id == Assignment.id)
        .where(Assignment.post_id == post.id)).all()
    slots = {slot: (rater, value) for slot, rater, value, _, _ in rows}
    primary = [slots.get(s, (None, None))[1] for s in PRIMARY_SLOTS]
    third = slots.get(THIRD_SLOT, (None, None))[1]
    label, how = settle(primary, third)
    waiting = [how]
    for index, scheme in ((3, "domain"), (4, "theme")):
        if scheme in _extra_of(project):
            answers = {row[0]: _scheme_value(row[2], row[index]) for row in rows}
            waiting.append(settle([answers.get(s) for s in PRIMARY_SLOTS],
                                  answers.get(THIRD_SLOT))[1])
    needed = None
    if "waiting for third rater" in waiting and THIRD_SLOT not in slots:
        needed = (THIRD_SLOT, "third")
    elif (label is not None and VERIFIER_SLOT not in slots
          and picked_for_verification(project.seed, post.id, project.verify_share)):
        needed = (VERIFIER_SLOT, "verifier")
    if needed is None:
        return 0
    rater = _least_loaded(load, exclude={r for r, _ in slots.values()})
    if rater is None:
        return 0
    session.add(Assignment(post_id=post.id, rater_id=rater, slot=needed[0], role=needed[1],
                           assigned_at=utcnow()))
    load[rater] += 1
    return 1


def _post_rows(
    texts: Iterable[str], source_ids: Iterable[str | None] | None,
    model_calls: Iterable[int | None] | None,
) -> list[tuple[str, str | None, int | None]]:
    """(text, source id, model call) per non-empty post; CodingError when none is left."""
    texts = [str(t) if t is not None else "" for t in texts]
    sources = list(source_ids) if source_ids is not None else [None] * len(texts)
    calls = list(model_calls) if model_calls is not None else [None] * len(texts)
    if not (len(sources) == len(calls) == len(texts)):
        raise CodingError("Each post needs one source id and one model call (or none at all).")
    rows = [(t, None if pd.isna(s) else str(s)[:200], None if pd.isna(c) else int(c))
            for t, s, c in zip(texts, sources, calls, strict=True) if t.strip()]
    if not rows:
        raise CodingError("No posts to add: every text given was empty.")
    return rows


def _final_row(info: ProjectInfo, post: object, codes: list) -> dict[str, object]:
    """One post's final label and provenance from its codes (rows of ``CodingStore.codes``)."""
    by_slot = {int(r.slot): r for r in codes}
    primary = [int(by_slot[s].value) if s in by_slot else None for s in PRIMARY_SLOTS]
    third = int(by_slot[THIRD_SLOT].value) if THIRD_SLOT in by_slot else None
    label, how = settle(primary, third)
    deciders = [by_slot[s] for s in (*PRIMARY_SLOTS, THIRD_SLOT) if s in by_slot]
    row = {
        "post_id": post.post_id, "text": post.text, "drawn_by": post.drawn_by,
        "label": label, "settled_by": how,
        # Codes show once the post is settled: before that, anyone opening the results (a rater
        # too: the app has no logins) would see a colleague's code on a post still to code.
        "coders": ", ".join(
            f"{r.rater} ({CODE_NAMES[int(r.value)] if label is not None else 'coded'})"
            for r in deciders),
        "settled_at": max(r.coded_at for r in deciders) if label is not None else None,
        "verification": "", "verifier": "",
    }
    for scheme in info.extra_schemes:
        answers = {s: _scheme_value(int(r.value), _present(getattr(r, scheme)))
                   for s, r in by_slot.items()}
        choice, scheme_how = settle([answers.get(s) for s in PRIMARY_SLOTS],
                                    answers.get(THIRD_SLOT))
        row[scheme], row[f"{scheme}_settled_by"] = choice, scheme_how
        row[f"{scheme}_verification"] = ""
    if label is None:
        return row
    verifier = by_slot.get(VERIFIER_SLOT)
    if verifier is not None:
        value = int(verifier.value)
        row["verification"] = _verdict(value, label)
        row["verifier"] = verifier.rater
        for scheme in info.extra_schemes:
            if row[scheme] is not None:
                row[f"{scheme}_verification"] = _verdict(
                    _scheme_value(value, _present(getattr(verifier, scheme))), row[scheme])
        return row
    waiting = picked_for_verification(info.seed, post.post_id, info.verify_share)
    row["verification"] = "waiting for verifier" if waiting else "not sampled"
    for scheme in info.extra_schemes:
        if row[scheme] is not None:
            row[f"{scheme}_verification"] = row["verification"]
    return row


def _verdict(verifier: int | str, settled: int | str) -> str:
    """The verifier's answer against the settled one, in words (-1: the verifier could not
    tell)."""
    if verifier == -1:
        return "verifier unsure"
    return "verified" if verifier == settled else "verifier disagreed"


def _present(value: object) -> str | None:
    """A stored choice, or None for a missing one (NULL read back as None or NaN)."""
    return value if isinstance(value, str) and value else None

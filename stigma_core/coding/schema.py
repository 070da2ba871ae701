"""The coding database's tables (SQLAlchemy): projects, raters, posts, assignments, codes.

Why this shape: every code a rater gives lives in its own row, tied to that rater's own
assignment, so raters coding at once never write the same row (no lost or overwritten work).
An assignment's ``slot`` is unique per post — slots 1 and 2 are the two blind coders, 3 the
third rater who settles a disagreement, 4 the verifier, 10 and up unblind reviews of the
model's call — so two processes that both notice a disagreement cannot both add a third
rater. ``(post, rater)`` is unique too: nobody codes a post twice or reviews the model's call
on a post they will code blind.

A project may also ask for each post's domain and theme (``Project.extra_schemes``); those
codes sit beside the stigma code in the same ``Code`` row (NULL where the project does not ask
for them, or the rater said "can't tell"), so one click stores all of a rater's codes at once.

The schema is created and upgraded by Alembic migrations (``coding/migrations``), never by
``metadata.create_all``, so a database made by an older version upgrades in place.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

PRIMARY_SLOTS = (1, 2)
THIRD_SLOT = 3
VERIFIER_SLOT = 4
FIRST_REVIEW_SLOT = 10
ROLES = ("primary", "third", "verifier", "review")
DRAWN_BY = ("random", "active", "imported")
CODE_VALUES = (1, 0, -1)  # stigmatising, not, can't tell (reviews: 1 agree, 0 disagree)
SCHEMES = {
    "domain": ("self", "community", "professional", "none"),
    "theme": ("awareness", "actionable", "help_seeking", "personal_story", "other"),
}
"""The extra codes a project may ask raters for beside the stigma code (the classes of
``stigma_core.insights``): where the talk sits, and what the post does."""


def utcnow() -> datetime:
    """Now, in UTC (stored with every code so provenance says when)."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class Project(Base):
    __tablename__ = "coding_projects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    guidelines: Mapped[str] = mapped_column(Text)
    raters_per_post: Mapped[int] = mapped_column(Integer, default=2)
    verify_share: Mapped[float] = mapped_column(Float, default=0.2)
    seed: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # "domain,theme", "domain", … or "" (stigma only: every project made before 0002)
    extra_schemes: Mapped[str] = mapped_column(String(100), default="")


class Rater(Base):
    __tablename__ = "coding_raters"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("coding_projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Post(Base):
    __tablename__ = "coding_posts"
    __table_args__ = (
        UniqueConstraint("project_id", "text_hash"),
        CheckConstraint("drawn_by IN ('random', 'active', 'imported')", name="drawn_by_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("coding_projects.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text)
    text_hash: Mapped[str] = mapped_column(String(64))
    source_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    drawn_by: Mapped[str] = mapped_column(String(20))
    model_call: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Assignment(Base):
    __tablename__ = "coding_assignments"
    __table_args__ = (
        UniqueConstraint("post_id", "slot"),
        UniqueConstraint("post_id", "rater_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("coding_posts.id", ondelete="CASCADE"))
    rater_id: Mapped[int] = mapped_column(ForeignKey("coding_raters.id", ondelete="CASCADE"))
    slot: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(20))
    assigned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Code(Base):
    __tablename__ = "coding_codes"
    __table_args__ = (
        CheckConstraint("value IN (1, 0, -1)", name="value_known"),
        CheckConstraint("domain IS NULL OR domain IN ('self', 'community', 'professional', "
                        "'none')", name="domain_known"),
        CheckConstraint("theme IS NULL OR theme IN ('awareness', 'actionable', 'help_seeking', "
                        "'personal_story', 'other')", name="theme_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("coding_assignments.id", ondelete="CASCADE"), unique=True)
    value: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    domain: Mapped[str | None] = mapped_column(String(20), nullable=True)  # see SCHEMES
    theme: Mapped[str | None] = mapped_column(String(20), nullable=True)
    coded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

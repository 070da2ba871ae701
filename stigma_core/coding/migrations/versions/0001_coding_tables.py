"""Coding tables: projects, raters, posts, assignments, codes.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "coding_projects",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("guidelines", sa.Text, nullable=False),
        sa.Column("raters_per_post", sa.Integer, nullable=False),
        sa.Column("verify_share", sa.Float, nullable=False),
        sa.Column("seed", sa.Integer, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_table(
        "coding_raters",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("project_id", sa.Integer,
                  sa.ForeignKey("coding_projects.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.UniqueConstraint("project_id", "name"),
    )
    op.create_table(
        "coding_posts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("project_id", sa.Integer,
                  sa.ForeignKey("coding_projects.id", ondelete="CASCADE"), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("text_hash", sa.String(64), nullable=False),
        sa.Column("source_id", sa.String(200)),
        sa.Column("drawn_by", sa.String(20), nullable=False),
        sa.Column("model_call", sa.Integer),
        sa.Column("created_at", TZ, nullable=False),
        sa.UniqueConstraint("project_id", "text_hash"),
        sa.CheckConstraint("drawn_by IN ('random', 'active', 'imported')",
                           name="drawn_by_known"),
    )
    op.create_table(
        "coding_assignments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("post_id", sa.Integer,
                  sa.ForeignKey("coding_posts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("rater_id", sa.Integer,
                  sa.ForeignKey("coding_raters.id", ondelete="CASCADE"), nullable=False),
        sa.Column("slot", sa.Integer, nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("assigned_at", TZ, nullable=False),
        sa.UniqueConstraint("post_id", "slot"),
        sa.UniqueConstraint("post_id", "rater_id"),
    )
    op.create_index("ix_coding_assignments_rater", "coding_assignments", ["rater_id"])
    op.create_table(
        "coding_codes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("assignment_id", sa.Integer,
                  sa.ForeignKey("coding_assignments.id", ondelete="CASCADE"),
                  nullable=False, unique=True),
        sa.Column("value", sa.Integer, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("coded_at", TZ, nullable=False),
        sa.CheckConstraint("value IN (1, 0, -1)", name="value_known"),
    )


def downgrade() -> None:
    for table in ("coding_codes", "coding_assignments", "coding_posts", "coding_raters",
                  "coding_projects"):
        op.drop_table(table)

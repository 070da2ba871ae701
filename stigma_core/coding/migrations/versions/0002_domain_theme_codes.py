"""Domain and theme codes: projects may ask raters for them beside the stigma code.

Revision ID: 0002
Revises: 0001

Adds ``coding_projects.extra_schemes`` ("" for every existing project: stigma only, as
before) and the nullable ``coding_codes.domain`` / ``coding_codes.theme`` with checks of their
classes. Existing codes keep their values; nothing is rewritten. On SQLite the codes table is
rebuilt by Alembic's batch mode (SQLite cannot add a check constraint in place).
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a plain ADD COLUMN (never a rebuild: other tables' rows cascade from this one)
    op.add_column("coding_projects", sa.Column("extra_schemes", sa.String(100),
                                               nullable=False, server_default=""))
    with op.batch_alter_table("coding_codes") as batch:
        batch.add_column(sa.Column("domain", sa.String(20), nullable=True))
        batch.add_column(sa.Column("theme", sa.String(20), nullable=True))
        batch.create_check_constraint(
            "domain_known",
            "domain IS NULL OR domain IN ('self', 'community', 'professional', 'none')")
        batch.create_check_constraint(
            "theme_known",
            "theme IS NULL OR theme IN ('awareness', 'actionable', 'help_seeking', "
            "'personal_story', 'other')")


def downgrade() -> None:
    with op.batch_alter_table("coding_codes") as batch:
        batch.drop_constraint("theme_known", type_="check")
        batch.drop_constraint("domain_known", type_="check")
        batch.drop_column("theme")
        batch.drop_column("domain")
    with op.batch_alter_table("coding_projects", recreate="never") as batch:
        batch.drop_column("extra_schemes")

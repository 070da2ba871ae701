"""Alembic environment for the coding database: run with the connection the store passes in."""

from __future__ import annotations

from alembic import context

from stigma_core.coding.schema import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()

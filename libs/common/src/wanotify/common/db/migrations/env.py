"""Alembic environment: always given a live connection by ``wanotify.common.db.migrate``."""

from __future__ import annotations

from alembic import context

from wanotify.common.db.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, compare_type=True)
with context.begin_transaction():
    context.run_migrations()

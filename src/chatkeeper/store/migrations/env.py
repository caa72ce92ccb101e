"""Alembic environment: runs on the connection :func:`chatkeeper.store.migrations.upgrade` gives."""

from __future__ import annotations

from alembic import context

from chatkeeper.store.tables import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
context.run_migrations()

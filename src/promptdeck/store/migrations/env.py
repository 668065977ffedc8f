"""Alembic environment: runs on the connection promptdeck hands it (see store/migrate.py)."""

from __future__ import annotations

from alembic import context

from promptdeck.store import evaluation_tables  # noqa: F401  (its tables join the metadata)
from promptdeck.store.tables import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reached by a bare `alembic` call
    raise RuntimeError("run migrations through `promptdeck db upgrade`")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()

"""Real test databases: a SQLite file per test, or a fresh database on the run's PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

BACKEND = os.environ.get("PROMPTDECK_TEST_BACKEND", "sqlite")
PG_ADMIN_URL = os.environ.get("PROMPTDECK_TEST_PG_URL")


@contextmanager
def fresh_database_url(tmp_path: Path) -> Iterator[str]:
    """A URL to an empty database of the run's backend, dropped afterwards."""
    if BACKEND == "sqlite":
        yield f"sqlite:///{tmp_path / 'promptdeck.db'}"
        return
    if BACKEND != "postgresql":
        raise RuntimeError(f"unknown PROMPTDECK_TEST_BACKEND {BACKEND!r}")
    if not PG_ADMIN_URL:
        raise RuntimeError(
            "PROMPTDECK_TEST_BACKEND=postgresql needs PROMPTDECK_TEST_PG_URL "
            "(scripts/test.sh starts a server and sets it)"
        )
    name = f"t_{uuid.uuid4().hex[:16]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()

"""Real test databases: a SQLite file per test, or a fresh database on the run's PostgreSQL."""

from __future__ import annotations

import os
import subprocess
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


def _as_postgres(argv: list[str]) -> list[str]:
    # pg_ctl refuses to run as root: scripts/pg.sh runs the cluster as the postgres user.
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


def pg_ctl(action: str) -> None:
    """Stop (``-m immediate``: a crash) or start the run's PostgreSQL cluster, same port."""
    pgbin, tmpdir = os.environ["PGBIN"], os.environ["PG_TMPDIR"]
    argv = [f"{pgbin}/pg_ctl", "-D", f"{tmpdir}/data", "-w", "-t", "60"]
    if action == "stop":
        argv += ["-m", "immediate", "stop"]
    elif action == "start":
        argv += ["-l", f"{tmpdir}/log", "-o", os.environ["PG_START_OPTS"], "start"]
    else:
        raise ValueError(action)
    subprocess.run(_as_postgres(argv), check=True, stdout=subprocess.DEVNULL)


def can_control_postgresql() -> bool:
    return all(os.environ.get(k) for k in ("PGBIN", "PG_TMPDIR", "PG_START_OPTS"))

"""Apply, undo and report Alembic migrations on an engine."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.engine import Engine

from promptdeck.store.engine import writer
from promptdeck.store.records import DowngradePlan

# pg_advisory_xact_lock key of the migrations ("promptde" in ASCII); released at commit.
MIGRATION_LOCK_KEY = 0x70726F6D70746465


def _config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", "promptdeck.store:migrations")
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return cfg


def _serialized(conn: Connection) -> Connection:
    """One migrating process at a time: processes started together on an empty database
    would otherwise all see no tables and race to create them (a duplicate-table error on
    PostgreSQL, "database is locked" on SQLite). The loser waits, then finds nothing to do.
    SQLite: ``writer`` begins the transaction IMMEDIATE, which takes the write lock."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})")
    return conn


@contextmanager
def _migrating(engine: Engine) -> Iterator[Connection]:
    """One transaction for the whole run. On SQLite, foreign keys are off during it (they
    can only be switched outside a transaction) so that a table can be rebuilt (migration
    0003), and ``PRAGMA foreign_key_check`` must find nothing before the commit: SQLite's
    documented procedure for changing a table."""
    with writer(engine).connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        raw: Any = conn.connection.driver_connection
        if sqlite:
            raw.execute("PRAGMA foreign_keys=OFF")
        try:
            with conn.begin():
                before = MigrationContext.configure(_serialized(conn)).get_current_revision()
                yield conn
                moved = MigrationContext.configure(conn).get_current_revision() != before
                # Only when a migration ran: the check reads every row that has a key.
                if sqlite and moved and conn.exec_driver_sql("PRAGMA foreign_key_check").first():
                    raise RuntimeError("a migration left a broken foreign key; rolled back")
        finally:
            if sqlite:
                raw.execute("PRAGMA foreign_keys=ON")


def upgrade(engine: Engine, revision: str = "head") -> None:
    cfg = _config(engine)
    with _migrating(engine) as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def downgrade(engine: Engine, revision: str) -> None:
    cfg = _config(engine)
    with _migrating(engine) as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


class _DryRun(Exception):
    """Raised inside a migration's transaction to roll it back, carrying what it found."""

    def __init__(self, plan: DowngradePlan) -> None:
        self.plan = plan


def downgrade_plan(engine: Engine, revision: str) -> DowngradePlan:
    """What ``downgrade(engine, revision)`` would delete: the downgrade itself, run in one
    transaction that is rolled back (DDL is transactional on SQLite and PostgreSQL), with
    every table's columns and rows counted before and after."""
    cfg = _config(engine)
    try:
        with _migrating(engine) as conn:
            current = MigrationContext.configure(conn).get_current_revision()
            before = _census(conn)
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, revision)
            after = _census(conn)
            raise _DryRun(
                DowngradePlan(
                    current=current,
                    target=MigrationContext.configure(conn).get_current_revision(),
                    tables=[(t, n) for t, (n, _) in before.items() if t not in after],
                    columns=[
                        (f"{t}.{c}", n)
                        for t, (n, columns) in before.items()
                        if t in after
                        for c in sorted(columns - after[t][1])
                    ],
                    rows=[
                        (t, n - after[t][0])
                        for t, (n, _) in before.items()
                        if t in after and n > after[t][0]
                    ],
                )
            )
    except _DryRun as dry:
        return dry.plan
    raise AssertionError("unreachable")  # pragma: no cover


def _census(conn: Connection) -> dict[str, tuple[int, set[str]]]:
    """Every table (Alembic's own aside): its rows and its columns."""
    inspector = sa.inspect(conn)
    out = {}
    for table in inspector.get_table_names():
        if table == "alembic_version":
            continue
        rows = conn.execute(sa.text(f'SELECT COUNT(*) FROM "{table}"')).scalar_one()
        out[table] = (int(rows), {c["name"] for c in inspector.get_columns(table)})
    return out


def current(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head(engine: Engine) -> str | None:
    return ScriptDirectory.from_config(_config(engine)).get_current_head()

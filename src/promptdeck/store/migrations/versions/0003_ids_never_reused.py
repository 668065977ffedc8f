"""Ids are never reused on SQLite, even after a purge.

SQLite gives a new row ``max(rowid) + 1``: once the newest prompt (or version, or event) is
purged, its id goes to the next row, so an old ETag (``"<id>-<revision>"``), a cached
``/active`` answer or a bookmarked URL would name the successor. ``AUTOINCREMENT`` keeps
the highest id ever given in ``sqlite_sequence`` and never goes below it. SQLite cannot add
it to a table in place, so each table is rebuilt (SQLite's documented procedure for table
changes, with foreign keys off for the copy and checked before the commit: store/migrate.py);
``sqlite_sequence`` starts at each table's current highest id. PostgreSQL's sequences
never go back: nothing to do there.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import re
from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# The tables whose ids leave the server (paths, ETags, cursors, idempotency results).
TABLES = ("prompts", "versions", "events", "idempotency_keys")

_ID_PLAIN = re.compile(r"^(\s*)id INTEGER NOT NULL(?: PRIMARY KEY)?,", re.MULTILINE)
_ID_AUTO = re.compile(r"^(\s*)id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,", re.MULTILINE)
_PK_CONSTRAINT = re.compile(r",\s*CONSTRAINT pk_\w+ PRIMARY KEY \(id\)(?=\s*[,)])")


def _with_autoincrement(sql: str) -> str:
    # Only a column constraint can say AUTOINCREMENT; SQLAlchemy would not write it on
    # prompts.id (part of the active-version foreign key), so the DDL is edited here.
    out = _PK_CONSTRAINT.sub(
        "", _ID_PLAIN.sub(r"\1id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,", sql)
    )
    if "AUTOINCREMENT" not in out or "PRIMARY KEY (id)" in out:
        raise RuntimeError(f"unexpected table definition: {sql}")
    return out


def _without_autoincrement(sql: str) -> str:
    return _ID_AUTO.sub(r"\1id INTEGER NOT NULL PRIMARY KEY,", sql)


def _rebuild(conn: sa.Connection, table: str, change: Callable[[str], str]) -> None:
    """SQLite's procedure: create the new table, copy, drop the old, rename, re-index.
    Foreign keys are off for the run (store/migrate.py), and checked before the commit."""
    sql = conn.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).scalar_one()
    indexes = (
        conn.exec_driver_sql(
            "SELECT sql FROM sqlite_master"
            " WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
            (table,),
        )
        .scalars()
        .all()
    )
    columns = ", ".join(
        f'"{row[1]}"' for row in conn.exec_driver_sql(f'PRAGMA table_info("{table}")')
    )
    new = f"_new_{table}"
    head = re.compile(rf'^CREATE TABLE "?{table}"?')
    conn.exec_driver_sql(head.sub(f'CREATE TABLE "{new}"', change(sql), count=1))
    conn.exec_driver_sql(f'INSERT INTO "{new}" ({columns}) SELECT {columns} FROM "{table}"')
    conn.exec_driver_sql(f'DROP TABLE "{table}"')
    conn.exec_driver_sql(f'ALTER TABLE "{new}" RENAME TO "{table}"')
    for index in indexes:
        conn.exec_driver_sql(index)


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "sqlite":
        for table in TABLES:  # sqlite_sequence starts at each table's highest id (the copy)
            _rebuild(conn, table, _with_autoincrement)


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "sqlite":
        for table in TABLES:
            _rebuild(conn, table, _without_autoincrement)
        names = ", ".join(f"'{t}'" for t in TABLES)
        conn.exec_driver_sql(f"DELETE FROM sqlite_sequence WHERE name IN ({names})")

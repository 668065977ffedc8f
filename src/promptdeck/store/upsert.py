"""Adding to rows of sums: ``INSERT … ON CONFLICT (keys) DO UPDATE SET x = x + excluded.x``,
the same text on SQLite and PostgreSQL, so concurrent processes merge in the database with
no read-modify-write (the impact aggregates, store/outcomes.py; a rollout's arms,
store/rollouts.py). Callers send rows in key order, so two PostgreSQL transactions that
touch the same rows lock them in the same order and cannot deadlock."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.dialects.postgresql.base import PGDialect

_PG = PGDialect()  # type: ignore[no-untyped-call]


def unnest_insert(table: sa.Table, columns: Sequence[str]) -> str:
    """``INSERT INTO table (columns) SELECT * FROM unnest(:c1::type[], …)``: on PostgreSQL a
    whole batch in one statement, one array parameter per column (``executemany`` there runs
    a statement per row). JSON columns are sent as text and cast, element by element."""
    arrays = []
    for c in columns:
        kind = table.c[c].type.compile(dialect=_PG)
        arrays.append(
            f"CAST(CAST(:{c} AS TEXT[]) AS {kind}[])"
            if kind == "JSONB"
            else f"CAST(:{c} AS {kind}[])"
        )
    return (
        f"INSERT INTO {table.name} ({', '.join(columns)}) SELECT * FROM unnest({', '.join(arrays)})"
    )


def adder(
    table: sa.Table, keys: tuple[str, ...], added: tuple[str, ...]
) -> dict[str, sa.TextClause]:
    """``INSERT … ON CONFLICT (keys) DO UPDATE SET x = x + excluded.x`` for the ``added``
    columns (the others are written once, with the row).

    SQLite: one row of parameters per row, sent with executemany (in-process: no round
    trips). PostgreSQL: the whole batch as one statement over ``unnest``: 500 latency
    buckets of a batch of 1,000 outcomes took 20 ms as a statement per row, 6.7 ms this
    way. ``unnest`` keeps the arrays' order, so rows are still locked in key order."""
    columns = [c.name for c in table.columns]
    update = ", ".join(f"{c} = {table.name}.{c} + excluded.{c}" for c in added)
    conflict = f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {update}"
    into = f"INSERT INTO {table.name} ({', '.join(columns)})"
    return {
        "sqlite": sa.text(f"{into} VALUES ({', '.join(f':{c}' for c in columns)}) {conflict}"),
        "postgresql": sa.text(f"{unnest_insert(table, columns)} {conflict}"),
    }


def add(conn: Connection, statements: dict[str, sa.TextClause], rows: list[dict[str, Any]]) -> None:
    """Add ``rows`` (one dict of column values each, sorted by key) to the table."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        conn.execute(statements["postgresql"], {c: [r[c] for r in rows] for c in rows[0]})
    else:
        conn.execute(statements["sqlite"], rows)

"""Queries for export and import: whole histories, read and written as they are."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from promptdeck.store import queries as q
from promptdeck.store.records import PromptRow
from promptdeck.store.tables import events, prompts, versions
from promptdeck.store.types import UTCDateTime

# Columns that belong to one database, not to the history: never exported. (A version's
# content is exported as text in place of its blob_id; see core/transfer.py.)
LOCAL_VERSION_COLS = {"id", "prompt_id", "blob_id"}


def prompt_rows(conn: Connection, *, after_id: int | None, limit: int) -> list[PromptRow]:
    """Prompts by id, soft-deleted ones included (a backup keeps them)."""
    query = sa.select(prompts)
    if after_id is not None:
        query = query.where(prompts.c.id > after_id)
    return [PromptRow.of(r) for r in conn.execute(query.order_by(prompts.c.id).limit(limit))]


def all_versions(conn: Connection, prompt_id: int) -> list[dict[str, Any]]:
    """Every version of the prompt in full, oldest first, with every column (so columns added
    later, such as archive state, pass through export and import untouched)."""
    rows = conn.execute(
        sa.select(versions).where(versions.c.prompt_id == prompt_id).order_by(versions.c.number)
    )
    return [dict(r._mapping) for r in rows]


def all_events(conn: Connection, prompt_id: int) -> list[dict[str, Any]]:
    """Every event, oldest first, with its detail as the events API shows it."""
    rows = conn.execute(
        q.events_with_versions().where(events.c.prompt_id == prompt_id).order_by(events.c.id)
    )
    return [
        {
            **{c.name: r._mapping[c.name] for c in events.c},
            "from_version_id": q.event_from_version_id(r._mapping),
            "detail": q.event_detail(r._mapping),
        }
        for r in rows
    ]


def version_numbers(conn: Connection, prompt_id: int) -> dict[int, int]:
    """The prompt's version ids and their numbers (two integers a version)."""
    rows = conn.execute(
        sa.select(versions.c.id, versions.c.number).where(versions.c.prompt_id == prompt_id)
    )
    return {int(r.id): int(r.number) for r in rows}


def prompt_ids(conn: Connection, *, after_id: int | None, limit: int) -> list[int]:
    """Ids of prompts by id, soft-deleted ones included (the rows are read one at a time)."""
    query = sa.select(prompts.c.id)
    if after_id is not None:
        query = query.where(prompts.c.id > after_id)
    return [int(i) for i in conn.execute(query.order_by(prompts.c.id).limit(limit)).scalars()]


def version_batch(
    conn: Connection, prompt_id: int, *, after_number: int, limit: int
) -> list[dict[str, Any]]:
    """The next ``limit`` versions in full after ``after_number``, oldest first (streamed
    exports read a history a batch at a time)."""
    rows = conn.execute(
        sa.select(versions)
        .where(versions.c.prompt_id == prompt_id, versions.c.number > after_number)
        .order_by(versions.c.number)
        .limit(limit)
    )
    return [dict(r._mapping) for r in rows]


def event_batch(
    conn: Connection, prompt_id: int, *, after_id: int, limit: int
) -> list[dict[str, Any]]:
    """The next ``limit`` events after ``after_id``, oldest first, each with the numbers of
    its version and of the version active before it."""
    before = versions.alias("before")
    rows = conn.execute(
        q.events_with_versions()
        .add_columns(before.c.number.label("from_version_number"))
        .outerjoin(before, before.c.id == events.c.from_version_id)
        .where(events.c.prompt_id == prompt_id, events.c.id > after_id)
        .order_by(events.c.id)
        .limit(limit)
    )
    return [
        {
            **{c.name: r._mapping[c.name] for c in events.c},
            "from_version_id": q.event_from_version_id(r._mapping),
            "detail": q.event_detail(r._mapping),
            "version_number": r._mapping["version_number"],
            "from_version_number": None
            if q.merged_archive_of(r._mapping)
            else r._mapping["from_version_number"],
        }
        for r in rows
    ]


def active_number(conn: Connection, version_id: int | None) -> int | None:
    if version_id is None:
        return None
    return conn.execute(sa.select(versions.c.number).where(versions.c.id == version_id)).scalar()


def _coerce(table: sa.Table, values: dict[str, Any]) -> dict[str, Any]:
    """Keep the table's columns only; parse ISO times given as text."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key not in table.c:
            continue
        if isinstance(table.c[key].type, UTCDateTime) and isinstance(value, str):
            value = datetime.fromisoformat(value)
        out[key] = value
    return out


def insert_prompt_row(conn: Connection, values: dict[str, Any]) -> int:
    query = sa.insert(prompts).values(**_coerce(prompts, values)).returning(prompts.c.id)
    return int(conn.execute(query).scalar_one())


def insert_version_row(conn: Connection, values: dict[str, Any]) -> int:
    query = sa.insert(versions).values(**_coerce(versions, values)).returning(versions.c.id)
    return int(conn.execute(query).scalar_one())


def insert_event_row(conn: Connection, values: dict[str, Any]) -> None:
    q.insert_event(conn, _coerce(events, values))


def set_prompt_fields(conn: Connection, prompt_id: int, values: dict[str, Any]) -> None:
    conn.execute(
        sa.update(prompts).where(prompts.c.id == prompt_id).values(**_coerce(prompts, values))
    )

"""The include graph (table version_includes): what a version includes, who includes a
prompt or a version, and the lock that serializes changes to the graph."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from promptdeck.domain.models import Include as IncludeRow
from promptdeck.store.tables import prompts, version_includes, versions


def lock_graph(conn: Connection) -> None:
    """Serialize the writers that add edges, so two concurrent versions cannot close a cycle
    that neither sees. PostgreSQL: a transaction-scoped advisory lock (released at commit);
    SQLite: every write already holds the database lock (BEGIN IMMEDIATE)."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(7007)"))


def insert(conn: Connection, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(sa.insert(version_includes), rows)


def targets_of(conn: Connection, prompt_ids: list[int]) -> list[tuple[int, int]]:
    """(prompt, included prompt) edges from unpurged versions of these prompts (deleted
    prompts count: they can be restored)."""
    query = (
        sa.select(version_includes.c.prompt_id, version_includes.c.target_prompt_id)
        .distinct()
        .select_from(
            version_includes.join(versions, versions.c.id == version_includes.c.version_id)
        )
        .where(version_includes.c.prompt_id.in_(prompt_ids), versions.c.purged_at.is_(None))
    )
    return [(int(a), int(b)) for a, b in conn.execute(query)]


def _named() -> sa.Select[Any]:
    src = prompts.alias("src")
    dst = prompts.alias("dst")
    return (
        sa.select(
            version_includes.c.version_id,
            version_includes.c.prompt_id,
            src.c.name.label("prompt_name"),
            versions.c.number,
            version_includes.c.target_prompt_id,
            dst.c.name.label("target_prompt_name"),
            version_includes.c.at,
            version_includes.c.target_version_id,
        )
        .select_from(
            version_includes.join(versions, versions.c.id == version_includes.c.version_id)
            .join(src, src.c.id == version_includes.c.prompt_id)
            .join(dst, dst.c.id == version_includes.c.target_prompt_id)
        )
        .order_by(version_includes.c.id)
    )


def _rows(conn: Connection, query: sa.Select[Any]) -> list[IncludeRow]:
    return [IncludeRow(**dict(r._mapping)) for r in conn.execute(query)]


def of_version(conn: Connection, version_id: int) -> list[IncludeRow]:
    """What a version includes."""
    return _rows(conn, _named().where(version_includes.c.version_id == version_id))


def includers_of_prompt(conn: Connection, prompt_id: int, limit: int) -> list[IncludeRow]:
    """Unpurged versions of live prompts (other than this one) that include the prompt."""
    query = _named().where(
        version_includes.c.target_prompt_id == prompt_id,
        version_includes.c.prompt_id != prompt_id,
        versions.c.purged_at.is_(None),
        version_includes.c.prompt_id.in_(
            sa.select(prompts.c.id).where(prompts.c.deleted_at.is_(None))
        ),
    )
    return _rows(conn, query.limit(limit))


def includers_of_version(conn: Connection, version_id: int, limit: int) -> list[IncludeRow]:
    """Unpurged versions pinned to this version (by number or version name)."""
    query = _named().where(
        version_includes.c.target_version_id == version_id, versions.c.purged_at.is_(None)
    )
    return _rows(conn, query.limit(limit))


def delete_for_prompt(conn: Connection, prompt_id: int) -> None:
    """A prompt purged for good takes its edges with it (both ways)."""
    conn.execute(
        sa.delete(version_includes).where(
            sa.or_(
                version_includes.c.prompt_id == prompt_id,
                version_includes.c.target_prompt_id == prompt_id,
            )
        )
    )


def names_of(conn: Connection, prompt_ids: list[int]) -> dict[int, str]:
    query = sa.select(prompts.c.id, prompts.c.name).where(prompts.c.id.in_(prompt_ids))
    return {int(i): str(n) for i, n in conn.execute(query)}


def version_id_by_number(conn: Connection, prompt_id: int, number: int) -> int | None:
    query = sa.select(versions.c.id).where(
        versions.c.prompt_id == prompt_id, versions.c.number == number
    )
    found = conn.execute(query).scalar()
    return None if found is None else int(found)


def latest_version_id(conn: Connection, prompt_id: int) -> int | None:
    query = (
        sa.select(versions.c.id)
        .where(versions.c.prompt_id == prompt_id)
        .order_by(versions.c.number.desc())
        .limit(1)
    )
    found = conn.execute(query).scalar()
    return None if found is None else int(found)

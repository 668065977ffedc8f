"""SQL for content blobs, archiving, purge and compaction. The core owns the transaction."""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from promptdeck.domain.retention import StorageReport
from promptdeck.domain.storage import StoredBlob
from promptdeck.store.records import BlobBase, OldVersion
from promptdeck.store.tables import blobs, prompts, versions

# --- blobs ----------------------------------------------------------------------------------


_BLOB_ROW = sa.select(
    blobs.c.id, blobs.c.codec, blobs.c.base_id, blobs.c.raw_size, blobs.c.data, blobs.c.depth
).where(blobs.c.id == sa.bindparam("id"))


def blob_row(conn: Connection, blob_id: int) -> StoredBlob | None:
    r = conn.execute(_BLOB_ROW, {"id": blob_id}).first()
    return None if r is None else StoredBlob(r.id, r.codec, r.base_id, r.raw_size, bytes(r.data))


def insert_blob(conn: Connection, values: dict[str, Any]) -> bool:
    """Insert a blob at its id; False when the id is taken (maybe by a concurrent writer
    storing the same content: the caller compares contents)."""
    inserted = conn.execute(_INSERT_BLOB[conn.dialect.name == "postgresql"], values).scalar()
    return inserted is not None


_INSERT_BLOB = {
    is_pg: (postgresql.insert if is_pg else sqlite.insert)(blobs)
    .on_conflict_do_nothing(index_elements=["id"])
    .returning(blobs.c.id)
    for is_pg in (True, False)
}


# Written as text: SQLAlchemy compiles a constructed recursive CTE on every call (~1 ms),
# twenty times the query itself. Each step is a primary-key lookup.
_CHAIN = sa.text(
    """
    WITH RECURSIVE chain(id, codec, base_id, raw_size, data, step) AS (
        SELECT id, codec, base_id, raw_size, data, 0 FROM blobs WHERE id = :id
        UNION ALL
        SELECT b.id, b.codec, b.base_id, b.raw_size, b.data, chain.step + 1
        FROM blobs b JOIN chain ON b.id = chain.base_id
    )
    SELECT id, codec, base_id, raw_size, data FROM chain ORDER BY step
    """
)


def blob_chain(conn: Connection, blob_id: int) -> list[StoredBlob]:
    """The blob and its bases down to a full copy, in one recursive query (at most K rows)."""
    rows = conn.execute(_CHAIN, {"id": blob_id}).all()
    return [StoredBlob(r[0], r[1], r[2], r[3], bytes(r[4])) for r in rows]


def previous_blob(conn: Connection, prompt_id: int, number: int) -> BlobBase | None:
    """The blob of the prompt's version just before ``number`` (the delta base), if any."""
    row = conn.execute(_PREVIOUS_BLOB, {"pid": prompt_id, "n": number}).first()
    return None if row is None else BlobBase(int(row.id), int(row.depth))


_PREVIOUS_BLOB: sa.Select[Any] = (
    sa.select(blobs.c.id, blobs.c.depth)
    .select_from(versions.join(blobs, blobs.c.id == versions.c.blob_id))
    .where(versions.c.prompt_id == sa.bindparam("pid"), versions.c.number < sa.bindparam("n"))
    .order_by(versions.c.number.desc())
    .limit(1)
)


def dependants(conn: Connection, blob_id: int) -> list[int]:
    """Blobs stored as deltas against ``blob_id`` (a purge re-encodes them first)."""
    rows = conn.execute(sa.select(blobs.c.id).where(blobs.c.base_id == blob_id))
    return [int(r[0]) for r in rows]


def rewrite_blob(conn: Connection, blob_id: int, values: dict[str, Any]) -> None:
    conn.execute(sa.update(blobs).where(blobs.c.id == blob_id).values(**values))


def delete_blob(conn: Connection, blob_id: int) -> None:
    conn.execute(sa.delete(blobs).where(blobs.c.id == blob_id))


def blob_references(conn: Connection, blob_id: int) -> int:
    """Versions (of any prompt) whose content is this blob."""
    return int(
        conn.execute(
            sa.select(sa.func.count()).select_from(versions).where(versions.c.blob_id == blob_id)
        ).scalar_one()
    )


def prompt_blob_ids(conn: Connection, prompt_id: int) -> list[int]:
    return [
        int(r[0])
        for r in conn.execute(
            sa.select(versions.c.blob_id)
            .where(versions.c.prompt_id == prompt_id, versions.c.blob_id.is_not(None))
            .distinct()
        )
    ]


# --- retention ------------------------------------------------------------------------------


def oldest_unarchived(
    conn: Connection, prompt_id: int, *, exclude: set[int], limit: int
) -> list[OldVersion]:
    """The ``limit`` oldest unarchived versions not in ``exclude``: an index range scan on
    (prompt_id, archived, number) that stops after ``limit + len(exclude)`` entries."""
    query = sa.select(versions.c.id, versions.c.number, versions.c.version_name).where(
        versions.c.prompt_id == prompt_id, versions.c.archived == sa.false()
    )
    if exclude:
        query = query.where(versions.c.id.not_in(sorted(exclude)))
    rows = conn.execute(query.order_by(versions.c.number).limit(limit))
    return [OldVersion(int(r.id), int(r.number), r.version_name) for r in rows]


def set_archived(
    conn: Connection, prompt_id: int, version_ids: list[int], archived: bool, now: datetime
) -> None:
    """Archive or restore versions, keeping the prompt's unarchived counter in step."""
    if not version_ids:
        return
    conn.execute(
        sa.update(versions)
        .where(versions.c.prompt_id == prompt_id, versions.c.id.in_(version_ids))
        .values(archived=archived, archived_at=now if archived else None)
    )
    delta = -len(version_ids) if archived else len(version_ids)
    conn.execute(
        sa.update(prompts)
        .where(prompts.c.id == prompt_id)
        .values(live_count=prompts.c.live_count + delta)
    )


def mark_purged(conn: Connection, prompt_id: int, version_id: int, values: dict[str, Any]) -> None:
    conn.execute(
        sa.update(versions)
        .where(versions.c.prompt_id == prompt_id, versions.c.id == version_id)
        .values(blob_id=None, model_config=None, **values)
    )


def live_count(conn: Connection, prompt_id: int) -> tuple[int, int | None]:
    row = conn.execute(
        sa.select(prompts.c.live_count, prompts.c.max_versions).where(prompts.c.id == prompt_id)
    ).one()
    return int(row.live_count), row.max_versions


def storage_report(conn: Connection, prompt_id: int, *, labelled: int) -> StorageReport:
    counts = conn.execute(
        sa.select(
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(sa.case((versions.c.archived, 1), else_=0)), 0),
            sa.func.count(versions.c.purged_at),
            sa.func.coalesce(sa.func.sum(blobs.c.raw_size), 0),
        )
        .select_from(versions.outerjoin(blobs, blobs.c.id == versions.c.blob_id))
        .where(versions.c.prompt_id == prompt_id)
    ).one()
    ids = sa.select(versions.c.blob_id).where(versions.c.prompt_id == prompt_id)
    stored = conn.execute(
        sa.select(
            sa.func.count(), sa.func.coalesce(sa.func.sum(sa.func.length(blobs.c.data)), 0)
        ).where(blobs.c.id.in_(ids))
    ).one()
    return StorageReport(
        prompt_id=prompt_id,
        versions=int(counts[0]),
        archived=int(counts[1]),
        purged=int(counts[2]),
        blobs=int(stored[0]),
        raw_bytes=int(counts[3]),
        stored_bytes=int(stored[1]),
        labelled=labelled,
    )


# --- compaction -----------------------------------------------------------------------------


def database_bytes(engine: Engine) -> int:
    """Bytes the database takes: the SQLite file and its WAL, or PostgreSQL's database size."""
    if engine.dialect.name == "sqlite":
        path = engine.url.database or ""
        return sum(os.path.getsize(p) for p in (path, path + "-wal") if os.path.exists(p))
    with engine.connect() as conn:
        return int(
            conn.execute(sa.text("SELECT pg_database_size(current_database())")).scalar_one()
        )


def compact(engine: Engine) -> None:
    """Give freed space back and leave no copy of deleted rows in the database's files.

    SQLite: checkpoint the WAL into the file, VACUUM (rewrites the file from live rows only),
    checkpoint and truncate the WAL again. PostgreSQL: VACUUM FULL rewrites each table and
    its TOAST data into new files and drops the old ones.
    """
    if engine.dialect.name == "sqlite":
        raw = engine.raw_connection()
        try:
            cur = raw.cursor()
            cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            cur.execute("VACUUM")
            cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            cur.close()
        finally:
            raw.close()
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in ("blobs", "versions", "events", "prompts", "idempotency_keys"):
            conn.exec_driver_sql(f"VACUUM FULL ANALYZE {table}")

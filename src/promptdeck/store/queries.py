"""Every query the core runs. Each takes an open connection; the core owns the transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, Row

from promptdeck.domain import values
from promptdeck.domain.contracts import Contract
from promptdeck.domain.models import Event, Prompt, Version
from promptdeck.domain.refs import EventKind, PromptRef
from promptdeck.limits import ID_MAX
from promptdeck.store.records import Allocated, IdempotencyRecord, PromptRow, VersionRow
from promptdeck.store.tables import (
    LIVE_ROLLOUT,
    blobs,
    events,
    idempotency_keys,
    prompts,
    rollouts,
    versions,
)

VERSION_SUMMARY_COLS = [
    versions.c.id,
    versions.c.prompt_id,
    versions.c.number,
    versions.c.version_name,
    versions.c.description,
    versions.c.created_at,
    versions.c.created_by,
    versions.c.content_hash,
    versions.c.archived,
    versions.c.archived_at,
    versions.c.purged_at,
    versions.c.purged_by,
    versions.c.purge_reason,
    versions.c.kind,
    versions.c.template_format,
]

# A full version row carries its blob's stored form; core decodes it (domain.storage).
BLOB_COLS = [
    blobs.c.codec.label("blob_codec"),
    blobs.c.base_id.label("blob_base_id"),
    blobs.c.raw_size.label("blob_raw_size"),
    blobs.c.data.label("blob_data"),
]


def _find_prompt(by_id: bool, include_deleted: bool, for_update: bool) -> sa.Select[Any]:
    ref = sa.bindparam("ref", type_=sa.Integer if by_id else sa.String)
    query = sa.select(prompts).where((prompts.c.id if by_id else prompts.c.name) == ref)
    if not include_deleted:
        query = query.where(prompts.c.deleted_at.is_(None))
    return query.with_for_update() if for_update else query


# Built once: statements on the write path are executed, not rebuilt, on every call
# (building a statement costs more in Python than SQLite takes to run it).
_FIND_PROMPT = {
    (by_id, deleted, update): _find_prompt(by_id, deleted, update)
    for by_id in (True, False)
    for deleted in (True, False)
    for update in (True, False)
}


def find_prompt_row(
    conn: Connection, ref: PromptRef, *, include_deleted: bool = False, for_update: bool = False
) -> PromptRow | None:
    by_id = ref.id is not None
    if not by_id and not values.is_text(str(ref.name)):
        return None  # no stored name has a NUL or a lone surrogate (PostgreSQL would refuse it)
    query = _FIND_PROMPT[(by_id, include_deleted, for_update)]
    row = conn.execute(query, {"ref": ref.id if by_id else ref.name}).first()
    return None if row is None else PromptRow.of(row)


_LOCK_AND_BUMP = (
    sa.update(prompts)
    .where(prompts.c.id == sa.bindparam("pid"))
    .values(
        next_version_number=prompts.c.next_version_number + 1,
        version_count=prompts.c.version_count + 1,
        live_count=prompts.c.live_count + 1,
        revision=prompts.c.revision + 1,
        updated_at=sa.bindparam("now", type_=prompts.c.updated_at.type),
    )
    .returning(
        prompts.c.next_version_number,
        prompts.c.active_version_id,
        prompts.c.live_count,
        prompts.c.max_versions,
        # The version before the one being allocated (RETURNING sees the bumped counter).
        sa.select(versions.c.id)
        .where(
            versions.c.prompt_id == sa.bindparam("pid"),
            versions.c.number < prompts.c.next_version_number,
        )
        .order_by(versions.c.number.desc())
        .limit(1)
        .scalar_subquery()
        .label("previous_version_id"),
    )
)


def lock_and_bump_prompt(conn: Connection, prompt_id: int, now: datetime) -> Allocated:
    """Allocate the next version number; the UPDATE also locks the prompt row until commit."""
    row = conn.execute(_LOCK_AND_BUMP, {"pid": prompt_id, "now": now}).one()
    return Allocated(
        int(row.next_version_number),
        row.active_version_id,
        int(row.live_count),
        row.max_versions,
        row.previous_version_id,
    )


def insert_prompt(conn: Connection, values: dict[str, Any]) -> int:
    return int(
        conn.execute(sa.insert(prompts).values(**values).returning(prompts.c.id)).scalar_one()
    )


def update_prompt(conn: Connection, prompt_id: int, values: dict[str, Any]) -> None:
    conn.execute(sa.update(prompts).where(prompts.c.id == prompt_id).values(**values))


def set_active(
    conn: Connection, prompt_id: int, version_id: int, now: datetime, expected_revision: int | None
) -> bool:
    """Compare-and-set of the active pointer; False when the revision moved on, or when
    the `active` label is in a rollout (it then moves only by its rollout; checked in this
    very statement, so a write that moves nothing costs no more)."""
    params = {"pid": prompt_id, "vid": version_id, "now": now}
    if expected_revision is None:
        return conn.execute(_SET_ACTIVE, params).rowcount == 1
    return conn.execute(_SET_ACTIVE_IF, {**params, "rev": expected_revision}).rowcount == 1


_ACTIVE_ROLLOUT = (
    sa.select(rollouts.c.id)
    .where(rollouts.c.prompt_id == prompts.c.id, rollouts.c.label == "active")
    .where(sa.text(LIVE_ROLLOUT))
)
_SET_ACTIVE = (
    sa.update(prompts)
    .where(prompts.c.id == sa.bindparam("pid"), ~sa.exists(_ACTIVE_ROLLOUT))
    .values(
        active_version_id=sa.bindparam("vid"),
        revision=prompts.c.revision + 1,
        updated_at=sa.bindparam("now", type_=prompts.c.updated_at.type),
    )
)
_SET_ACTIVE_IF = _SET_ACTIVE.where(prompts.c.revision == sa.bindparam("rev"))


_TAKEN_NAMES = sa.select(versions.c.version_name).where(
    versions.c.prompt_id == sa.bindparam("pid"),
    versions.c.version_name.in_(sa.bindparam("names", expanding=True)),
)


def names_with_prefix(conn: Connection, prompt_id: int, prefix: str) -> set[str]:
    """The taken names among ``prefix``, ``prefix-2``, ``prefix-3``… (what
    rules.next_free_name chooses from), up to the first free one.

    Exact lookups on the (prompt_id, version_name) unique index: a LIKE 'prefix%' is not
    indexable on SQLite (nor on PostgreSQL outside the C collation) and scanned the whole
    history on every create (2 ms at 20,000 versions)."""
    taken: set[str] = set()
    start, batch = 1, 8
    while True:
        candidates = [prefix if n == 1 else f"{prefix}-{n}" for n in range(start, start + batch)]
        found = {r[0] for r in conn.execute(_TAKEN_NAMES, {"pid": prompt_id, "names": candidates})}
        taken |= found
        if len(found) < len(candidates):
            return taken
        start, batch = start + batch, batch * 2


_INSERT_VERSION = sa.insert(versions).returning(versions.c.id)


def insert_version(conn: Connection, values: dict[str, Any]) -> int:
    return int(conn.execute(_INSERT_VERSION, values).scalar_one())


def version_row(
    conn: Connection, prompt_id: int, version_id: int, *, full: bool
) -> VersionRow | None:
    if not 1 <= version_id <= ID_MAX:
        return None  # an id no 32-bit column holds names none (the database would refuse it)
    return _version_row(
        conn.execute(_VERSION_ROW[full], {"pid": prompt_id, "vid": version_id}).first()
    )


_VERSION_ROW: dict[bool, sa.Select[Any]] = {
    False: sa.select(*VERSION_SUMMARY_COLS).where(
        versions.c.prompt_id == sa.bindparam("pid"), versions.c.id == sa.bindparam("vid")
    ),
    True: sa.select(
        *VERSION_SUMMARY_COLS,
        versions.c.model_config,
        versions.c.contract,
        versions.c.blob_id,
        *BLOB_COLS,
    )
    .select_from(versions.outerjoin(blobs, blobs.c.id == versions.c.blob_id))
    .where(versions.c.prompt_id == sa.bindparam("pid"), versions.c.id == sa.bindparam("vid")),
}


def _version_row(row: Row[Any] | None) -> VersionRow | None:
    return None if row is None else VersionRow.of(row)


def version_by_name(conn: Connection, prompt_id: int, name: str) -> VersionRow | None:
    return _version_row(
        conn.execute(
            sa.select(*VERSION_SUMMARY_COLS).where(
                versions.c.prompt_id == prompt_id, versions.c.version_name == name
            )
        ).first()
    )


_PREVIOUS_VERSION_ID = (
    sa.select(versions.c.id)
    .where(versions.c.prompt_id == sa.bindparam("pid"), versions.c.number < sa.bindparam("n"))
    .order_by(versions.c.number.desc())
    .limit(1)
)


def previous_version_id(conn: Connection, prompt_id: int, number: int) -> int | None:
    return conn.execute(_PREVIOUS_VERSION_ID, {"pid": prompt_id, "n": number}).scalar()


def version_page(
    conn: Connection,
    prompt_id: int,
    *,
    before_number: int | None,
    limit: int,
    archived: bool | None = None,
) -> list[VersionRow]:
    query = sa.select(*VERSION_SUMMARY_COLS).where(versions.c.prompt_id == prompt_id)
    if archived is not None:  # literals: see tables.py ix_versions_live
        query = query.where(versions.c.archived == (sa.true() if archived else sa.false()))
    if before_number is not None:
        query = query.where(versions.c.number < before_number)
    rows = conn.execute(query.order_by(versions.c.number.desc()).limit(limit))
    return [VersionRow.of(r) for r in rows]


def prompt_page(
    conn: Connection,
    *,
    after_id: int | None,
    limit: int,
    query_text: str | None,
    tag: str | None,
    deleted: bool = False,
) -> list[PromptRow]:
    """Live prompts by id; with ``deleted``, only the soft-deleted ones instead."""
    gone = prompts.c.deleted_at.is_not(None) if deleted else prompts.c.deleted_at.is_(None)
    query = sa.select(prompts).where(gone)
    if after_id is not None:
        query = query.where(prompts.c.id > after_id)
    if query_text:
        escaped = query_text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(
            sa.or_(
                prompts.c.name.like(f"%{escaped}%", escape="\\"),
                prompts.c.description.ilike(f"%{escaped}%", escape="\\"),
            )
        )
    if not tag:
        return [PromptRow.of(r) for r in conn.execute(query.order_by(prompts.c.id).limit(limit))]
    # JSON containment differs by dialect and the tag lists are tiny, so filter here, reading
    # batches in id order until the page is full or the prompts run out: a rare tag must not
    # end the pages early.
    found: list[PromptRow] = []
    scanned = after_id
    batch = max(4 * limit, 200)
    while len(found) < limit:
        window = query if scanned is None else query.where(prompts.c.id > scanned)
        rows = list(conn.execute(window.order_by(prompts.c.id).limit(batch)))
        found.extend(PromptRow.of(r) for r in rows if tag in (r.tags or []))
        if len(rows) < batch:
            break
        scanned = int(rows[-1].id)
    return found[:limit]


def versions_by_ids(conn: Connection, ids: list[int]) -> dict[int, VersionRow]:
    if not ids:
        return {}
    rows = conn.execute(sa.select(*VERSION_SUMMARY_COLS).where(versions.c.id.in_(ids)))
    return {int(r.id): VersionRow.of(r) for r in rows}


# Events whose detail is just the version's number and name: stored as {} and filled in
# from the version row when read (one per version otherwise repeats ~60 bytes of it).
DERIVED_DETAIL = frozenset({EventKind.VERSION_CREATED, EventKind.VERSION_ACTIVATED})


_INSERT_EVENT = sa.insert(events)


# A retention sweep's archive event keeps only the limit: its number, name and reason are
# filled in when read. Archiving one version a new version (max_versions: 100 on the storage
# benchmark) otherwise cost ~95 bytes of JSON per version: more than keeping it unarchived.
RETENTION_KEYS = {"number", "version_name", "reason", "max_versions"}


# A version created over max_versions archives the oldest one in the same transaction. Its
# event says so in detail.archived, stored as the archived version's id, negated, in the
# row's from_version_id (unused by version.created; negative, so no id written by other
# means, an import's included, reads as one): one event row a version, with a limit as
# without. An archive event row of its own cost ~110 bytes (row and two index entries), more
# than the archived version then saved (docs/performance.md, "Archiving saves space").
RETENTION_MERGED = {"version_id", "number", "version_name", "reason"}


def _merged_archive(values: dict[str, Any], detail: dict[str, Any]) -> int | None:
    """The id to store in from_version_id when ``detail`` is a creation's derivable detail
    plus one retention archive (as core/retention.py sweep writes it), else None."""
    archived = detail.get("archived")
    if (
        values["kind"] != EventKind.VERSION_CREATED
        or values.get("from_version_id") is not None
        or set(detail) != {"number", "version_name", "archived"}
        or not isinstance(archived, list)
        or len(archived) != 1
        or not isinstance(archived[0], dict)
        or set(archived[0]) != RETENTION_MERGED
        or archived[0]["reason"] != "retention"
        or type(archived[0]["version_id"]) is not int
    ):
        return None
    return int(archived[0]["version_id"])


def insert_event(conn: Connection, values: dict[str, Any]) -> int:
    """The new event's id."""
    key = conn.execute(_INSERT_EVENT, _stored_event(values)).inserted_primary_key
    assert key is not None
    return int(key[0])


def insert_events(conn: Connection, rows: list[dict[str, Any]], *, ids: bool = False) -> list[int]:
    """Events in order, in one statement (several rows: one executemany, on PostgreSQL one
    round trip). With ``ids`` (webhook deliveries name their events), one at a time, with
    their ids in the same order; otherwise no ids come back."""
    if ids:
        return [insert_event(conn, values) for values in rows]
    conn.execute(_INSERT_EVENT, [_stored_event(values) for values in rows])
    return []


def _stored_event(values: dict[str, Any]) -> dict[str, Any]:
    if "announce" in values:  # for webhooks only (Tx.record), never stored
        values = {k: v for k, v in values.items() if k != "announce"}
    detail = values.get("detail") or {}
    kind = values["kind"]
    if values.get("version_id") is not None:
        merged = _merged_archive(values, detail)
        if merged is not None:
            return {**values, "from_version_id": -merged, "detail": {}}
        if kind in DERIVED_DETAIL and set(detail) == {"number", "version_name"}:
            return {**values, "detail": {}}
        if (
            kind == EventKind.VERSION_ARCHIVED
            and set(detail) == RETENTION_KEYS
            and detail["reason"] == "retention"
        ):
            return {**values, "detail": {"max_versions": detail["max_versions"]}}
    return values


_FROM = versions.alias("from_version")


def events_with_versions() -> sa.Select[Any]:
    """Events with the number and name of their version (see DERIVED_DETAIL) and of their
    from_version (a retention archive merged into a creation: RETENTION_MERGED)."""
    return sa.select(
        events,
        versions.c.number.label("version_number"),
        versions.c.version_name.label("version_version_name"),
        _FROM.c.number.label("from_version_number_"),
        _FROM.c.version_name.label("from_version_name_"),
    ).select_from(
        events.outerjoin(versions, versions.c.id == events.c.version_id).outerjoin(
            _FROM, _FROM.c.id == -events.c.from_version_id
        )
    )


def merged_archive_of(m: Any) -> bool:
    """Whether an event row holds a creation's retention archive in from_version_id."""
    return (
        m["kind"] == EventKind.VERSION_CREATED
        and m["from_version_id"] is not None
        and m["from_version_id"] < 0
    )


def event_from_version_id(m: Any) -> int | None:
    """from_version_id as the events API shows it (None for a creation: see above)."""
    return None if merged_archive_of(m) else m["from_version_id"]


def event_page(
    conn: Connection, prompt_id: int, *, before_id: int | None, limit: int
) -> list[Event]:
    query = events_with_versions().where(events.c.prompt_id == prompt_id)
    if before_id is not None:
        query = query.where(events.c.id < before_id)
    return [to_event(r) for r in conn.execute(query.order_by(events.c.id.desc()).limit(limit))]


def find_idempotency_key(conn: Connection, scope: str, key: str) -> IdempotencyRecord | None:
    row = conn.execute(
        sa.select(idempotency_keys.c.request_hash, idempotency_keys.c.result_id).where(
            idempotency_keys.c.scope == scope, idempotency_keys.c.key == key
        )
    ).first()
    return None if row is None else IdempotencyRecord(row.request_hash, int(row.result_id))


def insert_idempotency_key(conn: Connection, values: dict[str, Any]) -> None:
    conn.execute(sa.insert(idempotency_keys).values(**values))


def purge_prompt(conn: Connection, prompt_id: int) -> None:
    conn.execute(sa.update(prompts).where(prompts.c.id == prompt_id).values(active_version_id=None))
    conn.execute(sa.delete(events).where(events.c.prompt_id == prompt_id))
    conn.execute(sa.delete(versions).where(versions.c.prompt_id == prompt_id))
    conn.execute(
        sa.delete(idempotency_keys).where(idempotency_keys.c.scope.like(f"prompt:{prompt_id}:%"))
    )
    conn.execute(sa.delete(prompts).where(prompts.c.id == prompt_id))


# --- row -> domain ---------------------------------------------------------------------------


def to_version(
    row: VersionRow,
    *,
    active_id: int | None,
    previous_id: int | None = None,
    content: str | None = None,
) -> Version:
    return Version(
        id=row.id,
        prompt_id=row.prompt_id,
        number=row.number,
        version_name=row.version_name,
        description=row.description,
        created_at=row.created_at,
        created_by=row.created_by,
        content_hash=row.content_hash,
        active=row.id == active_id,
        archived=row.archived,
        archived_at=row.archived_at,
        purged=row.purged_at is not None,
        purged_at=row.purged_at,
        purged_by=row.purged_by,
        purge_reason=row.purge_reason,
        kind=row.kind,
        template_format=row.template_format,
        previous_version_id=previous_id,
        content=content,
        model_config=row.model_config,
        contract=None if row.contract is None else Contract.from_json(row.contract),
    )


def to_prompt(row: PromptRow, active: Version | None = None) -> Prompt:
    assert row.active_version_id is not None  # only while a prompt is being created or purged
    return Prompt(
        id=row.id,
        name=row.name,
        description=row.description,
        tags=list(row.tags),
        content=row.content,
        model_config=dict(row.model_config),
        active_version_id=row.active_version_id,
        version_count=row.version_count,
        max_versions=row.max_versions,
        revision=row.revision,
        created_at=row.created_at,
        updated_at=row.updated_at,
        deleted_at=row.deleted_at,
        active_version=active,
    )


def to_event(row: Row[Any]) -> Event:
    m = row._mapping
    return Event(
        id=m["id"],
        prompt_id=m["prompt_id"],
        kind=m["kind"],
        actor=m["actor"],
        created_at=m["created_at"],
        version_id=m["version_id"],
        from_version_id=event_from_version_id(m),
        detail=event_detail(m),
    )


def event_detail(m: Any) -> dict[str, Any]:
    """An event row's detail, with what DERIVED_DETAIL leaves out filled in (the row must
    carry version_number and version_version_name, as event_page's do)."""
    detail = dict(m["detail"] or {})
    if m.get("version_number") is None:
        return detail
    named = {"number": m["version_number"], "version_name": m["version_version_name"]}
    if merged_archive_of(m):
        archived = {
            "version_id": -m["from_version_id"],
            "number": m["from_version_number_"],
            "version_name": m["from_version_name_"],
            "reason": "retention",
        }
        return {**named, "archived": [archived]}
    if not detail and m["kind"] in DERIVED_DETAIL:
        return named
    if m["kind"] == EventKind.VERSION_ARCHIVED and set(detail) == {"max_versions"}:
        return {**named, "reason": "retention", "max_versions": detail["max_versions"]}
    return detail


def ping(conn: Connection) -> None:
    conn.execute(sa.text("SELECT 1"))

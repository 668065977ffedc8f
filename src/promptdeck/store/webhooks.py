"""SQL for webhooks and their deliveries: the queue written with each event, the claim that
gives each due delivery to one process at a time (and each hook one delivery out at a time),
and the delivery log."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, Row

from promptdeck.domain.webhooks import Delivery, Hook, Outgoing
from promptdeck.store.records import HookMatch
from promptdeck.store.tables import prompts, webhook_deliveries, webhooks

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"

# Every write with events asks this once (core/tx.py flush): enabled hooks that are global
# or the events' prompts'. The table is small and usually empty. A write's events are
# nearly always of one prompt: a plain parameter then (about 30 µs on SQLite, where an
# expanding IN, compiled again at each execution, took about 60).
_HOOK_COLUMNS = (webhooks.c.id, webhooks.c.prompt_id, webhooks.c.events)
_MATCHING_ONE = sa.select(*_HOOK_COLUMNS).where(
    webhooks.c.enabled.is_(True),
    sa.or_(webhooks.c.prompt_id.is_(None), webhooks.c.prompt_id == sa.bindparam("prompt_id")),
)
_MATCHING = sa.select(*_HOOK_COLUMNS).where(
    webhooks.c.enabled.is_(True),
    sa.or_(
        webhooks.c.prompt_id.is_(None),
        webhooks.c.prompt_id.in_(sa.bindparam("prompt_ids", expanding=True)),
    ),
)


def matching_hooks(conn: Connection, prompt_ids: Iterable[int]) -> list[HookMatch]:
    ids = sorted(set(prompt_ids))
    if len(ids) == 1:
        rows = conn.execute(_MATCHING_ONE, {"prompt_id": ids[0]})
    else:
        rows = conn.execute(_MATCHING, {"prompt_ids": ids})
    return [HookMatch(int(r.id), r.prompt_id, tuple(r.events)) for r in rows]


def prompt_names(conn: Connection, prompt_ids: Iterable[int]) -> dict[int, str]:
    rows = conn.execute(
        sa.select(prompts.c.id, prompts.c.name).where(prompts.c.id.in_(sorted(set(prompt_ids))))
    )
    return {int(r.id): str(r.name) for r in rows}


def insert_deliveries(conn: Connection, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(sa.insert(webhook_deliveries), rows)


# --- hooks ---------------------------------------------------------------------------------

_HOOKS = sa.select(webhooks, prompts.c.name.label("prompt_name")).select_from(
    webhooks.outerjoin(prompts, prompts.c.id == webhooks.c.prompt_id)
)


def to_hook(row: Row[Any]) -> Hook:
    m = row._mapping
    return Hook(
        id=int(m["id"]),
        url=m["url"],
        events=tuple(m["events"]),
        prompt_id=m["prompt_id"],
        prompt_name=m["prompt_name"],
        description=m["description"],
        enabled=bool(m["enabled"]),
        created_at=m["created_at"],
        created_by=m["created_by"],
        updated_at=m["updated_at"],
    )


# pg_advisory_xact_lock key of the hooks' count ("pdhooks" in ASCII); released at commit.
HOOKS_LOCK_KEY = 0x7064686F6F6B73
_LOCK_HOOKS = sa.text(f"SELECT pg_advisory_xact_lock({HOOKS_LOCK_KEY})")


def lock_hooks(conn: Connection) -> None:
    """Serialize the transactions that add hooks, so that a count read after this holds
    until commit. PostgreSQL: a transaction-scoped advisory lock (under READ COMMITTED alone,
    8 creates at once at 46 hooks each counted 46, and 7 were added: 53). SQLite: the write
    lock, taken at BEGIN IMMEDIATE, already serializes every writer."""
    if conn.dialect.name == "postgresql":
        conn.execute(_LOCK_HOOKS)


def hook_count(conn: Connection) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(webhooks)).scalar_one())


def insert_hook(conn: Connection, values: dict[str, Any]) -> int:
    key = conn.execute(sa.insert(webhooks).values(**values)).inserted_primary_key
    assert key is not None
    return int(key[0])


def hook(conn: Connection, hook_id: int) -> Hook | None:
    row = conn.execute(_HOOKS.where(webhooks.c.id == hook_id)).first()
    return None if row is None else to_hook(row)


def hook_page(conn: Connection, *, after_id: int | None, limit: int) -> list[Hook]:
    query = _HOOKS
    if after_id is not None:
        query = query.where(webhooks.c.id > after_id)
    return [to_hook(r) for r in conn.execute(query.order_by(webhooks.c.id).limit(limit))]


def update_hook(conn: Connection, hook_id: int, values: dict[str, Any]) -> None:
    conn.execute(sa.update(webhooks).where(webhooks.c.id == hook_id).values(**values))


def delete_hook(conn: Connection, hook_id: int) -> None:
    conn.execute(sa.delete(webhook_deliveries).where(webhook_deliveries.c.hook_id == hook_id))
    conn.execute(sa.delete(webhooks).where(webhooks.c.id == hook_id))


def purge_prompt(conn: Connection, prompt_id: int) -> None:
    """A purged prompt's own hooks go with it (global hooks keep their deliveries)."""
    ids = sa.select(webhooks.c.id).where(webhooks.c.prompt_id == prompt_id)
    conn.execute(sa.delete(webhook_deliveries).where(webhook_deliveries.c.hook_id.in_(ids)))
    conn.execute(sa.delete(webhooks).where(webhooks.c.prompt_id == prompt_id))


# --- deliveries ----------------------------------------------------------------------------


def to_delivery(row: Row[Any]) -> Delivery:
    m = row._mapping
    return Delivery(
        id=int(m["id"]),
        uid=m["uid"],
        hook_id=int(m["hook_id"]),
        event_id=m["event_id"],
        kind=m["kind"],
        status=m["status"],
        attempts=int(m["attempts"]),
        created_at=m["created_at"],
        next_attempt_at=m["next_attempt_at"],
        finished_at=m["finished_at"],
        last_attempt_at=m["last_attempt_at"],
        last_status_code=m["last_status_code"],
        last_error=m["last_error"],
        last_duration_ms=m["last_duration_ms"],
    )


_LOG_COLUMNS = [c for c in webhook_deliveries.c if c.name not in ("body", "claimed_by")]


def delivery_page(
    conn: Connection, hook_id: int, *, before_id: int | None, limit: int, status: str | None
) -> list[Delivery]:
    """The hook's deliveries, newest first."""
    query = sa.select(*_LOG_COLUMNS).where(webhook_deliveries.c.hook_id == hook_id)
    if before_id is not None:
        query = query.where(webhook_deliveries.c.id < before_id)
    if status is not None:
        query = query.where(webhook_deliveries.c.status == status)
    rows = conn.execute(query.order_by(webhook_deliveries.c.id.desc()).limit(limit))
    return [to_delivery(r) for r in rows]


def delivery(conn: Connection, delivery_id: int) -> Delivery | None:
    row = conn.execute(
        sa.select(*_LOG_COLUMNS).where(webhook_deliveries.c.id == delivery_id)
    ).first()
    return None if row is None else to_delivery(row)


def claim(
    conn: Connection,
    *,
    now: datetime,
    until: datetime,
    token: str,
    limit: int,
    hook_id: int | None = None,
) -> list[Outgoing]:
    """Take due deliveries for ``token`` until ``until``: at most ``limit``, and at most one
    per hook, of hooks that have none out (its oldest due one), so that a receiver that
    hangs holds one delivery of its own and nothing of the others'.

    One UPDATE whose WHERE re-checks that the lease is free: on SQLite the write lock
    serializes claims; on PostgreSQL the chosen rows are locked ``FOR UPDATE SKIP LOCKED`` (a
    second process skips them and, each hook's candidate being its oldest due delivery,
    takes nothing of that hook) and READ COMMITTED re-checks the lease on the locked row.
    So a delivery is out with one process at a time; a process that dies mid-send loses its
    lease at ``until`` and another takes the delivery. ``hook_id``: that hook's only."""
    d = webhook_deliveries
    free = sa.or_(d.c.claimed_until.is_(None), d.c.claimed_until < now)
    out = sa.select(d.c.hook_id).where(d.c.status == PENDING, d.c.claimed_until >= now)
    oldest_due = (
        sa.select(sa.func.min(d.c.id))
        .select_from(d.join(webhooks, webhooks.c.id == d.c.hook_id))
        .where(
            d.c.status == PENDING,
            d.c.next_attempt_at <= now,
            free,
            webhooks.c.enabled,
            d.c.hook_id.not_in(out),
            *([d.c.hook_id == hook_id] if hook_id is not None else []),
        )
        .group_by(d.c.hook_id)
        .order_by(sa.func.min(d.c.next_attempt_at), sa.func.min(d.c.id))
        .limit(limit)
    )
    chosen = (
        sa.select(d.c.id)
        .where(d.c.id.in_(oldest_due.scalar_subquery()), free)
        .with_for_update(skip_locked=True)
    )
    claimed = conn.execute(
        sa.update(d)
        .where(d.c.id.in_(chosen.scalar_subquery()), free)
        .values(claimed_until=until, claimed_by=token)
        .returning(d.c.id)
    ).all()
    if not claimed:
        return []
    rows = conn.execute(
        sa.select(
            d.c.id,
            d.c.uid,
            d.c.hook_id,
            d.c.kind,
            d.c.body,
            d.c.attempts,
            d.c.created_at,
            webhooks.c.url,
            webhooks.c.secret,
        )
        .select_from(d.join(webhooks, webhooks.c.id == d.c.hook_id))
        .where(d.c.id.in_([r.id for r in claimed]))
        .order_by(d.c.id)
    )
    return [
        Outgoing(
            id=int(r.id),
            uid=r.uid,
            hook_id=int(r.hook_id),
            kind=r.kind,
            url=r.url,
            secret=r.secret,
            body=r.body.encode(),
            claim=token,
            attempts=int(r.attempts),
            created_at=r.created_at,
        )
        for r in rows
    ]


def finish_attempt(conn: Connection, delivery_id: int, token: str, values: dict[str, Any]) -> bool:
    """Record an attempt, if the claim is still ours (False: the lease ran out and another
    process took the delivery; its record wins)."""
    d = webhook_deliveries
    result = conn.execute(
        sa.update(d)
        .where(d.c.id == delivery_id, d.c.claimed_by == token)
        .values(claimed_until=None, claimed_by=None, **values)
    )
    return bool(result.rowcount)


def delete_finished_before(conn: Connection, before: datetime) -> int:
    """The log's old entries: delivered or failed before ``before``."""
    d = webhook_deliveries
    result = conn.execute(sa.delete(d).where(d.c.status != PENDING, d.c.finished_at < before))
    return int(result.rowcount or 0)

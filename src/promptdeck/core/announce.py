"""Webhook deliveries queued with the events that cause them, in the same transaction: a
write that commits has its deliveries in the database (they survive a restart), one that
rolls back has none. Called by ``Tx.flush``; the sending is the server's
(server/webhooks.py)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from promptdeck.domain import webhooks as rules
from promptdeck.domain.refs import EventKind
from promptdeck.store import webhooks as store
from promptdeck.store.records import HookMatch


def hooks_for(conn: Connection, events: list[dict[str, Any]]) -> list[HookMatch]:
    """The enabled hooks that may want these events: one small read per write."""
    return store.matching_hooks(conn, {int(e["prompt_id"]) for e in events})


def _announced(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events as hooks hear them. A creation that archived a version by retention says
    so in its own row (``detail.archived``, see store/queries.py RETENTION_MERGED) rather
    than in a ``version.archived`` row; hooks still hear a ``version.archived`` for it, with
    the creation's event id."""
    out: list[dict[str, Any]] = []
    for event in events:
        out.append(event)
        detail = event.get("detail") or {}
        if event["kind"] != EventKind.VERSION_CREATED or not detail.get("archived"):
            continue
        for archived in detail["archived"]:
            out.append(
                {
                    **event,
                    "kind": EventKind.VERSION_ARCHIVED,
                    "version_id": archived["version_id"],
                    "from_version_id": None,
                    "detail": {k: v for k, v in archived.items() if k != "version_id"},
                    "announce": None,  # the creation's, not the archive's
                }
            )
    return out


def enqueue(
    conn: Connection, hooks: list[HookMatch], events: list[dict[str, Any]], now: datetime
) -> int:
    """One delivery per (event, hook that wants it); ``events`` carry their ``id``."""
    wanted = [
        (event, hook)
        for event in _announced(events)
        for hook in hooks
        if (hook.prompt_id is None or hook.prompt_id == event["prompt_id"])
        and rules.wants(hook.events, event["kind"])
    ]
    if not wanted:
        return 0
    names = store.prompt_names(conn, {int(e["prompt_id"]) for e, _ in wanted})
    rows = []
    for event, hook in wanted:
        uid = str(uuid.uuid4())
        rows.append(
            {
                "uid": uid,
                "hook_id": hook.id,
                "event_id": event["id"],
                "kind": event["kind"],
                "body": rules.payload(uid, event, names.get(event["prompt_id"])).decode(),
                "status": store.PENDING,
                "attempts": 0,
                "created_at": now,
                "next_attempt_at": now,
            }
        )
    store.insert_deliveries(conn, rows)
    return len(rows)

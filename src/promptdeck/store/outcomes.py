"""Queries of outcomes: adding to the per-minute aggregates and the latency sketch, reading
them back summed over versions, periods and time buckets, raw outcomes and alert rules.

The adds are ``INSERT … ON CONFLICT … DO UPDATE SET x = x + excluded.x`` (the same text on
SQLite and PostgreSQL): no read-modify-write, so concurrent processes merge in the
database. Rows are sent in key order, so two PostgreSQL transactions that touch the same
rows lock them in the same order and cannot deadlock."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from promptdeck.domain.impact import FIELDS, AlertRule, Sums
from promptdeck.store.tables import (
    events,
    impact_alerts,
    label_moves,
    outcome_latency,
    outcome_minutes,
    outcomes,
    versions,
)

_ADD_MINUTE = sa.text(
    "INSERT INTO outcome_minutes (version_id, minute, prompt_id, "
    + ", ".join(FIELDS)
    + ") VALUES (:version_id, :minute, :prompt_id, "
    + ", ".join(f":{f}" for f in FIELDS)
    + ") ON CONFLICT (version_id, minute) DO UPDATE SET "
    + ", ".join(f"{f} = outcome_minutes.{f} + excluded.{f}" for f in FIELDS)
)

_ADD_LATENCY = sa.text(
    "INSERT INTO outcome_latency (version_id, minute, bucket, count) "
    "VALUES (:version_id, :minute, :bucket, :count) "
    "ON CONFLICT (version_id, minute, bucket) DO UPDATE SET "
    "count = outcome_latency.count + excluded.count"
)


def add_minutes(conn: Connection, rows: dict[tuple[int, int], tuple[int, Sums]]) -> None:
    """Add ``{(version_id, minute): (prompt_id, sums)}`` to the aggregates."""
    params = [
        {
            "version_id": version_id,
            "minute": minute,
            "prompt_id": prompt_id,
            **{f: getattr(sums, f) for f in FIELDS},
        }
        for (version_id, minute), (prompt_id, sums) in sorted(rows.items())
    ]
    if params:
        conn.execute(_ADD_MINUTE, params)


def add_latency(conn: Connection, buckets: dict[tuple[int, int, int], int]) -> None:
    """Add ``{(version_id, minute, bucket): count}`` to the sketch."""
    params = [
        {"version_id": v, "minute": m, "bucket": b, "count": c}
        for (v, m, b), c in sorted(buckets.items())
    ]
    if params:
        conn.execute(_ADD_LATENCY, params)


def insert_raw(conn: Connection, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(sa.insert(outcomes), rows)


def prune_raw(conn: Connection, before: datetime) -> int:
    return int(conn.execute(sa.delete(outcomes).where(outcomes.c.at < before)).rowcount or 0)


def raw_count(conn: Connection, version_id: int) -> int:
    query = sa.select(sa.func.count()).where(outcomes.c.version_id == version_id)
    return int(conn.execute(query).scalar_one())


def owners(conn: Connection, version_ids: Iterable[int]) -> dict[int, int]:
    """``{version_id: prompt_id}`` of the versions that exist."""
    ids = sorted(set(version_ids))
    if not ids:
        return {}
    query = sa.select(versions.c.id, versions.c.prompt_id).where(versions.c.id.in_(ids))
    return {int(r.id): int(r.prompt_id) for r in conn.execute(query)}


# --- reads -----------------------------------------------------------------------------


_FLOATS = frozenset(f for f in FIELDS if isinstance(getattr(Sums(), f), float))


def _sums_of(row: Any) -> Sums:
    """PostgreSQL sums bigints as numeric (Decimal): back to int and float."""
    m = row._mapping
    sums = Sums()
    for f in FIELDS:
        setattr(sums, f, (float if f in _FLOATS else int)(m[f] or 0))
    return sums


def _summed() -> list[Any]:
    return [sa.func.sum(outcome_minutes.c[f]).label(f) for f in FIELDS]


def _in_range(column: Any, since: int | None, until: int | None) -> list[Any]:
    where = []
    if since is not None:
        where.append(column >= since)
    if until is not None:
        where.append(column <= until)
    return where


def sums_by_version(
    conn: Connection, prompt_id: int, since: int | None, until: int | None
) -> dict[int, Sums]:
    """Each version's sums over minutes ``since..until`` (inclusive; None: open)."""
    query = (
        sa.select(outcome_minutes.c.version_id, *_summed())
        .where(outcome_minutes.c.prompt_id == prompt_id)
        .where(*_in_range(outcome_minutes.c.minute, since, until))
        .group_by(outcome_minutes.c.version_id)
    )
    return {int(r.version_id): _sums_of(r) for r in conn.execute(query)}


def sums_of_version(
    conn: Connection, version_id: int, since: int | None, until: int | None
) -> Sums:
    query = (
        sa.select(*_summed())
        .where(outcome_minutes.c.version_id == version_id)
        .where(*_in_range(outcome_minutes.c.minute, since, until))
    )
    return _sums_of(conn.execute(query).one())


def sketches(
    conn: Connection, version_ids: Sequence[int], since: int | None, until: int | None
) -> dict[int, list[tuple[int, int]]]:
    """Each version's merged latency sketch over the minutes."""
    if not version_ids:
        return {}
    query = (
        sa.select(
            outcome_latency.c.version_id,
            outcome_latency.c.bucket,
            sa.func.sum(outcome_latency.c.count).label("n"),
        )
        .where(outcome_latency.c.version_id.in_(sorted(set(version_ids))))
        .where(*_in_range(outcome_latency.c.minute, since, until))
        .group_by(outcome_latency.c.version_id, outcome_latency.c.bucket)
    )
    found: dict[int, list[tuple[int, int]]] = {}
    for r in conn.execute(query):
        found.setdefault(int(r.version_id), []).append((int(r.bucket), int(r.n)))
    return found


def series(
    conn: Connection, prompt_id: int, since: int, until: int, width: int
) -> list[tuple[int, int, Sums]]:
    """(bucket start minute, version_id, sums) over buckets of ``width`` minutes."""
    start = outcome_minutes.c.minute - since
    bucket = (start // width).label("b") if width > 1 else start.label("b")
    query = (
        sa.select(bucket, outcome_minutes.c.version_id, *_summed())
        .where(outcome_minutes.c.prompt_id == prompt_id)
        .where(*_in_range(outcome_minutes.c.minute, since, until))
        .group_by(sa.literal_column("b"), outcome_minutes.c.version_id)
        .order_by(sa.literal_column("b"))
    )
    return [(since + int(r.b) * width, int(r.version_id), _sums_of(r)) for r in conn.execute(query)]


def minute_bounds(conn: Connection, prompt_id: int) -> tuple[int | None, int | None]:
    query = sa.select(
        sa.func.min(outcome_minutes.c.minute), sa.func.max(outcome_minutes.c.minute)
    ).where(outcome_minutes.c.prompt_id == prompt_id)
    low, high = conn.execute(query).one()
    return (None if low is None else int(low), None if high is None else int(high))


@dataclass(frozen=True, slots=True)
class MoveMark:
    id: int
    label: str
    from_version_id: int | None
    to_version_id: int | None
    actor: str
    reason: str
    created_at: datetime


def moves(
    conn: Connection, prompt_id: int, label: str | None, limit: int, before: datetime | None
) -> list[MoveMark]:
    """The newest ``limit`` moves (of ``label``, or of every label), oldest first."""
    query = sa.select(label_moves).where(label_moves.c.prompt_id == prompt_id)
    if label is not None:
        query = query.where(label_moves.c.label == label)
    if before is not None:
        query = query.where(label_moves.c.created_at <= before)
    query = query.order_by(label_moves.c.id.desc()).limit(limit)
    rows = [
        MoveMark(
            int(r.id),
            r.label,
            r.from_version_id,
            r.to_version_id,
            r.actor,
            r.reason,
            r.created_at,
        )
        for r in conn.execute(query)
    ]
    return rows[::-1]


def move_events(
    conn: Connection, prompt_id: int, kinds: Sequence[str], limit: int
) -> list[tuple[datetime, str, int | None, int | None, dict[str, Any]]]:
    """(time, kind, version_id, from_version_id, detail) of the prompt's newest events of
    ``kinds``, oldest first."""
    query = (
        sa.select(
            events.c.created_at,
            events.c.kind,
            events.c.version_id,
            events.c.from_version_id,
            events.c.detail,
        )
        .where(events.c.prompt_id == prompt_id, events.c.kind.in_(list(kinds)))
        .order_by(events.c.id.desc())
        .limit(limit)
    )
    return [
        (
            r.created_at,
            r.kind,
            r.version_id,
            r.from_version_id,
            dict(r.detail or {}),
        )
        for r in conn.execute(query)
    ][::-1]


def version_names(conn: Connection, version_ids: Iterable[int]) -> dict[int, tuple[int, str]]:
    ids = sorted(set(version_ids))
    if not ids:
        return {}
    query = sa.select(versions.c.id, versions.c.number, versions.c.version_name).where(
        versions.c.id.in_(ids)
    )
    return {int(r.id): (int(r.number), r.version_name) for r in conn.execute(query)}


def previous_version_id(conn: Connection, prompt_id: int, number: int) -> int | None:
    query = (
        sa.select(versions.c.id)
        .where(versions.c.prompt_id == prompt_id, versions.c.number < number)
        .order_by(versions.c.number.desc())
        .limit(1)
    )
    found = conn.execute(query).scalar()
    return None if found is None else int(found)


# --- alerts ----------------------------------------------------------------------------


def alert_rules(conn: Connection, prompt_ids: Iterable[int]) -> dict[int, list[AlertRule]]:
    ids = sorted(set(prompt_ids))
    if not ids:
        return {}
    query = sa.select(impact_alerts).where(impact_alerts.c.prompt_id.in_(ids))
    found: dict[int, list[AlertRule]] = {}
    for r in conn.execute(query.order_by(impact_alerts.c.label)):
        found.setdefault(int(r.prompt_id), []).append(
            AlertRule(r.label, float(r.min_success), int(r.window_minutes), int(r.min_count))
        )
    return found


def set_alert(conn: Connection, prompt_id: int, rule: AlertRule, now: datetime, actor: str) -> None:
    values = {
        "min_success": rule.min_success,
        "window_minutes": rule.window_minutes,
        "min_count": rule.min_count,
        "created_at": now,
        "created_by": actor,
    }
    updated = conn.execute(
        sa.update(impact_alerts)
        .where(impact_alerts.c.prompt_id == prompt_id, impact_alerts.c.label == rule.label)
        .values(**values)
    ).rowcount
    if not updated:
        conn.execute(
            sa.insert(impact_alerts).values(prompt_id=prompt_id, label=rule.label, **values)
        )


def delete_alert(conn: Connection, prompt_id: int, label: str) -> bool:
    query = sa.delete(impact_alerts).where(
        impact_alerts.c.prompt_id == prompt_id, impact_alerts.c.label == label
    )
    return bool(conn.execute(query).rowcount)


def claim_alert(conn: Connection, prompt_id: int, label: str, move_id: int) -> bool:
    """Mark the alert fired for ``move_id``; False if it already fired for it (or later)."""
    query = (
        sa.update(impact_alerts)
        .where(impact_alerts.c.prompt_id == prompt_id, impact_alerts.c.label == label)
        .where(
            sa.or_(impact_alerts.c.fired_move_id.is_(None), impact_alerts.c.fired_move_id < move_id)
        )
        .values(fired_move_id=move_id)
    )
    return bool(conn.execute(query).rowcount)

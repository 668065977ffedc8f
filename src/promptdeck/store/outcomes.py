"""Queries of outcomes: adding to the per-minute aggregates and the latency sketch, reading
them back summed over versions, periods and time buckets, raw outcomes and alert rules.

The adds are ``store/upsert.py``'s ``INSERT … ON CONFLICT … DO UPDATE SET x = x +
excluded.x``: no read-modify-write, so concurrent processes merge in the database. Rows are
sent in key order, so two PostgreSQL transactions that touch the same rows lock them in the
same order and cannot deadlock."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from promptdeck.domain.impact import FIELDS, AlertRule, RawOutcome, Sums, segments
from promptdeck.store.tables import (
    events,
    impact_alerts,
    label_moves,
    outcome_latency,
    outcome_minutes,
    outcomes,
    versions,
)
from promptdeck.store.upsert import add, adder, unnest_insert

_ADD_MINUTE = adder(outcome_minutes, ("version_id", "span", "minute"), FIELDS)
_ADD_LATENCY = adder(outcome_latency, ("version_id", "span", "minute", "bucket"), ("count",))


def add_minutes(conn: Connection, rows: dict[tuple[int, int, int], tuple[int, Sums]]) -> None:
    """Add ``{(version_id, span, minute): (prompt_id, sums)}`` to the aggregates."""
    add(
        conn,
        _ADD_MINUTE,
        [
            {
                "version_id": version_id,
                "span": span,
                "minute": minute,
                "prompt_id": prompt_id,
                **{f: getattr(sums, f) for f in FIELDS},
            }
            for (version_id, span, minute), (prompt_id, sums) in sorted(rows.items())
        ],
    )


def add_latency(conn: Connection, buckets: dict[tuple[int, int, int, int], int]) -> None:
    """Add ``{(version_id, span, minute, bucket): count}`` to the sketch."""
    add(
        conn,
        _ADD_LATENCY,
        [
            {"version_id": v, "span": span, "minute": m, "bucket": b, "count": c}
            for (v, span, m, b), c in sorted(buckets.items())
        ],
    )


_RAW_COLUMNS = [c.name for c in outcomes.columns if c.name != "id"]
_INSERT_RAW_PG = sa.text(unnest_insert(outcomes, _RAW_COLUMNS))


def insert_raw(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Keep raw outcomes. PostgreSQL: one statement over ``unnest`` (1,000 rows: 16.5 ms as
    ``executemany``); the times must be aware (``timestamptz``), as everywhere."""
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        conn.execute(sa.insert(outcomes), rows)
        return
    arrays: dict[str, list[Any]] = {c: [r[c] for r in rows] for c in _RAW_COLUMNS}
    if any(at.tzinfo is None for at in arrays["at"]):
        raise ValueError("naive datetime given to a UTC column")
    arrays["tags"] = [json.dumps(t, ensure_ascii=False) for t in arrays["tags"]]
    conn.execute(_INSERT_RAW_PG, arrays)


def prune_raw(conn: Connection, before: datetime) -> int:
    return int(conn.execute(sa.delete(outcomes).where(outcomes.c.at < before)).rowcount or 0)


def raw_count(conn: Connection, version_id: int) -> int:
    query = sa.select(sa.func.count()).where(outcomes.c.version_id == version_id)
    return int(conn.execute(query).scalar_one())


def owners(conn: Connection, version_ids: Iterable[int], *, live: bool = False) -> dict[int, int]:
    """``{version_id: prompt_id}`` of the versions that exist (``live``: and are not purged)."""
    ids = sorted(set(version_ids))
    if not ids:
        return {}
    query = sa.select(versions.c.id, versions.c.prompt_id).where(versions.c.id.in_(ids))
    if live:
        query = query.where(versions.c.purged_at.is_(None))
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


CHUNK = 200  # SELECTs in one UNION ALL (SQLite allows 500)


def _run(conn: Connection, selects: list[Any]) -> list[Any]:
    rows: list[Any] = []
    for i in range(0, len(selects), CHUNK):
        part = selects[i : i + CHUNK]
        statement: Any = part[0] if len(part) == 1 else sa.union_all(*part)
        rows.extend(conn.execute(statement))
    return rows


# Every SELECT below names one version (or prompt), one span and a range of block starts:
# one range of an index, so a question reads the blocks it needs and nothing else
# (a month is ~30 day rows a version, not 43,200 minute rows).


def sums_by_version(
    conn: Connection, prompt_id: int, since: int | None, until: int | None
) -> dict[int, Sums]:
    """Each version's sums over minutes ``since..until`` (inclusive; None: open)."""
    m = outcome_minutes.c
    selects = [
        sa.select(m.version_id, *_summed())
        .where(m.prompt_id == prompt_id, m.span == span, m.minute.between(first, last))
        .group_by(m.version_id)
        for span, first, last in segments(since, until)
    ]
    found: dict[int, Sums] = {}
    for r in _run(conn, selects):
        found.setdefault(int(r.version_id), Sums()).add(_sums_of(r))
    return found


ASKS_CHUNK = 500  # block ranges in one statement (5 parameters each)


def _asks(
    asks: Sequence[tuple[int, int, int | None, int | None]],
) -> list[tuple[str, dict[str, int]]]:
    """The block ranges of every ask (key, version_id, since, until) as a CTE ``p(k, v, s,
    a, b)`` of VALUES, in chunks, with their parameters: a statement joins it to the table
    on its primary key, so each range is one index range and the statement has one plan
    whatever the number of periods. (One SELECT per range in a UNION ALL planned slowly on
    PostgreSQL: 182 ms for 30 periods.)"""
    rows = [
        (key, version_id, span, first, last)
        for key, version_id, since, until in asks
        for span, first, last in segments(since, until)
    ]
    chunks = []
    for start in range(0, len(rows), ASKS_CHUNK):
        values, params = [], {}
        for n, row in enumerate(rows[start : start + ASKS_CHUNK]):
            names = [f"{c}{n}" for c in "kvsab"]
            if n == 0:  # the first row types the columns
                values.append("(" + ", ".join(f"CAST(:{x} AS BIGINT)" for x in names) + ")")
            else:
                values.append("(" + ", ".join(f":{x}" for x in names) + ")")
            params.update(dict(zip(names, row, strict=True)))
        chunks.append((f"p(k, v, s, a, b) AS (VALUES {', '.join(values)})", params))
    return chunks


def no_jit(conn: Connection) -> None:
    """PostgreSQL compiles a statement it estimates costly with LLVM (``jit_above_cost``):
    ~100 ms each for the impact statements, which then run in a few. Off for this
    transaction."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL jit = off")


def _join(conn: Connection, table: str, columns: str) -> str:
    """Rows of ``table`` in each range of ``p``, as ``t``. On PostgreSQL a LATERAL subquery,
    so each range is an index scan (a plain join of 150 ranges was hashed over the whole
    table: 400 ms); ``OFFSET 0`` keeps the planner from pulling the subquery up into that
    same plain join (it did, with 10 million outcomes: a parallel scan of 4 million sketch
    rows, ~190 ms a statement; with it, 4-12 ms). SQLite joins by nested loops over the
    primary key anyway."""
    where = "x.version_id = p.v AND x.span = p.s AND x.minute BETWEEN p.a AND p.b"
    if conn.dialect.name == "postgresql":
        return f"CROSS JOIN LATERAL (SELECT {columns} FROM {table} x WHERE {where} OFFSET 0) t"
    return f"JOIN {table} t ON {where.replace('x.', 't.')}"


_SUMMED_TEXT = ", ".join(f"SUM(t.{f}) AS {f}" for f in FIELDS)


def sums_many(
    conn: Connection, asks: Sequence[tuple[int, int, int | None, int | None]]
) -> dict[int, Sums]:
    """``{key: sums}`` for each ask (key, version_id, since, until), in few statements."""
    found: dict[int, Sums] = {key: Sums() for key, *_ in asks}
    for cte, params in _asks(asks):
        join = _join(conn, "outcome_minutes", ", ".join(f"x.{f}" for f in FIELDS))
        sql = f"WITH {cte} SELECT p.k AS k, {_SUMMED_TEXT} FROM p {join} GROUP BY p.k"
        for r in conn.execute(sa.text(sql), params):
            found[int(r.k)].add(_sums_of(r))
    return found


def sums_of_version(
    conn: Connection, version_id: int, since: int | None, until: int | None
) -> Sums:
    return sums_many(conn, [(0, version_id, since, until)])[0]


def quantile_buckets(
    conn: Connection,
    asks: Sequence[tuple[int, int, int | None, int | None]],
    quantiles: Sequence[float] = (0.5, 0.95),
) -> dict[int, list[int | None]]:
    """``{key: [bucket of each quantile]}`` of each ask's merged latency sketch (key,
    version_id, since, until); None without latencies. The sketch is merged and ranked in
    SQL (window sums), as ``domain.impact.quantile`` ranks it: the bucket whose running count
    first exceeds ``q * (n - 1)``; only those buckets come back (a month of one-day periods
    merges ~30,000 bucket rows; fetching them all cost more than the query)."""
    found: dict[int, list[int | None]] = {key: [None] * len(quantiles) for key, *_ in asks}
    ranks = " OR ".join(
        f"(upto - n <= :q{i} * (total - 1) AND upto > :q{i} * (total - 1))"
        for i in range(len(quantiles))
    )
    for cte, params in _asks(asks):
        join = _join(conn, "outcome_latency", "x.bucket, x.count")
        sql = (
            f"WITH {cte}, g AS (SELECT p.k AS k, t.bucket AS bucket, SUM(t.count) AS n "
            f"FROM p {join} GROUP BY p.k, t.bucket), "
            "c AS (SELECT k, bucket, n, SUM(n) OVER (PARTITION BY k ORDER BY bucket "
            "ROWS UNBOUNDED PRECEDING) AS upto, SUM(n) OVER (PARTITION BY k) AS total FROM g) "
            f"SELECT k, bucket, upto - n AS below, upto, total FROM c WHERE {ranks}"
        )
        bound = {**params, **{f"q{i}": float(q) for i, q in enumerate(quantiles)}}
        for k, bucket, below, upto, total in conn.execute(sa.text(sql), bound):
            for i, q in enumerate(quantiles):
                rank = q * (float(total) - 1)
                if float(below) <= rank < float(upto):
                    found[k][i] = int(bucket)
    return found


def series(
    conn: Connection, prompt_id: int, since: int, until: int, width: int, span: int
) -> list[tuple[int, int, Sums]]:
    """(bucket start minute, version_id, sums) over buckets of ``width`` minutes, from the
    rows of ``span`` (``since`` aligned to it, ``width`` a multiple of it)."""
    start = outcome_minutes.c.minute - since
    bucket = (start // width).label("b") if width > 1 else start.label("b")
    query = (
        sa.select(bucket, outcome_minutes.c.version_id, *_summed())
        .where(outcome_minutes.c.prompt_id == prompt_id, outcome_minutes.c.span == span)
        .where(outcome_minutes.c.minute.between(since, until))
        .group_by(sa.literal_column("b"), outcome_minutes.c.version_id)
        .order_by(sa.literal_column("b"))
    )
    return [(since + int(r.b) * width, int(r.version_id), _sums_of(r)) for r in conn.execute(query)]


def minute_bounds(conn: Connection, prompt_id: int) -> tuple[int | None, int | None]:
    """The first and last minute with outcomes: two queries, since SQLite answers a lone
    min() or max() from the index but scans for both at once (5.6 ms with 43,200 minutes)."""
    m = outcome_minutes.c
    where = (m.prompt_id == prompt_id, m.span == 1)
    low = conn.execute(sa.select(sa.func.min(m.minute)).where(*where)).scalar()
    high = conn.execute(sa.select(sa.func.max(m.minute)).where(*where)).scalar()
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
    query = sa.select(label_moves).where(
        label_moves.c.prompt_id == prompt_id, label_moves.c.kind.is_(None)
    )
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
            AlertRule(
                r.label,
                float(r.min_success),
                int(r.window_minutes),
                int(r.min_count),
                created_at=r.created_at,
                created_by=r.created_by,
            )
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


def purge_prompt(conn: Connection, prompt_id: int) -> None:
    """Everything outcomes left of a prompt being purged (before its versions go)."""
    conn.execute(sa.delete(impact_alerts).where(impact_alerts.c.prompt_id == prompt_id))
    conn.execute(sa.delete(outcomes).where(outcomes.c.prompt_id == prompt_id))
    ids = sa.select(versions.c.id).where(versions.c.prompt_id == prompt_id).scalar_subquery()
    conn.execute(sa.delete(outcome_latency).where(outcome_latency.c.version_id.in_(ids)))
    conn.execute(sa.delete(outcome_minutes).where(outcome_minutes.c.prompt_id == prompt_id))


# --- raw outcomes, read back -------------------------------------------------------------


def raw_page(
    conn: Connection,
    prompt_id: int,
    *,
    version_id: int | None,
    since: datetime,
    until: datetime | None,
    before: tuple[datetime, int] | None,
    limit: int,
) -> list[RawOutcome]:
    """The prompt's (or one of its versions') raw outcomes at ``since`` or after and before
    ``until``, newest first by (at, id), after the keyset ``before``. One index range: the
    version's ``(version_id, at)`` or the prompt's ``(prompt_id, at, id)`` (migration 0012)."""
    o = outcomes.c
    query = sa.select(outcomes).where(o.at >= since)
    if version_id is not None:  # the caller checked that it is the prompt's
        query = query.where(o.version_id == version_id)
    else:
        query = query.where(o.prompt_id == prompt_id)
    if until is not None:
        query = query.where(o.at < until)
    if before is not None:
        query = query.where(sa.tuple_(o.at, o.id) < sa.tuple_(*_typed(before)))
    query = query.order_by(o.at.desc(), o.id.desc()).limit(limit)
    return [
        RawOutcome(
            id=int(r.id),
            version_id=int(r.version_id),
            at=r.at,
            success=r.success,
            score=r.score,
            latency_ms=r.latency_ms,
            input_tokens=r.input_tokens,
            output_tokens=r.output_tokens,
            cost=r.cost,
            feedback=r.feedback,
            tags=dict(r.tags or {}),
        )
        for r in conn.execute(query)
    ]


def _typed(before: tuple[datetime, int]) -> tuple[Any, Any]:
    at, row_id = before
    return sa.literal(at, outcomes.c.at.type), sa.literal(row_id, outcomes.c.id.type)

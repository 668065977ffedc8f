"""Queries of rollouts (revision 0020): the rollout rows, their arms' sums, the periodic
check's lease.

A live rollout is one whose status is running or paused; the partial unique index
``uq_rollouts_live`` holds at most one per (prompt, label). Queries that look for live
rollouts say ``LIVE`` in the same words as the index, so both databases can use it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, Row

from promptdeck.domain.impact import segments
from promptdeck.domain.rollouts.guard import ArmSums
from promptdeck.store.tables import LIVE_ROLLOUT, outcome_latency, rollout_arms, rollouts
from promptdeck.store.upsert import add, adder

LIVE = sa.text(LIVE_ROLLOUT)
ARM_FIELDS = (
    "count",
    "success_n",
    "success_true",
    "score_n",
    "score_sum",
    "score_sq",
    "latency_n",
    "tail_n",
    "tail_over",
)
_FLOATS = frozenset(("score_sum", "score_sq"))


@dataclass(frozen=True, slots=True)
class RolloutRow:
    id: int
    prompt_id: int
    label: str
    baseline_version_id: int
    candidate_version_id: int
    salt: str
    plan: dict[str, Any]
    status: str
    step: int
    basis_points: int
    started_at: datetime
    started_by: str
    step_started_at: datetime
    ended_at: datetime | None
    cutoffs: dict[str, Any] | None
    decision: dict[str, Any] | None
    check_after: datetime | None

    @classmethod
    def of(cls, row: Row[Any]) -> RolloutRow:
        m = row._mapping
        return cls(**{name: m[name] for name in cls.__slots__})


@dataclass(frozen=True, slots=True)
class ArmRow:
    """One arm's sums in one step, and the latencies it saw (toward the freeze)."""

    step: int
    arm: str  # baseline, candidate
    sums: ArmSums
    latency_n: int


def _one(conn: Connection, query: Any) -> RolloutRow | None:
    row = conn.execute(query).first()
    return None if row is None else RolloutRow.of(row)


def _locked(conn: Connection, query: Any, for_update: bool) -> Any:
    # SQLite has no FOR UPDATE: its write transaction (BEGIN IMMEDIATE) holds the lock.
    return query.with_for_update() if for_update and conn.dialect.name != "sqlite" else query


def insert(conn: Connection, values: dict[str, Any]) -> int:
    """A new rollout; IntegrityError (``uq_rollouts_live``) when its label runs one."""
    return int(
        conn.execute(sa.insert(rollouts).values(**values).returning(rollouts.c.id)).scalar_one()
    )


def live(
    conn: Connection, prompt_id: int, label: str, *, for_update: bool = False
) -> RolloutRow | None:
    """The label's running or paused rollout."""
    query = sa.select(rollouts).where(
        rollouts.c.prompt_id == prompt_id, rollouts.c.label == label, LIVE
    )
    return _one(conn, _locked(conn, query, for_update))


def latest(conn: Connection, prompt_id: int, label: str) -> RolloutRow | None:
    """The label's newest rollout, live or ended."""
    query = (
        sa.select(rollouts)
        .where(rollouts.c.prompt_id == prompt_id, rollouts.c.label == label)
        .order_by(rollouts.c.id.desc())
        .limit(1)
    )
    return _one(conn, query)


def by_id(conn: Connection, rollout_id: int, *, for_update: bool = False) -> RolloutRow | None:
    query = sa.select(rollouts).where(rollouts.c.id == rollout_id)
    return _one(conn, _locked(conn, query, for_update))


def live_of_prompts(conn: Connection, prompt_ids: Iterable[int]) -> list[RolloutRow]:
    """The live rollouts of these prompts (a handful: one per label at most)."""
    ids = sorted(set(prompt_ids))
    if not ids:
        return []
    query = sa.select(rollouts).where(rollouts.c.prompt_id.in_(ids), LIVE).order_by(rollouts.c.id)
    return [RolloutRow.of(r) for r in conn.execute(query)]


def with_candidate(conn: Connection, prompt_id: int, version_id: int) -> RolloutRow | None:
    """The live rollout whose candidate is this version (archive and purge refuse it)."""
    query = sa.select(rollouts).where(
        rollouts.c.prompt_id == prompt_id,
        rollouts.c.candidate_version_id == version_id,
        LIVE,
    )
    return _one(conn, query.limit(1))


def steps(conn: Connection, prompt_id: int, before: int | None, limit: int) -> list[RolloutRow]:
    """The prompt's rollouts, newest first (the impact chart's marks, the UI)."""
    query = sa.select(rollouts).where(rollouts.c.prompt_id == prompt_id)
    if before is not None:
        query = query.where(rollouts.c.id < before)
    return [
        RolloutRow.of(r) for r in conn.execute(query.order_by(rollouts.c.id.desc()).limit(limit))
    ]


def update(
    conn: Connection, rollout_id: int, expect: tuple[str, int], values: dict[str, Any]
) -> bool:
    """Compare-and-set: write ``values`` only if the rollout is still at ``expect`` (status,
    step). False when another writer moved it first (then nothing is written)."""
    status, step = expect
    done = conn.execute(
        sa.update(rollouts)
        .where(rollouts.c.id == rollout_id, rollouts.c.status == status, rollouts.c.step == step)
        .values(**values)
    )
    return bool(done.rowcount)


def set_fields(conn: Connection, rollout_id: int, values: dict[str, Any]) -> None:
    """The guard's latest decision, the frozen thresholds (the caller holds the row)."""
    conn.execute(sa.update(rollouts).where(rollouts.c.id == rollout_id).values(**values))


def claim_due(conn: Connection, now: datetime, until: datetime, limit: int) -> list[int]:
    """Live rollouts whose periodic check is due, claimed until ``until`` so that one process
    checks each per period (PostgreSQL: ``FOR UPDATE SKIP LOCKED``, a row another process is
    claiming is left to it; SQLite: the write lock serializes claims)."""
    due = (
        sa.select(rollouts.c.id)
        .where(LIVE, sa.or_(rollouts.c.check_after.is_(None), rollouts.c.check_after <= now))
        .order_by(rollouts.c.id)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    ids = [int(i) for i in conn.execute(due).scalars()]
    if ids:
        conn.execute(sa.update(rollouts).where(rollouts.c.id.in_(ids)).values(check_after=until))
    return ids


def live_candidates(conn: Connection, prompt_id: int) -> set[int]:
    query = sa.select(rollouts.c.candidate_version_id).where(
        rollouts.c.prompt_id == prompt_id, LIVE
    )
    return {int(v) for v in conn.execute(query).scalars()}


def purge_prompt(conn: Connection, prompt_id: int) -> None:
    ids = sa.select(rollouts.c.id).where(rollouts.c.prompt_id == prompt_id)
    conn.execute(sa.delete(rollout_arms).where(rollout_arms.c.rollout_id.in_(ids)))
    conn.execute(sa.delete(rollouts).where(rollouts.c.prompt_id == prompt_id))


# --- the arms ------------------------------------------------------------------------------

_ADD_ARMS = adder(rollout_arms, ("rollout_id", "step", "arm"), ARM_FIELDS)


def add_arms(conn: Connection, rows: dict[tuple[int, int, str], dict[str, float]]) -> None:
    """Add ``{(rollout_id, step, arm): {field: amount}}`` to the arms (missing fields: 0)."""
    add(
        conn,
        _ADD_ARMS,
        [
            {
                "rollout_id": rollout_id,
                "step": step,
                "arm": arm,
                **{f: (float if f in _FLOATS else int)(sums.get(f, 0)) for f in ARM_FIELDS},
            }
            for (rollout_id, step, arm), sums in sorted(rows.items())
        ],
    )


def arms(conn: Connection, rollout_id: int) -> list[ArmRow]:
    query = (
        sa.select(rollout_arms)
        .where(rollout_arms.c.rollout_id == rollout_id)
        .order_by(rollout_arms.c.step, rollout_arms.c.arm)
    )
    found = []
    for r in conn.execute(query):
        m = r._mapping
        sums = ArmSums(
            count=int(m["count"]),
            success_n=int(m["success_n"]),
            success_true=int(m["success_true"]),
            score_n=int(m["score_n"]),
            score_sum=float(m["score_sum"]),
            score_sq=float(m["score_sq"]),
            tail_n=int(m["tail_n"]),
            tail_over=int(m["tail_over"]),
        )
        found.append(ArmRow(int(m["step"]), str(m["arm"]), sums, int(m["latency_n"])))
    return found


# --- the hot path (SQLite; PostgreSQL joins the same row in store/changes.py) ---------------


def serving(conn: Connection, prompt_id: int, label: str) -> tuple[int, int, int, str] | None:
    """(rollout id, candidate version id, basis points, salt) of the label's live rollout."""
    r = rollouts.c
    row = conn.execute(
        sa.select(r.id, r.candidate_version_id, r.basis_points, r.salt).where(
            r.prompt_id == prompt_id, r.label == label, LIVE
        )
    ).first()
    return None if row is None else (int(row[0]), int(row[1]), int(row[2]), str(row[3]))


def latency_rows(conn: Connection, version_id: int, since_minute: int) -> list[tuple[int, int]]:
    """The version's latency sketch since a minute: (bucket, count) rows, merged. The sketch
    is kept per version (store/outcomes.py), so this counts the version's latencies through
    every label (docs/rollouts.md, "What the guard cannot know")."""
    t = outcome_latency.c
    ranges = [
        sa.and_(t.span == span, t.minute.between(first, last))
        for span, first, last in segments(since_minute, None)
    ]
    query = (
        sa.select(t.bucket, sa.func.sum(t.count))
        .where(t.version_id == version_id, sa.or_(*ranges))
        .group_by(t.bucket)
    )
    return [(int(b), int(c)) for b, c in conn.execute(query)]

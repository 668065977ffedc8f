"""Queries of labels, their moves, protected labels and deploy requests (revision 0006).

The `active` label is ``prompts.active_version_id`` (``queries.set_active``); its moves are
logged in ``label_moves`` like every other label's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, Row

from promptdeck.limits import ID_MAX
from promptdeck.store.tables import (
    LIVE_ROLLOUT,
    deploy_requests,
    label_moves,
    labels,
    protected_labels,
    rollouts,
    versions,
)


@dataclass(frozen=True, slots=True)
class LabelRow:
    name: str
    version_id: int
    moved_at: datetime
    moved_by: str


@dataclass(frozen=True, slots=True)
class MoveRow:
    id: int
    prompt_id: int
    label: str
    from_version_id: int | None
    to_version_id: int | None
    actor: str
    reason: str
    created_at: datetime
    kind: str | None = None  # None: the pointer moved; else a rollout's change (rollout.…)

    @classmethod
    def of(cls, row: Row[Any]) -> MoveRow:
        m = row._mapping
        return cls(
            id=int(m["id"]),
            prompt_id=int(m["prompt_id"]),
            label=m["label"],
            from_version_id=m["from_version_id"],
            to_version_id=m["to_version_id"],
            actor=m["actor"],
            reason=m["reason"],
            created_at=m["created_at"],
            kind=m["kind"],
        )


@dataclass(frozen=True, slots=True)
class RequestRow:
    id: int
    prompt_id: int
    label: str
    version_id: int
    from_version_id: int | None
    base_move_id: int | None
    reason: str
    proposed_by: str
    created_at: datetime
    status: str
    decided_by: str | None
    decided_at: datetime | None
    decision_reason: str | None
    plan: dict[str, Any] | None  # a rollout plan: approving starts it (revision 0020)

    @classmethod
    def of(cls, row: Row[Any]) -> RequestRow:
        m = row._mapping
        return cls(**{name: m[name] for name in cls.__slots__})


def label_rows(conn: Connection, prompt_id: int) -> list[LabelRow]:
    rows = conn.execute(
        sa.select(labels.c.name, labels.c.version_id, labels.c.moved_at, labels.c.moved_by)
        .where(labels.c.prompt_id == prompt_id)
        .order_by(labels.c.name)
    )
    return [LabelRow(r.name, int(r.version_id), r.moved_at, r.moved_by) for r in rows]


def label_row(conn: Connection, prompt_id: int, name: str) -> LabelRow | None:
    r = conn.execute(
        sa.select(labels.c.name, labels.c.version_id, labels.c.moved_at, labels.c.moved_by).where(
            labels.c.prompt_id == prompt_id, labels.c.name == name
        )
    ).first()
    return None if r is None else LabelRow(r.name, int(r.version_id), r.moved_at, r.moved_by)


def labelled_version_ids(conn: Connection, prompt_id: int) -> set[int]:
    """The versions labels other than `active` point at, and the candidates of the prompt's
    live rollouts (a handful per prompt): what retention never archives."""
    query = sa.union(
        sa.select(labels.c.version_id).where(labels.c.prompt_id == prompt_id),
        sa.select(rollouts.c.candidate_version_id).where(
            rollouts.c.prompt_id == prompt_id, sa.text(LIVE_ROLLOUT)
        ),
    )
    return {int(v) for v in conn.execute(query).scalars()}


def labels_of_version(conn: Connection, prompt_id: int, version_id: int) -> list[str]:
    query = sa.select(labels.c.name).where(
        labels.c.prompt_id == prompt_id, labels.c.version_id == version_id
    )
    return sorted(conn.execute(query).scalars())


def set_label(
    conn: Connection, prompt_id: int, name: str, version_id: int, now: datetime, actor: str
) -> None:
    """Point the label at the version (the caller holds the prompt's lock)."""
    values = {"version_id": version_id, "moved_at": now, "moved_by": actor}
    updated = conn.execute(
        sa.update(labels)
        .where(labels.c.prompt_id == prompt_id, labels.c.name == name)
        .values(**values)
    ).rowcount
    if updated == 0:
        conn.execute(sa.insert(labels).values(prompt_id=prompt_id, name=name, **values))


def delete_label(conn: Connection, prompt_id: int, name: str) -> None:
    conn.execute(sa.delete(labels).where(labels.c.prompt_id == prompt_id, labels.c.name == name))


_LAST_MOVE = (
    sa.select(sa.func.max(label_moves.c.id))
    .where(label_moves.c.prompt_id == sa.bindparam("pid"))
    .where(label_moves.c.label == sa.bindparam("label"))
)


def last_move_id(conn: Connection, prompt_id: int, label: str) -> int:
    """The id of the label's last move (its revision), 0 if it never moved."""
    return int(conn.execute(_LAST_MOVE, {"pid": prompt_id, "label": label}).scalar() or 0)


def last_move(conn: Connection, prompt_id: int, label: str) -> MoveRow | None:
    """The label's last move of its pointer (a rollout's history rows move nothing)."""
    row = conn.execute(
        sa.select(label_moves)
        .where(label_moves.c.prompt_id == prompt_id, label_moves.c.label == label)
        .where(label_moves.c.kind.is_(None))
        .order_by(label_moves.c.id.desc())
        .limit(1)
    ).first()
    return None if row is None else MoveRow.of(row)


def insert_move(conn: Connection, values: dict[str, Any]) -> int:
    return int(
        conn.execute(
            sa.insert(label_moves).values(**values).returning(label_moves.c.id)
        ).scalar_one()
    )


def move_page(
    conn: Connection, prompt_id: int, label: str | None, *, before_id: int | None, limit: int
) -> list[MoveRow]:
    """Moves newest first: of one label, or of every label of the prompt (its deploys)."""
    query = sa.select(label_moves).where(label_moves.c.prompt_id == prompt_id)
    if label is not None:
        query = query.where(label_moves.c.label == label)
    if before_id is not None:
        query = query.where(label_moves.c.id < before_id)
    rows = conn.execute(query.order_by(label_moves.c.id.desc()).limit(limit))
    return [MoveRow.of(r) for r in rows]


def all_moves(conn: Connection, prompt_id: int) -> list[MoveRow]:
    rows = conn.execute(
        sa.select(label_moves)
        .where(label_moves.c.prompt_id == prompt_id)
        .order_by(label_moves.c.id)
    )
    return [MoveRow.of(r) for r in rows]


def protected(conn: Connection, prompt_id: int) -> set[str]:
    query = sa.select(protected_labels.c.label).where(protected_labels.c.prompt_id == prompt_id)
    return set(conn.execute(query).scalars())


def set_protected(conn: Connection, prompt_id: int, label: str, on: bool) -> bool:
    """Whether anything changed."""
    exists = label in protected(conn, prompt_id)
    if on and not exists:
        conn.execute(sa.insert(protected_labels).values(prompt_id=prompt_id, label=label))
    elif not on and exists:
        conn.execute(
            sa.delete(protected_labels).where(
                protected_labels.c.prompt_id == prompt_id, protected_labels.c.label == label
            )
        )
    return on != exists


def insert_request(conn: Connection, values: dict[str, Any]) -> int:
    query = sa.insert(deploy_requests).values(**values).returning(deploy_requests.c.id)
    return int(conn.execute(query).scalar_one())


def request_row(conn: Connection, prompt_id: int, request_id: int) -> RequestRow | None:
    if not 1 <= request_id <= ID_MAX:
        return None  # an id no 32-bit column holds names none (the database would refuse it)
    row = conn.execute(
        sa.select(deploy_requests).where(
            deploy_requests.c.prompt_id == prompt_id, deploy_requests.c.id == request_id
        )
    ).first()
    return None if row is None else RequestRow.of(row)


def request_page(
    conn: Connection, prompt_id: int, *, status: str | None, before_id: int | None, limit: int
) -> list[RequestRow]:
    query = sa.select(deploy_requests).where(deploy_requests.c.prompt_id == prompt_id)
    if status is not None:
        query = query.where(deploy_requests.c.status == status)
    if before_id is not None:
        query = query.where(deploy_requests.c.id < before_id)
    rows = conn.execute(query.order_by(deploy_requests.c.id.desc()).limit(limit))
    return [RequestRow.of(r) for r in rows]


def all_requests(conn: Connection, prompt_id: int) -> list[RequestRow]:
    rows = conn.execute(
        sa.select(deploy_requests)
        .where(deploy_requests.c.prompt_id == prompt_id)
        .order_by(deploy_requests.c.id)
    )
    return [RequestRow.of(r) for r in rows]


def decide_request(conn: Connection, request_id: int, values: dict[str, Any]) -> None:
    conn.execute(
        sa.update(deploy_requests).where(deploy_requests.c.id == request_id).values(**values)
    )


def purge_prompt(conn: Connection, prompt_id: int) -> None:
    """Everything of labels of a prompt being purged (before its versions go)."""
    for table in (labels, protected_labels, label_moves, deploy_requests):
        conn.execute(sa.delete(table).where(table.c.prompt_id == prompt_id))


def version_numbers(conn: Connection, prompt_id: int, ids: set[int]) -> dict[int, tuple[int, str]]:
    """(number, name) of each version id, for the history's readers."""
    if not ids:
        return {}
    rows = conn.execute(
        sa.select(versions.c.id, versions.c.number, versions.c.version_name).where(
            versions.c.prompt_id == prompt_id, versions.c.id.in_(sorted(ids))
        )
    )
    return {int(r.id): (int(r.number), r.version_name) for r in rows}


def _coerce(table: sa.Table, values: dict[str, Any]) -> dict[str, Any]:
    """The table's columns only, ISO times given as text parsed (an imported record)."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key in table.c:
            if isinstance(value, str) and key.endswith("_at"):
                value = datetime.fromisoformat(value)
            out[key] = value
    return out


def import_rows(
    conn: Connection,
    prompt_id: int,
    *,
    label_rows_: list[dict[str, Any]],
    protected_: list[str],
    moves: list[dict[str, Any]],
    requests: list[dict[str, Any]],
) -> None:
    """Write an imported prompt's labels, protection, moves and requests as given."""
    for table, rows in (
        (labels, label_rows_),
        (label_moves, moves),
        (deploy_requests, requests),
    ):
        for row in rows:
            conn.execute(sa.insert(table).values(**_coerce(table, {**row, "prompt_id": prompt_id})))
    for label in protected_:
        conn.execute(sa.insert(protected_labels).values(prompt_id=prompt_id, label=label))

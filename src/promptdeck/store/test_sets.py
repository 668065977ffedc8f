"""SQL for test sets: the set (its row is the lock and the version counter), its versions and
its cases (a case row belongs to the version that added it and every later one)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, Row

from promptdeck.domain.test_sets import Case, CaseSet, CaseSetVersion, StoredCase
from promptdeck.store.evaluation_tables import test_cases, test_set_versions, test_sets
from promptdeck.store.tables import prompts

_SETS = sa.select(test_sets, prompts.c.name.label("prompt_name")).select_from(
    test_sets.join(prompts, prompts.c.id == test_sets.c.prompt_id)
)


def _set(row: Row[Any], versions: Sequence[CaseSetVersion] = ()) -> CaseSet:
    m = row._mapping
    return CaseSet(
        id=int(m["id"]),
        name=m["name"],
        prompt_id=int(m["prompt_id"]),
        prompt_name=m["prompt_name"],
        description=m["description"],
        version=int(m["version"]),
        case_count=int(m["case_count"]),
        created_at=m["created_at"],
        created_by=m["created_by"],
        updated_at=m["updated_at"],
        versions=tuple(versions),
    )


def _version(row: Row[Any]) -> CaseSetVersion:
    return CaseSetVersion(
        number=int(row.number),
        case_count=int(row.case_count),
        added=int(row.added),
        description=row.description,
        created_at=row.created_at,
        created_by=row.created_by,
    )


def find(
    conn: Connection,
    *,
    name: str | None = None,
    set_id: int | None = None,
    for_update: bool = False,
) -> CaseSet | None:
    """A set by name or id (of a prompt not deleted). ``for_update``: its row locked (on
    SQLite the write transaction's lock already serializes)."""
    query = _SETS.where(prompts.c.deleted_at.is_(None))
    query = query.where(test_sets.c.name == name if name is not None else test_sets.c.id == set_id)
    if for_update and conn.dialect.name == "postgresql":
        query = query.with_for_update(of=test_sets)
    row = conn.execute(query).first()
    return None if row is None else _set(row)


def versions(conn: Connection, set_id: int, *, limit: int) -> list[CaseSetVersion]:
    """The set's versions, newest first."""
    rows = conn.execute(
        sa.select(test_set_versions)
        .where(test_set_versions.c.test_set_id == set_id)
        .order_by(test_set_versions.c.number.desc())
        .limit(limit)
    )
    return [_version(r) for r in rows]


def version_row(conn: Connection, set_id: int, number: int) -> tuple[int, CaseSetVersion] | None:
    """(the version's row id, the version)."""
    row = conn.execute(
        sa.select(test_set_versions).where(
            test_set_versions.c.test_set_id == set_id, test_set_versions.c.number == number
        )
    ).first()
    return None if row is None else (int(row.id), _version(row))


def version_by_id(conn: Connection, version_row_id: int) -> CaseSetVersion | None:
    row = conn.execute(
        sa.select(test_set_versions).where(test_set_versions.c.id == version_row_id)
    ).first()
    return None if row is None else _version(row)


def page(
    conn: Connection, *, prompt_id: int | None, after_id: int | None, limit: int
) -> list[CaseSet]:
    """Sets of live prompts, oldest first."""
    query = _SETS.where(prompts.c.deleted_at.is_(None))
    if prompt_id is not None:
        query = query.where(test_sets.c.prompt_id == prompt_id)
    if after_id is not None:
        query = query.where(test_sets.c.id > after_id)
    return [_set(r) for r in conn.execute(query.order_by(test_sets.c.id).limit(limit))]


def insert_set(conn: Connection, values: dict[str, Any]) -> int:
    key = conn.execute(sa.insert(test_sets).values(**values)).inserted_primary_key
    assert key is not None
    return int(key[0])


def add_version(
    conn: Connection,
    set_id: int,
    *,
    number: int,
    first_position: int,
    cases: Sequence[Case],
    description: str,
    actor: str,
    now: Any,
) -> int:
    """Insert version ``number`` with its new cases (positions from ``first_position``) and
    move the set's counters; the version's row id."""
    total = first_position - 1 + len(cases)
    key = conn.execute(
        sa.insert(test_set_versions).values(
            test_set_id=set_id,
            number=number,
            case_count=total,
            added=len(cases),
            description=description,
            created_at=now,
            created_by=actor,
        )
    ).inserted_primary_key
    assert key is not None
    conn.execute(
        sa.insert(test_cases),
        [
            {
                "test_set_id": set_id,
                "position": first_position + i,
                "added_in": number,
                "variables": c.variables,
                "expected": c.expected,
                "metadata": c.metadata,
            }
            for i, c in enumerate(cases)
        ],
    )
    conn.execute(
        sa.update(test_sets)
        .where(test_sets.c.id == set_id)
        .values(version=number, case_count=total, updated_at=now)
    )
    return int(key[0])


def _case(row: Row[Any]) -> StoredCase:
    m = row._mapping
    return StoredCase(
        id=int(m["id"]),
        position=int(m["position"]),
        added_in=int(m["added_in"]),
        case=Case(dict(m["variables"]), m["expected"], dict(m["metadata"] or {})),
    )


def case_page(
    conn: Connection, set_id: int, *, version: int, after_position: int | None, limit: int
) -> list[StoredCase]:
    """The cases of version ``version``, in order."""
    query = sa.select(test_cases).where(
        test_cases.c.test_set_id == set_id, test_cases.c.added_in <= version
    )
    if after_position is not None:
        query = query.where(test_cases.c.position > after_position)
    rows = conn.execute(query.order_by(test_cases.c.position).limit(limit))
    return [_case(r) for r in rows]


def case_ids(conn: Connection, set_id: int, version: int) -> list[int]:
    """The ids of every case of version ``version``, in order (an evaluation's items)."""
    rows = conn.execute(
        sa.select(test_cases.c.id)
        .where(test_cases.c.test_set_id == set_id, test_cases.c.added_in <= version)
        .order_by(test_cases.c.position)
    )
    return [int(r.id) for r in rows]


def cases_by_id(conn: Connection, ids: Sequence[int]) -> dict[int, StoredCase]:
    if not ids:
        return {}
    rows = conn.execute(sa.select(test_cases).where(test_cases.c.id.in_(sorted(set(ids)))))
    return {int(r.id): _case(r) for r in rows}


def purge_prompt(conn: Connection, prompt_id: int) -> None:
    """A purged prompt's sets go with it (its evaluations and gates first: store/evaluations)."""
    ids = sa.select(test_sets.c.id).where(test_sets.c.prompt_id == prompt_id)
    conn.execute(sa.delete(test_cases).where(test_cases.c.test_set_id.in_(ids)))
    conn.execute(sa.delete(test_set_versions).where(test_set_versions.c.test_set_id.in_(ids)))
    conn.execute(sa.delete(test_sets).where(test_sets.c.prompt_id == prompt_id))

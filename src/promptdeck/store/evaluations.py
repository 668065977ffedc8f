"""SQL for evaluations: creating one with its items, the claim that gives each pending item to
one process at a time (a lease), recording what was worked (only while the lease is the
recorder's), reported results, the conclusion, and the reads.

The claim is one UPDATE whose WHERE re-checks that the item is pending and its lease free:
on SQLite the write lock (``BEGIN IMMEDIATE``) serializes claims; on PostgreSQL the chosen
rows are locked ``FOR UPDATE SKIP LOCKED`` (a second process skips them and takes others)
and READ COMMITTED re-checks the lease on the locked row. So an item is out with one
process at a time; one whose process died is claimed again when its lease ends."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, Row

from promptdeck.domain import evaluations as ev
from promptdeck.domain.completions import ToolCall, Usage
from promptdeck.domain.evaluations import Evaluation, Item, ItemResult, Progress, Work, Worked
from promptdeck.domain.evaluators import Result
from promptdeck.store.evaluation_tables import (
    evaluation_items,
    evaluation_results,
    evaluations,
    label_gates,
    test_cases,
    test_set_versions,
    test_sets,
)
from promptdeck.store.tables import prompts

items, results = evaluation_items, evaluation_results
# Literals, not parameters: SQLite uses the partial index of pending items only when the
# query says the same condition as the index, as text.
IS_PENDING = items.c.status == sa.literal_column("'pending'")
_LIVE = evaluations.c.status.in_([sa.literal_column(f"'{s}'") for s in ev.LIVE])


def insert(conn: Connection, values: dict[str, Any]) -> int:
    key = conn.execute(sa.insert(evaluations).values(**values)).inserted_primary_key
    assert key is not None
    return int(key[0])


def insert_items(
    conn: Connection, evaluation_id: int, version_ids: Sequence[int], case_ids: Sequence[int]
) -> None:
    """One pending item per version and case, case by case (the versions of a case are
    claimed together, so a comparison's pairs fill in together)."""
    conn.execute(
        sa.insert(items),
        [
            {
                "evaluation_id": evaluation_id,
                "version_id": v,
                "case_id": c,
                "status": ev.PENDING,
                "attempts": 0,
            }
            for c in case_ids
            for v in version_ids
        ],
    )


# --- reads ---------------------------------------------------------------------------------

_EVALUATIONS = sa.select(
    evaluations,
    prompts.c.name.label("prompt_name"),
    test_sets.c.name.label("test_set_name"),
    test_set_versions.c.number.label("test_set_number"),
).select_from(
    evaluations.join(prompts, prompts.c.id == evaluations.c.prompt_id)
    .join(test_sets, test_sets.c.id == evaluations.c.test_set_id)
    .join(test_set_versions, test_set_versions.c.id == evaluations.c.test_set_version_id)
)


def _evaluation(row: Row[Any]) -> Evaluation:
    m = row._mapping
    return Evaluation(
        id=int(m["id"]),
        prompt_id=int(m["prompt_id"]),
        prompt_name=m["prompt_name"],
        status=m["status"],
        version_ids=tuple(int(v) for v in m["version_ids"]),
        test_set=m["test_set_name"],
        test_set_version=int(m["test_set_number"]),
        evaluators=tuple(m["evaluators"]),
        provider=m["provider_name"],
        model=m["model"],
        progress=Progress(
            total=int(m["items_total"]),
            done=int(m["items_done"]),
            failed=int(m["items_failed"]),
            reports_total=int(m["reports_total"]),
            reports_done=int(m["reports_done"]),
        ),
        summaries=None if m["summaries"] is None else tuple(m["summaries"]),
        comparison=m["comparison"],
        verdict=m["verdict"],
        error=m["error"],
        created_at=m["created_at"],
        created_by=m["created_by"],
        started_at=m["started_at"],
        finished_at=m["finished_at"],
        cancelled_by=m["cancelled_by"],
    )


def get(conn: Connection, evaluation_id: int) -> Evaluation | None:
    row = conn.execute(_EVALUATIONS.where(evaluations.c.id == evaluation_id)).first()
    return None if row is None else _evaluation(row)


def page(
    conn: Connection,
    *,
    prompt_id: int,
    before_id: int | None,
    limit: int,
    status: str | None = None,
    test_set_version_id: int | None = None,
) -> list[Evaluation]:
    """A prompt's evaluations, newest first."""
    query = _EVALUATIONS.where(evaluations.c.prompt_id == prompt_id)
    if before_id is not None:
        query = query.where(evaluations.c.id < before_id)
    if status is not None:
        query = query.where(evaluations.c.status == status)
    if test_set_version_id is not None:
        query = query.where(evaluations.c.test_set_version_id == test_set_version_id)
    rows = conn.execute(query.order_by(evaluations.c.id.desc()).limit(limit))
    return [_evaluation(r) for r in rows]


def _usage(m: Any) -> Usage | None:
    prompt, completion = m["prompt_tokens"], m["completion_tokens"]
    if prompt is None and completion is None:
        return None
    total = None if prompt is None or completion is None else prompt + completion
    return Usage(prompt, completion, total)


def _calls(raw: Any) -> tuple[ToolCall, ...]:
    return tuple(ToolCall(c["id"], c["name"], c["arguments"]) for c in raw or ())


def results_of(conn: Connection, item_ids: Sequence[int]) -> dict[int, list[ItemResult]]:
    found: dict[int, list[ItemResult]] = defaultdict(list)
    if not item_ids:
        return found
    rows = conn.execute(
        sa.select(results)
        .where(results.c.item_id.in_(list(item_ids)))
        .order_by(results.c.item_id, results.c.evaluator)
    )
    for r in rows:
        found[int(r.item_id)].append(
            ItemResult(r.evaluator, bool(r.passed), r.score, r.reason, bool(r.error))
        )
    return found


def item_page(
    conn: Connection,
    evaluation_id: int,
    *,
    after_id: int | None,
    limit: int,
    version_id: int | None = None,
    status: str | None = None,
    with_cases: bool = True,
    ids: Sequence[int] | None = None,
    missing: Sequence[str] = (),
) -> list[Item]:
    """The evaluation's items in order, each with its case and results."""
    columns: list[Any] = [items, test_cases.c.position]
    if with_cases:
        columns += [test_cases.c.variables, test_cases.c.expected, test_cases.c.metadata]
    query = (
        sa.select(*columns)
        .select_from(items.join(test_cases, test_cases.c.id == items.c.case_id))
        .where(items.c.evaluation_id == evaluation_id)
    )
    if after_id is not None:
        query = query.where(items.c.id > after_id)
    if version_id is not None:
        query = query.where(items.c.version_id == version_id)
    if status is not None:
        query = query.where(items.c.status == status)
    if ids is not None:
        query = query.where(items.c.id.in_(sorted(set(ids))))
    if missing:  # items still without a result of one of these evaluators
        query = query.where(
            sa.or_(
                *(
                    ~sa.exists().where(results.c.item_id == items.c.id, results.c.evaluator == m)
                    for m in missing
                )
            )
        )
    rows = conn.execute(query.order_by(items.c.id).limit(limit)).all()
    found = results_of(conn, [int(r.id) for r in rows])
    out = []
    for r in rows:
        m = r._mapping
        out.append(
            Item(
                id=int(m["id"]),
                version_id=int(m["version_id"]),
                case_id=int(m["case_id"]),
                position=int(m["position"]),
                status=m["status"],
                attempts=int(m["attempts"]),
                variables=dict(m["variables"]) if with_cases else {},
                expected=m["expected"] if with_cases else None,
                metadata=dict(m["metadata"] or {}) if with_cases else {},
                output=m["output"],
                tool_calls=_calls(m["tool_calls"]),
                latency_ms=m["latency_ms"],
                usage=_usage(m),
                cost=m["cost"],
                error=m["error"],
                finished_at=m["finished_at"],
                results=tuple(found.get(int(m["id"]), ())),
            )
        )
    return out


# --- state changes ---------------------------------------------------------------------------


def set_status(
    conn: Connection, evaluation_id: int, values: dict[str, Any], *, only: Sequence[str]
) -> bool:
    """Change the evaluation's row if its status is one of ``only`` (cancel, fail)."""
    result = conn.execute(
        sa.update(evaluations)
        .where(evaluations.c.id == evaluation_id, evaluations.c.status.in_(list(only)))
        .values(**values)
    )
    return bool(result.rowcount)


def claim(
    conn: Connection, *, now: datetime, until: datetime, token: str, limit: int
) -> list[Work]:
    """Take up to ``limit`` pending items of live evaluations run by the server (with a
    provider) for ``token`` until ``until``; the oldest evaluation's first."""
    free = sa.or_(items.c.lease_until.is_(None), items.c.lease_until < now)
    chosen = (
        sa.select(items.c.id)
        .select_from(items.join(evaluations, evaluations.c.id == items.c.evaluation_id))
        .where(IS_PENDING, free, _LIVE, evaluations.c.provider_id.is_not(None))
        .order_by(items.c.evaluation_id, items.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=items)
    )
    # Two statements, not UPDATE … WHERE id IN (SELECT … LIMIT n FOR UPDATE SKIP LOCKED):
    # PostgreSQL may run such a subquery again for each row it updates, each time skipping
    # what the last run locked, and so update far more than n rows (measured: 99 claimed
    # with room for 16). The ids are chosen and locked once, then taken.
    ids = [int(r.id) for r in conn.execute(chosen)]
    if not ids:
        return []
    claimed = conn.execute(
        sa.update(items)
        .where(items.c.id.in_(ids), IS_PENDING, free)
        .values(lease_owner=token, lease_until=until, attempts=items.c.attempts + 1)
        .returning(items.c.id, items.c.evaluation_id)
    ).all()
    if not claimed:
        return []
    started = sorted({int(r.evaluation_id) for r in claimed})
    conn.execute(
        sa.update(evaluations)
        .where(evaluations.c.id.in_(started), evaluations.c.status == ev.QUEUED)
        .values(status=ev.RUNNING, started_at=now)
    )
    rows = conn.execute(
        sa.select(
            items.c.id,
            items.c.evaluation_id,
            items.c.version_id,
            items.c.case_id,
            test_cases.c.variables,
            test_cases.c.expected,
            test_cases.c.metadata,
            evaluations.c.prompt_id,
            evaluations.c.provider_id,
            evaluations.c.model,
            evaluations.c.evaluators,
        )
        .select_from(
            items.join(test_cases, test_cases.c.id == items.c.case_id).join(
                evaluations, evaluations.c.id == items.c.evaluation_id
            )
        )
        .where(items.c.id.in_([int(r.id) for r in claimed]))
        .order_by(items.c.id)
    )
    return [
        Work(
            item_id=int(m["id"]),
            evaluation_id=int(m["evaluation_id"]),
            prompt_id=int(m["prompt_id"]),
            version_id=int(m["version_id"]),
            case_id=int(m["case_id"]),
            variables=dict(m["variables"]),
            expected=m["expected"],
            metadata=dict(m["metadata"] or {}),
            provider_id=int(m["provider_id"]),
            model=m["model"],
            evaluators=tuple(m["evaluators"]),
            token=token,
        )
        for m in (r._mapping for r in rows)
    ]


def _answer(worked: Worked) -> dict[str, Any]:
    """Every column an answer fills (the same keys for a failure: one UPDATE for a batch)."""
    c = worked.completion
    if c is None:
        return {
            "status": ev.ITEM_FAILED,
            "error": (worked.error or "")[: ev.ERROR_KEEP],
            **dict.fromkeys(_ANSWERED),
        }
    usage = c.usage
    return {
        "status": ev.DONE,
        "error": None,
        "output": c.output,
        "tool_calls": [{"id": t.id, "name": t.name, "arguments": t.arguments} for t in c.tool_calls]
        or None,
        "latency_ms": c.latency_ms,
        "prompt_tokens": None if usage is None else usage.prompt_tokens,
        "completion_tokens": None if usage is None else usage.completion_tokens,
        "cost": c.cost,
    }


_ANSWERED = (
    "output", "tool_calls", "latency_ms", "prompt_tokens", "completion_tokens", "cost"
)  # fmt: skip


def result_rows(item_id: int, found: dict[str, Result]) -> list[dict[str, Any]]:
    return [
        {
            "item_id": item_id,
            "evaluator": name,
            "passed": r.passed,
            "score": r.score,
            "reason": r.reason,
            "error": r.error,
        }
        for name, r in found.items()
    ]


def record_item(
    conn: Connection, item_id: int, token: str | None, values: dict[str, Any], now: datetime
) -> bool:
    """Finish a pending item, if the lease is still ``token``'s (None: an item of an
    evaluation without a provider, which no process claims). False: another process took it
    after the lease ended (its record wins), or it is no longer pending."""
    owner = items.c.lease_owner.is_(None) if token is None else items.c.lease_owner == token
    result = conn.execute(
        sa.update(items)
        .where(items.c.id == item_id, owner, IS_PENDING)
        .values(lease_owner=None, lease_until=None, finished_at=now, **values)
    )
    return bool(result.rowcount)


def record_worked(conn: Connection, batch: Sequence[Worked], now: datetime) -> list[Worked]:
    """Finish the batch's items whose lease is still their token's, in three statements
    (the items read and locked, updated, their results inserted); those it finished."""
    ids = sorted({w.item_id for w in batch})
    owners = {
        int(r.id): r.lease_owner
        for r in conn.execute(
            sa.select(items.c.id, items.c.lease_owner)
            .where(items.c.id.in_(ids), IS_PENDING)
            .with_for_update()  # PostgreSQL; SQLite's write lock is already held
        )
    }
    mine = {w.item_id: w for w in batch if w.item_id in owners and owners[w.item_id] == w.token}
    if not mine:
        return []
    finished = {"lease_owner": None, "lease_until": None, "finished_at": now}
    conn.execute(
        sa.update(items).where(items.c.id == sa.bindparam("b_id")),
        [{"b_id": i, **finished, **_answer(w)} for i, w in mine.items()],
    )
    insert_results(conn, [r for i, w in mine.items() for r in result_rows(i, dict(w.results))])
    return list(mine.values())


def insert_results(conn: Connection, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(sa.insert(results), rows)


def advance(
    conn: Connection, evaluation_id: int, *, done: int, failed: int, reports: int
) -> tuple[str, bool]:
    """Move the evaluation's counters; (its status, whether everything is now in). The
    UPDATE locks the row (PostgreSQL) or runs under the write lock (SQLite), so of two
    transactions that record the last items, the second sees the first's counts."""
    e = evaluations
    row = conn.execute(
        sa.update(e)
        .where(e.c.id == evaluation_id)
        .values(
            items_done=e.c.items_done + done,
            items_failed=e.c.items_failed + failed,
            reports_done=e.c.reports_done + reports,
        )
        .returning(e.c.status, e.c.items_done, e.c.items_total, e.c.reports_done, e.c.reports_total)
    ).one()
    whole = row.items_done >= row.items_total and row.reports_done >= row.reports_total
    return str(row.status), whole


def live(conn: Connection, evaluation_ids: set[int]) -> set[int]:
    e = evaluations
    rows = conn.execute(sa.select(e.c.id).where(e.c.id.in_(sorted(evaluation_ids)), _LIVE))
    return {int(r.id) for r in rows}


def ready(conn: Connection, limit: int = 20) -> list[int]:
    """Running evaluations with everything in but no conclusion yet (the process that
    recorded the last item died before concluding)."""
    e = evaluations
    rows = conn.execute(
        sa.select(e.c.id)
        .where(
            e.c.status == ev.RUNNING,
            e.c.items_done >= e.c.items_total,
            e.c.reports_done >= e.c.reports_total,
        )
        .order_by(e.c.id)
        .limit(limit)
    )
    return [int(r.id) for r in rows]


def conclude(conn: Connection, evaluation_id: int, values: dict[str, Any]) -> bool:
    """Write the conclusion, once: only while the evaluation is running with everything in
    (a cancel, or another process's conclusion, wins)."""
    e = evaluations
    result = conn.execute(
        sa.update(e)
        .where(
            e.c.id == evaluation_id,
            e.c.status == ev.RUNNING,
            e.c.items_done >= e.c.items_total,
            e.c.reports_done >= e.c.reports_total,
        )
        .values(status=ev.COMPLETED, **values)
    )
    return bool(result.rowcount)


def reported_pairs(conn: Connection, item_ids: Sequence[int]) -> set[tuple[int, str]]:
    """(item, evaluator) results already recorded among ``item_ids``."""
    if not item_ids:
        return set()
    rows = conn.execute(
        sa.select(results.c.item_id, results.c.evaluator).where(
            results.c.item_id.in_(sorted(set(item_ids)))
        )
    )
    return {(int(r.item_id), str(r.evaluator)) for r in rows}


def purge_prompt(conn: Connection, prompt_id: int) -> None:
    """A purged prompt's evaluations (items and results) and gates go with it."""
    ids = sa.select(evaluations.c.id).where(evaluations.c.prompt_id == prompt_id)
    item_ids = sa.select(items.c.id).where(items.c.evaluation_id.in_(ids))
    conn.execute(sa.delete(results).where(results.c.item_id.in_(item_ids)))
    conn.execute(sa.delete(items).where(items.c.evaluation_id.in_(ids)))
    conn.execute(sa.delete(evaluations).where(evaluations.c.prompt_id == prompt_id))
    conn.execute(sa.delete(label_gates).where(label_gates.c.prompt_id == prompt_id))

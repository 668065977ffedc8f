"""Evaluations (issue 25): starting one (its items written at once, one per version and case),
reading it and its items, cancelling it, the results a caller reports, and the conclusion
written by whoever records the last item. The work itself (claim, call, record) is
``core/evaluation_work.py`` and the server's runner (server/evaluations.py)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from promptdeck import limits
from promptdeck.core import load, providers, retention
from promptdeck.core import test_sets as sets
from promptdeck.core.includes import resolve_label
from promptdeck.core.tx import Tx
from promptdeck.domain import evaluations as ev
from promptdeck.domain import rules
from promptdeck.domain.evaluation_stats import CaseRun
from promptdeck.domain.evaluations import (
    SCHEMAS,
    Evaluation,
    Item,
    Report,
    StartEvaluation,
    evaluator_names,
)
from promptdeck.domain.evaluator_config import build_all
from promptdeck.domain.evaluators import Evaluator, Judge, Observation, Reported
from promptdeck.domain.models import Page
from promptdeck.domain.providers import choose_model
from promptdeck.domain.refs import EventKind, PromptRef, VersionRef
from promptdeck.errors import (
    EvaluationFinished,
    EvaluationNotFound,
    InvalidInput,
    PromptNotFound,
    TestSetNotFound,
    VersionNotFound,
)
from promptdeck.store import evaluations as store
from promptdeck.store import queries as q
from promptdeck.store import test_sets as set_store


def check_versions(version_ids: Sequence[int]) -> tuple[int, ...]:
    found = tuple(version_ids)
    if not 1 <= len(found) <= limits.EVALUATION_VERSIONS_MAX or len(set(found)) != len(found):
        raise InvalidInput(
            f"version_ids lists 1 to {limits.EVALUATION_VERSIONS_MAX} different versions "
            "(the baseline first, the candidate second)",
            field="version_ids",
        )
    return found


def build(configs: Sequence[dict[str, Any]]) -> list[Evaluator]:
    return build_all(list(configs), validator=SCHEMAS)


def build_stored(configs: Sequence[dict[str, Any]]) -> list[Evaluator]:
    """An evaluation's kept configurations, built again (a judge's ``number``, the number of
    its fixed version, is there to be read, not configured)."""
    return build([{k: v for k, v in c.items() if k != "number"} for c in configs])


# --- starting one ----------------------------------------------------------------------------


def create(tx: Tx, cmd: StartEvaluation) -> Evaluation:
    built = build(cmd.evaluators)
    version_ids = check_versions(cmd.version_ids)
    row = load.prompt_row(tx, PromptRef.parse(cmd.prompt))
    replay = tx.claim(f"evaluation:{row.id}", cmd.idempotency_key, cmd.request())
    if replay is not None:
        return get(tx, replay)
    for i, version_id in enumerate(version_ids):
        try:
            vrow = load.version_row(
                tx, row, VersionRef(PromptRef(id=row.id), version_id), full=False
            )
        except VersionNotFound as exc:
            raise VersionNotFound(exc.detail, field=f"version_ids[{i}]") from None
        retention.check_usable(vrow)
    found = set_store.find(tx.conn, name=cmd.test_set)
    if found is None or found.prompt_id != row.id:
        raise TestSetNotFound(
            f"prompt {row.name!r} has no test set {cmd.test_set[:64]!r}", field="test_set"
        )
    number = found.version if cmd.test_set_version is None else cmd.test_set_version
    version_row = set_store.version_row(tx.conn, found.id, number)
    if version_row is None:
        raise InvalidInput(
            f"test set {found.name!r} has versions 1 to {found.version}", field="test_set_version"
        )
    case_ids = set_store.case_ids(tx.conn, found.id, number)
    total = len(case_ids) * len(version_ids)
    if total > limits.EVALUATION_ITEMS_MAX:
        raise InvalidInput(
            f"{len(version_ids)} versions x {len(case_ids)} cases is over "
            f"{limits.EVALUATION_ITEMS_MAX} items: use fewer versions or a smaller set",
            field="version_ids",
        )
    provider_id, provider_name, model = _provider(tx, cmd, built)
    configs = [
        _fixed(tx, config, e, i)
        for i, (config, e) in enumerate(zip(cmd.evaluators, built, strict=True))
    ]
    reported = sum(isinstance(e, Reported) for e in built)
    evaluation_id = store.insert(
        tx.conn,
        {
            "prompt_id": row.id,
            "status": ev.QUEUED,
            "version_ids": list(version_ids),
            "test_set_id": found.id,
            "test_set_version_id": version_row[0],
            "evaluators": configs,
            "provider_id": provider_id,
            "provider_name": provider_name,
            "model": model,
            "items_total": total,
            "items_done": 0,
            "items_failed": 0,
            "reports_total": total * reported,
            "reports_done": 0,
            "created_at": tx.clock(),
            "created_by": tx.actor,
        },
    )
    store.insert_items(tx.conn, evaluation_id, version_ids, case_ids)
    tx.remember(evaluation_id)
    return get(tx, evaluation_id)


def _provider(
    tx: Tx, cmd: StartEvaluation, built: Sequence[Evaluator]
) -> tuple[int | None, str | None, str | None]:
    """The provider and model the versions run on (and that judges without their own use)."""
    if cmd.provider is None:
        if cmd.model is not None:
            raise InvalidInput("a model needs a provider", field="model")
        for i, e in enumerate(built):
            if isinstance(e, Judge) and e.provider is None:
                raise InvalidInput(
                    "a judge needs a provider: the evaluation's, or its own",
                    field=f"evaluators[{i}].provider",
                )
        return None, None, None
    found = providers.get(tx, cmd.provider)
    return found.id, found.name, choose_model(cmd.model, {}, found.config)


def _fixed(tx: Tx, config: dict[str, Any], e: Evaluator, i: int) -> dict[str, Any]:
    """The configuration kept: named; a judge's rubric fixed to one version (its label
    resolved now), so the results say which judge gave them and a later change of the
    rubric is a new version, seen as such."""
    fixed = {**config, "name": e.name}
    if not isinstance(e, Judge):
        return fixed
    where = f"evaluators[{i}]"
    try:
        rubric = load.prompt_row(tx, PromptRef.parse(e.prompt))
    except PromptNotFound:
        raise PromptNotFound(
            f"no prompt {e.prompt!r} for the judge", field=f"{where}.prompt"
        ) from None
    if e.version is not None:
        version_id: int | None = e.version
    else:
        version_id = resolve_label(tx, rubric, e.label or "active")
    vrow = None if version_id is None else q.version_row(tx.conn, rubric.id, version_id, full=False)
    if vrow is None:
        raise VersionNotFound(
            f"prompt {rubric.name!r} has no version {e.version or e.label or 'active'} to judge",
            field=f"{where}.version" if e.version is not None else f"{where}.label",
        )
    retention.check_usable(vrow)
    if e.provider is not None:
        judge_provider = providers.get(tx, e.provider)
        if e.model is not None:
            choose_model(e.model, {}, judge_provider.config)
    fixed.pop("label", None)
    return {**fixed, "prompt": rubric.name, "version": vrow.id, "number": vrow.number}


# --- reads -----------------------------------------------------------------------------------


def get(tx: Tx, evaluation_id: int) -> Evaluation:
    found = store.get(tx.conn, evaluation_id)
    if found is None or not sets.visible(tx, found.prompt_id):
        raise EvaluationNotFound(f"no evaluation {evaluation_id}")
    return found


def page(
    tx: Tx, prompt: PromptRef, *, limit: int, cursor: str | None, status: str | None
) -> Page[Evaluation]:
    """A prompt's evaluations, newest first."""
    rules.check_limit(limit)
    if status is not None and status not in ev.STATUSES:
        raise InvalidInput(f"status is one of {', '.join(ev.STATUSES)}", field="status")
    before = rules.decode_cursor(cursor) if cursor else None
    row = load.prompt_row(tx, prompt)
    found = store.page(tx.conn, prompt_id=row.id, before_id=before, limit=limit + 1, status=status)
    more = len(found) > limit
    found = found[:limit]
    return Page(found, rules.encode_cursor(found[-1].id) if more and found else None)


def items(
    tx: Tx,
    evaluation_id: int,
    *,
    limit: int,
    cursor: str | None,
    version_id: int | None = None,
    status: str | None = None,
    awaiting: bool = False,
) -> Page[Item]:
    """The evaluation's items (one version on one case each), in order, with results.
    ``awaiting``: only those a caller still has to report (without a provider, the pending
    ones; with one, those answered that lack a reported evaluator's result)."""
    rules.check_limit(limit)
    if status is not None and status not in (ev.PENDING, ev.DONE, ev.ITEM_FAILED):
        raise InvalidInput("status is one of pending, done, failed", field="status")
    found_evaluation = get(tx, evaluation_id)
    missing: list[str] = []
    if awaiting:
        if found_evaluation.provider is None:
            status = ev.PENDING
        else:
            status = ev.DONE
            missing = [c["name"] for c in found_evaluation.evaluators if c["type"] == "reported"]
            if not missing:
                return Page([], None)
    after = rules.decode_cursor(cursor) if cursor else None
    found = store.item_page(
        tx.conn,
        evaluation_id,
        after_id=after,
        limit=limit + 1,
        version_id=version_id,
        status=status,
        missing=missing,
    )
    more = len(found) > limit
    found = found[:limit]
    return Page(found, rules.encode_cursor(found[-1].id) if more and found else None)


# --- changes ---------------------------------------------------------------------------------


def cancel(tx: Tx, evaluation_id: int) -> Evaluation:
    """Stop it: no item is claimed after this; those out finish and are recorded."""
    found = get(tx, evaluation_id)
    values = {"status": ev.CANCELLED, "finished_at": tx.clock(), "cancelled_by": tx.actor}
    if not store.set_status(tx.conn, evaluation_id, values, only=ev.LIVE):
        raise EvaluationFinished(f"evaluation {evaluation_id} is already {found.status}")
    return get(tx, evaluation_id)


@dataclass(frozen=True, slots=True)
class ReportOutcome:
    """What a report did: results recorded, those already there (ignored), items whose
    answer is not in yet (report them again later), and whether that completed it."""

    recorded: int
    ignored: int
    pending: list[int]
    whole: bool


def report(tx: Tx, evaluation_id: int, reports: Sequence[Report]) -> ReportOutcome:
    """Results of ``reported`` evaluators, and for an evaluation without a provider the items'
    answers (the built-in evaluators judge them here; a judge needs a provider)."""
    found = get(tx, evaluation_id)
    if found.status not in ev.LIVE:
        raise EvaluationFinished(
            f"evaluation {evaluation_id} is {found.status}: it takes no report"
        )
    built = build_stored(found.evaluators)
    names = {e.name for e in built if isinstance(e, Reported)}
    by_id = {
        i.id: i
        for i in store.item_page(
            tx.conn,
            evaluation_id,
            after_id=None,
            limit=len(reports) + 1,
            ids=[r.item_id for r in reports],
        )
    }
    have = store.reported_pairs(tx.conn, list(by_id))
    now = tx.clock()
    recorded = ignored = done = failed = 0
    pending: list[int] = []
    rows: list[dict[str, Any]] = []
    for i, r in enumerate(reports):
        item = by_id.get(r.item_id)
        if item is None:
            raise InvalidInput(
                f"evaluation {evaluation_id} has no item {r.item_id}", field=f"results[{i}].item_id"
            )
        unknown = sorted(set(r.results) - names)
        if unknown:
            raise InvalidInput(
                f"{unknown[0][:64]!r} is not a reported evaluator of this evaluation",
                field=f"results[{i}].results",
            )
        status = item.status
        if status == ev.PENDING:
            if found.provider is not None or (r.output is None and r.error is None):
                pending.append(item.id)
                continue
            status = _answer(tx, found, built, item, r, now)
            done += 1
            if status == ev.ITEM_FAILED:  # every result an error, reported ones included
                failed += 1
                recorded += len(names)
                ignored += len(r.results)
                continue
        if status == ev.ITEM_FAILED:  # its results are errors already
            ignored += len(r.results)
            continue
        for name, result in r.results.items():
            if (item.id, name) in have:
                ignored += 1
                continue
            have.add((item.id, name))
            rows += store.result_rows(item.id, {name: result})
            recorded += 1
    store.insert_results(tx.conn, rows)
    if recorded or done:  # a caller that reports runs it
        started = {"status": ev.RUNNING, "started_at": now}
        store.set_status(tx.conn, evaluation_id, started, only=[ev.QUEUED])
    _, whole = store.advance(tx.conn, evaluation_id, done=done, failed=failed, reports=recorded)
    return ReportOutcome(recorded, ignored, pending, whole)


def _answer(
    tx: Tx, found: Evaluation, built: list[Evaluator], item: Item, r: Report, now: Any
) -> str:
    """Record a reported answer (an evaluation without a provider) and judge it."""
    names = evaluator_names(found.evaluators)
    values: dict[str, Any]
    if r.output is None:
        values = {"status": ev.ITEM_FAILED, "error": (r.error or "")[: ev.ERROR_KEEP]}
        results = ev.failed_results(names, r.error or "")
    else:
        output = r.output[: limits.EVALUATION_OUTPUT_KEEP]
        values = {"status": ev.DONE, "output": output, "latency_ms": r.latency_ms}
        seen = Observation(output, (), r.latency_ms, item.expected)
        results = ev.judge_locally(built, seen)
    store.record_item(tx.conn, item.id, None, values, now)
    store.insert_results(tx.conn, store.result_rows(item.id, results))
    return str(values["status"])


# --- the conclusion --------------------------------------------------------------------------


def runs_of(tx: Tx, found: Evaluation) -> dict[int, list[CaseRun]]:
    every = store.item_page(
        tx.conn, found.id, after_id=None, limit=found.progress.total + 1, with_cases=False
    )
    runs: dict[int, list[CaseRun]] = defaultdict(list)
    for item in every:
        runs[item.version_id].append(ev.run_of(item))
    return runs


def conclusion(tx: Tx, evaluation_id: int) -> tuple[Evaluation, ev.Conclusion] | None:
    """What a complete, running evaluation concludes (None: not complete, or not running)."""
    found = store.get(tx.conn, evaluation_id)
    if found is None or found.status != ev.RUNNING:
        return None
    p = found.progress
    if p.done < p.total or p.reports_done < p.reports_total:
        return None
    names = evaluator_names(found.evaluators)
    return found, ev.conclude(found.version_ids, names, runs_of(tx, found))


def write_conclusion(tx: Tx, found: Evaluation, done: ev.Conclusion) -> bool:
    """One UPDATE … WHERE status = 'running' (and everything in): the first conclusion wins,
    a cancel before it too; the event goes with it."""
    written = store.conclude(
        tx.conn,
        found.id,
        {
            "summaries": done.summaries,
            "comparison": done.comparison,
            "verdict": done.verdict,
            "finished_at": tx.clock(),
        },
    )
    if written:
        tx.record(
            EventKind.EVALUATION_COMPLETED,
            found.prompt_id,
            version_id=found.version_ids[-1],
            from_version_id=found.version_ids[0] if len(found.version_ids) > 1 else None,
            detail={
                "evaluation_id": found.id,
                "test_set": found.test_set,
                "test_set_version": found.test_set_version,
                "version_ids": list(found.version_ids),
                "verdict": done.verdict,
            },
        )
    return written

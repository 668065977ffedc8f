"""Rollouts (issue 24; docs/rollouts.md): start one on a label, the controls (pause, resume,
advance, abort), and the reads. The guard that acts on its own (at ingest and on a periodic
check) is ``core/rollout_guard.py``; both change a rollout through ``apply`` here.

Every operation locks the prompt's row first, then the rollout's (the order every writer of
a rollout keeps, so none can deadlock another), changes the row with a compare-and-set on
(status, step), and records the change three ways: an event ``rollout.<kind>`` (its
webhooks, and ``GET /changes``), a history row of the label (``label_moves`` with the
kind), and the row itself. Completion moves the label to the candidate as a normal recorded
move, in the same transaction."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from typing import Any

from promptdeck.core import compare, gates, labels, load, retention, versions
from promptdeck.core.tx import Tx
from promptdeck.domain import rules
from promptdeck.domain.access import Role
from promptdeck.domain.caller import Caller
from promptdeck.domain.commands import ControlRollout, RolloutAction, StartRollout
from promptdeck.domain.labels import ACTIVE, Label, check_label, check_reason
from promptdeck.domain.models import Page, Prompt, Version
from promptdeck.domain.refs import EventKind, PromptLike, PromptRef, VersionRef
from promptdeck.domain.rollouts import assign, guard
from promptdeck.domain.rollouts import state as sm
from promptdeck.domain.rollouts.decide import Decision
from promptdeck.domain.rollouts.guard import ArmSums, Judgement, StepArms
from promptdeck.domain.rollouts.plan import RolloutPlan, parse_plan
from promptdeck.domain.rollouts.record import Arm, LastDecision, Rollout, total
from promptdeck.domain.rollouts.split import Split
from promptdeck.domain.rollouts.state import Change, LatencyCutoffs, RolloutState
from promptdeck.errors import (
    LabelProtected,
    RolloutInProgress,
    RolloutNotFound,
    RolloutStateConflict,
)
from promptdeck.store import labels as labels_store
from promptdeck.store import queries as q
from promptdeck.store import rollouts as store
from promptdeck.store.records import PromptRow
from promptdeck.store.rollouts import RolloutRow

Control = RolloutAction
CONTROLS = {"pause": sm.pause, "resume": sm.resume, "advance": sm.advance, "abort": sm.abort}


# --- rows and states ---------------------------------------------------------------------


def state_of(row: RolloutRow) -> RolloutState:
    cut = row.cutoffs
    cutoffs = (
        LatencyCutoffs(
            baseline_bucket=int(cut["baseline_bucket"]),
            candidate_bucket=int(cut["candidate_bucket"]),
            baseline_p95_ms=float(cut["baseline_p95_ms"]),
            frozen_at=datetime.fromisoformat(str(cut["frozen_at"])),
        )
        if cut
        else None
    )
    return RolloutState(
        plan=parse_plan(row.plan),
        baseline_id=row.baseline_version_id,
        salt=row.salt,
        status=row.status,  # type: ignore[arg-type]  # the table holds only Status values
        step=row.step,
        started_at=row.started_at,
        step_started_at=row.step_started_at,
        ended_at=row.ended_at,
        cutoffs=cutoffs,
    )


def cutoffs_json(cutoffs: LatencyCutoffs) -> dict[str, Any]:
    return {
        "baseline_bucket": cutoffs.baseline_bucket,
        "candidate_bucket": cutoffs.candidate_bucket,
        "baseline_p95_ms": cutoffs.baseline_p95_ms,
        "frozen_at": cutoffs.frozen_at.isoformat(),
    }


def _judgement_json(j: Judgement) -> dict[str, Any]:
    return {
        "measure": j.measure,
        "margin": j.margin,
        "verdict": j.verdict,
        "baseline_n": j.baseline_n,
        "candidate_n": j.candidate_n,
        "baseline": j.baseline,
        "candidate": j.candidate,
        "difference": j.difference,
        "low": j.low,
        "high": j.high,
    }


def decision_json(decision: Decision, at: datetime) -> dict[str, Any]:
    return {
        "action": decision.action,
        "why": decision.why,
        "ready": decision.ready,
        "at": at.isoformat(),
        "judgements": [_judgement_json(j) for j in decision.judgements],
    }


def _push(state: RolloutState, rollout_id: int) -> dict[str, Any]:
    """What ``GET /changes`` and the webhooks carry: enough for a client to assign."""
    return {
        "id": rollout_id,
        "status": state.status,
        "step": state.step,
        "percent": state.percent,
        "basis_points": state.basis_points,
        "baseline_id": state.baseline_id,
        "candidate_id": state.candidate_id,
        "salt": state.salt,
    }


# --- changes ---------------------------------------------------------------------------------


def apply(
    tx: Tx,
    row: PromptRow,
    rollout: RolloutRow,
    change: Change,
    decision: Decision | None = None,
) -> None:
    """Write ``change`` (from ``rollout``'s state) with a compare-and-set on (status, step);
    record its event and history row; on completion move the label to the candidate."""
    state = change.state
    values: dict[str, Any] = {
        "status": state.status,
        "step": state.step,
        "basis_points": state.basis_points,
        "step_started_at": state.step_started_at,
        "ended_at": state.ended_at,
    }
    if decision is not None:
        values["decision"] = decision_json(decision, tx.clock())
    if not store.update(tx.conn, rollout.id, (rollout.status, rollout.step), values):
        raise RolloutStateConflict("the rollout changed meanwhile; read it again and retry")
    if change.kind == "completed":
        # No longer live (the update above), so the label may move: a normal recorded move.
        labels.move_locked(
            tx,
            row,
            rollout.label,
            state.candidate_id,
            reason=f"rollout {rollout.id} completed",
            if_match=None,
            accept_breaking=True,  # checked at the start (start_locked)
        )
    _record(tx, row.id, rollout.id, rollout.label, change, decision)


def _record(
    tx: Tx,
    prompt_id: int,
    rollout_id: int,
    label: str,
    change: Change,
    decision: Decision | None,
) -> None:
    state = change.state
    kind = f"rollout.{change.kind}"
    serving = state.candidate_id if state.status == "completed" else state.baseline_id
    labels.log_move(
        tx, prompt_id, label, state.baseline_id, state.candidate_id, change.why, kind=kind
    )
    detail: dict[str, Any] = {
        "label": label,
        "why": change.why,
        "rollout": _push(state, rollout_id),
    }
    if decision is not None and change.kind == "rolled_back":
        detail["judgements"] = [_judgement_json(j) for j in decision.judgements]
    tx.record(
        EventKind(kind),
        prompt_id,
        version_id=serving,
        from_version_id=state.baseline_id,
        detail=detail,
    )


def start(tx: Tx, cmd: StartRollout) -> Rollout:
    """Start a rollout of ``cmd.plan`` on ``cmd.label``: its current version is the
    baseline. A protected label needs a caller who may move it (the admin role), as moving
    it does, else an approved deploy request that names the plan (``core/deploys.py``); its
    steps and completion then move it by the rollout's authority (``as_rollout``). The
    label's gate (core/gates.py) must pass for the candidate, as for a deploy request, unless
    an admin overrides it with the plan's reason (recorded)."""
    label = check_label(cmd.label)
    plan = parse_plan(cmd.plan)
    override = gates.override_reason(cmd.override_gate, plan.reason)
    row = load.prompt_row(tx, cmd.prompt, for_update=True)
    if not tx.caller.may_move_protected and label in load.protected(tx, row.id):
        raise LabelProtected(
            f"label {label!r} is protected: starting a rollout on it needs the admin role, or "
            "an approved deploy request that names the plan (POST …/deploys with plan)"
        )
    if override is not None and not tx.caller.may_move_protected:
        raise LabelProtected("overriding a gate needs the admin role")
    gates.enforce(tx, row, label, plan.version_id, override=override)
    return start_locked(tx, row, label, plan, accept_breaking=cmd.accept_breaking)


def start_locked(
    tx: Tx, row: PromptRow, label: str, plan: RolloutPlan, *, accept_breaking: bool
) -> Rollout:
    """``start`` with the prompt's row locked and the right to start already checked. A
    protected label's candidate whose contract breaks what it serves needs
    ``accept_breaking`` here, once (core/compare.py ``check_move``): completion then moves
    it as accepted."""
    if store.live(tx.conn, row.id, label) is not None:
        raise RolloutInProgress(
            f"label {label!r} already runs a rollout: end it (abort) before starting another"
        )
    target = load.version_row(
        tx, row, VersionRef(PromptRef(id=row.id), plan.version_id), full=False
    )
    retention.check_usable(target)
    if target.archived:  # the hot path serves it: its content comes back first
        retention.restore(tx, row.id, target, reason=f"rollout on {label}")
    baseline = labels.current(tx, row, label)
    compare.check_move(
        tx, row.id, label, baseline, plan.version_id, accept_breaking=accept_breaking
    )
    now = tx.clock()
    change = sm.start(plan, baseline, now, assign.new_salt())
    state = change.state
    rollout_id = store.insert(
        tx.conn,
        {
            "prompt_id": row.id,
            "label": label,
            "baseline_version_id": state.baseline_id,
            "candidate_version_id": state.candidate_id,
            "salt": state.salt,
            "plan": plan.to_json(),
            "status": state.status,
            "step": state.step,
            "basis_points": state.basis_points,
            "started_at": now,
            "started_by": tx.actor,
            "step_started_at": now,
            "ended_at": None,
            "cutoffs": None,
            "decision": None,
            "check_after": None,
        },
    )
    _record(tx, row.id, rollout_id, label, change, None)
    return view(tx, row, _row(tx, rollout_id))


def control(tx: Tx, cmd: ControlRollout) -> Rollout:
    """Pause, resume, advance now or abort the label's rollout (409 when its status does
    not allow it; an ended rollout allows nothing). A writer may, on a protected label too:
    the right to move it was checked when the rollout started (``as_rollout``)."""
    label = check_label(cmd.label)
    why = check_reason(cmd.reason)
    row = load.prompt_row(tx, cmd.prompt, for_update=True)
    rollout = store.live(tx.conn, row.id, label, for_update=True) or store.latest(
        tx.conn, row.id, label
    )
    if rollout is None:
        raise RolloutNotFound(f"label {label!r} of prompt {row.name!r} has no rollout")
    change = CONTROLS[cmd.action](state_of(rollout), tx.clock(), why)
    with as_rollout(tx):
        apply(tx, row, rollout, change)
    return view(tx, load.prompt_row(tx, PromptRef(id=row.id)), _row(tx, rollout.id))


@contextmanager
def as_rollout(tx: Tx, caller: Caller | None = None) -> Iterator[None]:
    """The rollout's own authority over its label, for its steps and its completion (which
    pass ``labels.log_move`` and its protection check): the right to move the label was
    checked once, at the start (the admin role, or an approved deploy request). Recorded
    under who acts: ``caller`` (the guard), else the transaction's own, raised to admin."""
    was = tx.caller
    tx.caller = caller or replace(was, role=Role.admin)
    try:
        yield
    finally:
        tx.caller = was


# --- reads ---------------------------------------------------------------------------------


def _row(tx: Tx, rollout_id: int) -> RolloutRow:
    found = store.by_id(tx.conn, rollout_id)
    if found is None:  # impossible: rollouts are only deleted with their prompt
        raise RolloutNotFound(f"no rollout {rollout_id}")
    return found


def step_arms(tx: Tx, rollout_id: int, served: int) -> tuple[list[StepArms], int]:
    """The arms' sums of steps 0..``served``, and the baseline's latencies since the start
    (toward freezing the latency thresholds)."""
    base = [ArmSums() for _ in range(served + 1)]
    cand = [ArmSums() for _ in range(served + 1)]
    latencies = 0
    for arm in store.arms(tx.conn, rollout_id):
        if arm.step > served:
            continue  # written by a batch that raced a step change: counted nowhere
        if arm.arm == "candidate":
            cand[arm.step] = arm.sums
        else:
            base[arm.step] = arm.sums
            latencies += arm.latency_n
    return [StepArms(b, c) for b, c in zip(base, cand, strict=True)], latencies


def view(tx: Tx, row: PromptRow, rollout: RolloutRow) -> Rollout:
    state = state_of(rollout)
    steps, _ = step_arms(tx, rollout.id, state.step)
    named = labels_store.version_numbers(tx.conn, row.id, {state.baseline_id, state.candidate_id})

    def arm(version_id: int, sums: tuple[ArmSums, ...]) -> Arm:
        number, name = named.get(version_id, (None, None))
        return Arm(version_id, number, name, total(sums))

    return Rollout(
        id=rollout.id,
        prompt_id=row.id,
        prompt_name=row.name,
        label=rollout.label,
        state=state,
        started_by=rollout.started_by,
        baseline=arm(state.baseline_id, tuple(s.baseline for s in steps)),
        candidate=arm(state.candidate_id, tuple(s.candidate for s in steps)),
        steps=tuple(steps),
        judgements=guard.judge_all(state.plan, steps),
        decision=LastDecision.of(rollout.decision),
    )


def of_label(tx: Tx, row: PromptRow, label: str) -> Rollout | None:
    """The label's newest rollout (live or ended), None when it never had one."""
    found = store.latest(tx.conn, row.id, label)
    return None if found is None else view(tx, row, found)


def get(tx: Tx, ref: PromptLike, label: str) -> Rollout:
    check_label(label)
    row = load.prompt_row(tx, ref)
    found = of_label(tx, row, label)
    if found is None:
        raise RolloutNotFound(f"label {label!r} of prompt {row.name!r} has no rollout")
    return found


def page(tx: Tx, ref: PromptLike, *, limit: int, cursor: str | None) -> Page[Rollout]:
    """The prompt's rollouts, newest first (every label's)."""
    rules.check_limit(limit)
    before = rules.decode_cursor(cursor) if cursor else None
    row = load.prompt_row(tx, ref)
    rows = store.steps(tx.conn, row.id, before, limit + 1)
    more = len(rows) > limit
    items = [view(tx, row, r) for r in rows[:limit]]
    return Page(items, rules.encode_cursor(rows[limit - 1].id) if more else None)


def label(tx: Tx, ref: PromptLike, name: str) -> Label:
    """The label (``GET …/labels/{label}``) with its newest rollout."""
    found = labels.get(tx, ref, name)
    return replace(found, rollout=of_label(tx, load.prompt_row(tx, ref), name))


def labels_of(tx: Tx, ref: PromptLike) -> list[Label]:
    """Every label of the prompt (``labels.listing``), each with its newest rollout."""
    row = load.prompt_row(tx, ref)
    return [replace(x, rollout=of_label(tx, row, x.name)) for x in labels.listing(tx, ref)]


# --- the hot path ----------------------------------------------------------------------------

# The version a label serves with its prompt, and its live rollout (id, candidate, basis
# points, salt), read together (core/live.py ``Served``).
Served = tuple[Prompt, Version, tuple[int, int, int, str] | None]


def serving(tx: Tx, ref: PromptLike, label: str) -> Served:
    """What ``GET …/active?label=`` needs: the label's version in full and its rollout."""
    if label == ACTIVE:
        prompt, version = versions.active(tx, ref)
    else:
        prompt, version = labels.fetch(tx, ref, label)
    return prompt, version, store.serving(tx.conn, prompt.id, label)


def version_of(tx: Tx, ref: PromptLike, version_id: int) -> tuple[Prompt, Version]:
    """A version in full with its prompt, as the hot path renders it (a candidate's)."""
    row = load.prompt_row(tx, ref)
    vrow = load.version_row(tx, row, VersionRef(PromptRef(id=row.id), version_id), full=True)
    content = tx.contents.text_of(tx.conn, vrow)
    version = q.to_version(vrow, active_id=row.active_version_id, content=content)
    return q.to_prompt(row), version


def assigned(tx: Tx, ref: PromptLike, label: str, key: str | None) -> tuple[Prompt, Version]:
    """The version a caller with ``key`` gets from ``label`` (the hot path's own answer,
    for the route that stands behind it)."""
    check_label(label)
    prompt, version, live = serving(tx, ref, label)
    if live is None:
        if key is not None:
            assign.check_key(key)
        return prompt, version
    picked = Split(live[0], version.id, live[1], live[2], live[3]).pick(key)
    return (prompt, version) if picked == version.id else version_of(tx, ref, picked)

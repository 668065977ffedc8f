"""Deploy requests (issue 14): a writer proposes "move production to #7" with a reason;
another actor who may move protected labels (the admin role) approves or rejects it.
Approval moves the label in the same transaction; a request whose label moved since it was
proposed is stale (409) and must be proposed again. Everything is recorded as events."""

from __future__ import annotations

from promptdeck.core import compare, gates, labels, load, retention, rollouts
from promptdeck.core.tx import Tx
from promptdeck.domain import diff, rules
from promptdeck.domain.commands import DecideDeploy, ProposeDeploy
from promptdeck.domain.contracts import ContractChange
from promptdeck.domain.labels import (
    APPROVED,
    DEPLOY_STATUSES,
    OPEN,
    REJECTED,
    STALE,
    DeployRequest,
    check_label,
    check_reason,
)
from promptdeck.domain.models import Page
from promptdeck.domain.refs import EventKind, PromptLike, PromptRef, VersionRef
from promptdeck.domain.rollouts.plan import RolloutPlan, parse_plan
from promptdeck.errors import (
    DeployRequestClosed,
    DeployRequestNotFound,
    DeployRequestStale,
    InvalidInput,
    LabelProtected,
    SelfApproval,
)
from promptdeck.store import labels as s
from promptdeck.store import queries as q
from promptdeck.store.labels import RequestRow
from promptdeck.store.records import PromptRow

MARK = {"equal": "  ", "delete": "- ", "insert": "+ "}


def propose(tx: Tx, cmd: ProposeDeploy) -> DeployRequest:
    label, version_id = check_label(cmd.label), cmd.version_id
    why = check_reason(cmd.reason, required=True)
    stored = None if cmd.plan is None else _plan(cmd.plan, version_id).to_json()
    row = load.prompt_row(tx, cmd.prompt, for_update=True)
    target = load.version_row(tx, row, VersionRef(PromptRef(id=row.id), version_id), full=False)
    retention.check_usable(target)
    request_id = s.insert_request(
        tx.conn,
        {
            "prompt_id": row.id,
            "label": label,
            "version_id": version_id,
            "from_version_id": labels.current(tx, row, label),
            "base_move_id": s.last_move_id(tx.conn, row.id, label),
            "reason": why,
            "proposed_by": tx.actor,
            "created_at": tx.clock(),
            "status": OPEN,
            "plan": stored,
        },
    )
    tx.record(
        EventKind.DEPLOY_REQUESTED,
        row.id,
        version_id=version_id,
        from_version_id=labels.current(tx, row, label),
        detail={"label": label, "request_id": request_id, "reason": why}
        | ({"plan": stored} if stored is not None else {}),
    )
    return get_locked(tx, row, request_id)


def _plan(plan: object, version_id: int) -> RolloutPlan:
    """The request's plan, for the version it proposes (a plan of another is refused)."""
    if isinstance(plan, dict) and "version_id" not in plan:
        plan = {**plan, "version_id": version_id}
    try:
        parsed = parse_plan(plan)
    except InvalidInput as exc:
        raise InvalidInput(f"plan.{exc.detail}", field=f"plan.{exc.field}") from None
    if parsed.version_id != version_id:
        raise InvalidInput(
            f"plan.version_id: the plan rolls out version {parsed.version_id}, the request "
            f"proposes {version_id}",
            field="plan.version_id",
        )
    return parsed


def decide(tx: Tx, cmd: DecideDeploy) -> DeployRequest:
    """Approve (the label moves now, atomically) or reject. The decider is not the proposer
    (by actor name) and may move protected labels (the admin role). Approving needs the
    label's gate passed (core/gates.py), or ``override_gate`` with a reason (recorded)."""
    request_id, approve = cmd.request_id, cmd.approve
    why = check_reason(cmd.reason)
    override = gates.override_reason(cmd.override_gate, cmd.reason) if approve else None
    row = load.prompt_row(tx, cmd.prompt, for_update=True)
    request = _row(tx, row, request_id)
    if request.status != OPEN:
        raise DeployRequestClosed(f"deploy request {request_id} is already {request.status}")
    if request.proposed_by == tx.actor:
        raise SelfApproval(
            f"deploy request {request_id} was proposed by {tx.actor!r}: another person or key "
            "must decide it"
        )
    if not tx.caller.may_move_protected:
        raise LabelProtected("deciding a deploy request needs the admin role")
    if approve:
        if s.last_move_id(tx.conn, row.id, request.label) != (request.base_move_id or 0):
            raise DeployRequestStale(
                f"label {request.label!r} moved after deploy request {request_id} was "
                "proposed: propose it again"
            )
        gates.enforce(
            tx, row, request.label, request.version_id, override=override, request_id=request_id
        )
        if request.plan is not None:  # a rollout: it moves the label by its steps
            plan = parse_plan(request.plan)
            accept = cmd.accept_breaking
            rollouts.start_locked(tx, row, request.label, plan, accept_breaking=accept)
        else:
            labels.move_locked(
                tx,
                row,
                request.label,
                request.version_id,
                reason=f"deploy request {request_id}: {request.reason}",
                if_match=None,
                accept_breaking=cmd.accept_breaking,
            )
    now = tx.clock()
    s.decide_request(
        tx.conn,
        request_id,
        {
            "status": APPROVED if approve else REJECTED,
            "decided_by": tx.actor,
            "decided_at": now,
            "decision_reason": why or None,
        },
    )
    tx.record(
        EventKind.DEPLOY_APPROVED if approve else EventKind.DEPLOY_REJECTED,
        row.id,
        version_id=request.version_id,
        from_version_id=request.from_version_id,
        detail={"label": request.label, "request_id": request_id, "reason": why},
    )
    return get_locked(tx, load.prompt_row(tx, PromptRef(id=row.id)), request_id)


def _row(tx: Tx, row: PromptRow, request_id: int) -> RequestRow:
    found = s.request_row(tx.conn, row.id, request_id)
    if found is None:
        raise DeployRequestNotFound(f"prompt {row.name!r} has no deploy request {request_id}")
    return found


def _text(tx: Tx, prompt_id: int, version_id: int | None) -> str:
    if version_id is None:
        return ""
    vrow = q.version_row(tx.conn, prompt_id, version_id, full=True)
    return "" if vrow is None else tx.contents.text_of(tx.conn, vrow) or ""


def _out(tx: Tx, row: PromptRow, r: RequestRow, *, with_diff: bool) -> DeployRequest:
    status = r.status
    if status == OPEN and s.last_move_id(tx.conn, row.id, r.label) != (r.base_move_id or 0):
        status = STALE
    serving = labels.current(tx, row, r.label)
    lines: list[str] = []
    contract_changes: list[ContractChange] = []
    if with_diff:
        for line in diff.unified(_text(tx, row.id, serving), _text(tx, row.id, r.version_id)):
            if isinstance(line, diff.Line):
                lines.append(MARK.get(line.kind, "  ") + line.text)
        if serving is not None and serving != r.version_id:
            old, new = load.version(tx, row.id, serving), load.version(tx, row.id, r.version_id)
            contract_changes = compare.changes(old, new)
    gate = (
        gates.check_gate(tx, row, r.label, r.version_id) if with_diff and status == OPEN else None
    )
    named = s.version_numbers(
        tx.conn, row.id, {v for v in (r.version_id, r.from_version_id) if v is not None}
    )
    return DeployRequest(
        id=r.id,
        prompt_id=r.prompt_id,
        label=r.label,
        version_id=r.version_id,
        number=named.get(r.version_id, (None, ""))[0],
        from_version_id=r.from_version_id,
        from_number=named.get(r.from_version_id or 0, (None, ""))[0],
        reason=r.reason,
        proposed_by=r.proposed_by,
        created_at=r.created_at,
        status=status,
        decided_by=r.decided_by,
        decided_at=r.decided_at,
        decision_reason=r.decision_reason,
        diff=lines,
        plan=r.plan,
        contract_changes=contract_changes,
        gate=gate,
    )


def get_locked(tx: Tx, row: PromptRow, request_id: int) -> DeployRequest:
    return _out(tx, row, _row(tx, row, request_id), with_diff=True)


def get(tx: Tx, ref: PromptLike, request_id: int) -> DeployRequest:
    """A request with the diff from what its label serves now to what it proposes."""
    return get_locked(tx, load.prompt_row(tx, ref), request_id)


def page(
    tx: Tx, ref: PromptLike, *, status: str | None, limit: int, cursor: str | None
) -> Page[DeployRequest]:
    if status is not None and status not in DEPLOY_STATUSES:
        raise InvalidInput("status is one of open, approved, rejected", field="status")
    rules.check_limit(limit)
    before = rules.decode_cursor(cursor) if cursor else None
    row = load.prompt_row(tx, ref)
    rows = s.request_page(tx.conn, row.id, status=status, before_id=before, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    items = [_out(tx, row, r, with_diff=False) for r in rows]
    return Page(items, rules.encode_cursor(rows[-1].id) if more and rows else None)

"""Gates (issue 25; docs/evaluations.md, "The gate"): a label may require that a candidate
passes a named test set before it moves there by a deploy request or a rollout.

``check_gate`` is the one decision, for every path that moves a label on someone's behalf:
deploy requests (core/deploys.py ``decide``) and rollouts (their start calls it too). It
reads the label's gate, what the label serves now, and the newest completed evaluation of
the candidate against it on the set's newest version; it writes nothing. ``enforce`` refuses
a failed check (``GateFailed``, 409) unless an admin overrides it with a reason, which is
recorded as a ``gate.overridden`` event."""

from __future__ import annotations

from promptdeck.core import labels, load
from promptdeck.core.tx import Tx
from promptdeck.domain import evaluations as ev
from promptdeck.domain.gates import Gate, GateCheck, check_thresholds, decide, matches
from promptdeck.domain.labels import check_label, check_reason
from promptdeck.domain.refs import EventKind, PromptRef, VersionRef
from promptdeck.errors import GateFailed, GateNotFound, InvalidInput, TestSetNotFound
from promptdeck.store import evaluations as evaluation_store
from promptdeck.store import gates as store
from promptdeck.store import test_sets as set_store
from promptdeck.store.records import PromptRow

SEARCHED = 100  # completed evaluations of the set's version looked through, newest first


def check_gate(tx: Tx, prompt: PromptRow, label: str, version_id: int) -> GateCheck:
    """Whether ``version_id`` may go to ``label`` of ``prompt`` now: passed when the label
    has no gate, or when the newest completed evaluation of the candidate against what the
    label serves (on the gate's test set, its newest version) meets every threshold and is
    not worse. Reads only; ``reasons`` say what is missing."""
    gate = store.get(tx.conn, prompt.id, label)
    if gate is None:
        return decide(
            None,
            label=label,
            version_id=version_id,
            serving=None,
            set_version=None,
            evaluation=None,
        )
    serving = labels.current(tx, prompt, label)
    found = set_store.find(tx.conn, set_id=gate.test_set_id)
    number = None if found is None else found.version
    evaluation = None
    if found is not None and number is not None:
        row = set_store.version_row(tx.conn, found.id, number)
        if row is not None:
            candidates = evaluation_store.page(
                tx.conn,
                prompt_id=prompt.id,
                before_id=None,
                limit=SEARCHED,
                status=ev.COMPLETED,
                test_set_version_id=row[0],
            )
            evaluation = next((e for e in candidates if matches(e, version_id, serving)), None)
    return decide(
        gate,
        label=label,
        version_id=version_id,
        serving=serving,
        set_version=number,
        evaluation=evaluation,
    )


def enforce(
    tx: Tx,
    prompt: PromptRow,
    label: str,
    version_id: int,
    *,
    override: str | None = None,
    request_id: int | None = None,
) -> GateCheck:
    """``check_gate``, refusing a failed check with ``GateFailed`` unless ``override`` (an
    admin's reason; the caller checks the role) is given: then a ``gate.overridden`` event
    records who let it through, why, and what the gate said."""
    found = check_gate(tx, prompt, label, version_id)
    if found.passed:
        return found
    if override is None:
        raise GateFailed(
            f"label {label!r} requires test set {found.test_set!r}: " + "; ".join(found.reasons),
            reasons=list(found.reasons),
            evaluation_id=found.evaluation_id,
        )
    detail: dict[str, object] = {
        "label": label,
        "reason": override,
        "gate": list(found.reasons),
        "test_set": found.test_set,
        "evaluation_id": found.evaluation_id,
    }
    if request_id is not None:
        detail["request_id"] = request_id
    tx.record(
        EventKind.GATE_OVERRIDDEN,
        prompt.id,
        version_id=version_id,
        from_version_id=found.baseline_id,
        detail=detail,
    )
    return found


def override_reason(override: bool, reason: str | None) -> str | None:
    """An override needs its reason (it is recorded)."""
    if not override:
        return None
    why = check_reason(reason)
    if not why:
        raise InvalidInput("overriding a gate needs a reason", field="reason")
    return why


# --- configuring gates (admin) ----------------------------------------------------------------


def set_gate(
    tx: Tx, ref: PromptRef, label: str, test_set: str, thresholds: dict[str, float]
) -> Gate:
    check_label(label)
    wanted = check_thresholds(thresholds)
    row = load.prompt_row(tx, ref, for_update=True)
    found = set_store.find(tx.conn, name=test_set)
    if found is None or found.prompt_id != row.id:
        raise TestSetNotFound(
            f"prompt {row.name!r} has no test set {test_set[:64]!r}", field="test_set"
        )
    store.put(
        tx.conn,
        {
            "prompt_id": row.id,
            "label": label,
            "test_set_id": found.id,
            "thresholds": wanted,
            "created_at": tx.clock(),
            "created_by": tx.actor,
        },
    )
    tx.record(
        EventKind.GATE_SET,
        row.id,
        detail={"label": label, "test_set": found.name, "thresholds": wanted},
    )
    return get_gate(tx, ref, label)


def remove_gate(tx: Tx, ref: PromptRef, label: str) -> None:
    check_label(label)
    row = load.prompt_row(tx, ref, for_update=True)
    if not store.delete(tx.conn, row.id, label):
        raise GateNotFound(f"label {label!r} of {row.name!r} has no gate")
    tx.record(EventKind.GATE_REMOVED, row.id, detail={"label": label})


def get_gate(tx: Tx, ref: PromptRef, label: str) -> Gate:
    check_label(label)
    row = load.prompt_row(tx, ref)
    found = store.get(tx.conn, row.id, label)
    if found is None:
        raise GateNotFound(f"label {label!r} of {row.name!r} has no gate")
    return found


def gates(tx: Tx, ref: PromptRef) -> list[Gate]:
    return store.of_prompt(tx.conn, load.prompt_row(tx, ref).id)


def check(tx: Tx, ref: PromptRef, label: str, version_id: int) -> GateCheck:
    """``check_gate`` for a face: may this version go to that label now?"""
    check_label(label)
    row = load.prompt_row(tx, ref)
    load.version_row(tx, row, VersionRef(PromptRef(id=row.id), version_id), full=False)
    return check_gate(tx, row, label, version_id)

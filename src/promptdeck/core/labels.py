"""Labels (issue 14): named pointers at versions, moved with compare-and-swap, each move
logged (``label_moves``) and recorded as an event; protected labels.

The `active` label is the prompt's active version (``prompts.active_version_id``): moving it
is a rollback, recorded as ``version.rolled_back`` with the label in the detail, so every
rule of the active version holds for it. Every other label is a row of ``labels``.

Every move locks the prompt's row first (as version creation does), then compares the
label's last move with ``If-Match``: concurrent moves of one label are serialized, and of
several racing with one ETag exactly one wins.

Who may move a protected label is the caller's (``tx.caller.may_move_protected``: the admin
role)."""

from __future__ import annotations

from typing import Any

from promptdeck.core import compare, load, retention
from promptdeck.core.tx import Tx
from promptdeck.domain import etag, rules
from promptdeck.domain.commands import MoveLabel, ProtectLabel, RemoveLabel, RevertLabel
from promptdeck.domain.labels import (
    ACTIVE,
    Label,
    LabelMove,
    Moved,
    check_label,
    check_reason,
)
from promptdeck.domain.models import Page, Prompt, Version
from promptdeck.domain.refs import EventKind, PromptLike, PromptRef, VersionRef
from promptdeck.errors import (
    LabelledVersionProtected,
    LabelNotFound,
    LabelProtected,
    RolloutInProgress,
    StaleEtag,
    VersionNotFound,
)
from promptdeck.store import labels as s
from promptdeck.store import queries as q
from promptdeck.store import rollouts as rollouts_store
from promptdeck.store.records import PromptRow


def current(tx: Tx, row: PromptRow, label: str) -> int | None:
    """The version the label points at now (None: not set)."""
    if label == ACTIVE:
        return row.active_version_id
    found = s.label_row(tx.conn, row.id, label)
    return None if found is None else found.version_id


def guard(tx: Tx, prompt_id: int, label: str) -> None:
    if not tx.caller.may_move_protected and label in load.protected(tx, prompt_id):
        raise LabelProtected(
            f"label {label!r} is protected: moving it needs the admin role or an approved "
            "deploy request"
        )


def check_label_etag(tx: Tx, prompt_id: int, label: str, if_match: str | None) -> int:
    """The label's last move id; StaleEtag if ``if_match`` names another."""
    move_id = s.last_move_id(tx.conn, prompt_id, label)
    if if_match is not None and if_match.strip() != "*":
        now = etag.label_etag(prompt_id, label, move_id)
        if not etag.matches(if_match, now):
            raise StaleEtag(f"If-Match {if_match} does not match label {label!r}'s ETag {now}")
    return move_id


def log_move(
    tx: Tx,
    prompt_id: int,
    label: str,
    from_id: int | None,
    to_id: int | None,
    reason: str,
    *,
    kind: str | None = None,
) -> int:
    """Record a move (``kind`` None) or a rollout's change (``kind`` rollout.*). Every path
    that moves a label passes here (a move, a removal, a revert, a rollback, a version
    created active, a deploy approval, a rollout's steps), so the protection check is here
    too: the operations' own earlier ``guard`` only refuses sooner."""
    guard(tx, prompt_id, label)
    return s.insert_move(
        tx.conn,
        {
            "prompt_id": prompt_id,
            "label": label,
            "from_version_id": from_id,
            "to_version_id": to_id,
            "actor": tx.actor,
            "reason": reason,
            "created_at": tx.clock(),
            "kind": kind,
        },
    )


def refuse_during_rollout(tx: Tx, prompt_id: int, label: str) -> None:
    """A label whose rollout runs (or is paused) moves only by its rollout: a move by hand
    would leave the rollout comparing versions the label no longer serves."""
    live = rollouts_store.live(tx.conn, prompt_id, label)
    if live is not None:
        raise RolloutInProgress(
            f"label {label!r} is in a rollout (version {live.baseline_version_id} to "
            f"{live.candidate_version_id}, {live.status}): abort it before moving the label"
        )


def move_locked(
    tx: Tx,
    row: PromptRow,
    label: str,
    version_id: int,
    *,
    reason: str,
    if_match: str | None,
    accept_breaking: bool = False,
) -> bool:
    """Point ``label`` at ``version_id`` (the prompt row is locked and protection checked);
    False when it already points there. Purged: 409; archived: restored first; during the
    label's rollout: 409. A protected label moved to a version whose contract breaks what it
    serves needs ``accept_breaking`` (core/compare.py ``check_move``)."""
    check_label_etag(tx, row.id, label, if_match)
    refuse_during_rollout(tx, row.id, label)
    was = current(tx, row, label)
    target = load.version_row(tx, row, VersionRef(PromptRef(id=row.id), version_id), full=False)
    if was == version_id:
        return False
    retention.check_usable(target)
    breaking = compare.check_move(
        tx, row.id, label, was, version_id, accept_breaking=accept_breaking
    )
    restored = target.archived and retention.restore(tx, row.id, target, reason=f"label {label}")
    now = tx.clock()
    detail: dict[str, Any] = {
        "label": label,
        "number": target.number,
        "version_name": target.version_name,
    }
    if reason:
        detail["reason"] = reason
    if restored:
        detail["restored"] = True
    if breaking:
        detail |= compare.accepted(breaking)
    if label == ACTIVE:
        if not q.set_active(tx.conn, row.id, version_id, now, None):
            raise StaleEtag("the prompt changed while moving its active label; retry")
        kind = EventKind.VERSION_ROLLED_BACK
    else:
        s.set_label(tx.conn, row.id, label, version_id, now, tx.actor)
        kind = EventKind.LABEL_MOVED
    log_move(tx, row.id, label, was, version_id, reason)
    tx.record(kind, row.id, version_id=version_id, from_version_id=was, detail=detail)
    if restored:
        retention.sweep(tx, row.id, protect={version_id, row.active_version_id})
    return True


def move(tx: Tx, cmd: MoveLabel) -> Moved:
    label = check_label(cmd.label)
    why = check_reason(cmd.reason)
    row = load.prompt_row(tx, cmd.prompt, for_update=True)
    guard(tx, row.id, label)
    changed = move_locked(
        tx,
        row,
        label,
        cmd.version_id,
        reason=why,
        if_match=cmd.if_match,
        accept_breaking=cmd.accept_breaking,
    )
    return Moved(one(tx, load.prompt_row(tx, PromptRef(id=row.id)), label), changed)


def remove(tx: Tx, cmd: RemoveLabel) -> None:
    label = check_label(cmd.label)
    why = check_reason(cmd.reason)
    if label == ACTIVE:
        raise LabelledVersionProtected("the active label cannot be removed; move it instead")
    row = load.prompt_row(tx, cmd.prompt, for_update=True)
    guard(tx, row.id, label)
    _remove_locked(tx, row, label, why, cmd.if_match)


def _remove_locked(tx: Tx, row: PromptRow, label: str, why: str, if_match: str | None) -> None:
    check_label_etag(tx, row.id, label, if_match)
    refuse_during_rollout(tx, row.id, label)
    was = current(tx, row, label)
    if was is None:
        raise LabelNotFound(f"prompt {row.name!r} has no label {label!r}")
    s.delete_label(tx.conn, row.id, label)
    log_move(tx, row.id, label, was, None, why)
    detail: dict[str, Any] = {"label": label, **({"reason": why} if why else {})}
    tx.record(EventKind.LABEL_REMOVED, row.id, from_version_id=was, detail=detail)


def revert(tx: Tx, cmd: RevertLabel) -> Moved:
    """Undo the label's last move: back to where it was (a label that had just been set is
    removed; one just removed comes back). Itself a recorded move."""
    label, if_match = check_label(cmd.label), cmd.if_match
    row = load.prompt_row(tx, cmd.prompt, for_update=True)
    guard(tx, row.id, label)
    last = s.last_move(tx.conn, row.id, label)
    if last is None:
        raise LabelNotFound(f"label {label!r} of prompt {str(cmd.prompt)!r} has never moved")
    why = f"revert of move {last.id}"
    if last.from_version_id is None:
        if label == ACTIVE:  # its first move, the prompt's creation
            raise LabelledVersionProtected("the active label cannot be removed; move it instead")
        _remove_locked(tx, row, label, why, if_match)
        return Moved(one(tx, row, label), True)
    changed = move_locked(
        tx,
        row,
        label,
        last.from_version_id,
        reason=why,
        if_match=if_match,
        accept_breaking=cmd.accept_breaking,
    )
    return Moved(one(tx, load.prompt_row(tx, PromptRef(id=row.id)), label), changed)


def protect(tx: Tx, cmd: ProtectLabel) -> Label:
    """Mark a label protected or not; only who may move protected labels may do this."""
    label, on = check_label(cmd.label), cmd.protected
    row = load.prompt_row(tx, cmd.prompt, for_update=True)
    if not tx.caller.may_move_protected:
        raise LabelProtected("changing which labels are protected needs the admin role")
    tx.protected.pop(row.id, None)
    if s.set_protected(tx.conn, row.id, label, on):
        tx.record(EventKind.LABEL_PROTECTED, row.id, detail={"label": label, "protected": on})
    return one(tx, row, label)


# --- reads ------------------------------------------------------------------------------------


def one(tx: Tx, row: PromptRow, label: str) -> Label:
    protected = label in s.protected(tx.conn, row.id)
    move_id = s.last_move_id(tx.conn, row.id, label)
    if label == ACTIVE:
        last = s.last_move(tx.conn, row.id, label)
        version_id: int | None = row.active_version_id
        moved_at, moved_by = (last.created_at, last.actor) if last else (None, None)
    else:
        found = s.label_row(tx.conn, row.id, label)
        version_id = found.version_id if found else None
        moved_at, moved_by = (found.moved_at, found.moved_by) if found else (None, None)
    named = s.version_numbers(tx.conn, row.id, {version_id} if version_id else set())
    number, name = named.get(version_id or 0, (None, None))
    return Label(
        row.id,
        label,
        version_id,
        number,
        name,
        protected,
        moved_at,
        moved_by,
        etag.label_etag(row.id, label, move_id),
    )


def get(tx: Tx, ref: PromptLike, label: str) -> Label:
    check_label(label)
    found = one(tx, load.prompt_row(tx, ref), label)
    if found.version_id is None and not found.protected:
        raise LabelNotFound(f"prompt {str(ref)!r} has no label {label!r}")
    return found


def listing(tx: Tx, ref: PromptLike) -> list[Label]:
    """`active` first, then every set or protected label by name."""
    row = load.prompt_row(tx, ref)
    names = {r.name for r in s.label_rows(tx.conn, row.id)} | s.protected(tx.conn, row.id)
    return [one(tx, row, name) for name in [ACTIVE, *sorted(names - {ACTIVE})]]


def history(
    tx: Tx, ref: PromptLike, label: str | None, *, limit: int, cursor: str | None
) -> Page[LabelMove]:
    """One label's moves (or every label's: the prompt's deploys), newest first."""
    if label is not None:
        check_label(label)
    rules.check_limit(limit)
    before = rules.decode_cursor(cursor) if cursor else None
    row = load.prompt_row(tx, ref)
    rows = s.move_page(tx.conn, row.id, label, before_id=before, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    ids = {v for r in rows for v in (r.from_version_id, r.to_version_id) if v is not None}
    named = s.version_numbers(tx.conn, row.id, ids)
    items = [
        LabelMove(
            r.id,
            r.prompt_id,
            r.label,
            r.from_version_id,
            named[r.from_version_id][0] if r.from_version_id in named else None,
            r.to_version_id,
            named[r.to_version_id][0] if r.to_version_id in named else None,
            r.actor,
            r.reason,
            r.created_at,
            r.kind,
        )
        for r in rows
    ]
    return Page(items, rules.encode_cursor(rows[-1].id) if more and rows else None)


def fetch(tx: Tx, ref: PromptLike, label: str) -> tuple[Prompt, Version]:
    """The version a label serves, in full (GET …/active?label=)."""
    check_label(label)
    row = load.prompt_row(tx, ref)
    version_id = current(tx, row, label)
    if version_id is None:
        raise LabelNotFound(f"prompt {str(ref)!r} has no label {label!r}")
    vrow = q.version_row(tx.conn, row.id, version_id, full=True)
    if vrow is None:  # impossible while the foreign key holds
        raise VersionNotFound(f"label {label!r} names no version")
    return q.to_prompt(row), q.to_version(
        vrow, active_id=row.active_version_id, content=tx.contents.text_of(tx.conn, vrow)
    )

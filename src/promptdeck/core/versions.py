"""Operations on versions (rules 2-5): create, read the history, roll back, the active one."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from promptdeck.core import compare, includes, labels, load, retention
from promptdeck.core.results import RolledBack, VersionCreated
from promptdeck.core.tx import Tx
from promptdeck.domain import rules, templates
from promptdeck.domain.commands import CreateVersion, Rollback, VersionDraft
from promptdeck.domain.labels import ACTIVE, check_label
from promptdeck.domain.models import Page, Prompt, Version
from promptdeck.domain.refs import EventKind, PromptLike
from promptdeck.errors import StaleEtag, VersionNotFound
from promptdeck.store import includes as inc
from promptdeck.store import queries as q


def insert(tx: Tx, prompt_id: int, draft: VersionDraft) -> Version:
    """Rule 3: the number from the prompt's counter (the UPDATE locks the prompt row), the
    name given or the creation time; rule 8 applied after."""
    version_name, content, model_config = draft.version_name, draft.content, draft.model_config
    kind, template_format, activate = draft.kind, draft.template_format, draft.activate
    now = tx.clock()
    allocated = q.lock_and_bump_prompt(tx.conn, prompt_id, now)
    number = allocated.number
    previous_active = allocated.active_version_id
    if version_name is None:
        base = rules.default_version_name(now)
        version_name = rules.next_free_name(base, q.names_with_prefix(tx.conn, prompt_id, base))
    contract = None if draft.contract is None else draft.contract.to_json()
    content_hash = rules.content_hash(
        templates.hashed(kind, template_format, content), model_config, contract
    )
    version_id = q.insert_version(
        tx.conn,
        {
            "prompt_id": prompt_id,
            "number": number,
            "version_name": version_name,
            "description": draft.description,
            "blob_id": tx.contents.put(tx.conn, prompt_id, number, content),
            "model_config": model_config,
            "content_hash": content_hash,
            "created_by": tx.actor,
            "created_at": now,
            "kind": kind,
            "template_format": template_format,
            "contract": contract,
        },
    )
    includes.record(tx, prompt_id, version_id, kind, content)
    named = {"number": number, "version_name": version_name}
    tx.record(EventKind.VERSION_CREATED, prompt_id, version_id=version_id, detail=named)
    if activate:
        if not q.set_active(tx.conn, prompt_id, version_id, now, None):
            labels.refuse_during_rollout(tx, prompt_id, ACTIVE)  # the one reason it fails
            raise StaleEtag("the prompt changed while activating; retry")
        labels.log_move(tx, prompt_id, ACTIVE, previous_active, version_id, "created active")
        tx.record(
            EventKind.VERSION_ACTIVATED,
            prompt_id,
            version_id=version_id,
            from_version_id=previous_active,
            detail=named,
        )
    # Rule 8: over max_versions, archive the oldest; never the active nor the new one.
    retention.sweep(
        tx,
        prompt_id,
        protect={version_id, version_id if activate else previous_active},
        live=allocated.live_count,
        max_versions=allocated.max_versions,
    )
    # Everything about the new version is known here: no need to read it back.
    return Version(
        id=version_id,
        prompt_id=prompt_id,
        number=number,
        version_name=version_name,
        description=draft.description,
        created_at=now,
        created_by=tx.actor,
        content_hash=content_hash,
        active=activate,
        previous_version_id=allocated.previous_version_id,
        content=content,
        model_config=model_config,
        kind=kind,
        template_format=template_format,
        contract=draft.contract,
    )


def create(tx: Tx, cmd: CreateVersion) -> VersionCreated:
    """Rule 2: snapshot the body (or the working copy); ``save_working_copy`` also makes it
    the prompt's working copy, in the same transaction."""
    includes.lock_first(tx, cmd.content if cmd.messages is None else str(cmd.messages))
    row = load.prompt_row(tx, cmd.prompt, for_update=True)
    load.check_etag(row, cmd.if_match)
    replay = tx.claim(f"prompt:{row.id}:versions", cmd.idempotency_key, cmd.request())
    if replay is not None:
        return VersionCreated(replayed=True, version=load.version(tx, row.id, replay))
    draft = cmd.draft(row.content, row.model_config)
    if cmd.if_changed:
        same = unchanged(tx, row.id, draft)
        if same is not None:
            # The key is not stored: a retry asks again, and is answered 200 the same way.
            return VersionCreated(replayed=False, version=same, unchanged=True)
    version = insert(tx, row.id, draft)
    if cmd.save_working_copy:
        q.update_prompt(
            tx.conn, row.id, {"content": draft.content, "model_config": draft.model_config}
        )
    tx.remember(version.id)
    return VersionCreated(replayed=False, version=version)


def unchanged(tx: Tx, prompt_id: int, draft: VersionDraft) -> Version | None:
    """The latest version when it has this very content, kind, format and model config."""
    latest_id = inc.latest_version_id(tx.conn, prompt_id)
    if latest_id is None:
        return None
    latest = load.version(tx, prompt_id, latest_id)
    contract = None if draft.contract is None else draft.contract.to_json()
    wanted = rules.content_hash(
        templates.hashed(draft.kind, draft.template_format, draft.content),
        draft.model_config,
        contract,
    )
    if latest.purged or latest.content_hash != wanted:
        return None
    return latest


def page(
    tx: Tx,
    ref: PromptLike,
    *,
    limit: int,
    cursor: str | None,
    name: str | None,
    archived: bool | None,
) -> Page[Version]:
    rules.check_limit(limit)
    before = rules.decode_cursor(cursor) if cursor else None
    prompt = load.prompt_row(tx, ref)
    if name is not None:
        found = q.version_by_name(tx.conn, prompt.id, name)
        rows = [found] if found is not None else []
        if archived is not None:
            rows = [r for r in rows if r.archived == archived]
        more = False
    else:
        rows = q.version_page(
            tx.conn, prompt.id, before_number=before, limit=limit + 1, archived=archived
        )
        more = len(rows) > limit
        rows = rows[:limit]
    items = [q.to_version(r, active_id=prompt.active_version_id) for r in rows]
    return Page(items, rules.encode_cursor(items[-1].number) if more and items else None)


def get(tx: Tx, ref: PromptLike, version_id: int) -> Version:
    """Rule 5: a version of another prompt is exactly as missing as one that never was."""
    return load.version(tx, load.prompt_row(tx, ref).id, version_id)


def rollback(tx: Tx, cmd: Rollback) -> RolledBack:
    """Rule 4: make any version of the prompt active; deletes nothing; a no-op if active.
    With another ``label``, point that label at it instead (``if_match``: the label's
    ETag); a protected label needs a caller who may move it."""
    label = check_label(cmd.label or ACTIVE)
    ref, if_match = cmd.version, cmd.if_match
    row = load.prompt_row(tx, ref.prompt, for_update=True)
    labels.guard(tx, row.id, label)
    if label != ACTIVE:
        moved = labels.move_locked(
            tx,
            row,
            label,
            ref.version_id,
            reason="",
            if_match=if_match,
            accept_breaking=cmd.accept_breaking,
        )
        return RolledBack(
            prompt=load.reload(tx, row.id),
            version=load.version(tx, row.id, ref.version_id),
            changed=moved,
        )
    expected = load.check_etag(row, if_match)
    target = load.version_row(tx, row, ref, full=True)
    version_id = ref.version_id
    changed = row.active_version_id != version_id
    restored = False
    now = tx.clock()
    if changed:
        retention.check_usable(target)
        breaking = compare.check_move(
            tx,
            row.id,
            ACTIVE,
            row.active_version_id,
            version_id,
            accept_breaking=cmd.accept_breaking,
        )
        restored = target.archived
        if restored:  # rule 8: restore first, then keep the limit (see docs/storage.md)
            retention.restore(tx, row.id, target, reason="rollback")
        if not q.set_active(tx.conn, row.id, version_id, now, expected):
            labels.refuse_during_rollout(tx, row.id, ACTIVE)
            raise StaleEtag("the prompt changed while rolling back; fetch it and retry")
        labels.log_move(tx, row.id, ACTIVE, row.active_version_id, version_id, "")
        detail: dict[str, Any] = {"number": target.number, "version_name": target.version_name}
        if restored:
            detail["restored"] = True
        if breaking:
            detail |= compare.accepted(breaking)
        tx.record(
            EventKind.VERSION_ROLLED_BACK,
            row.id,
            version_id=version_id,
            from_version_id=row.active_version_id,
            detail=detail,
        )
        if restored:
            retention.sweep(tx, row.id, protect={version_id})
    if restored:  # the restore and the sweep changed rows: read them back
        return RolledBack(
            prompt=load.reload(tx, row.id),
            version=load.version(tx, row.id, version_id),
            changed=changed,
        )
    # Otherwise the rows read at the start hold the answer: the prompt row (locked) changed
    # only by set_active's three columns, the version not at all.
    if changed:
        row = replace(row, active_version_id=version_id, revision=row.revision + 1, updated_at=now)
    summary = replace(target, model_config=None, blob_id=None, stored=None)
    return RolledBack(
        prompt=q.to_prompt(row, q.to_version(summary, active_id=version_id)),
        version=q.to_version(
            target,
            active_id=version_id,
            previous_id=q.previous_version_id(tx.conn, row.id, target.number),
            content=tx.contents.text_of(tx.conn, target),
        ),
        changed=changed,
    )


def active(tx: Tx, ref: PromptLike, label: str | None = None) -> tuple[Prompt, Version]:
    """The version `active` (or ``label``) serves, in full, with its prompt: the hot path's
    slow path."""
    if label is not None and label != ACTIVE:
        return labels.fetch(tx, ref, label)
    row = load.prompt_row(tx, ref)
    vrow = (
        None
        if row.active_version_id is None
        else q.version_row(tx.conn, row.id, row.active_version_id, full=True)
    )
    if vrow is None:  # impossible while the foreign key holds
        raise VersionNotFound(f"prompt {str(ref)!r} has no active version")
    return q.to_prompt(row), q.to_version(
        vrow, active_id=row.active_version_id, content=tx.contents.text_of(tx.conn, vrow)
    )

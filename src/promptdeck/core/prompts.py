"""Operations on prompts (rules 1, 6, 7): create with a first version, list, read, edit the
metadata and working copy, soft delete, restore, purge, and the prompt's timeline."""

from __future__ import annotations

from promptdeck.core import includes, load, retention, versions
from promptdeck.core.results import PromptCreated
from promptdeck.core.tx import Tx
from promptdeck.domain import rules
from promptdeck.domain.access import Role
from promptdeck.domain.commands import (
    CreatePrompt,
    DeletePrompt,
    PurgePrompt,
    RestorePrompt,
    UpdatePrompt,
)
from promptdeck.domain.labels import DEFAULT_PROTECTED
from promptdeck.domain.models import Event, Page, Prompt
from promptdeck.domain.refs import EventKind, PromptLike
from promptdeck.errors import InvalidInput, PromptNotDeleted, PromptNotFound
from promptdeck.store import blobs as b
from promptdeck.store import evaluations as evaluations_store
from promptdeck.store import includes as inc
from promptdeck.store import labels as labels_store
from promptdeck.store import outcomes as outcomes_store
from promptdeck.store import queries as q
from promptdeck.store import rollouts as rollouts_store
from promptdeck.store import test_sets as test_sets_store
from promptdeck.store import webhooks as webhooks_store

PROMPT_FIELDS = ("description", "tags", "content", "model_config", "max_versions")


def create(tx: Tx, new: CreatePrompt) -> PromptCreated:
    """Rule 1: a prompt is created with its first version, which is active. A caller kept to
    prompt prefixes creates only within them; a retention limit is the admin's to set."""
    if new.max_versions is not None:
        tx.caller.need(Role.admin)
    if not tx.caller.may_see(new.name):
        raise PromptNotFound(f"no prompt {new.name!r} within this key's prompts")
    rules.check_prompt_name(new.name)
    replay = tx.claim("prompts", new.idempotency_key, new.request())
    if replay is not None:
        return PromptCreated(replayed=True, prompt=load.reload(tx, replay))
    first = new.first_version()
    includes.lock_first(tx, first.content)
    now = tx.clock()
    max_versions = new.max_versions
    prompt_id = q.insert_prompt(
        tx.conn,
        {
            "name": new.name,
            "description": new.description,
            "tags": new.tags,
            "content": new.content,
            "model_config": new.model_config,
            "active_version_id": None,
            "next_version_number": 0,
            "version_count": 0,
            "max_versions": max_versions if max_versions is not None else tx.default_max_versions,
            "revision": 1,
            "created_at": now,
            "updated_at": now,
        },
    )
    # Protected from the start (an admin may change it): recorded in the creation's event.
    for label in DEFAULT_PROTECTED:
        labels_store.set_protected(tx.conn, prompt_id, label, True)
    tx.protected.pop(prompt_id, None)
    tx.record(
        EventKind.PROMPT_CREATED,
        prompt_id,
        detail={"name": new.name, "protected_labels": list(DEFAULT_PROTECTED)},
    )
    versions.insert(tx, prompt_id, first)
    tx.remember(prompt_id)
    return PromptCreated(replayed=False, prompt=load.reload(tx, prompt_id))


def page(
    tx: Tx, *, limit: int, cursor: str | None, query: str | None, tag: str | None, deleted: bool
) -> Page[Prompt]:
    """A caller kept to prompt prefixes sees only its prompts: a page may then hold fewer
    items (the cursor is the same)."""
    rules.check_limit(limit)
    rules.check_filters(q=query, tag=tag)
    after = rules.decode_cursor(cursor) if cursor else None
    rows = q.prompt_page(
        tx.conn, after_id=after, limit=limit + 1, query_text=query, tag=tag, deleted=deleted
    )
    more = len(rows) > limit
    rows = rows[:limit]
    actives = q.versions_by_ids(tx.conn, [r.active_version_id for r in rows if r.active_version_id])
    items = [
        q.to_prompt(
            r,
            q.to_version(actives[r.active_version_id], active_id=r.active_version_id)
            if r.active_version_id in actives
            else None,
        )
        for r in rows
    ]
    next_cursor = rules.encode_cursor(items[-1].id) if more and items else None
    return Page([p for p in items if tx.caller.may_see(p.name)], next_cursor)


def get(tx: Tx, ref: PromptLike) -> Prompt:
    return load.prompt(tx, load.prompt_row(tx, ref))


def update(tx: Tx, cmd: UpdatePrompt) -> Prompt:
    """Rule 6: metadata and working copy only; never a version or the active pointer. The
    retention limit is the admin's to change."""
    changes = cmd.changes
    unknown = set(changes) - set(PROMPT_FIELDS)
    if unknown:
        raise InvalidInput(f"cannot change {sorted(unknown)}", field=sorted(unknown)[0])
    if "max_versions" in changes:
        tx.caller.need(Role.admin)
    row = load.prompt_row(tx, cmd.prompt, for_update=True)
    load.check_etag(row, cmd.if_match)
    values = {k: v for k, v in changes.items() if getattr(row, k) != v}
    if values:
        q.update_prompt(
            tx.conn, row.id, {**values, "revision": row.revision + 1, "updated_at": tx.clock()}
        )
        tx.record(EventKind.PROMPT_UPDATED, row.id, detail={"fields": sorted(values)})
        if "max_versions" in values:  # rule 8: a lower limit applies at once
            retention.sweep(tx, row.id, protect={row.active_version_id})
    return load.reload(tx, row.id)


def delete(tx: Tx, cmd: DeletePrompt) -> None:
    """Rule 7: a soft delete; every version stays and the prompt can be restored. A prompt
    other prompts include goes only with ``force``."""
    includes.lock_first(tx, None)  # no version may start including it meanwhile
    row = load.prompt_row(tx, cmd.prompt, for_update=True)
    load.check_etag(row, cmd.if_match)
    includes.check_prompt_deletable(tx, row, cmd.force)
    now = tx.clock()
    q.update_prompt(
        tx.conn, row.id, {"deleted_at": now, "revision": row.revision + 1, "updated_at": now}
    )
    tx.record(EventKind.PROMPT_DELETED, row.id)


def restore(tx: Tx, cmd: RestorePrompt) -> Prompt:
    row = load.prompt_row(tx, cmd.prompt, include_deleted=True, for_update=True)
    if row.deleted_at is None:
        raise PromptNotDeleted(f"prompt {str(cmd.prompt)!r} is not deleted")
    now = tx.clock()
    q.update_prompt(
        tx.conn, row.id, {"deleted_at": None, "revision": row.revision + 1, "updated_at": now}
    )
    tx.record(EventKind.PROMPT_RESTORED, row.id)
    return load.reload(tx, row.id)


def purge(tx: Tx, cmd: PurgePrompt) -> None:
    """Hard delete: only a prompt already soft-deleted, and only on explicit request."""
    row = load.prompt_row(tx, cmd.prompt, include_deleted=True, for_update=True)
    if row.deleted_at is None:
        raise PromptNotDeleted(f"prompt {str(cmd.prompt)!r} must be deleted before it is purged")
    blob_ids = b.prompt_blob_ids(tx.conn, row.id)
    rollouts_store.purge_prompt(tx.conn, row.id)  # they name versions: before them
    labels_store.purge_prompt(tx.conn, row.id)
    webhooks_store.purge_prompt(tx.conn, row.id)
    outcomes_store.purge_prompt(tx.conn, row.id)
    evaluations_store.purge_prompt(tx.conn, row.id)  # before its test sets: they name them
    test_sets_store.purge_prompt(tx.conn, row.id)
    inc.delete_for_prompt(tx.conn, row.id)
    q.purge_prompt(tx.conn, row.id)
    for blob_id in blob_ids:  # contents no other prompt shares go for good
        tx.contents.release(tx.conn, blob_id)


def events(tx: Tx, ref: PromptLike, *, limit: int, cursor: str | None) -> Page[Event]:
    """The prompt's timeline, newest first."""
    rules.check_limit(limit)
    before = rules.decode_cursor(cursor) if cursor else None
    prompt_id = load.prompt_row(tx, ref).id
    found = q.event_page(tx.conn, prompt_id, before_id=before, limit=limit + 1)
    more = len(found) > limit
    items = found[:limit]
    return Page(items, rules.encode_cursor(items[-1].id) if more and items else None)

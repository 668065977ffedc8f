"""Rule 8: the retention sweep, archive, restore and purge of versions, and the storage
report. Helpers (``sweep``, ``archive``…) run in the caller's ``Tx`` with the prompt row
already locked; the operations (``archive_version``…) are what ``Registry`` calls."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine

from promptdeck.core import includes, load
from promptdeck.core.results import Changed
from promptdeck.core.tx import Tx
from promptdeck.domain import retention as rules
from promptdeck.domain.commands import ArchiveVersion, PurgeVersion, RestoreVersion
from promptdeck.domain.refs import EventKind, PromptLike, VersionRef
from promptdeck.domain.retention import CompactReport, StorageReport
from promptdeck.errors import (
    ActiveVersionProtected,
    LabelledVersionProtected,
    RolloutInProgress,
    VersionUnavailable,
)
from promptdeck.store import blobs as b
from promptdeck.store import labels as s
from promptdeck.store import rollouts as rollouts_store
from promptdeck.store.records import VersionRow


def check_usable(version: VersionRow) -> None:
    """A purged version has no content left: it cannot be activated or restored."""
    if version.purged_at is not None:
        raise VersionUnavailable(
            f"version {version.id} was purged ({version.purge_reason}); its content is gone"
        )


def sweep(
    tx: Tx,
    prompt_id: int,
    *,
    protect: set[int | None],
    live: int | None = None,
    max_versions: int | None = None,
) -> list[int]:
    """Archive the oldest unarchived versions beyond ``max_versions``, never one in
    ``protect`` (the active version, the one just created or restored). Reads a counter,
    then at most ``excess + len(protect)`` index entries: O(1) in the length of history."""
    if live is None:
        live, max_versions = b.live_count(tx.conn, prompt_id)
    over = rules.excess(live, max_versions)
    if over == 0:
        return []
    # Labelled versions are never archived (a handful per prompt, read only when over).
    keep = {v for v in protect if v is not None} | s.labelled_version_ids(tx.conn, prompt_id)
    rows = b.oldest_unarchived(tx.conn, prompt_id, exclude=keep, limit=over)
    b.set_archived(tx.conn, prompt_id, [r.id for r in rows], True, tx.clock())
    created = _creation(tx, prompt_id, protect)
    if len(rows) == 1 and created is not None:
        # A version created over the limit archives one: the creation's event says so
        # (stored on its row, not as a row of its own: store/queries.py RETENTION_MERGED).
        (r,) = rows
        created["detail"] = {
            **created["detail"],
            "archived": [
                {
                    "version_id": r.id,
                    "number": r.number,
                    "version_name": r.version_name,
                    "reason": "retention",
                }
            ],
        }
        return [r.id]
    for r in rows:
        tx.record(
            EventKind.VERSION_ARCHIVED,
            prompt_id,
            version_id=r.id,
            detail={
                "number": r.number,
                "version_name": r.version_name,
                "reason": "retention",
                "max_versions": max_versions,
            },
        )
    return [r.id for r in rows]


def _creation(tx: Tx, prompt_id: int, protect: set[int | None]) -> dict[str, Any] | None:
    """This transaction's ``version.created`` event of a version being protected (the one
    whose creation triggered the sweep), if it is still to be written."""
    for event in reversed(tx.events):
        if (
            event["kind"] == EventKind.VERSION_CREATED
            and event["prompt_id"] == prompt_id
            and event["version_id"] in protect
            and "archived" not in event["detail"]
        ):
            found: dict[str, Any] = event
            return found
    return None


def refuse_if_labelled(tx: Tx, prompt_id: int, version_id: int, doing: str) -> None:
    """A version a label points at is never archived nor purged, nor the candidate of a
    live rollout (the hot path serves it to a share of callers)."""
    names = s.labels_of_version(tx.conn, prompt_id, version_id)
    if names:
        raise LabelledVersionProtected(
            f"version {version_id} is labelled {', '.join(names)}: move the label(s) before "
            f"{doing} it"
        )
    rollout = rollouts_store.with_candidate(tx.conn, prompt_id, version_id)
    if rollout is not None:
        raise RolloutInProgress(
            f"version {version_id} is the candidate of the rollout of label "
            f"{rollout.label!r} ({rollout.status}): abort it before {doing} the version"
        )


def archive(tx: Tx, prompt_id: int, version: VersionRow, *, active_id: int | None) -> bool:
    if version.id == active_id:
        raise ActiveVersionProtected(
            f"version {version.id} is active: roll back to another version before archiving it"
        )
    refuse_if_labelled(tx, prompt_id, version.id, "archiving")
    if version.archived:
        return False
    b.set_archived(tx.conn, prompt_id, [version.id], True, tx.clock())
    tx.record(
        EventKind.VERSION_ARCHIVED,
        prompt_id,
        version_id=version.id,
        detail={"number": version.number, "version_name": version.version_name, "reason": "manual"},
    )
    return True


def restore(tx: Tx, prompt_id: int, version: VersionRow, *, reason: str) -> bool:
    check_usable(version)
    if not version.archived:
        return False
    b.set_archived(tx.conn, prompt_id, [version.id], False, tx.clock())
    tx.record(
        EventKind.VERSION_RESTORED,
        prompt_id,
        version_id=version.id,
        detail={"number": version.number, "version_name": version.version_name, "reason": reason},
    )
    return True


def purge(
    tx: Tx, prompt_id: int, version: VersionRow, *, reason: str, active_id: int | None
) -> bool:
    """Destroy a version's content and keep its row as a tombstone; True if it was purged
    now (False: already purged). The content's blob goes unless another version has the
    very same content (then it goes with the last of them)."""
    if version.id == active_id:
        raise ActiveVersionProtected(
            f"version {version.id} is active and cannot be purged: roll back to another first"
        )
    refuse_if_labelled(tx, prompt_id, version.id, "purging")
    if version.purged_at is not None:
        return False
    now = tx.clock()
    if not version.archived:  # a tombstone counts as archived: it has nothing to restore
        b.set_archived(tx.conn, prompt_id, [version.id], True, now)
    b.mark_purged(
        tx.conn,
        prompt_id,
        version.id,
        {"purged_at": now, "purged_by": tx.actor, "purge_reason": reason},
    )
    blob_id = version.blob_id
    destroyed = tx.contents.release(tx.conn, blob_id) if blob_id is not None else False
    tx.record(
        EventKind.VERSION_PURGED,
        prompt_id,
        version_id=version.id,
        detail={
            "number": version.number,
            "version_name": version.version_name,
            "reason": reason,
            "content_destroyed": destroyed,
        },
    )
    return True


# --- operations -------------------------------------------------------------------------------


def _target(tx: Tx, ref: VersionRef) -> tuple[int, int | None, VersionRow]:
    row = load.prompt_row(tx, ref.prompt, for_update=True)
    return row.id, row.active_version_id, load.version_row(tx, row, ref, full=True)


def archive_version(tx: Tx, cmd: ArchiveVersion) -> Changed:
    """Archive by hand: out of the unarchived set, content kept; never the active one."""
    ref = cmd.version
    prompt_id, active_id, target = _target(tx, ref)
    changed = archive(tx, prompt_id, target, active_id=active_id)
    return Changed(load.version(tx, prompt_id, ref.version_id), changed)


def restore_version(tx: Tx, cmd: RestoreVersion) -> Changed:
    """Bring an archived version back (exact content); over max_versions, the oldest other
    unarchived versions (never the active one) are archived in its place."""
    ref = cmd.version
    prompt_id, active_id, target = _target(tx, ref)
    changed = restore(tx, prompt_id, target, reason="manual")
    if changed:
        sweep(tx, prompt_id, protect={ref.version_id, active_id})
    return Changed(load.version(tx, prompt_id, ref.version_id), changed)


def purge_version(tx: Tx, cmd: PurgeVersion) -> Changed:
    """Destroy a version's content for good (a leaked secret); the row stays as a
    tombstone with who, when and why (the reason is required)."""
    ref, reason = cmd.version, rules.check_purge_reason(cmd.reason)
    includes.lock_first(tx, None)  # no version may start pinning it meanwhile
    prompt_id, active_id, target = _target(tx, ref)
    if target.purged_at is None:
        includes.check_version_purgeable(tx, target.id)
    changed = purge(tx, prompt_id, target, reason=reason, active_id=active_id)
    return Changed(load.version(tx, prompt_id, ref.version_id), changed)


def storage(tx: Tx, ref: PromptLike) -> StorageReport:
    row = load.prompt_row(tx, ref)
    labelled = s.labelled_version_ids(tx.conn, row.id) | {row.active_version_id or 0}
    return b.storage_report(tx.conn, row.id, labelled=len(labelled - {0}))


def compact(engine: Engine) -> CompactReport:
    """Reclaim freed space; afterwards no purged content remains in the database files.
    Outside any transaction: VACUUM cannot run inside one."""
    before = b.database_bytes(engine)
    b.compact(engine)
    after = b.database_bytes(engine)
    return CompactReport(engine.dialect.name, before, after)

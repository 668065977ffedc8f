"""Rule 8 inside a Registry transaction: the retention sweep, archive, restore, purge.

Functions here run in the caller's transaction, with the prompt row already locked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from promptdeck.domain import retention as rules
from promptdeck.errors import ActiveVersionProtected, VersionUnavailable
from promptdeck.store import blobs as b

if TYPE_CHECKING:
    from promptdeck.core.registry import Registry

prompt_blob_ids = b.prompt_blob_ids


def check_usable(version: Any) -> None:
    """A purged version has no content left: it cannot be activated or restored."""
    if version.purged_at is not None:
        raise VersionUnavailable(
            f"version {version.id} was purged ({version.purge_reason}); its content is gone"
        )


def sweep(
    reg: Registry,
    conn: Connection,
    prompt_id: int,
    *,
    protect: set[int | None],
    actor: str,
    live: int | None = None,
    max_versions: int | None = None,
) -> list[int]:
    """Archive the oldest unarchived versions beyond ``max_versions``, never one in
    ``protect`` (the active version, the one just created or restored). Reads a counter,
    then at most ``excess + len(protect)`` index entries: O(1) in the length of history."""
    if live is None:
        live, max_versions = b.live_count(conn, prompt_id)
    over = rules.excess(live, max_versions)
    if over == 0:
        return []
    keep = {v for v in protect if v is not None}
    rows = b.oldest_unarchived(conn, prompt_id, exclude=keep, limit=over)
    now = reg.clock()
    b.set_archived(conn, prompt_id, [r.id for r in rows], True, now)
    for r in rows:
        reg._event(
            conn,
            prompt_id,
            "version.archived",
            actor,
            version_id=r.id,
            detail={
                "number": r.number,
                "version_name": r.version_name,
                "reason": "retention",
                "max_versions": max_versions,
            },
        )
    return [r.id for r in rows]


def archive(
    reg: Registry,
    conn: Connection,
    prompt_id: int,
    version: Any,
    *,
    actor: str,
    active_id: int | None,
) -> bool:
    if version.id == active_id:
        raise ActiveVersionProtected(
            f"version {version.id} is active: roll back to another version before archiving it"
        )
    if version.archived:
        return False
    b.set_archived(conn, prompt_id, [version.id], True, reg.clock())
    reg._event(
        conn,
        prompt_id,
        "version.archived",
        actor,
        version_id=version.id,
        detail={"number": version.number, "version_name": version.version_name, "reason": "manual"},
    )
    return True


def restore(
    reg: Registry, conn: Connection, prompt_id: int, version: Any, *, actor: str, reason: str
) -> bool:
    check_usable(version)
    if not version.archived:
        return False
    b.set_archived(conn, prompt_id, [version.id], False, reg.clock())
    reg._event(
        conn,
        prompt_id,
        "version.restored",
        actor,
        version_id=version.id,
        detail={"number": version.number, "version_name": version.version_name, "reason": reason},
    )
    return True


def purge(
    reg: Registry,
    conn: Connection,
    prompt_id: int,
    version: Any,
    blob_id: int | None,
    *,
    actor: str,
    reason: str,
    active_id: int | None,
) -> bool:
    """Destroy a version's content and keep its row as a tombstone; True if it was purged
    now (False: already purged). The content's blob goes unless another version has the
    very same content (then it goes with the last of them)."""
    if version.id == active_id:
        raise ActiveVersionProtected(
            f"version {version.id} is active and cannot be purged: roll back to another first"
        )
    if version.purged_at is not None:
        return False
    now = reg.clock()
    if not version.archived:  # a tombstone counts as archived: it has nothing to restore
        b.set_archived(conn, prompt_id, [version.id], True, now)
    b.mark_purged(
        conn, prompt_id, version.id, {"purged_at": now, "purged_by": actor, "purge_reason": reason}
    )
    destroyed = reg.contents.release(conn, blob_id) if blob_id is not None else False
    reg._event(
        conn,
        prompt_id,
        "version.purged",
        actor,
        version_id=version.id,
        detail={
            "number": version.number,
            "version_name": version.version_name,
            "reason": reason,
            "content_destroyed": destroyed,
        },
    )
    return True

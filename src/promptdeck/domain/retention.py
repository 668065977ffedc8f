"""Retention rules (DESIGN.md rule 8): how many versions to archive, what a purge needs,
and the storage report."""

from __future__ import annotations

from dataclasses import dataclass

from promptdeck.errors import InvalidInput

PURGE_REASON_MAX = 1000


def excess(live: int, max_versions: int | None) -> int:
    """How many unarchived versions must be archived to get back within ``max_versions``."""
    if max_versions is None:
        return 0
    return max(0, live - max_versions)


def check_purge_reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("a purge needs a reason (why the content must go)", field="reason")
    if len(reason) > PURGE_REASON_MAX:
        raise InvalidInput(f"reason is longer than {PURGE_REASON_MAX} characters", field="reason")
    return reason


@dataclass(frozen=True, slots=True)
class StorageReport:
    prompt_id: int
    versions: int
    archived: int
    purged: int
    blobs: int  # distinct contents referenced by the prompt's versions
    raw_bytes: int  # UTF-8 bytes of every version's content, counted per version
    stored_bytes: int  # bytes of those distinct blobs as stored (full copies and deltas)
    labelled: int = 0  # distinct versions a label points at (`active` included): never archived


@dataclass(frozen=True, slots=True)
class CompactReport:
    backend: str
    bytes_before: int
    bytes_after: int

"""Reads every operation shares: a prompt row by reference, a prompt with its active
version, a version in full. Missing things raise here, with the domain's errors; so does a
prompt outside the caller's prefixes, exactly as one that never was."""

from __future__ import annotations

from promptdeck.core.tx import Tx
from promptdeck.domain import etag
from promptdeck.domain.models import Prompt, Version
from promptdeck.domain.refs import PromptLike, PromptRef, VersionRef
from promptdeck.errors import PromptNotFound, StaleEtag, VersionNotFound
from promptdeck.store import labels as labels_store
from promptdeck.store import queries as q
from promptdeck.store.records import PromptRow, VersionRow


def prompt_row(
    tx: Tx, ref: PromptLike, *, include_deleted: bool = False, for_update: bool = False
) -> PromptRow:
    """The prompt's row (``ref`` text is parsed here, once)."""
    found = PromptRef.parse(ref)
    row = q.find_prompt_row(tx.conn, found, include_deleted=include_deleted, for_update=for_update)
    if row is None or not tx.caller.may_see(row.name):
        raise PromptNotFound(f"no prompt {str(ref)!r}")
    return row


def prompt(tx: Tx, row: PromptRow) -> Prompt:
    """The prompt of ``row`` with its active version's summary."""
    active = None
    if row.active_version_id is not None:
        vrow = q.version_row(tx.conn, row.id, row.active_version_id, full=False)
        if vrow is not None:
            active = q.to_version(vrow, active_id=row.active_version_id)
    return q.to_prompt(row, active)


def reload(tx: Tx, prompt_id: int, *, include_deleted: bool = False) -> Prompt:
    """The prompt as this transaction left it."""
    return prompt(tx, prompt_row(tx, PromptRef(id=prompt_id), include_deleted=include_deleted))


def version_row(tx: Tx, row: PromptRow, ref: VersionRef, *, full: bool) -> VersionRow:
    found = q.version_row(tx.conn, row.id, ref.version_id, full=full)
    if found is None:
        raise VersionNotFound(f"prompt {str(ref.prompt)!r} has no version {ref.version_id}")
    return found


def version(tx: Tx, prompt_id: int, version_id: int) -> Version:
    """A version in full: its content, its predecessor, whether it is active."""
    row = q.version_row(tx.conn, prompt_id, version_id, full=True)
    if row is None:
        raise VersionNotFound(f"prompt has no version {version_id}")
    owner = q.find_prompt_row(tx.conn, PromptRef(id=prompt_id), include_deleted=True)
    active_id = owner.active_version_id if owner is not None else None
    return q.to_version(
        row,
        active_id=active_id,
        previous_id=q.previous_version_id(tx.conn, prompt_id, row.number),
        content=tx.contents.text_of(tx.conn, row),
    )


def check_etag(row: PromptRow, if_match: str | None) -> int | None:
    """The expected revision for a compare-and-set, or StaleEtag when ``if_match`` is stale."""
    if if_match is None or if_match.strip() == "*":
        return None
    current = etag.prompt_etag(row.id, row.revision)
    if not etag.matches(if_match, current):
        raise StaleEtag(f"If-Match {if_match} does not match the prompt's current ETag {current}")
    return row.revision


def protected(tx: Tx, prompt_id: int) -> frozenset[str]:
    """The prompt's protected labels, read once a transaction (every move checks them)."""
    found = tx.protected.get(prompt_id)
    if found is None:
        found = tx.protected[prompt_id] = frozenset(labels_store.protected(tx.conn, prompt_id))
    return found

"""Composition: the include graph of versions. Edges are recorded when a version is
created (and a cycle refused then), read to protect what is included from purge and delete,
and to resolve ``{{> prompt@at}}`` when rendering."""

from __future__ import annotations

from promptdeck import limits
from promptdeck.core import load
from promptdeck.core.tx import Tx
from promptdeck.domain import rules, templates, values
from promptdeck.domain.labels import ACTIVE
from promptdeck.domain.models import Include
from promptdeck.domain.refs import PromptLike, PromptRef
from promptdeck.domain.templates import IncludeRef
from promptdeck.errors import IncludeCycle, PromptNotFound, StillIncluded, TemplateInvalid
from promptdeck.store import includes as inc
from promptdeck.store import labels as labels_store
from promptdeck.store import queries as q
from promptdeck.store.records import PromptRow

LISTED = 20  # includers named in a 409


def resolve_label(tx: Tx, target: PromptRow, label: str) -> int | None:
    """The version a label of ``target`` points to, or None if it has no such label.

    The one place labels are read for composition: ``active`` is the active pointer, any
    other label (issue 14) is looked up in the labels table."""
    if label == ACTIVE:
        return target.active_version_id
    found = labels_store.label_row(tx.conn, target.id, label)
    return None if found is None else found.version_id


def resolve(tx: Tx, target: PromptRow, ref: IncludeRef) -> tuple[int, bool]:
    """(version id, pinned): a number or version name pins; a label does not. The one
    spelling rule (``IncludeRef.number``): only a canonical decimal in the id range is a
    number; any other word is a label, else a version name compared after NFC, as stored;
    a word no label or name can be (too long, not storable text) names nothing."""
    number = ref.number
    found: int | None = None
    if number is not None:
        found = inc.version_id_by_number(tx.conn, target.id, number)
    elif len(ref.label) <= limits.VERSION_NAME_MAX and values.is_text(ref.label):
        found = resolve_label(tx, target, ref.label)
        if found is not None:
            return found, False
        by_name = q.version_by_name(tx.conn, target.id, values.lookup_name(ref.label))
        found = None if by_name is None else by_name.id
    if found is None:
        raise TemplateInvalid(f"{{{{> {ref}}}}}: {ref.prompt!r} has no label or version {ref.at!r}")
    return found, True


def target_row(tx: Tx, ref: IncludeRef) -> PromptRow:
    try:
        return load.prompt_row(tx, PromptRef.parse(ref.prompt))
    except PromptNotFound as exc:
        raise TemplateInvalid(f"{{{{> {ref}}}}}: no prompt {ref.prompt!r}") from exc


def lock_first(tx: Tx, text: str | None) -> None:
    """Take the graph lock before any prompt row when the new content may include (None:
    the working copy, unknown yet). Taken later, after the prompt's row lock, two writers
    deadlock on PostgreSQL: each holds its prompt row, one waits for the graph lock and the
    other's include row waits (foreign key check) for that prompt row."""
    if text is None or "{{" in text:
        inc.lock_graph(tx.conn)


def record(
    tx: Tx, includer_id: int, version_id: int, kind: str, content: str, *, strict: bool = True
) -> None:
    """Write the new version's edges; refuse one that closes a cycle (IncludeCycle with the
    path). The graph lock makes two concurrent creations see each other's edges. Not
    ``strict`` (an import): edges to prompts or versions this database lacks are left out,
    and cycles are left to the render's own guard."""
    refs = templates.includes(kind, content)
    if not refs:
        return
    inc.lock_graph(tx.conn)
    rows = []
    for ref in refs:
        try:
            target = target_row(tx, ref)
            pinned_id, pinned = resolve(tx, target, ref)
        except TemplateInvalid:
            if strict:
                raise
            continue
        if strict:
            _refuse_cycle(tx, includer_id, target)
        rows.append(
            {
                "version_id": version_id,
                "prompt_id": includer_id,
                "target_prompt_id": target.id,
                "at": ref.at,
                "target_version_id": pinned_id if pinned else None,
            }
        )
    inc.insert(tx.conn, rows)


def _refuse_cycle(tx: Tx, includer_id: int, target: PromptRow) -> None:
    """Breadth-first from the target over prompt-level edges (any unpurged version's
    includes count: any of them may become active) looking for the includer."""
    parent: dict[int, int | None] = {target.id: None}
    frontier = [target.id]
    while frontier and includer_id not in parent:
        nxt: list[int] = []
        for src, dst in inc.targets_of(tx.conn, frontier):
            if dst not in parent:
                parent[dst] = src
                nxt.append(dst)
        frontier = nxt
    if includer_id not in parent:
        return
    chain: list[int] = []
    at: int | None = includer_id
    while at is not None:
        chain.append(at)
        at = parent[at]
    chain.reverse()  # target … includer
    names = inc.names_of(tx.conn, chain)
    path = " -> ".join(_named(tx, names[i]) for i in [includer_id, *chain])
    raise IncludeCycle(f"include cycle: {path}", field="content")


def _named(tx: Tx, name: str) -> str:
    """A prompt's name in a message, unless it lies outside the caller's scope."""
    return name if tx.caller.may_see(name) else "a prompt outside your scope"


def _who(tx: Tx, rows: list[Include]) -> str:
    """The includers a message names: those in the caller's scope, the others counted."""
    seen = [r for r in rows[:LISTED] if tx.caller.may_see(r.prompt_name)]
    hidden = len(rows[:LISTED]) - len(seen)
    names = [f"{r.prompt_name} version {r.number}" for r in seen]
    if hidden:
        names.append(f"{hidden} version{'s' if hidden > 1 else ''} outside your scope")
    return ", ".join(names)


def check_prompt_deletable(tx: Tx, row: PromptRow, force: bool) -> None:
    if force:
        return
    rows = inc.includers_of_prompt(tx.conn, row.id, LISTED + 1)
    if rows:
        raise StillIncluded(
            f"prompt {row.name!r} is included by {_who(tx, rows)}; delete with force=true "
            "to delete it anyway (their renders will then fail)"
        )


def check_version_purgeable(tx: Tx, version_id: int) -> None:
    rows = inc.includers_of_version(tx.conn, version_id, LISTED + 1)
    if rows:
        raise StillIncluded(f"version {version_id} is included by {_who(tx, rows)}")


def dependencies(tx: Tx, ref: PromptLike, version_id: int) -> list[Include]:
    """What the version includes, within the caller's scope (an include outside it is as
    one of a prompt that is no more)."""
    load.version(tx, load.prompt_row(tx, ref).id, version_id)
    return [
        r for r in inc.of_version(tx.conn, version_id) if tx.caller.may_see(r.target_prompt_name)
    ]


def dependents(tx: Tx, ref: PromptLike, version_id: int, limit: int) -> list[Include]:
    """Unpurged versions that include this version: pinned to it, or by a label that points
    to it now (the active version, in this branch)."""
    rules.check_limit(limit)
    owner = load.prompt_row(tx, ref, include_deleted=True)
    prompt_id = owner.id
    load.version(tx, prompt_id, version_id)
    pinned = inc.includers_of_version(tx.conn, version_id, limit)
    seen = {r.version_id for r in pinned}
    out = list(pinned)
    for row in inc.includers_of_prompt(tx.conn, prompt_id, limit):
        if row.target_version_id is None and row.version_id not in seen:
            target = resolve_label(tx, owner, row.at or "active")
            if target == version_id:
                out.append(row)
                seen.add(row.version_id)
    return [r for r in out if tx.caller.may_see(r.prompt_name)][:limit]

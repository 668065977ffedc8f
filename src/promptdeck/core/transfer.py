"""Export and import of a prompt's whole history (the backup format of `promptdeck export`).

A record names versions by their per-prompt ``number``, never by database id, so it can be
written into any server. Import writes the rows exactly as given (numbers, names, times,
authors, the active version, the events): importing into an empty server reproduces the
history, and importing the same record again changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

from promptdeck.core import includes, load
from promptdeck.core.tx import Tx
from promptdeck.domain import history, rules, templates
from promptdeck.domain.commands import ImportPrompt
from promptdeck.domain.labels import DEFAULT_PROTECTED
from promptdeck.domain.models import Page, Prompt
from promptdeck.domain.refs import PromptLike, PromptRef
from promptdeck.errors import InvalidInput, PromptNameTaken, PromptNotFound
from promptdeck.store import changes
from promptdeck.store import labels as s
from promptdeck.store import queries as q
from promptdeck.store import transfer as t
from promptdeck.store.records import PromptRow
from promptdeck.store.transfer import LOCAL_VERSION_COLS

RECORD_FORMAT = 1
PROMPT_KEYS = (
    "name",
    "description",
    "tags",
    "content",
    "model_config",
    "max_versions",
    "next_version_number",
    "created_at",
    "updated_at",
    "deleted_at",
)
EVENT_KEYS = ("kind", "actor", "created_at", "detail")
# Issue 14's keys: a record without them (written before labels) imports with none.
LABEL_KEYS = ("labels", "protected_labels", "label_moves", "deploy_requests")
MOVE_KEYS = ("label", "actor", "reason", "created_at")
REQUEST_KEYS = (
    "label",
    "reason",
    "proposed_by",
    "created_at",
    "status",
    "decided_by",
    "decided_at",
    "decision_reason",
)


def export_labels(tx: Tx, prompt_id: int, number_of: dict[int, int]) -> dict[str, Any]:
    """Labels by version number, their moves and the deploy requests, oldest first."""
    conn = tx.conn
    moves = s.all_moves(conn, prompt_id)
    index = {m.id: n for n, m in enumerate(moves)}
    return {
        "labels": [
            {
                "name": r.name,
                "version_number": number_of.get(r.version_id),
                "moved_at": r.moved_at,
                "moved_by": r.moved_by,
            }
            for r in s.label_rows(conn, prompt_id)
        ],
        "protected_labels": sorted(s.protected(conn, prompt_id)),
        "label_moves": [
            {
                **{key: getattr(m, key) for key in MOVE_KEYS},
                "from_version_number": number_of.get(m.from_version_id or 0),
                "to_version_number": number_of.get(m.to_version_id or 0),
            }
            for m in moves
        ],
        "deploy_requests": [
            {
                **{key: getattr(r, key) for key in REQUEST_KEYS},
                "version_number": number_of.get(r.version_id),
                "from_version_number": number_of.get(r.from_version_id or 0),
                # the label's last move then, as an index into label_moves
                "base_move": index.get(r.base_move_id or 0),
            }
            for r in s.all_requests(conn, prompt_id)
        ],
    }


def import_labels(tx: Tx, prompt_id: int, record: dict[str, Any], id_of: dict[int, int]) -> None:
    moves = record.get("label_moves") or []
    s.import_rows(
        tx.conn,
        prompt_id,
        label_rows_=[
            {**x, "version_id": id_of[x["version_number"]]} for x in record.get("labels") or []
        ],
        # An export from before labels has no protected set: the prompt gets a new one's.
        protected_=list(
            DEFAULT_PROTECTED
            if record.get("protected_labels") is None
            else record["protected_labels"]
        ),
        moves=[
            {
                **{key: m.get(key) for key in MOVE_KEYS},
                "from_version_id": id_of.get(m.get("from_version_number")),
                "to_version_id": id_of.get(m.get("to_version_number")),
            }
            for m in moves
        ],
        requests=[],
    )
    move_ids = [m.id for m in s.all_moves(tx.conn, prompt_id)]
    s.import_rows(
        tx.conn,
        prompt_id,
        label_rows_=[],
        protected_=[],
        moves=[],
        requests=[
            {
                **{key: r.get(key) for key in REQUEST_KEYS},
                "version_id": id_of[r["version_number"]],
                "from_version_id": id_of.get(r.get("from_version_number")),
                "base_move_id": move_ids[r["base_move"]]
                if r.get("base_move") is not None
                else None,
            }
            for r in record.get("deploy_requests") or []
        ],
    )


def export_record(tx: Tx, row: PromptRow) -> dict[str, Any]:
    """The prompt ``row``'s full record: the prompt, every version in full, every event."""
    conn = tx.conn
    version_rows = [
        {**v, "content": tx.contents.text(conn, v["blob_id"])} for v in t.all_versions(conn, row.id)
    ]
    number_of = {v["id"]: v["number"] for v in version_rows}
    return {
        "format": RECORD_FORMAT,
        **{key: getattr(row, key) for key in PROMPT_KEYS},
        "active_version_number": number_of.get(row.active_version_id),
        "versions": [
            {k: v for k, v in vrow.items() if k not in LOCAL_VERSION_COLS} for vrow in version_rows
        ],
        "events": [
            {
                **{key: e[key] for key in EVENT_KEYS},
                "detail": _portable(e["detail"]),
                "version_number": number_of.get(e["version_id"]),
                "from_version_number": number_of.get(e["from_version_id"]),
            }
            for e in t.all_events(conn, row.id)
        ],
        **export_labels(tx, row.id, number_of),
    }


EXPORT_BATCH = 20  # versions (each up to CONTENT_MAX) or events read and written at a time


def stream_record(
    read: Callable[[], AbstractContextManager[Tx]],
    row: PromptRow,
    encode: Callable[[str, dict[str, Any]], bytes],
) -> Iterator[bytes]:
    """The same record as ``export_record``, as JSON pieces, a batch of versions or events
    at a time (each batch in its own short read), so memory stays bounded by one batch
    whatever the history's size. ``encode(part, values)`` writes the prompt ("head"), a
    version, an event or the labels (an object of export_labels' keys) as JSON; the head must
    end with ``"versions":[],"events":[]}``."""
    with read() as tx:
        active = t.active_number(tx.conn, row.active_version_id)
    head = {"format": RECORD_FORMAT, **{key: getattr(row, key) for key in PROMPT_KEYS}}
    tail = b'[],"events":[]}'
    head_json = encode("head", {**head, "active_version_number": active})
    if not head_json.endswith(b'"versions":' + tail):
        raise AssertionError("the record's head must end with its versions and events")
    yield head_json[: -len(tail)] + b"["
    after, first = 0, True
    while True:
        with read() as tx:
            batch = t.version_batch(tx.conn, row.id, after_number=after, limit=EXPORT_BATCH)
            for version in batch:
                text = tx.contents.text(tx.conn, version["blob_id"])
                values = {k: v for k, v in version.items() if k not in LOCAL_VERSION_COLS}
                yield (b"" if first else b",") + encode("version", {**values, "content": text})
                first = False
        if len(batch) < EXPORT_BATCH:
            break
        after = batch[-1]["number"]
    yield b'],"events":['
    after, first = 0, True
    while True:
        with read() as tx:
            events = t.event_batch(tx.conn, row.id, after_id=after, limit=EXPORT_BATCH * 10)
        for event in events:
            values = {
                **{key: event[key] for key in EVENT_KEYS},
                "detail": _portable(event["detail"]),
                "version_number": event["version_number"],
                "from_version_number": event["from_version_number"],
            }
            yield (b"" if first else b",") + encode("event", values)
            first = False
        if len(events) < EXPORT_BATCH * 10:
            break
        after = events[-1]["id"]
    # Labels, their moves and deploy requests (issue 14), exactly as export_record has them.
    with read() as tx:
        labelled = export_labels(tx, row.id, t.version_numbers(tx.conn, row.id))
    labels_json = encode("labels", labelled)
    if not (labels_json.startswith(b"{") and labels_json.endswith(b"}")):
        raise AssertionError("the labels part must be a JSON object")
    yield b"]," + labels_json[1:-1] + b"}"


def _canonical(record: dict[str, Any]) -> str:
    """A comparable text of a record, whatever way its times and JSON were given."""
    from pydantic_core import to_json

    def norm(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: norm(v) for k, v in value.items()}
        if isinstance(value, list):
            return [norm(v) for v in value]
        if isinstance(value, str) and len(value) >= 19 and value[10:11] == "T":
            from datetime import datetime

            try:
                return datetime.fromisoformat(value).isoformat()
            except ValueError:
                return value
        return value

    plain = json.loads(to_json(record))
    return json.dumps(norm(plain), sort_keys=True)


def _template_of(version: dict[str, Any]) -> tuple[str, str]:
    """A record's kind and format (records written before templates have neither)."""
    return str(version.get("kind") or "text"), str(version.get("template_format") or "plain")


def _check_hash(version: dict[str, Any]) -> None:
    """A version's hash must be its content's (when the content is there: purged versions
    keep only their hash)."""
    if version.get("content") is None:
        return
    kind, template_format = _template_of(version)
    templates.check(kind, template_format, version["content"])
    hashed = templates.hashed(kind, template_format, version["content"])
    contract = history.stored_contract(version)
    expected = rules.content_hash(hashed, version.get("model_config") or {}, contract)
    if version.get("content_hash") != expected:
        raise InvalidInput(
            f"version {version.get('number')}: content_hash does not match its content",
            field="versions.content_hash",
        )


def import_record(tx: Tx, record: dict[str, Any]) -> tuple[int, bool]:
    """Write ``record``; returns (prompt id, created). An identical existing prompt is a
    no-op; a different one under the same name is a conflict."""
    conn, contents = tx.conn, tx.contents
    name = record["name"]
    existing = q.find_prompt_row(conn, PromptRef(name=name), include_deleted=True, for_update=True)
    if existing is not None:
        mine = export_record(tx, existing)
        for key in LABEL_KEYS:  # a record written before labels carries none
            if key not in record:
                mine.pop(key)
        if _canonical(mine) == _canonical(record):
            return existing.id, False
        raise PromptNameTaken(
            f"a prompt named {name!r} already exists with a different history", field="name"
        )
    versions_in = record.get("versions") or []
    numbers = [v["number"] for v in versions_in]
    if not numbers or len(set(numbers)) != len(numbers):
        raise InvalidInput("a record needs versions with distinct numbers", field="versions")
    if record.get("active_version_number") not in numbers:
        raise InvalidInput(
            "active_version_number must name one of the versions", field="active_version_number"
        )
    prompt_id = t.insert_prompt_row(
        conn,
        {
            **{key: record.get(key) for key in PROMPT_KEYS},
            "next_version_number": max(record.get("next_version_number") or 0, max(numbers)),
            "version_count": len(numbers),
            "active_version_id": None,
            "revision": 1,
        },
    )
    id_of: dict[int, int] = {}
    for version in versions_in:
        _check_hash(version)
        values = {k: v for k, v in version.items() if k not in LOCAL_VERSION_COLS}
        values["contract"] = history.stored_contract(version)  # None: made without one
        text = values.pop("content", None)  # None: a purged version's tombstone
        if text is not None:
            values["blob_id"] = contents.put(conn, prompt_id, version["number"], text)
        id_of[version["number"]] = t.insert_version_row(conn, {**values, "prompt_id": prompt_id})
        if text is not None:
            # Edges to prompts this server has; others are left out (see docs/api.md).
            kind = _template_of(version)[0]
            includes.record(tx, prompt_id, id_of[version["number"]], kind, text, strict=False)
    t.set_prompt_fields(
        conn,
        prompt_id,
        {
            "active_version_id": id_of[record["active_version_number"]],
            "live_count": sum(not v.get("archived") for v in versions_in),
        },
    )
    if any(e.get("kind") in changes.MOVE_KINDS for e in record.get("events") or []):
        changes.announce(conn)  # imported moves, too, commit in id order (GET /changes)
    name_of = {v["number"]: v.get("version_name") for v in versions_in}
    for event in record.get("events") or []:
        t.insert_event_row(
            conn,
            {
                **{key: event.get(key) for key in EVENT_KEYS},
                "detail": _local_ids(event.get("detail") or {}, id_of, name_of),
                "prompt_id": prompt_id,
                "version_id": id_of.get(event.get("version_number")),
                "from_version_id": id_of.get(event.get("from_version_number")),
            },
        )
    import_labels(tx, prompt_id, record, id_of)
    return prompt_id, True


def _portable(detail: dict[str, Any]) -> dict[str, Any]:
    """A record names versions by number: a creation's ``archived`` list without ids."""
    archived = detail.get("archived")
    if not isinstance(archived, list):
        return detail
    return {
        **detail,
        "archived": [
            {k: v for k, v in a.items() if k != "version_id"} if isinstance(a, dict) else a
            for a in archived
        ],
    }


def _local_ids(
    detail: dict[str, Any], id_of: dict[int, int], name_of: dict[int, str]
) -> dict[str, Any]:
    """A creation's ``archived`` list names versions by id: this server's ids, by number.
    An entry whose name is not its number's keeps no id (it is then stored as written)."""
    archived = detail.get("archived")
    if not isinstance(archived, list):
        return detail

    def local(a: dict[str, Any]) -> int | None:
        number = a.get("number")
        if type(number) is not int or name_of.get(number) != a.get("version_name"):
            return None
        return id_of.get(number)

    entries = [{**a, "version_id": local(a)} if isinstance(a, dict) else a for a in archived]
    return {**detail, "archived": entries}


# --- operations -------------------------------------------------------------------------------


def export_one(tx: Tx, ref: PromptLike) -> dict[str, Any]:
    """The prompt's whole history as one record (a soft-deleted prompt too)."""
    return export_record(tx, load.prompt_row(tx, ref, include_deleted=True))


def export_page(tx: Tx, *, limit: int, cursor: str | None) -> Page[dict[str, Any]]:
    """Every prompt's record, soft-deleted ones included, a page at a time (by id)."""
    rules.check_limit(limit)
    after = rules.decode_cursor(cursor) if cursor else None
    rows = t.prompt_rows(tx.conn, after_id=after, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    items = [export_record(tx, row) for row in rows if tx.caller.may_see(row.name)]
    return Page(items, rules.encode_cursor(rows[-1].id) if more and rows else None)


def stream_one(
    read: Callable[[], AbstractContextManager[Tx]],
    ref: PromptLike,
    encode: Callable[[str, dict[str, Any]], bytes],
) -> Iterator[bytes]:
    """``export_one`` as JSON pieces; PromptNotFound before the first piece."""
    with read() as tx:
        row = load.prompt_row(tx, ref, include_deleted=True)
    return stream_record(read, row, encode)


def stream_page(
    read: Callable[[], AbstractContextManager[Tx]],
    encode: Callable[[str, dict[str, Any]], bytes],
    *,
    limit: int,
    cursor: str | None,
) -> Iterator[bytes]:
    """``export_page`` as JSON pieces (``{"items": […], "next_cursor": …}``), one prompt row
    and one batch of its versions at a time; prompts outside the caller's prefixes are left
    out. Bad limits and cursors raise before the first piece."""
    rules.check_limit(limit)
    after = rules.decode_cursor(cursor) if cursor else None
    with read() as tx:
        ids = t.prompt_ids(tx.conn, after_id=after, limit=limit + 1)
    more = len(ids) > limit
    ids = ids[:limit]
    next_cursor = rules.encode_cursor(ids[-1]) if more and ids else None
    return _pieces(read, ids, next_cursor, encode)


def _pieces(
    read: Callable[[], AbstractContextManager[Tx]],
    ids: list[int],
    next_cursor: str | None,
    encode: Callable[[str, dict[str, Any]], bytes],
) -> Iterator[bytes]:
    yield b'{"items":['
    first = True
    for prompt_id in ids:
        with read() as tx:
            row = q.find_prompt_row(tx.conn, PromptRef(id=prompt_id), include_deleted=True)
            visible = row is not None and tx.caller.may_see(row.name)
        if row is None or not visible:
            continue  # purged since the page began, or not the caller's to see
        if not first:
            yield b","
        first = False
        yield from stream_record(read, row, encode)
    yield b'],"next_cursor":' + rules.canonical_json(next_cursor).encode() + b"}"


def import_one(tx: Tx, cmd: ImportPrompt) -> tuple[Prompt, bool]:
    """Write an exported record as it is; (prompt, created). Importing an identical prompt
    again is a no-op; a different one of the same name is a 409. A caller kept to prompt
    prefixes imports only within them."""
    if not tx.caller.may_see(cmd.name):
        raise PromptNotFound(f"no prompt {cmd.name!r} within this key's prompts")
    prompt_id, created = import_record(tx, cmd.record)
    return load.reload(tx, prompt_id, include_deleted=True), created

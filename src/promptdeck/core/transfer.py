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

from sqlalchemy import Connection

from promptdeck.core.content import ContentStore
from promptdeck.domain import rules
from promptdeck.errors import InvalidInput, PromptNameTaken
from promptdeck.store import queries as q
from promptdeck.store import transfer as t
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


def export_record(conn: Connection, row: Any, contents: ContentStore) -> dict[str, Any]:
    """The prompt ``row``'s full record: the prompt, every version in full, every event."""
    m = row._mapping
    version_rows = [
        {**v, "content": contents.text(conn, v["blob_id"])} for v in t.all_versions(conn, row.id)
    ]
    number_of = {v["id"]: v["number"] for v in version_rows}
    return {
        "format": RECORD_FORMAT,
        **{key: m[key] for key in PROMPT_KEYS},
        "active_version_number": number_of.get(m["active_version_id"]),
        "versions": [
            {k: v for k, v in vrow.items() if k not in LOCAL_VERSION_COLS} for vrow in version_rows
        ],
        "events": [
            {
                **{key: e[key] for key in EVENT_KEYS},
                "version_number": number_of.get(e["version_id"]),
                "from_version_number": number_of.get(e["from_version_id"]),
            }
            for e in t.all_events(conn, row.id)
        ],
    }


EXPORT_BATCH = 20  # versions (each up to CONTENT_MAX) or events read and written at a time


def stream_record(
    read: Callable[[], AbstractContextManager[Connection]],
    row: Any,
    contents: ContentStore,
    encode: Callable[[str, dict[str, Any]], bytes],
) -> Iterator[bytes]:
    """The same record as ``export_record``, as JSON pieces, a batch of versions or events
    at a time (each batch in its own short read), so memory stays bounded by one batch
    whatever the history's size. ``encode(part, values)`` writes the prompt ("head"), a
    version or an event as JSON; the head must end with ``"versions":[],"events":[]}``."""
    m = row._mapping
    with read() as conn:
        active = t.active_number(conn, m["active_version_id"])
    head = {"format": RECORD_FORMAT, **{key: m[key] for key in PROMPT_KEYS}}
    tail = b'[],"events":[]}'
    head_json = encode("head", {**head, "active_version_number": active})
    if not head_json.endswith(b'"versions":' + tail):
        raise AssertionError("the record's head must end with its versions and events")
    yield head_json[: -len(tail)] + b"["
    after, first = 0, True
    while True:
        with read() as conn:
            batch = t.version_batch(conn, row.id, after_number=after, limit=EXPORT_BATCH)
            for version in batch:
                text = contents.text(conn, version["blob_id"])
                values = {k: v for k, v in version.items() if k not in LOCAL_VERSION_COLS}
                yield (b"" if first else b",") + encode("version", {**values, "content": text})
                first = False
        if len(batch) < EXPORT_BATCH:
            break
        after = batch[-1]["number"]
    yield b'],"events":['
    after, first = 0, True
    while True:
        with read() as conn:
            events = t.event_batch(conn, row.id, after_id=after, limit=EXPORT_BATCH * 10)
        for event in events:
            values = {
                **{key: event[key] for key in EVENT_KEYS},
                "version_number": event["version_number"],
                "from_version_number": event["from_version_number"],
            }
            yield (b"" if first else b",") + encode("event", values)
            first = False
        if len(events) < EXPORT_BATCH * 10:
            break
        after = events[-1]["id"]
    yield b"]}"


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


def _check_hash(version: dict[str, Any]) -> None:
    """A version's hash must be its content's (when the content is there: purged versions
    keep only their hash)."""
    if version.get("content") is None:
        return
    expected = rules.content_hash(version["content"], version.get("model_config") or {})
    if version.get("content_hash") != expected:
        raise InvalidInput(
            f"version {version.get('number')}: content_hash does not match its content",
            field="versions.content_hash",
        )


def import_record(
    conn: Connection, record: dict[str, Any], contents: ContentStore
) -> tuple[int, bool]:
    """Write ``record``; returns (prompt id, created). An identical existing prompt is a
    no-op; a different one under the same name is a conflict."""
    name = record["name"]
    existing = q.find_prompt_row(conn, name, include_deleted=True, for_update=True)
    if existing is not None:
        if _canonical(export_record(conn, existing, contents)) == _canonical(record):
            return int(existing.id), False
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
        text = values.pop("content", None)  # None: a purged version's tombstone
        if text is not None:
            values["blob_id"] = contents.put(conn, prompt_id, version["number"], text)
        id_of[version["number"]] = t.insert_version_row(conn, {**values, "prompt_id": prompt_id})
    t.set_prompt_fields(
        conn,
        prompt_id,
        {
            "active_version_id": id_of[record["active_version_number"]],
            "live_count": sum(not v.get("archived") for v in versions_in),
        },
    )
    for event in record.get("events") or []:
        t.insert_event_row(
            conn,
            {
                **{key: event.get(key) for key in EVENT_KEYS},
                "detail": event.get("detail") or {},
                "prompt_id": prompt_id,
                "version_id": id_of.get(event.get("version_number")),
                "from_version_id": id_of.get(event.get("from_version_number")),
            },
        )
    return prompt_id, True

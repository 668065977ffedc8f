"""Rule 8 and issue 14: archiving saves space. The same history takes no more bytes with
`max_versions` than without, and what was archived is still recorded, listed and restorable.
Bytes, not time: SQLite pages after VACUUM (bench/storage/archiving.py measures 10,000)."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from promptdeck.config import Settings
from promptdeck.core import Registry
from promptdeck.domain.caller import SYSTEM
from promptdeck.domain.commands import CreatePrompt, CreateVersion, ImportPrompt
from promptdeck.server import create_app
from promptdeck.store import migrate
from promptdeck.store.engine import create_engine

WORDS = [
    "answer",
    "the",
    "customer",
    "politely",
    "using",
    "the",
    "refund",
    "policy",
    "and",
    "shipping",
    "times",
]


def history(n: int, seed: int = 14) -> list[str]:
    """A ~4 KB prompt, each version one word changed from the one before."""
    rng = random.Random(seed)
    words = [rng.choice(WORDS) for _ in range(700)]
    out = []
    for _ in range(n):
        out.append(" ".join(words))
        words[rng.randrange(len(words))] = rng.choice(WORDS)
    return out


def stored_bytes(path: Path, contents: list[str], max_versions: int | None) -> int:
    url = f"sqlite:///{path}"
    engine = create_engine(url)
    try:
        migrate.upgrade(engine)
        registry = Registry(engine)
        registry.create_prompt(
            CreatePrompt("p", content=contents[0], max_versions=max_versions), SYSTEM
        )
        for text in contents[1:]:
            registry.create_version(CreateVersion("p", content=text), SYSTEM)
        registry.compact()
    finally:
        engine.dispose()
    conn = sqlite3.connect(path)
    try:
        pages, size = (
            conn.execute(f"PRAGMA {p}").fetchone()[0] for p in ("page_count", "page_size")
        )
    finally:
        conn.close()
    return int(pages) * int(size)


@pytest.mark.sqlite_only
def test_a_history_takes_no_more_bytes_with_max_versions_than_without(tmp_path: Path) -> None:
    contents = history(600)
    keep = stored_bytes(tmp_path / "keep.db", contents, None)
    limit = stored_bytes(tmp_path / "limit.db", contents, 20)
    assert limit <= keep, f"{limit} bytes with max_versions 20, {keep} without"


def test_a_version_archived_by_a_creation_is_recorded_listed_and_restorable(
    settings: Settings, registry: Registry
) -> None:
    with TestClient(create_app(settings, registry)) as api:
        assert api.post(
            "/prompts", json={"name": "p", "content": "v1", "max_versions": 2}
        ).is_success
        first = api.get("/prompts/p/versions").json()["items"][0]
        api.post("/prompts/p/versions", json={"content": "v2"})
        third = api.post("/prompts/p/versions", json={"content": "v3", "activate": True}).json()
        # The creation that went over the limit says what it archived (no event of its own).
        events = api.get("/prompts/p/events").json()["items"]
        created = next(e for e in events if e["kind"] == "version.created")
        assert created["version_id"] == third["id"] and created["from_version_id"] is None
        assert created["detail"] == {
            "number": 3,
            "version_name": third["version_name"],
            "archived": [
                {
                    "version_id": first["id"],
                    "number": 1,
                    "version_name": first["version_name"],
                    "reason": "retention",
                }
            ],
        }
        assert "version.archived" not in [e["kind"] for e in events]
        archived = api.get("/prompts/p/versions", params={"archived": "true"}).json()["items"]
        assert [v["number"] for v in archived] == [1]
        assert archived[0]["archived_at"] is not None
        restored = api.post(f"/prompts/p/versions/{first['id']}/restore").json()
        assert restored["content"] == "v1" and not restored["archived"]
        # Export and import carry it, and the copy reads the same.
        record = api.get("/prompts/p/export").json()
        assert api.post("/prompts/import", json={**record, "name": "q"}).status_code == 201
        copied = api.get("/prompts/q/events").json()["items"]
        third_copy = next(e for e in copied if e["kind"] == "version.created")
        assert [(a["number"], a["reason"]) for a in third_copy["detail"]["archived"]] == [
            (1, "retention")
        ]
        assert api.post("/prompts/import", json={**record, "name": "q"}).status_code == 200


def test_an_imported_creation_event_naming_a_from_version_never_reads_as_an_archive(
    registry: Registry,
) -> None:
    registry.create_prompt(CreatePrompt("src", content="one"), SYSTEM)
    registry.create_version(CreateVersion("src", content="two"), SYSTEM)
    record = registry.export_prompt("src", SYSTEM)
    for event in record["events"]:
        if event["kind"] == "version.created" and event["version_number"] == 2:
            event["from_version_number"] = 1  # a from_version a creation never has
    registry.import_prompt(ImportPrompt({**record, "name": "copy"}), SYSTEM)
    created = [
        e
        for e in registry.list_events("copy", SYSTEM, limit=50).items
        if e.kind == "version.created"
    ]
    assert all("archived" not in e.detail for e in created)
    assert [e.from_version_id is not None for e in created] == [True, False]

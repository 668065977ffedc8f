"""Ids are never reused, even after a purge (migration 0003 on SQLite; sequences on
PostgreSQL), so nothing that named a purged prompt can name its successor."""

from __future__ import annotations

import sqlalchemy as sa
from starlette.testclient import TestClient

from promptdeck.core import Registry
from promptdeck.domain.caller import SYSTEM
from promptdeck.domain.commands import (
    CreatePrompt,
    CreateVersion,
    DeletePrompt,
    PurgePrompt,
    UpdatePrompt,
)
from promptdeck.errors import PromptNotFound, StaleEtag
from promptdeck.store import migrate
from promptdeck.store.engine import create_engine


def _purge(registry: Registry, name: str) -> None:
    registry.delete_prompt(DeletePrompt(name), SYSTEM)
    registry.purge_prompt(PurgePrompt(name), SYSTEM)


def test_a_purged_prompts_ids_are_not_given_to_the_next_prompt(registry: Registry) -> None:
    old = registry.create_prompt(CreatePrompt("secret", content="sk-live-1"), SYSTEM).prompt
    old_version = registry.create_version(
        CreateVersion("secret", content="sk-live-2"), SYSTEM
    ).version
    _purge(registry, "secret")
    new = registry.create_prompt(CreatePrompt("secret", content="safe"), SYSTEM).prompt
    newer = registry.create_version(CreateVersion("secret", content="safe 2"), SYSTEM).version
    assert new.id > old.id
    assert newer.id > old_version.id
    assert new.etag != old.etag


def test_an_old_etag_does_not_match_the_successor_of_a_purged_prompt(registry: Registry) -> None:
    old = registry.create_prompt(CreatePrompt("secret"), SYSTEM).prompt
    _purge(registry, "secret")
    registry.create_prompt(CreatePrompt("secret"), SYSTEM)
    try:
        registry.update_prompt(
            UpdatePrompt("secret", {"description": "x"}, if_match=old.etag), SYSTEM
        )
    except StaleEtag:
        return
    raise AssertionError("the purged prompt's ETag matched its successor")


def test_an_idempotency_key_of_a_purged_prompt_never_returns_its_successor(
    registry: Registry,
) -> None:
    first = registry.create_prompt(CreatePrompt("secret", idempotency_key="k1"), SYSTEM).prompt
    _purge(registry, "secret")
    successor = registry.create_prompt(CreatePrompt("secret"), SYSTEM).prompt
    try:
        replay = registry.create_prompt(CreatePrompt("secret", idempotency_key="k1"), SYSTEM)
    except PromptNotFound:
        return  # the key's prompt is gone: not the successor
    assert replay.prompt.id not in (first.id, successor.id) or not replay.replayed


def test_the_active_etag_of_a_purged_prompt_is_not_304_for_its_successor(
    api: TestClient,
) -> None:
    api.post("/prompts", json={"name": "secret", "content": "sk-live"})
    old = api.get("/prompts/secret/active")
    api.delete("/prompts/secret")
    api.post("/prompts/secret/purge")
    api.post("/prompts", json={"name": "secret", "content": "safe"})
    again = api.get("/prompts/secret/active", headers={"If-None-Match": old.headers["etag"]})
    assert again.status_code == 200
    assert again.json()["content"] == "safe"


def test_migration_0003_keeps_every_row_and_index_and_goes_down_and_up_again(
    database_url: str,
) -> None:
    engine = create_engine(database_url)
    migrate.upgrade(engine)  # today's Registry needs today's schema: fill, then go back
    registry = Registry(engine)
    registry.create_prompt(CreatePrompt("a", content="one"), SYSTEM)
    registry.create_version(CreateVersion("a", content="two", activate=True), SYSTEM)
    registry.create_prompt(CreatePrompt("b"), SYSTEM)
    migrate.downgrade(engine, "0002")

    def snapshot() -> tuple[object, ...]:
        with engine.connect() as conn:
            rows = tuple(
                tuple(conn.execute(sa.text(f"SELECT * FROM {t} ORDER BY id")).all())
                for t in ("prompts", "versions", "events")
            )
        indexes = tuple(sorted(str(i["name"]) for i in sa.inspect(engine).get_indexes("versions")))
        return rows, indexes

    before = snapshot()
    migrate.upgrade(engine, "0003")
    assert migrate.current(engine) == "0003"
    assert snapshot() == before
    migrate.upgrade(engine)
    _purge(registry, "b")  # the newest prompt: SQLite without AUTOINCREMENT reused its id
    assert registry.create_prompt(CreatePrompt("b"), SYSTEM).prompt.id == 3
    migrate.downgrade(engine, "0002")
    assert migrate.current(engine) == "0002"
    migrate.upgrade(engine)
    assert registry.get_prompt("a", SYSTEM).active_version is not None
    assert registry.get_prompt("a", SYSTEM).active_version.number == 2  # type: ignore[union-attr]
    engine.dispose()

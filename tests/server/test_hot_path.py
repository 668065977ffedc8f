"""The hot path's cost and the operations endpoints, in-process over the real database."""

from __future__ import annotations

import asyncio
import gc
import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from starlette.testclient import TestClient

from promptdeck.core import Registry
from promptdeck.domain.caller import SYSTEM
from promptdeck.domain.commands import CreateVersion, MoveLabel, RemoveLabel
from promptdeck.server.asgi import GC_GEN0_THRESHOLD, make_app
from tests.api.helpers import assert_problem, create_prompt, create_version
from tests.support.databases import BACKEND
from tests.support.server import PROMPTDECK, free_port


def _cache(api: TestClient) -> Any:
    """The app's ActiveCache: the ActiveEndpoint's, below the outer layers (the gate)."""
    layer: Any = api.app
    while not hasattr(layer, "cache"):
        layer = layer.app
    return layer.cache


def _on_the_event_loop() -> bool:
    """Whether this statement runs on the event loop's thread, where a request on SQLite is
    served (inline, by design: core/live.py). The webhook deliverer, the rollout ticker and
    the outcome flushes run in worker threads on their own schedules: not a hit's."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _statements_per_hit(
    api: TestClient, registry: Registry, hits: int, path: str = "/prompts/support-reply/active"
) -> tuple[list[str], int]:
    """(engine statements, pointer-check statements) for ``hits`` sequential cache hits."""
    api.get(path)  # the miss that fills the cache
    cache = _cache(api)
    counted: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if _on_the_event_loop():
            counted.append(statement)

    event.listen(registry.engine, "before_cursor_execute", count)
    try:
        checks_before, hits_before = cache.statements, cache.hits
        for _ in range(hits):
            assert api.get(path).status_code == 200
        assert cache.hits - hits_before == hits
        return counted, cache.statements - checks_before
    finally:
        event.remove(registry.engine, "before_cursor_execute", count)


@pytest.mark.parametrize("label", [None, "staging"])
@pytest.mark.parametrize("history", [1, 300])
def test_a_cache_hit_runs_at_most_one_small_statement_whatever_the_history_size(
    api: TestClient, registry: Registry, history: int, label: str | None
) -> None:
    create_prompt(api)
    for i in range(history - 1):
        registry.create_version(
            CreateVersion("support-reply", content=f"v{i}", activate=True), SYSTEM
        )
    path = "/prompts/support-reply/active"
    if label is not None:  # a label at an old version, with a history of moves
        versions = registry.list_versions("support-reply", SYSTEM, limit=50).items
        for version in versions[: min(history, 10)]:
            registry.move_label(MoveLabel("support-reply", label, version.id), SYSTEM)
        path += f"?label={label}"
    engine_statements, checks = _statements_per_hit(api, registry, hits=20, path=path)
    assert engine_statements == []  # no pool connection, no version read
    assert checks <= 20  # one pointer check a request at most (PRAGMA or one indexed read)


def test_after_a_rollback_the_cache_serves_the_old_versions_body_without_rendering_it_again(
    api: TestClient,
) -> None:
    prompt = create_prompt(api)
    first = prompt["active_version"]
    second = create_version(api, content="two", activate=True)
    assert api.get("/prompts/support-reply/active").json()["content"] == "two"
    api.post(f"/prompts/support-reply/versions/{first['id']}/rollback")
    assert api.get("/prompts/support-reply/active").json()["version_id"] == first["id"]
    misses = _cache(api).misses
    api.post(f"/prompts/support-reply/versions/{second['id']}/rollback")
    assert api.get("/prompts/support-reply/active").json()["content"] == "two"
    assert api.get(f"/prompts/{prompt['id']}/active").json()["content"] == "two"
    # Both bodies were rendered before. PostgreSQL checks the pointer and finds the body;
    # SQLite forgets its pointers on any commit and reads each ref's pointer once again.
    assert _cache(api).misses - misses == (2 if BACKEND == "sqlite" else 0)


def test_readyz_says_ready_when_the_schema_is_at_the_newest_migration(api: TestClient) -> None:
    response = api.get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "ready"


def test_readyz_is_503_when_the_schema_is_behind(api: TestClient, registry: Registry) -> None:
    from promptdeck.store import migrate

    migrate.downgrade(registry.engine, "-1")
    try:
        body = assert_problem(api.get("/readyz"), 503, "database-unavailable")
        assert "db upgrade" in body["detail"]
        assert api.get("/healthz").status_code == 200  # alive, not ready
    finally:
        migrate.upgrade(registry.engine)


def test_metrics_count_hot_path_hits_latency_by_route_versions_and_rollbacks(
    api: TestClient,
) -> None:
    first = create_prompt(api)["active_version"]
    create_version(api, content="two", activate=True)
    api.post(f"/prompts/support-reply/versions/{first['id']}/rollback")
    for _ in range(3):
        api.get("/prompts/support-reply/active")
    response = api.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'promptdeck_active_cache_total{result="hit"} 2.0' in text
    assert 'promptdeck_active_cache_total{result="miss"} 1.0' in text
    assert (
        'promptdeck_request_duration_seconds_count{method="GET",'
        'route="/prompts/{prompt_id}/active",status="200"} 3.0'
    ) in text
    assert "promptdeck_versions_created_total 2.0" in text  # the prompt's first, then one
    assert "promptdeck_rollbacks_total 1.0" in text
    assert "promptdeck_change_subscribers 0.0" in text
    assert "promptdeck_db_pool_in_use" in text


def test_responses_carry_a_request_id_and_keep_the_callers(api: TestClient) -> None:
    first = api.get("/prompts").headers["x-request-id"]
    second = api.get("/prompts").headers["x-request-id"]
    assert first and second and first != second
    given = api.get("/prompts", headers={"X-Request-ID": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"


def test_log_format_json_writes_one_json_object_a_line_each_request_with_its_id(
    database_url: str, tmp_path: Path
) -> None:
    log_path = tmp_path / "server.log"
    port = free_port()
    argv = [PROMPTDECK, "serve", "--port", str(port), "--database-url", database_url]
    argv += ["--log-format", "json", "--access-log", "--log-level", "info"]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            argv,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        httpx.post(url + "/prompts", json={"name": "logged"}, headers={"X-Request-ID": "r-1"})
        httpx.get(url + "/prompts/logged/active", headers={"X-Request-ID": "r-2"})
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(15)
    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.strip()]
    assert lines and all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    access = {
        line["request_id"]: line["message"] for line in lines if line["logger"] == "uvicorn.access"
    }
    assert "POST /prompts" in access["r-1"]
    assert "GET /prompts/logged/active" in access["r-2"]


def test_the_hot_path_serves_a_chat_versions_kind_and_messages_for_local_rendering(
    api: TestClient,
) -> None:
    messages = [
        {"role": "system", "content": "Be {{tone}}."},
        {"role": "user", "content": "{{question}}"},
    ]
    created = api.post("/prompts", json={"name": "chatty", "messages": messages})
    assert created.status_code == 201, created.text
    body = api.get("/prompts/chatty/active").json()
    assert body["kind"] == "chat"
    assert body["messages"] == messages


def test_a_labelled_fetch_is_served_by_the_hot_path_with_its_etag_304_and_each_move(
    api: TestClient, registry: Registry
) -> None:
    first = create_prompt(api)["active_version"]
    second = create_version(api, content="two", activate=False)
    registry.move_label(MoveLabel("support-reply", "staging", second["id"]), SYSTEM)
    cache = _cache(api)
    path = "/prompts/support-reply/active?label=staging"
    assert api.get(path).json()["content"] == "two"  # a miss: the body is rendered
    hits = cache.hits
    served = api.get(path)
    assert served.json()["version_id"] == second["id"]
    assert served.headers["etag"] == f'"a{second["id"]}"'
    again = api.get(path, headers={"If-None-Match": served.headers["etag"]})
    assert again.status_code == 304 and again.headers["etag"] == served.headers["etag"]
    assert cache.hits - hits == 2  # both from the cache
    # The active version's body is the same cache entry whichever label points at it.
    assert api.get("/prompts/support-reply/active").json()["version_id"] == first["id"]
    registry.move_label(MoveLabel("support-reply", "staging", first["id"]), SYSTEM)
    assert api.get(path).json()["version_id"] == first["id"]  # the move, at once
    assert api.get(path, headers={"If-None-Match": served.headers["etag"]}).status_code == 200
    assert api.get("/prompts/support-reply/active?label=production").status_code == 404
    registry.remove_label(RemoveLabel("support-reply", "staging"), SYSTEM)
    assert_problem(api.get(path), 404, "label-not-found")
    assert_problem(api.get("/prompts/support-reply/active?label=Bad%20Label"), 422)
    assert (
        api.get("/prompts/support-reply/active?label=active").json()["content"] == "Hello {{name}}"
    )


def test_a_served_process_freezes_its_start_up_heap_and_collects_young_objects_less_often(
    registry: Registry, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The PostgreSQL hot path's p99 was full collections scanning the start-up heap
    (docs/performance.md); uvicorn's factory settles the heap once the app is built."""
    monkeypatch.setenv("PROMPTDECK_DATABASE_URL", database_url)
    threshold = gc.get_threshold()
    try:
        make_app()
        assert gc.get_freeze_count() > 10_000
        assert gc.get_threshold()[0] == GC_GEN0_THRESHOLD
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)

"""The hot path's cost and the operations endpoints, in-process over the real database."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event
from starlette.testclient import TestClient

from promptdeck.core import Registry
from tests.api.helpers import assert_problem, create_prompt, create_version
from tests.support.databases import BACKEND


def _cache(api: TestClient) -> Any:
    """The app's ActiveCache (Observe -> ActiveEndpoint -> cache)."""
    return api.app.app.cache  # type: ignore[attr-defined]


def _statements_per_hit(api: TestClient, registry: Registry, hits: int) -> tuple[int, int]:
    """(engine statements, pointer-check statements) for ``hits`` sequential cache hits."""
    api.get("/prompts/support-reply/active")  # the miss that fills the cache
    cache = _cache(api)
    counted = []

    def count(*_args: Any) -> None:
        counted.append(1)

    event.listen(registry.engine, "before_cursor_execute", count)
    try:
        checks_before, hits_before = cache.statements, cache.hits
        for _ in range(hits):
            assert api.get("/prompts/support-reply/active").status_code == 200
        assert cache.hits - hits_before == hits
        return len(counted), cache.statements - checks_before
    finally:
        event.remove(registry.engine, "before_cursor_execute", count)


@pytest.mark.parametrize("history", [1, 300])
def test_a_cache_hit_runs_at_most_one_small_statement_whatever_the_history_size(
    api: TestClient, registry: Registry, history: int
) -> None:
    create_prompt(api)
    for i in range(history - 1):
        registry.create_version("support-reply", content=f"v{i}", activate=True)
    engine_statements, checks = _statements_per_hit(api, registry, hits=20)
    assert engine_statements == 0  # no pool connection, no version read
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


def test_every_response_carries_a_request_id_and_keeps_the_callers(api: TestClient) -> None:
    create_prompt(api)
    first = api.get("/prompts/support-reply/active").headers["x-request-id"]
    second = api.get("/prompts").headers["x-request-id"]
    assert first and second and first != second
    given = api.get("/prompts", headers={"X-Request-ID": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"

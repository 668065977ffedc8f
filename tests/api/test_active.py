"""GET /prompts/{prompt_id}/active: the hot path, ETag and 304, never stale."""

from __future__ import annotations

from starlette.testclient import TestClient

from promptdeck.core import Registry
from promptdeck.domain.caller import SYSTEM
from promptdeck.domain.commands import CreateVersion
from tests.api.helpers import assert_problem, create_prompt, create_version


def test_active_returns_content_config_and_etag(api: TestClient) -> None:
    create_prompt(api, model_config={"model": "m"})
    response = api.get("/prompts/support-reply/active")
    assert response.status_code == 200
    assert response.headers["etag"].startswith('"a')
    assert response.headers["cache-control"] == "no-cache"
    body = response.json()
    assert body["prompt_name"] == "support-reply"
    assert body["content"] == "Hello {{name}}"
    assert body["model_config"] == {"model": "m"}


def test_if_none_match_with_the_current_etag_is_304_without_body(api: TestClient) -> None:
    create_prompt(api)
    etag = api.get("/prompts/support-reply/active").headers["etag"]
    response = api.get("/prompts/support-reply/active", headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == etag


def test_after_a_rollback_the_old_etag_gets_the_new_body(api: TestClient) -> None:
    first = create_prompt(api)["active_version"]
    v2 = create_version(api, content="two", activate=True)
    etag = api.get("/prompts/support-reply/active").headers["etag"]
    api.post(f"/prompts/support-reply/versions/{first['id']}/rollback")
    response = api.get("/prompts/support-reply/active", headers={"If-None-Match": etag})
    assert response.status_code == 200
    assert response.json()["version_id"] == first["id"] != v2["id"]


def test_a_write_through_another_connection_is_seen_on_the_next_request(
    api: TestClient, registry: Registry
) -> None:
    create_prompt(api)
    api.get("/prompts/support-reply/active")  # warm the cache
    # a second registry over the same database stands in for another process
    from promptdeck.store.engine import create_engine

    other = Registry(create_engine(str(registry.engine.url.render_as_string(False))))
    v2 = other.create_version(
        CreateVersion("support-reply", content="from elsewhere", activate=True), SYSTEM
    ).version
    other.engine.dispose()
    assert api.get("/prompts/support-reply/active").json()["version_id"] == v2.id


def test_active_by_id_and_by_name_agree(api: TestClient) -> None:
    prompt = create_prompt(api)
    assert (
        api.get(f"/prompts/{prompt['id']}/active").json()
        == api.get("/prompts/support-reply/active").json()
    )


def test_active_of_unknown_or_deleted_prompt_is_404_problem(api: TestClient) -> None:
    assert_problem(api.get("/prompts/nope/active"), 404, "prompt-not-found")
    create_prompt(api)
    api.get("/prompts/support-reply/active")
    api.delete("/prompts/support-reply")
    assert_problem(api.get("/prompts/support-reply/active"), 404, "prompt-not-found")


def test_head_active_has_headers_and_no_body(api: TestClient) -> None:
    create_prompt(api)
    response = api.head("/prompts/support-reply/active")
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["etag"]

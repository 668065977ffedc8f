"""Retention over HTTP, tried as a new user would."""

from __future__ import annotations

from starlette.testclient import TestClient

BASE = "You are a helpful assistant for the billing team. Quote the policy. " * 50


def test_a_new_user_keeps_13_versions_in_history_with_at_most_5_unarchived(
    api: TestClient,
) -> None:
    r = api.post("/prompts", json={"name": "billing", "content": BASE, "max_versions": 5})
    assert r.status_code == 201, r.text
    active_id = r.json()["active_version"]["id"]
    contents = {active_id: BASE}
    for i in range(12):
        r = api.post("/prompts/billing/versions", json={"content": f"{BASE} v{i + 2}"})
        assert r.status_code == 201
        contents[r.json()["id"]] = f"{BASE} v{i + 2}"
    history = api.get("/prompts/billing/versions", params={"limit": 50}).json()["items"]
    assert len(history) == 13
    assert all("archived" in v and "archived_at" in v and "purged" in v for v in history)
    live = api.get("/prompts/billing/versions", params={"archived": "false"}).json()["items"]
    archived = api.get("/prompts/billing/versions", params={"archived": "true"}).json()["items"]
    assert len(live) == 5 and len(archived) == 8
    assert active_id in [v["id"] for v in live]
    assert api.get("/prompts/billing/active").json()["content"] == BASE

    # Any archived version restores, or rolls back, with its exact content.
    first, second = archived[-1]["id"], archived[0]["id"]
    r = api.post(f"/prompts/billing/versions/{first}/restore")
    assert r.status_code == 200 and r.json()["archived"] is False
    assert r.json()["content"] == contents[first]
    r = api.post(f"/prompts/billing/versions/{second}/rollback")
    assert r.status_code == 200
    assert r.json()["version"]["content"] == contents[second]
    assert api.get("/prompts/billing/active").json()["content"] == contents[second]
    live = api.get("/prompts/billing/versions", params={"archived": "false"}).json()["items"]
    assert len(live) == 5

    storage = api.get("/prompts/billing/storage").json()
    assert storage["versions"] == 13 and storage["archived"] == 8
    assert storage["stored_bytes"] < storage["raw_bytes"] / 10


def test_archive_restore_and_purge_routes_answer_with_problems_when_refused(
    api: TestClient,
) -> None:
    r = api.post("/prompts", json={"name": "p", "content": "hello"})
    active_id = r.json()["active_version"]["id"]
    v2 = api.post("/prompts/p/versions", json={"content": "key sk-123"}).json()["id"]

    r = api.post(f"/prompts/p/versions/{active_id}/archive")
    assert r.status_code == 409
    assert r.headers["content-type"] == "application/problem+json"
    r = api.request("DELETE", f"/prompts/p/versions/{active_id}", json={"reason": "x"})
    assert r.status_code == 409
    assert r.json()["type"].endswith("active-version-protected")

    r = api.post(f"/prompts/p/versions/{v2}/archive")
    assert r.status_code == 200 and r.json()["archived"] is True
    r = api.delete(f"/prompts/p/versions/{v2}")  # the body with the reason is required
    assert r.status_code == 422 and r.json()["field"] == "body"
    r = api.request("DELETE", f"/prompts/p/versions/{v2}", json={"reason": "  "})
    assert r.status_code == 422 and r.json()["field"] == "reason"
    r = api.request(
        "DELETE",
        f"/prompts/p/versions/{v2}",
        json={"reason": "key leaked"},
        headers={"X-Actor": "bob"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["purged"] is True and body["content"] is None
    assert (body["purged_by"], body["purge_reason"]) == ("bob", "key leaked")
    r = api.post(f"/prompts/p/versions/{v2}/rollback")
    assert r.status_code == 409 and r.json()["type"].endswith("version-unavailable")
    assert api.post("/prompts/p/versions/999999/archive").status_code == 404
    assert api.get("/prompts/nope/storage").status_code == 404


def test_max_versions_can_be_set_by_patch(api: TestClient) -> None:
    api.post("/prompts", json={"name": "p", "content": "v1"})
    for i in range(4):
        api.post("/prompts/p/versions", json={"content": f"v{i + 2}"})
    r = api.patch("/prompts/p", json={"max_versions": 2})
    assert r.status_code == 200 and r.json()["max_versions"] == 2
    live = api.get("/prompts/p/versions", params={"archived": "false"}).json()["items"]
    assert len(live) == 2


def test_the_openapi_document_lists_the_retention_routes(api: TestClient) -> None:
    paths = api.get("/openapi.json").json()["paths"]
    assert "post" in paths["/prompts/{prompt_id}/versions/{version_id}/archive"]
    assert "post" in paths["/prompts/{prompt_id}/versions/{version_id}/restore"]
    assert "delete" in paths["/prompts/{prompt_id}/versions/{version_id}"]
    assert "get" in paths["/prompts/{prompt_id}/storage"]

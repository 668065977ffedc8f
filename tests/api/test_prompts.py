"""Prompts: create, list, read, edit with ETag/If-Match, soft delete, restore (rules 1, 6, 7)."""

from __future__ import annotations

import httpx
from starlette.testclient import TestClient

from tests.api.helpers import assert_problem, create_prompt, create_version


def test_create_returns_201_location_and_etag(api: TestClient) -> None:
    response = api.post("/prompts", json={"name": "greeter", "tags": ["support"]})
    assert response.status_code == 201
    body = response.json()
    assert response.headers["location"] == f"/prompts/{body['id']}"
    assert response.headers["etag"] == body["etag"]
    assert body["tags"] == ["support"]


def test_duplicate_prompt_name_is_409(api: TestClient) -> None:
    create_prompt(api)
    assert_problem(api.post("/prompts", json={"name": "support-reply"}), 409, "prompt-name-taken")


def test_list_prompts_paginates_and_filters(api: TestClient) -> None:
    for i in range(5):
        create_prompt(api, f"p{i}", tags=["odd"] if i % 2 else [], description=f"number {i}")
    page = api.get("/prompts?limit=2").json()
    assert [p["name"] for p in page["items"]] == ["p0", "p1"]
    page2 = api.get(f"/prompts?limit=2&cursor={page['next_cursor']}").json()
    assert [p["name"] for p in page2["items"]] == ["p2", "p3"]
    assert [p["name"] for p in api.get("/prompts?tag=odd").json()["items"]] == ["p1", "p3"]
    assert [p["name"] for p in api.get("/prompts?q=number 4").json()["items"]] == ["p4"]
    assert api.get("/prompts?limit=2").json()["items"][0]["active_version"]["number"] == 1


def test_get_prompt_has_etag_and_active_version_summary(api: TestClient) -> None:
    create_prompt(api)
    response = api.get("/prompts/support-reply")
    assert response.status_code == 200
    assert response.headers["etag"] == response.json()["etag"]
    assert response.json()["active_version"]["number"] == 1


def test_patch_edits_metadata_and_working_copy_only(api: TestClient) -> None:
    prompt = create_prompt(api)
    response = api.patch(
        "/prompts/support-reply",
        json={"description": "replies", "content": "draft", "tags": ["x"]},
        headers={"If-Match": prompt["etag"]},
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["description"], body["content"], body["tags"]) == ("replies", "draft", ["x"])
    assert body["active_version"] == prompt["active_version"]
    assert body["etag"] != prompt["etag"]
    assert api.get("/prompts/support-reply/active").json()["content"] == "Hello {{name}}"


def test_patch_with_a_stale_etag_is_412_and_changes_nothing(api: TestClient) -> None:
    prompt = create_prompt(api)
    api.patch("/prompts/support-reply", json={"description": "first editor"})
    response = api.patch(
        "/prompts/support-reply",
        json={"description": "second editor"},
        headers={"If-Match": prompt["etag"]},
    )
    assert_problem(response, 412, "precondition-failed")
    assert api.get("/prompts/support-reply").json()["description"] == "first editor"


def test_rollback_with_a_stale_etag_is_412(api: TestClient) -> None:
    prompt = create_prompt(api)
    v2 = create_version(api)
    create_version(api, activate=True)
    response = api.post(
        f"/prompts/support-reply/versions/{v2['id']}/rollback",
        headers={"If-Match": prompt["etag"]},
    )
    assert_problem(response, 412, "precondition-failed")
    current = api.get("/prompts/support-reply").headers["etag"]
    ok = api.post(
        f"/prompts/support-reply/versions/{v2['id']}/rollback", headers={"If-Match": current}
    )
    assert ok.status_code == 200


def test_patch_cannot_touch_versions_or_server_fields(api: TestClient) -> None:
    create_prompt(api)
    for field in ("name", "active_version_id", "version_count", "id", "etag"):
        assert_problem(api.patch("/prompts/support-reply", json={field: 1}), 422)


def test_delete_is_soft_and_everything_is_404_after(api: TestClient) -> None:
    prompt = create_prompt(api)
    version = prompt["active_version"]
    assert api.delete("/prompts/support-reply").status_code == 204
    for response in (
        api.get("/prompts/support-reply"),
        api.get(f"/prompts/{prompt['id']}"),
        api.get("/prompts/support-reply/active"),
        api.get("/prompts/support-reply/versions"),
        api.get(f"/prompts/support-reply/versions/{version['id']}"),
        api.post("/prompts/support-reply/versions", json={}),
        api.post(f"/prompts/support-reply/versions/{version['id']}/rollback"),
        api.patch("/prompts/support-reply", json={"description": "x"}),
        api.get("/prompts/support-reply/events"),
        api.delete("/prompts/support-reply"),
    ):
        assert_problem(response, 404, "prompt-not-found")
    assert api.get("/prompts").json()["items"] == []


def test_restore_brings_the_prompt_back_with_every_version(api: TestClient) -> None:
    create_prompt(api)
    create_version(api, version_name="b", activate=True)
    api.delete("/prompts/support-reply")
    response = api.post("/prompts/support-reply/restore")
    assert response.status_code == 200
    assert response.json()["version_count"] == 2
    assert api.get("/prompts/support-reply/active").json()["version_name"] == "b"
    assert_problem(api.post("/prompts/support-reply/restore"), 409, "prompt-not-deleted")


def test_delete_with_a_stale_etag_is_412(api: TestClient) -> None:
    prompt = create_prompt(api)
    api.patch("/prompts/support-reply", json={"description": "x"})
    assert_problem(api.delete("/prompts/support-reply", headers={"If-Match": prompt["etag"]}), 412)


def test_purge_removes_a_deleted_prompt_for_good(api: TestClient) -> None:
    create_prompt(api)
    assert_problem(api.post("/prompts/support-reply/purge"), 409, "prompt-not-deleted")
    api.delete("/prompts/support-reply")
    assert api.post("/prompts/support-reply/purge").status_code == 204
    assert_problem(api.post("/prompts/support-reply/restore"), 404)


def test_idempotency_key_header_replays_the_first_result(api: TestClient) -> None:
    create_prompt(api)
    headers = {"Idempotency-Key": "retry-1"}
    first = api.post("/prompts/support-reply/versions", json={"content": "x"}, headers=headers)
    again = api.post("/prompts/support-reply/versions", json={"content": "x"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["idempotent-replayed"] == "true"
    assert len(api.get("/prompts/support-reply/versions").json()["items"]) == 2
    other = api.post("/prompts/support-reply/versions", json={"content": "y"}, headers=headers)
    assert_problem(other, 422, "idempotency-key-reused")


def test_events_timeline_is_newest_first_and_paginated(api: TestClient) -> None:
    create_prompt(api)
    for _ in range(3):
        create_version(api)
    page = api.get("/prompts/support-reply/events?limit=2").json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    ids = [e["id"] for e in page["items"]]
    assert ids == sorted(ids, reverse=True)


def names(response: httpx.Response) -> list[str]:
    return [p["name"] for p in response.json()["items"]]


def test_deleted_true_lists_only_deleted_prompts_each_with_its_deleted_at(
    api: TestClient,
) -> None:
    for name in ("keep", "gone-a", "gone-b"):
        create_prompt(api, name)
    api.delete("/prompts/gone-b")
    api.delete("/prompts/gone-a")
    response = api.get("/prompts", params={"deleted": "true"})
    assert response.status_code == 200
    items = response.json()["items"]
    assert [p["name"] for p in items] == ["gone-a", "gone-b"]  # by id, like the live list
    assert all(p["deleted_at"] is not None for p in items)
    assert items[0]["active_version"]["number"] == 1
    # The default list is unchanged: live prompts only, and they carry no deleted_at.
    live = api.get("/prompts").json()["items"]
    assert [p["name"] for p in live] == ["keep"] and live[0]["deleted_at"] is None
    assert names(api.get("/prompts", params={"deleted": "false"})) == ["keep"]


def test_deleted_list_paginates_with_a_cursor_and_filters_on_text_and_tag(
    api: TestClient,
) -> None:
    for i in range(5):
        create_prompt(api, f"d{i}", tags=["odd"] if i % 2 else [], description=f"number {i}")
        create_prompt(api, f"live{i}", tags=["odd"], description=f"number {i}")
        api.delete(f"/prompts/d{i}")
    first = api.get("/prompts", params={"deleted": "true", "limit": 2}).json()
    assert [p["name"] for p in first["items"]] == ["d0", "d1"] and first["next_cursor"]
    params = {"deleted": "true", "limit": 2, "cursor": first["next_cursor"]}
    second = api.get("/prompts", params=params).json()
    assert [p["name"] for p in second["items"]] == ["d2", "d3"]
    params["cursor"] = second["next_cursor"]
    last = api.get("/prompts", params=params).json()
    assert [p["name"] for p in last["items"]] == ["d4"] and last["next_cursor"] is None
    assert names(api.get("/prompts", params={"deleted": "true", "tag": "odd"})) == ["d1", "d3"]
    assert names(api.get("/prompts", params={"deleted": "true", "q": "number 4"})) == ["d4"]


def test_a_restored_prompt_leaves_the_deleted_list_and_returns_to_the_live_one(
    api: TestClient,
) -> None:
    create_prompt(api)
    api.delete("/prompts/support-reply")
    assert names(api.get("/prompts?deleted=true")) == ["support-reply"]
    assert api.post("/prompts/support-reply/restore").status_code == 200
    assert names(api.get("/prompts?deleted=true")) == []
    assert names(api.get("/prompts")) == ["support-reply"]
    api.delete("/prompts/support-reply")
    api.post("/prompts/support-reply/purge")
    assert names(api.get("/prompts?deleted=true")) == []  # purged: gone from both lists


def test_a_deleted_value_that_is_not_a_boolean_is_a_422_problem(api: TestClient) -> None:
    body = assert_problem(api.get("/prompts?deleted=maybe"), 422, "validation-error")
    assert body["field"] == "deleted"

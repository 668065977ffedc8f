"""The specification's three endpoints and DESIGN.md rules 1-5."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

from tests.api.helpers import assert_problem, create_prompt, create_version

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z(-\d+)?$")


def test_creating_a_prompt_creates_its_first_version_and_makes_it_active(api: TestClient) -> None:
    prompt = create_prompt(api, model_config={"model": "gpt-4o"})
    assert prompt["version_count"] == 1
    assert prompt["active_version"]["number"] == 1
    assert prompt["active_version"]["active"] is True
    active = api.get("/prompts/support-reply/active").json()
    assert active["content"] == "Hello {{name}}"
    assert active["model_config"] == {"model": "gpt-4o"}


def test_create_version_returns_201_with_name_description_and_timestamp(api: TestClient) -> None:
    create_prompt(api)
    response = api.post(
        "/prompts/support-reply/versions",
        json={"version_name": "v2", "description": "warmer tone", "content": "Hi {{name}}!"},
    )
    assert response.status_code == 201
    body = response.json()
    assert body["version_name"] == "v2"
    assert body["description"] == "warmer tone"
    assert body["number"] == 2
    assert body["content"] == "Hi {{name}}!"
    assert body["created_at"].endswith("Z")
    assert response.headers["location"] == f"/prompts/{body['prompt_id']}/versions/{body['id']}"


def test_new_version_does_not_change_the_active_version(api: TestClient) -> None:
    first = create_prompt(api)["active_version"]
    create_version(api, content="changed")
    active = api.get("/prompts/support-reply/active").json()
    assert active["version_id"] == first["id"]
    assert active["content"] == "Hello {{name}}"


def test_activate_true_creates_and_activates_in_one_call(api: TestClient) -> None:
    create_prompt(api)
    version = create_version(api, content="new", activate=True)
    assert version["active"] is True
    assert api.get("/prompts/support-reply/active").json()["version_id"] == version["id"]


def test_version_without_body_snapshots_the_working_copy(api: TestClient) -> None:
    create_prompt(api, model_config={"temperature": 0.2})
    api.patch("/prompts/support-reply", json={"content": "draft 2", "model_config": {"t": 1}})
    response = api.post("/prompts/support-reply/versions")
    assert response.status_code == 201
    assert response.json()["content"] == "draft 2"
    assert response.json()["model_config"] == {"t": 1}


def test_version_name_defaults_to_a_utc_millisecond_timestamp(api: TestClient) -> None:
    create_prompt(api)
    version = create_version(api, description="no name")
    assert TIMESTAMP.match(version["version_name"]), version["version_name"]


def test_duplicate_version_name_is_409(api: TestClient) -> None:
    create_prompt(api)
    create_version(api, version_name="v2")
    body = assert_problem(
        api.post("/prompts/support-reply/versions", json={"version_name": "v2"}),
        409,
        "version-name-taken",
    )
    assert body["field"] == "version_name"


def test_same_version_name_on_two_prompts_is_allowed(api: TestClient) -> None:
    create_prompt(api, "a")
    create_prompt(api, "b")
    create_version(api, "a", version_name="v2")
    create_version(api, "b", version_name="v2")


def test_history_lists_every_version_newest_first_with_descriptions_and_timestamps(
    api: TestClient,
) -> None:
    create_prompt(api, version_description="first")
    create_version(api, description="second")
    create_version(api, description="third")
    response = api.get("/prompts/support-reply/versions")
    assert response.status_code == 200
    items = response.json()["items"]
    assert [v["number"] for v in items] == [3, 2, 1]
    assert [v["description"] for v in items] == ["third", "second", "first"]
    assert all(v["created_at"] and v["version_name"] for v in items)
    assert [v["active"] for v in items] == [False, False, True]


def test_history_is_paginated_by_an_opaque_cursor(api: TestClient) -> None:
    create_prompt(api)
    for i in range(6):
        create_version(api, version_name=f"v{i + 2}")
    seen: list[int] = []
    url = "/prompts/support-reply/versions?limit=3"
    while True:
        page = api.get(url).json()
        seen += [v["number"] for v in page["items"]]
        if page["next_cursor"] is None:
            break
        url = f"/prompts/support-reply/versions?limit=3&cursor={page['next_cursor']}"
    assert seen == [7, 6, 5, 4, 3, 2, 1]


def test_history_filtered_by_name_finds_one_version(api: TestClient) -> None:
    create_prompt(api)
    v = create_version(api, version_name="tone")
    items = api.get("/prompts/support-reply/versions?name=tone").json()["items"]
    assert [i["id"] for i in items] == [v["id"]]


def test_select_a_version_to_view_its_details(api: TestClient) -> None:
    first = create_prompt(api)["active_version"]
    v2 = create_version(api, content="second text", model_config={"m": 2})
    body = api.get(f"/prompts/support-reply/versions/{v2['id']}").json()
    assert body["content"] == "second text"
    assert body["model_config"] == {"m": 2}
    assert body["previous_version_id"] == first["id"]


def test_rollback_makes_an_older_version_active_and_keeps_history(api: TestClient) -> None:
    first = create_prompt(api)["active_version"]
    create_version(api, content="v2", activate=True)
    create_version(api, content="v3", activate=True)
    response = api.post(f"/prompts/support-reply/versions/{first['id']}/rollback")
    assert response.status_code == 200
    body = response.json()
    assert body["changed"] is True
    assert body["version"]["id"] == first["id"]
    assert api.get("/prompts/support-reply/active").json()["content"] == "Hello {{name}}"
    assert len(api.get("/prompts/support-reply/versions").json()["items"]) == 3


def test_rollback_can_move_forward_to_a_newer_version(api: TestClient) -> None:
    create_prompt(api)
    newer = create_version(api, content="newer")
    assert api.post(f"/prompts/support-reply/versions/{newer['id']}/rollback").status_code == 200
    assert api.get("/prompts/support-reply/active").json()["version_id"] == newer["id"]


def test_rollback_to_the_active_version_is_a_no_op_200(api: TestClient) -> None:
    first = create_prompt(api)["active_version"]
    before = len(api.get("/prompts/support-reply/events").json()["items"])
    response = api.post(f"/prompts/support-reply/versions/{first['id']}/rollback")
    assert response.status_code == 200
    assert response.json()["changed"] is False
    assert len(api.get("/prompts/support-reply/events").json()["items"]) == before


def test_rollback_is_recorded_as_an_event_with_from_and_to(api: TestClient) -> None:
    first = create_prompt(api)["active_version"]
    v2 = create_version(api, activate=True)
    api.post(f"/prompts/support-reply/versions/{first['id']}/rollback", headers={"X-Actor": "ana"})
    event = api.get("/prompts/support-reply/events").json()["items"][0]
    assert event["kind"] == "version.rolled_back"
    assert event["version_id"] == first["id"]
    assert event["from_version_id"] == v2["id"]
    assert event["actor"] == "ana"


def test_rollback_to_a_missing_version_is_404(api: TestClient) -> None:
    create_prompt(api)
    assert_problem(
        api.post("/prompts/support-reply/versions/9999/rollback"), 404, "version-not-found"
    )


def test_rollback_to_another_prompts_version_is_404_like_a_missing_one(api: TestClient) -> None:
    create_prompt(api, "a")
    other = create_prompt(api, "b")["active_version"]
    before = api.get("/prompts/a/active").json()
    foreign = api.post(f"/prompts/a/versions/{other['id']}/rollback")
    missing = api.post("/prompts/a/versions/9999/rollback")
    assert_problem(foreign, 404, "version-not-found")
    assert_problem(missing, 404, "version-not-found")
    assert set(foreign.json()) == set(missing.json())
    assert api.get("/prompts/a/active").json() == before
    assert_problem(api.get(f"/prompts/a/versions/{other['id']}"), 404, "version-not-found")


def test_prompts_are_addressed_by_id_or_by_name(api: TestClient) -> None:
    prompt = create_prompt(api)
    by_id = api.get(f"/prompts/{prompt['id']}/versions").json()
    by_name = api.get("/prompts/support-reply/versions").json()
    assert by_id == by_name


def test_versions_of_an_unknown_prompt_are_404(api: TestClient) -> None:
    assert_problem(api.get("/prompts/nope/versions"), 404, "prompt-not-found")
    assert_problem(api.post("/prompts/nope/versions", json={}), 404, "prompt-not-found")
    assert_problem(api.post("/prompts/nope/versions/1/rollback"), 404, "prompt-not-found")


def test_versions_cannot_be_modified_in_place(api: TestClient) -> None:
    v = create_prompt(api)["active_version"]
    url = f"/prompts/support-reply/versions/{v['id']}"
    assert_problem(api.put(url, json={"content": "x"}), 405)
    assert_problem(api.patch(url, json={"content": "x"}), 405)
    assert api.get(url).json()["content_hash"] == v["content_hash"]


def test_server_owned_fields_cannot_be_set(api: TestClient) -> None:
    create_prompt(api)
    for field, value in [
        ("number", 7),
        ("id", 1),
        ("created_at", "2020-01-01T00:00:00Z"),
        ("active", True),
        ("content_hash", "x"),
        ("prompt_id", 2),
    ]:
        body = assert_problem(api.post("/prompts/support-reply/versions", json={field: value}), 422)
        assert body["field"] == field

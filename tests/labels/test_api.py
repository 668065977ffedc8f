"""Labels over HTTP (issue 14): move, compare-and-swap, fetch by label, history, revert,
removal, rollback with ?label=, and what retention does with labelled versions."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from tests.api.helpers import assert_problem, create_prompt, create_version


def three_versions(api: TestClient) -> list[dict[str, Any]]:
    first = create_prompt(api, content="one")["active_version"]
    return [first, create_version(api, content="two"), create_version(api, content="three")]


def put(api: TestClient, label: str, version_id: int, **headers: str) -> Any:
    return api.put(
        f"/prompts/support-reply/labels/{label}",
        json={"version_id": version_id, "reason": f"ship {version_id}"},
        headers=headers,
    )


def test_staging_and_production_move_independently_and_never_change_active(
    api: TestClient,
) -> None:
    v1, v2, v3 = three_versions(api)
    assert put(api, "production", v2["id"]).status_code == 200
    assert put(api, "staging", v3["id"]).status_code == 200
    assert api.get("/prompts/support-reply/active").json()["content"] == "one"
    assert api.get("/prompts/support-reply/active?label=production").json()["content"] == "two"
    assert api.get("/prompts/support-reply/active?label=staging").json()["content"] == "three"
    assert put(api, "staging", v1["id"]).status_code == 200
    assert api.get("/prompts/support-reply/active?label=production").json()["content"] == "two"
    listed = api.get("/prompts/support-reply/labels").json()
    assert [(x["name"], x["number"]) for x in listed] == [
        ("active", 1),
        ("production", 2),
        ("staging", 1),
    ]
    assert listed[1]["moved_by"] == "anonymous" and listed[1]["moved_at"]


def test_fetch_by_label_has_the_version_etag_and_answers_304(api: TestClient) -> None:
    _, v2, _ = three_versions(api)
    put(api, "staging", v2["id"])
    first = api.get("/prompts/support-reply/active?label=staging")
    assert first.headers["etag"] == f'"a{v2["id"]}"'
    again = api.get(
        "/prompts/support-reply/active?label=staging",
        headers={"If-None-Match": first.headers["etag"]},
    )
    assert again.status_code == 304
    assert_problem(api.get("/prompts/support-reply/active?label=nope"), 404, "label-not-found")
    assert_problem(api.get("/prompts/support-reply/active?label=Bad%20Label"), 422)


def test_a_move_with_a_stale_if_match_is_412_and_a_current_one_wins(api: TestClient) -> None:
    _, v2, v3 = three_versions(api)
    etag = put(api, "staging", v2["id"]).headers["etag"]
    assert put(api, "staging", v3["id"], **{"If-Match": etag}).status_code == 200
    assert_problem(put(api, "staging", v2["id"], **{"If-Match": etag}), 412)
    assert api.get("/prompts/support-reply/active?label=staging").json()["content"] == "three"


def test_history_says_from_to_who_when_and_why_and_revert_is_one_recorded_move(
    api: TestClient,
) -> None:
    _, v2, v3 = three_versions(api)
    put(api, "production", v2["id"], **{"X-Actor": "ana"})
    put(api, "production", v3["id"], **{"X-Actor": "bo"})
    reverted = api.post("/prompts/support-reply/labels/production/revert")
    assert reverted.status_code == 200 and reverted.json()["label"]["number"] == 2
    moves = api.get("/prompts/support-reply/labels/production/history").json()["items"]
    assert [(m["from_number"], m["to_number"], m["actor"]) for m in moves] == [
        (3, 2, "anonymous"),
        (2, 3, "bo"),
        (None, 2, "ana"),
    ]
    assert moves[1]["reason"] == f"ship {v3['id']}"
    assert moves[0]["reason"].startswith("revert of move")
    kinds = [e["kind"] for e in api.get("/prompts/support-reply/events").json()["items"]]
    assert kinds.count("label.moved") == 3


def test_only_active_cannot_be_removed_and_removal_is_in_the_history(api: TestClient) -> None:
    _, v2, _ = three_versions(api)
    put(api, "staging", v2["id"])
    assert api.delete("/prompts/support-reply/labels/staging?reason=done").status_code == 204
    assert_problem(api.get("/prompts/support-reply/labels/staging"), 404, "label-not-found")
    assert_problem(
        api.delete("/prompts/support-reply/labels/active"), 409, "labelled-version-protected"
    )
    moves = api.get("/prompts/support-reply/labels/staging/history").json()["items"]
    assert moves[0]["to_version_id"] is None and moves[0]["reason"] == "done"


def test_rollback_with_a_label_moves_that_label_and_not_active(api: TestClient) -> None:
    v1, _, v3 = three_versions(api)
    response = api.post(f"/prompts/support-reply/versions/{v3['id']}/rollback?label=staging")
    assert response.status_code == 200 and response.json()["changed"] is True
    assert api.get("/prompts/support-reply/active").json()["version_id"] == v1["id"]
    assert api.get("/prompts/support-reply/active?label=staging").json()["version_id"] == v3["id"]
    # a plain rollback is a move of the active label, in its history
    api.post(f"/prompts/support-reply/versions/{v3['id']}/rollback")
    moves = api.get("/prompts/support-reply/labels/active/history").json()["items"]
    assert [(m["from_number"], m["to_number"]) for m in moves[:1]] == [(1, 3)]


def test_a_labelled_version_is_never_archived_nor_purged_and_is_counted(
    api: TestClient,
) -> None:
    create_prompt(api, content="one", max_versions=2)
    v2 = create_version(api, content="two")
    put(api, "production", v2["id"])
    for n in range(3):
        create_version(api, content=f"more {n}")
    versions = api.get("/prompts/support-reply/versions").json()["items"]
    assert {v["number"]: v["archived"] for v in versions}[2] is False
    assert_problem(
        api.post(f"/prompts/support-reply/versions/{v2['id']}/archive"),
        409,
        "labelled-version-protected",
    )
    assert_problem(
        api.request("DELETE", f"/prompts/support-reply/versions/{v2['id']}", json={"reason": "x"}),
        409,
        "labelled-version-protected",
    )
    assert api.get("/prompts/support-reply/storage").json()["labelled"] == 2


def test_a_label_cannot_point_at_a_purged_version(api: TestClient) -> None:
    _, v2, _ = three_versions(api)
    purged = api.request(
        "DELETE", f"/prompts/support-reply/versions/{v2['id']}", json={"reason": "x"}
    )
    assert purged.status_code == 200
    assert_problem(put(api, "staging", v2["id"]), 409, "version-unavailable")
    assert_problem(put(api, "staging", 999_999), 404, "version-not-found")


def test_a_deploy_request_shows_its_diff_and_another_actor_approves_it(api: TestClient) -> None:
    v1, _, v3 = three_versions(api)
    put(api, "production", v1["id"])
    api.patch("/prompts/support-reply/labels/production", json={"protected": True})
    proposed = api.post(
        "/prompts/support-reply/deploy-requests",
        json={"label": "production", "version_id": v3["id"], "reason": "new copy"},
        headers={"X-Actor": "wri"},
    )
    assert proposed.status_code == 201, proposed.text
    url = proposed.headers["location"]
    shown = api.get(url).json()
    assert shown["diff"] == ["- one", "+ three"] and shown["status"] == "open"
    own = api.post(url + "/approve", headers={"X-Actor": "wri"})
    assert_problem(own, 403, "self-approval")
    approved = api.post(url + "/approve", json={"reason": "ok"}, headers={"X-Actor": "adm"})
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    assert api.get("/prompts/support-reply/active?label=production").json()["content"] == "three"
    deploys = api.get("/prompts/support-reply/deploys").json()["items"]
    assert deploys[0]["actor"] == "adm" and deploys[0]["label"] == "production"


def test_a_prompt_with_labels_and_requests_can_be_purged(api: TestClient) -> None:
    _, v2, _ = three_versions(api)
    put(api, "production", v2["id"])
    api.patch("/prompts/support-reply/labels/production", json={"protected": True})
    api.post(
        "/prompts/support-reply/deploy-requests",
        json={"label": "production", "version_id": v2["id"], "reason": "x"},
    )
    assert api.delete("/prompts/support-reply").status_code == 204
    assert api.post("/prompts/support-reply/purge").status_code == 204
    assert create_prompt(api)["active_version"]["number"] == 1  # the name is free again
    # A new prompt's: `active`, and `production` protected but not set (the default).
    listed = api.get("/prompts/support-reply/labels").json()
    assert [(x["name"], x["protected"], x["version_id"]) for x in listed] == [
        ("active", False, listed[0]["version_id"]),
        ("production", True, None),
    ]

"""Issue 23's "done when", through the real app on the run's database: a version with a
contract is created, rendered with good and bad variables (every failing path named),
compared with one that adds a required variable (breaking), and `production` cannot move to
it without accept_breaking (and moves, recorded, with it), on every path that moves a label."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.api.helpers import assert_problem
from tests.contracts.helpers import CONTRACT, TEMPLATE, with_required

STRICTER = with_required(CONTRACT, "order_id", {"type": "string", "minLength": 3})


def made(api: TestClient, name: str = "reply") -> tuple[dict[str, Any], dict[str, Any]]:
    """The prompt with CONTRACT (v1, active, production) and a v2 adding a required
    variable; the two versions as created."""
    created = api.post("/prompts", json={"name": name, "content": TEMPLATE, "contract": CONTRACT})
    assert created.status_code == 201, created.text
    v1 = api.get(f"/prompts/{name}/active").json()
    body = {"content": TEMPLATE + " Order {{order_id}}.", "contract": STRICTER}
    v2 = api.post(f"/prompts/{name}/versions", json=body)
    assert v2.status_code == 201, v2.text
    moved = api.put(f"/prompts/{name}/labels/production", json={"version_id": v1["version_id"]})
    assert moved.status_code == 200, moved.text  # it served nothing: nothing to break
    return v1, v2.json()


def test_a_version_keeps_its_contract_and_every_read_in_full_shows_it(api: TestClient) -> None:
    v1, v2 = made(api)
    assert v1["contract"] == {**CONTRACT, "variables_inferred": False}
    assert v2["contract"]["variables"] == STRICTER["variables"]
    read = api.get(f"/prompts/reply/versions/{v2['id']}").json()
    assert read["contract"] == v2["contract"]
    assert "contract" not in api.get("/prompts/reply/versions").json()["items"][0]


def test_a_render_with_good_variables_answers_text_tools_and_response_format(
    api: TestClient,
) -> None:
    made(api)
    good = {"customer": {"name": "Ada", "age": 36}, "tone": "warm"}
    answer = api.post("/prompts/reply/render", json={"variables": good})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["text"] == 'Reply to {"name": "Ada", "age": 36}.'
    assert body["tools"] == CONTRACT["tools"]
    assert body["response_format"] == CONTRACT["response_format"]


def test_a_render_with_bad_variables_is_a_422_naming_every_failing_path(api: TestClient) -> None:
    made(api)
    bad = {"customer": {"name": "", "age": "old"}, "tone": "shouty"}
    body = assert_problem(
        api.post("/prompts/reply/render", json={"variables": bad}), 422, "variables-invalid"
    )
    assert body["errors"] == [
        {"path": "variables.customer.age", "message": "expected integer"},
        {"path": "variables.customer.name", "message": "must be at least 1 character"},
        {"path": "variables.tone", "message": 'must be one of "warm", "brief"'},
    ]
    assert "variables.customer.age: expected integer" in body["detail"]
    missing = api.post("/prompts/reply/render", json={"variables": {}})
    assert assert_problem(missing, 422, "variables-invalid")["errors"] == [
        {"path": "variables.customer", "message": "is required"}
    ]


def test_the_diff_of_a_new_required_variable_is_breaking(api: TestClient) -> None:
    v1, v2 = made(api)
    answer = api.get(
        f"/prompts/reply/versions/{v2['id']}/diff", params={"against": v1["version_id"]}
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["breaking"] is True
    assert {
        "path": "variables.order_id",
        "change": "variable new and required",
        "breaking": True,
    } in (body["contract_changes"])
    assert "+Reply to {{customer}}. Order {{order_id}}." in body["diff"]
    back = api.get(f"/prompts/reply/versions/{v1['version_id']}/diff", params={"against": v2["id"]})
    assert back.json()["breaking"] is False  # dropping a required variable breaks no caller
    same = api.get(
        f"/prompts/reply/versions/{v1['version_id']}/diff", params={"against": v1["version_id"]}
    )
    assert same.json() | {"diff": ""} == same.json() and same.json()["contract_changes"] == []


def test_the_diff_of_another_prompts_version_is_a_404(api: TestClient) -> None:
    v1, _ = made(api)
    other, _ = made(api, "other")
    answer = api.get(
        f"/prompts/reply/versions/{v1['version_id']}/diff", params={"against": other["version_id"]}
    )
    assert_problem(answer, 404, "version-not-found")


def _production(api: TestClient) -> int:
    label: int = api.get("/prompts/reply/labels/production").json()["version_id"]
    return label


MOVES = {
    "put": lambda api, v1, v2, flag: api.put(
        f"/prompts/reply/labels/production{flag}", json={"version_id": v2["id"]}
    ),
    "rollback": lambda api, v1, v2, flag: api.post(
        f"/prompts/reply/versions/{v2['id']}/rollback?label=production{flag.replace('?', '&')}"
    ),
}


@pytest.mark.parametrize("how", sorted(MOVES))
def test_moving_production_to_a_breaking_version_needs_accept_breaking_and_is_recorded(
    api: TestClient, how: str
) -> None:
    v1, v2 = made(api)
    refused = MOVES[how](api, v1, v2, "")
    body = assert_problem(refused, 409, "breaking-change")
    assert body["errors"] == [
        {"path": "variables.order_id", "message": "variable new and required"}
    ]
    assert "variables.order_id: variable new and required" in body["detail"]
    assert _production(api) == v1["version_id"]
    accepted = MOVES[how](api, v1, v2, "?accept_breaking=true")
    assert accepted.status_code == 200, accepted.text
    assert _production(api) == v2["id"]
    event = api.get("/prompts/reply/events").json()["items"][0]
    assert event["kind"] == "label.moved"
    assert event["detail"]["breaking_accepted"] == ["variables.order_id: variable new and required"]


def test_a_revert_to_a_breaking_version_needs_accept_breaking(api: TestClient) -> None:
    v1, v2 = made(api)
    assert (
        api.put(
            "/prompts/reply/labels/production?accept_breaking=true", json={"version_id": v2["id"]}
        ).status_code
        == 200
    )
    # Back to v1 breaks nothing (v1 needs less); reverting that move brings v2 back: breaking.
    assert (
        api.put(
            "/prompts/reply/labels/production", json={"version_id": v1["version_id"]}
        ).status_code
        == 200
    )
    assert_problem(api.post("/prompts/reply/labels/production/revert"), 409, "breaking-change")
    assert (
        api.post("/prompts/reply/labels/production/revert?accept_breaking=true").status_code == 200
    )
    assert _production(api) == v2["id"]


def test_approving_a_deploy_to_a_breaking_version_needs_accept_breaking(api: TestClient) -> None:
    _v1, v2 = made(api)
    proposed = api.post(
        "/prompts/reply/deploy-requests",
        json={"label": "production", "version_id": v2["id"], "reason": "ship"},
        headers={"X-Actor": "bo"},
    )
    assert proposed.status_code == 201, proposed.text
    request = proposed.json()
    assert (
        request["breaking"] is True
        and request["contract_changes"][0]["path"] == "variables.order_id"
    )
    approve = f"/prompts/reply/deploy-requests/{request['id']}/approve"
    assert_problem(api.post(approve, headers={"X-Actor": "ana"}), 409, "breaking-change")
    assert api.get(f"/prompts/reply/deploy-requests/{request['id']}").json()["status"] == "open"
    assert (
        api.post(approve + "?accept_breaking=true", headers={"X-Actor": "ana"}).status_code == 200
    )
    assert _production(api) == v2["id"]


def test_an_unprotected_label_moves_to_a_breaking_version_without_asking(api: TestClient) -> None:
    v1, v2 = made(api)
    assert (
        api.put("/prompts/reply/labels/staging", json={"version_id": v1["version_id"]}).status_code
        == 200
    )
    assert (
        api.put("/prompts/reply/labels/staging", json={"version_id": v2["id"]}).status_code == 200
    )


def test_a_rollout_of_a_breaking_version_on_production_needs_accept_breaking_at_its_start(
    api: TestClient,
) -> None:
    _, v2 = made(api)
    plan = {
        "version_id": v2["id"],
        "steps": [50, 100],
        "guard": {"measure": "success_rate", "max_drop": 0.02},
        "advance": "manual",
    }
    path = "/prompts/reply/labels/production/rollout"
    assert_problem(api.post(path, json=plan), 409, "breaking-change")
    started = api.post(f"{path}?accept_breaking=true", json=plan)
    assert started.status_code == 201, started.text
    # Past 50%, the last step below 100: complete, the label moved as accepted at the start.
    assert api.post(f"{path}/advance").status_code == 200
    assert api.get(path).json()["status"] == "completed"
    assert _production(api) == v2["id"]

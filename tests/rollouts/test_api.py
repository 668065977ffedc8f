"""The rollout routes over HTTP, in-process over the real database: start (201, Location),
read, the controls and their 409s, refusals that name their field, roles through the gate
(a write key on a protected label is 403; the label's rollout is in its answer)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from promptdeck.config import Settings
from promptdeck.core import Registry
from promptdeck.core.access import Access
from promptdeck.domain.caller import SYSTEM
from promptdeck.domain.commands import ProtectLabel
from promptdeck.server import create_app
from tests.api.helpers import assert_problem
from tests.rollouts.helpers import plan, two_versions

ROLLOUT = "/prompts/{name}/labels/production/rollout"


def test_a_rollout_is_started_read_and_controlled_over_http(
    api: TestClient, registry: Registry, name: str
) -> None:
    baseline, candidate = two_versions(registry, name)
    path = ROLLOUT.format(name=name)
    assert_problem(api.get(path), 404, "rollout-not-found")
    created = api.post(path, json=plan(candidate))
    assert created.status_code == 201, created.text
    body = created.json()
    assert created.headers["location"].endswith("/labels/production/rollout")
    assert (body["status"], body["percent"], body["basis_points"], body["step"]) == (
        "running",
        5,
        500,
        0,
    )
    assert body["steps"] == [5, 25, 50, 100]
    assert (body["baseline"]["version_id"], body["candidate"]["version_id"]) == (
        baseline,
        candidate,
    )
    assert body["judgements"][0]["verdict"] == "pending"
    assert body["plan"]["guard"]["max_drop"] == 0.02
    assert api.get(path).json()["id"] == body["id"]
    assert api.get(f"/prompts/{name}/labels/production").json()["rollout"]["id"] == body["id"]
    assert_problem(api.post(path, json=plan(candidate)), 409, "rollout-in-progress")
    assert_problem(api.post(f"{path}/resume"), 409, "rollout-state-conflict")
    assert api.post(f"{path}/pause", json={"reason": "lunch"}).json()["status"] == "paused"
    assert api.post(f"{path}/advance").json()["percent"] == 25
    assert api.post(f"{path}/resume").json()["status"] == "running"
    aborted = api.post(f"{path}/abort")
    assert (aborted.json()["status"], aborted.json()["percent"]) == ("aborted", 0)
    for action in ("pause", "resume", "advance", "abort"):
        assert_problem(api.post(f"{path}/{action}"), 409, "rollout-state-conflict")
    history = api.get(f"/prompts/{name}/labels/production/history").json()["items"]
    assert history[0]["kind"] == "rollout.aborted"
    assert [r["id"] for r in api.get(f"/prompts/{name}/rollouts").json()["items"]] == [body["id"]]


def test_a_manual_move_during_a_rollout_is_a_409_that_says_abort_first(
    api: TestClient, registry: Registry, name: str
) -> None:
    _, candidate = two_versions(registry, name)
    api.post(ROLLOUT.format(name=name), json=plan(candidate))
    moved = api.put(f"/prompts/{name}/labels/production", json={"version_id": candidate})
    assert "abort it" in assert_problem(moved, 409, "rollout-in-progress")["detail"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"steps": [5, 5, 100]}, "steps.1"),
        ({"steps": [5, 50]}, "steps.1"),
        ({"steps": [5.001, 100]}, "steps.0"),
        ({"guard": {"measure": "success_rate"}}, "guard.max_drop"),
        ({"guard": {"measure": "latency", "max_drop": 0.1}}, "guard.measure"),
        ({"guard": {"measure": "success_rate", "max_drop": 1.5}}, "guard.max_drop"),
        ({"guard": {"measure": "success_rate", "max_drop": 0.1, "min_outcomes": 5}}, None),
        ({"step_after": {"minutes": -1}}, "step_after.minutes"),
        ({"sticky": "user id"}, "sticky"),
        ({"salt": "a:b"}, "salt"),
        ({"advance": "sometimes"}, "advance"),
        ({"gaurd": {}}, "gaurd"),
        ({"version_id": "nine"}, "version_id"),  # "9" and 9.0 are 9, as in a label move
    ],
)
def test_a_bad_plan_is_refused_whole_naming_its_field(
    api: TestClient, registry: Registry, name: str, change: dict[str, Any], field: str | None
) -> None:
    _, candidate = two_versions(registry, name)
    body = assert_problem(
        api.post(ROLLOUT.format(name=name), json={**plan(candidate), **change}), 422
    )
    assert body["field"] == (field or "guard.min_outcomes")
    assert_problem(api.get(ROLLOUT.format(name=name)), 404, "rollout-not-found")


def test_a_plan_for_a_version_of_another_prompt_is_a_404(
    api: TestClient, registry: Registry, name: str
) -> None:
    two_versions(registry, name)
    _, other = two_versions(registry, name + "-other")
    assert_problem(api.post(ROLLOUT.format(name=name), json=plan(other)), 404, "version-not-found")


def test_a_plan_for_the_version_the_label_serves_is_refused(
    api: TestClient, registry: Registry, name: str
) -> None:
    baseline, _ = two_versions(registry, name)
    body = assert_problem(api.post(ROLLOUT.format(name=name), json=plan(baseline)), 422)
    assert body["field"] == "version_id"


@pytest.fixture
def closed(settings: Settings, registry: Registry) -> Iterator[TestClient]:
    with TestClient(create_app(settings, registry)) as client:
        yield client


def test_roles_reading_needs_read_changing_needs_write_a_protected_label_admin(
    closed: TestClient, registry: Registry, name: str
) -> None:
    access = Access(registry.engine)
    keys = {
        role: {"Authorization": f"Bearer {access.create_key(f'k-{role}', role).secret}"}
        for role in ("read", "write", "admin")
    }
    _, candidate = two_versions(registry, name)
    path = ROLLOUT.format(name=name)
    assert_problem(closed.post(path, json=plan(candidate), headers=keys["read"]), 403)
    registry.protect_label(ProtectLabel(name, "production", True), SYSTEM)
    refused = assert_problem(
        closed.post(path, json=plan(candidate), headers=keys["write"]), 403, "label-protected"
    )
    assert "deploy request" in refused["detail"]
    assert closed.post(path, json=plan(candidate), headers=keys["admin"]).status_code == 201
    assert closed.get(path, headers=keys["read"]).status_code == 200
    assert_problem(closed.post(f"{path}/pause", headers=keys["read"]), 403)
    # Steps of an approved rollout need no approval: a writer may control it.
    assert closed.post(f"{path}/advance", headers=keys["write"]).json()["percent"] == 25
    assert closed.post(f"{path}/abort", headers=keys["write"]).json()["status"] == "aborted"


def test_a_deploy_request_with_a_plan_lets_a_writer_roll_out_on_a_protected_label(
    closed: TestClient, registry: Registry, name: str
) -> None:
    access = Access(registry.engine)
    writer = {"Authorization": f"Bearer {access.create_key('wes', 'write').secret}"}
    admin = {"Authorization": f"Bearer {access.create_key('ada', 'admin').secret}"}
    _, candidate = two_versions(registry, name)
    registry.protect_label(ProtectLabel(name, "production", True), SYSTEM)
    body = plan(candidate)
    del body["version_id"]
    proposed = closed.post(
        f"/prompts/{name}/deploy-requests",
        json={"label": "production", "version_id": candidate, "reason": "roll", "plan": body},
        headers=writer,
    )
    assert proposed.status_code == 201, proposed.text
    assert proposed.json()["plan"]["steps"] == [5, 25, 50, 100]
    request_id = proposed.json()["id"]
    approved = closed.post(f"/prompts/{name}/deploy-requests/{request_id}/approve", headers=admin)
    assert approved.json()["status"] == "approved"
    rollout = closed.get(ROLLOUT.format(name=name), headers=writer).json()
    assert (rollout["status"], rollout["started_by"]) == ("running", "ada")

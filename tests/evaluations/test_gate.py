"""The gate end to end, through the API with the app's own runner against the stand-in
provider: a worse candidate's deploy request cannot be approved (an admin may override it,
and that is recorded); a better one's can."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from promptdeck.core import Registry
from promptdeck.domain.caller import SYSTEM
from promptdeck.domain.providers import provider_config
from tests.evaluations.helpers import (
    SHORT,
    evaluations_of,
    make_set,
    script_refunds,
    start,
    two_versions,
    wait,
)
from tests.support.fake_llm import FakeLLM

ADMIN = {"X-Actor": "boss"}
WRITER = {"X-Actor": "dev"}


def gated(api: TestClient, name: str, serving: int, test_set: str) -> None:
    """``production`` serves ``serving`` and requires ``test_set`` with 90% containing a
    refund."""
    moved = api.put(f"/prompts/{name}/labels/production", json={"version_id": serving})
    assert moved.status_code == 200, moved.text
    make_set(api, test_set, name, 10)
    gate = {"test_set": test_set, "thresholds": {"contains": 0.9}}
    put = api.put(f"/prompts/{name}/labels/production/gate", json=gate, headers=ADMIN)
    assert put.status_code == 200, put.text


def propose(api: TestClient, name: str, version_id: int) -> str:
    body = {"label": "production", "version_id": version_id, "reason": "ship it"}
    made = api.post(f"/prompts/{name}/deploy-requests", json=body, headers=WRITER)
    assert made.status_code == 201, made.text
    return f"/prompts/{name}/deploy-requests/{made.json()['id']}"


def approve(api: TestClient, url: str, **extra: Any) -> Any:
    return api.post(url + "/approve", json={"reason": "ok", **extra}, headers=ADMIN)


def test_a_worse_candidates_deploy_request_is_refused_until_an_admin_overrides_it(
    api: TestClient, registry: Registry, llm: FakeLLM, name: str
) -> None:
    evaluations_of(registry).add_provider(
        provider_config("local", llm.url, list(llm.models), timeouts=SHORT),
        SYSTEM,
    )
    script_refunds(llm)
    plain, refund = two_versions(api, name)
    gated(api, name, refund, "gate-worse")
    url = propose(api, name, plain)

    unevaluated = approve(api, url)
    assert unevaluated.status_code == 409, unevaluated.text
    assert unevaluated.json()["type"].endswith("/gate-failed")
    assert "no completed evaluation" in unevaluated.json()["detail"]

    found = wait(api, start(api, name, [refund, plain], "gate-worse")["id"])
    assert (found["status"], found["verdict"]) == ("completed", "worse")
    shown = api.get(url).json()["gate"]
    assert (shown["passed"], shown["evaluation_id"]) == (False, found["id"])
    refused = approve(api, url)
    assert refused.status_code == 409, refused.text
    assert "worse than version" in refused.json()["detail"]
    assert "contains" in refused.json()["detail"]  # 0% against the 90% it needs
    serving = api.get(f"/prompts/{name}/labels/production").json()["version_id"]
    assert serving == refund

    without_reason = api.post(url + "/approve", json={"override_gate": True}, headers=ADMIN)
    assert without_reason.status_code == 422, without_reason.text
    overridden = approve(api, url, override_gate=True)
    assert overridden.status_code == 200 and overridden.json()["status"] == "approved"
    assert api.get(f"/prompts/{name}/labels/production").json()["version_id"] == plain
    events = api.get(f"/prompts/{name}/events", params={"limit": 100}).json()["items"]
    (event,) = [e for e in events if e["kind"] == "gate.overridden"]
    assert event["actor"] == "boss" and event["detail"]["evaluation_id"] == found["id"]


def test_a_better_candidates_deploy_request_is_approved(
    api: TestClient, registry: Registry, llm: FakeLLM, name: str
) -> None:
    evaluations_of(registry).add_provider(
        provider_config("local", llm.url, list(llm.models), timeouts=SHORT),
        SYSTEM,
    )
    script_refunds(llm)
    plain, refund = two_versions(api, name)
    gated(api, name, plain, "gate-better")
    url = propose(api, name, refund)
    check = api.get(
        f"/prompts/{name}/labels/production/gate/check", params={"version_id": refund}
    ).json()
    assert (check["required"], check["passed"], check["baseline_id"]) == (True, False, plain)

    found = wait(api, start(api, name, [plain, refund], "gate-better")["id"])
    assert (found["status"], found["verdict"]) == ("completed", "better")
    approved = approve(api, url)
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    assert api.get(f"/prompts/{name}/labels/production").json()["version_id"] == refund


def test_a_rollout_started_directly_meets_the_gate_as_a_deploy_request_does(
    api: TestClient, registry: Registry, llm: FakeLLM, name: str
) -> None:
    evaluations_of(registry).add_provider(
        provider_config("local", llm.url, list(llm.models), timeouts=SHORT),
        SYSTEM,
    )
    script_refunds(llm)
    plain, refund = two_versions(api, name)
    gated(api, name, plain, "gate-rollout")
    url = f"/prompts/{name}/labels/production/rollout"
    plan = {
        "version_id": refund,
        "steps": [50, 100],
        "guard": {"measure": "success_rate", "max_drop": 0.05},
    }

    unevaluated = api.post(url, json=plan, headers=ADMIN)
    assert unevaluated.status_code == 409, unevaluated.text
    assert unevaluated.json()["type"].endswith("/gate-failed")
    assert api.get(url).status_code == 404  # nothing started
    without_reason = api.post(url, json={**plan, "override_gate": True}, headers=ADMIN)
    assert without_reason.status_code == 422, without_reason.text

    found = wait(api, start(api, name, [plain, refund], "gate-rollout")["id"])
    assert (found["status"], found["verdict"]) == ("completed", "better")
    started = api.post(url, json=plan, headers=ADMIN)
    assert started.status_code == 201, started.text
    assert (started.json()["status"], started.json()["candidate"]["version_id"]) == (
        "running",
        refund,
    )
    events = api.get(f"/prompts/{name}/events", params={"limit": 100}).json()["items"]
    assert not [e for e in events if e["kind"] == "gate.overridden"]


def test_an_admin_may_start_a_rollout_past_a_failing_gate_with_a_reason_and_it_is_recorded(
    api: TestClient, llm: FakeLLM, name: str
) -> None:
    plain, refund = two_versions(api, name)
    gated(api, name, plain, "gate-override")
    url = f"/prompts/{name}/labels/production/rollout"
    plan = {
        "version_id": refund,
        "steps": [50, 100],
        "guard": {"measure": "success_rate", "max_drop": 0.05},
        "reason": "hotfix, evaluated by hand",
        "override_gate": True,
    }
    started = api.post(url, json=plan, headers=ADMIN)
    assert started.status_code == 201, started.text
    events = api.get(f"/prompts/{name}/events", params={"limit": 100}).json()["items"]
    (event,) = [e for e in events if e["kind"] == "gate.overridden"]
    assert (event["actor"], event["detail"]["reason"]) == ("boss", "hotfix, evaluated by hand")
    assert event["version_id"] == refund

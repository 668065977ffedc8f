"""The role reaches the core as ``may_move_protected`` from the caller the gate let through
(server/deps.py: the principal's role is admin). Real keys over HTTP, so the role x label x
path matrix runs through the gate (server/security.py) too."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from promptdeck.config import Settings
from promptdeck.core import Registry
from promptdeck.core.access import Access
from promptdeck.domain.caller import SYSTEM
from promptdeck.domain.commands import CreatePrompt, ImportPrompt
from promptdeck.server import create_app
from tests.support.load import figure


@pytest.fixture
def http(settings: Settings, registry: Registry) -> Iterator[TestClient]:
    with TestClient(create_app(settings, registry)) as client:
        yield client


def test_over_http_writers_cannot_move_protected_labels_and_admins_approve_others_requests(
    http: TestClient, registry: Registry
) -> None:
    access = Access(registry.engine)
    secrets = {
        name: access.create_key(name, role).secret
        for name, role in (
            ("root", "admin"),
            ("admin-1", "admin"),
            ("write-1", "write"),
            ("proposer", "write"),
        )
    }

    def key(name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {secrets[name]}"}

    expected_codes = {
        # (role, protected, path) -> status
        ("write", True, "move"): 403,
        ("write", True, "rollback"): 403,
        ("write", True, "approve-own"): 403,
        ("write", True, "approve-other"): 403,
        ("admin", True, "move"): 200,
        ("admin", True, "rollback"): 200,
        ("admin", True, "approve-own"): 403,
        ("admin", True, "approve-other"): 200,
    }
    for role, path in itertools.product(["write", "admin"], ["move", "rollback"]):
        expected_codes[(role, False, path)] = 200
    mismatches = []
    for n, ((role, protected, path), want) in enumerate(sorted(expected_codes.items())):
        name = f"r{n}"
        admin = key("root")
        created = http.post("/prompts", json={"name": name, "content": "a"}, headers=admin)
        v2 = http.post(f"/prompts/{name}/versions", json={"content": "b"}, headers=admin).json()
        label = "production" if protected else "staging"
        if protected:
            http.patch(f"/prompts/{name}/labels/{label}", json={"protected": True}, headers=admin)
        me = key(f"{role}-1")
        if path == "move":
            r = http.put(
                f"/prompts/{name}/labels/{label}", json={"version_id": v2["id"]}, headers=me
            )
        elif path == "rollback":
            r = http.post(f"/prompts/{name}/versions/{v2['id']}/rollback?label={label}", headers=me)
        else:
            proposed = http.post(
                f"/prompts/{name}/deploy-requests",
                json={"label": label, "version_id": v2["id"], "reason": "go"},
                headers=me if path == "approve-own" else key("proposer"),
            )
            r = http.post(proposed.headers["location"] + "/approve", headers=me)
        assert created.status_code == 201
        if r.status_code != want:
            mismatches.append((role, label, path, r.status_code))
    figure(
        "label role matrix over HTTP",
        f"{len(expected_codes)} cases (role x protected x path): {len(mismatches)} mismatches",
    )
    assert mismatches == []


def test_production_is_protected_on_a_new_prompt_until_an_admin_unprotects_it(
    http: TestClient, registry: Registry
) -> None:
    access = Access(registry.engine)
    admin = {"Authorization": f"Bearer {access.create_key('root', 'admin').secret}"}
    writer = {"Authorization": f"Bearer {access.create_key('w', 'write').secret}"}
    assert http.post("/prompts", json={"name": "p", "content": "a"}, headers=writer).status_code
    v2 = http.post("/prompts/p/versions", json={"content": "b"}, headers=writer).json()
    shown = http.get("/prompts/p/labels/production", headers=writer).json()
    assert shown["protected"] is True and shown["version_id"] is None
    created = http.get("/prompts/p/events", headers=writer).json()["items"][-1]
    assert created["detail"]["protected_labels"] == ["production"]  # recorded

    def move(label: str, headers: dict[str, str]) -> int:
        body = {"version_id": v2["id"]}
        return http.put(f"/prompts/p/labels/{label}", json=body, headers=headers).status_code

    assert move("production", writer) == 403  # the default, with no one having set it
    assert move("staging", writer) == 200  # other labels are not protected by default
    assert (
        http.patch(
            "/prompts/p/labels/production", json={"protected": False}, headers=writer
        ).status_code
        == 403
    )
    unprotected = http.patch(
        "/prompts/p/labels/production", json={"protected": False}, headers=admin
    )
    assert unprotected.status_code == 200 and unprotected.json()["protected"] is False
    assert move("production", writer) == 200  # an admin's change sticks


def test_an_import_without_a_protected_set_gets_the_default_and_an_empty_one_stays_empty(
    registry: Registry,
) -> None:
    registry.create_prompt(CreatePrompt("src", content="a"), SYSTEM)
    record = registry.export_prompt("src", SYSTEM)
    assert record["protected_labels"] == ["production"]
    for name, given, want in (("old", None, True), ("bare", [], False)):
        registry.import_prompt(
            ImportPrompt({**record, "name": name, "protected_labels": given}), SYSTEM
        )
        listed = {x.name: x.protected for x in registry.list_labels(name, SYSTEM)}
        assert listed.get("production", False) is want

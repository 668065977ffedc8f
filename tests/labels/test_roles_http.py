"""The role reaches the core as ``may_move_protected`` from ``scope["state"]["role"]``, where
the auth middleware (issue 11) puts it. Here a tiny ASGI wrapper plays that middleware in
front of the real app, so the role x label x path matrix runs over HTTP too."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from promptdeck.config import Settings
from promptdeck.core import Registry
from promptdeck.server import create_app
from tests.support.load import figure


class RoleFromHeader:
    """Stands in for the auth middleware: the role and actor from test headers."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = dict(scope["headers"])
            role = headers.get(b"x-test-role")
            if role is not None:
                scope.setdefault("state", {})["role"] = role.decode()
        await self.app(scope, receive, send)


@pytest.fixture
def http(settings: Settings, registry: Registry) -> Iterator[TestClient]:
    with TestClient(RoleFromHeader(create_app(settings, registry))) as client:
        yield client


def test_over_http_writers_cannot_move_protected_labels_and_admins_approve_others_requests(
    http: TestClient,
) -> None:
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
        admin = {"X-Test-Role": "admin", "X-Actor": "root"}
        created = http.post("/prompts", json={"name": name, "content": "a"}, headers=admin)
        v2 = http.post(f"/prompts/{name}/versions", json={"content": "b"}, headers=admin).json()
        label = "production" if protected else "staging"
        if protected:
            http.patch(f"/prompts/{name}/labels/{label}", json={"protected": True}, headers=admin)
        me = {"X-Test-Role": role, "X-Actor": f"{role}-1"}
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
                headers={"X-Test-Role": "write", "X-Actor": f"{role}-1"},
            )
            decider = me if path == "approve-own" else {"X-Test-Role": role, "X-Actor": "other"}
            r = http.post(proposed.headers["location"] + "/approve", headers=decider)
        assert created.status_code == 201
        if r.status_code != want:
            mismatches.append((role, label, path, r.status_code))
    figure(
        "label role matrix over HTTP",
        f"{len(expected_codes)} cases (role x protected x path): {len(mismatches)} mismatches",
    )
    assert mismatches == []

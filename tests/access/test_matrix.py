"""Every route of the OpenAPI document against every kind of caller: who gets in, who is
refused, and that a refused request changes nothing."""

from __future__ import annotations

import itertools
from typing import Any

from starlette.testclient import TestClient

from promptdeck.core import Registry
from promptdeck.core.webhooks import Destinations, Webhooks
from promptdeck.domain.outgoing import parse_allowance
from tests.access.conftest import Keys, bearer, snapshot
from tests.support.load import figure

# What each route needs, written here from the issue (not read from the server), so the
# server's table is checked against an independent one. A route missing here fails the test.
ADMIN = {
    ("DELETE", "/prompts/{prompt_id}"),
    ("POST", "/prompts/{prompt_id}/purge"),
    ("DELETE", "/prompts/{prompt_id}/versions/{version_id}"),
    ("POST", "/prompts/import"),
    ("GET", "/keys"),
    ("POST", "/keys"),
    ("DELETE", "/keys/{name}"),
    ("GET", "/users"),
    ("POST", "/users"),
    ("DELETE", "/users/{name}"),
    # Webhooks (issue 14): a hook hears every prompt's events.
    ("GET", "/webhooks"),
    ("POST", "/webhooks"),
    ("GET", "/webhooks/{hook_id}"),
    ("PATCH", "/webhooks/{hook_id}"),
    ("DELETE", "/webhooks/{hook_id}"),
    ("GET", "/webhooks/{hook_id}/deliveries"),
    ("POST", "/webhooks/{hook_id}/test"),
}
ROLLOUT = "/prompts/{prompt_id}/labels/{label}/rollout"
ROLLOUT_CONTROLS = {("POST", f"{ROLLOUT}/{c}") for c in ("pause", "resume", "advance", "abort")}
WRITE = {
    ("POST", "/prompts"),
    ("PATCH", "/prompts/{prompt_id}"),
    ("POST", "/prompts/{prompt_id}/restore"),
    ("POST", "/prompts/{prompt_id}/versions"),
    ("POST", "/prompts/{prompt_id}/versions/{version_id}/rollback"),
    ("POST", "/prompts/{prompt_id}/versions/{version_id}/archive"),
    ("POST", "/prompts/{prompt_id}/versions/{version_id}/restore"),
    # Labels (issue 14): moves, protection, revert and deploy requests are writes at the
    # gate; a protected label and deciding a request need admin in the core (DECIDE below).
    ("PUT", "/prompts/{prompt_id}/labels/{label}"),
    ("PATCH", "/prompts/{prompt_id}/labels/{label}"),
    ("DELETE", "/prompts/{prompt_id}/labels/{label}"),
    ("POST", "/prompts/{prompt_id}/labels/{label}/revert"),
    ("POST", "/prompts/{prompt_id}/deploy-requests"),
    ("POST", "/prompts/{prompt_id}/deploy-requests/{request_id}/approve"),
    ("POST", "/prompts/{prompt_id}/deploy-requests/{request_id}/reject"),
    # Impact (issue 16): reporting outcomes and alert thresholds change what impact says.
    ("POST", "/outcomes"),
    ("PUT", "/prompts/{prompt_id}/alerts/{label}"),
    ("DELETE", "/prompts/{prompt_id}/alerts/{label}"),
    # Rollouts (issue 24): starting one and its controls are writes; starting one on a
    # protected label needs admin in the core (MOVES_OF_PRODUCTION below).
    ("POST", "/prompts/{prompt_id}/labels/{label}/rollout"),
    *ROLLOUT_CONTROLS,
}
# Writes at the gate, but the core refuses anyone below admin (server/deps.py
# get_may_move_protected): protecting a label, deciding another's deploy request.
DECIDE = {
    ("PATCH", "/prompts/{prompt_id}/labels/{label}"),
    ("POST", "/prompts/{prompt_id}/deploy-requests/{request_id}/approve"),
    ("POST", "/prompts/{prompt_id}/deploy-requests/{request_id}/reject"),
}
# Moves of a label: every cell moves `production`, protected on a new prompt by default
# (domain/labels.py DEFAULT_PROTECTED), so below admin the core refuses them too.
MOVES_OF_PRODUCTION = {
    ("PUT", "/prompts/{prompt_id}/labels/{label}"),
    ("DELETE", "/prompts/{prompt_id}/labels/{label}"),
    ("POST", "/prompts/{prompt_id}/labels/{label}/revert"),
    ("POST", ROLLOUT),
}
# Reads sent as POST: rendering a version with variables changes nothing.
READ = {("POST", "/prompts/{prompt_id}/render")}
PUBLIC = {("GET", "/healthz"), ("GET", "/readyz")}
CALLERS = ["none", "bad", "revoked", "expired", "read", "write", "admin", "outside", "inside"]
ROLE_OF = {"read": 1, "write": 2, "admin": 3, "outside": 2, "inside": 2}


def needs(method: str, path: str) -> int:
    if (method, path) in ADMIN:
        return 3
    if (method, path) in WRITE:
        return 2
    assert method == "GET" or (method, path) in READ, f"classify {method} {path} in this test"
    return 1


def expected(caller: str, method: str, path: str) -> str:
    if (method, path) in PUBLIC:
        return "allowed"
    if caller in ("none", "bad", "revoked", "expired"):
        return "401"
    if caller == "outside" and "{prompt_id}" in path:
        return "404"  # a prompt it may not read is as missing as one that never was
    if caller == "outside" and (method, path) == ("POST", "/prompts"):
        return "404"  # creating one outside its prefixes: the same answer
    if (method, path) in DECIDE | MOVES_OF_PRODUCTION and ROLE_OF[caller] < 3:
        return "403"
    return "allowed" if ROLE_OF[caller] >= needs(method, path) else "403"


class Cell:
    """One route and one caller, on prompts and keys made for it alone."""

    def __init__(self, api: TestClient, keys: Keys, registry: Registry, n: int) -> None:
        self.api, self.keys, self.registry, self.n = api, keys, registry, n

    def key(self, caller: str) -> dict[str, str]:
        secrets = {
            "bad": "pdk_00000000_" + "x" * 43,
            "revoked": self.keys.revoked,
            "expired": self.keys.expired,
            "read": self.keys.read,
            "write": self.keys.write,
            "admin": self.keys.admin,
            "outside": self.keys.limited,
            "inside": self.keys.limited,
        }
        return bearer(secrets[caller]) if caller in secrets else {}

    def request(self, caller: str, method: str, path: str) -> Any:
        n = self.n
        prompt = f"team-m{n}" if caller == "inside" else f"m{n}"
        created = self.registry.create_prompt(prompt, content="one", actor="setup").prompt
        second = self.registry.create_version(prompt, content="two", actor="setup").version
        admin = bearer(self.keys.admin)
        self.api.post("/keys", json={"name": f"k{n}", "role": "read"}, headers=admin)
        # Labels: `production` serves version 1; another caller asks to move it to 2.
        self.registry.move_label(prompt, "production", created.active_version_id, actor="setup")
        proposed = self.registry.propose_deploy(
            prompt, "production", second.id, reason="matrix", actor="setup"
        )
        # Paused: nothing is queued for it, so no delivery worker touches the database. One
        # at a time (a server keeps at most limits.WEBHOOKS_MAX).
        hooks = Webhooks(self.registry.db, Destinations(parse_allowance("127.0.0.1")))
        for old in hooks.page(limit=100).items:
            hooks.delete(old.id)
        hook = hooks.create("http://127.0.0.1:9/", enabled=False)
        plan = {
            "version_id": second.id,
            "steps": [50, 100],
            "guard": {"measure": "success_rate", "max_drop": 0.02},
            "advance": "manual",  # nothing moves by itself while the cell runs
        }
        if (method, path) in {*ROLLOUT_CONTROLS, ("GET", ROLLOUT)}:  # one to read, pause…
            self.registry.start_rollout(prompt, "production", plan, actor="setup")
            if path.endswith("/resume"):
                self.registry.control_rollout(prompt, "production", "pause", actor="setup")
        body: Any = None
        params: dict[str, str] = {}
        if (method, path) == ("POST", "/prompts"):
            body = {"name": f"{'team-' if caller == 'inside' else ''}new{n}", "content": "c"}
        elif (method, path) == ("PATCH", "/prompts/{prompt_id}"):
            body = {"description": "changed"}
        elif (method, path) == ("POST", "/prompts/{prompt_id}/versions"):
            body = {"content": "three"}
        elif (method, path) == ("POST", "/prompts/{prompt_id}/render"):
            body = {"variables": {}}
        elif (method, path) == ("POST", "/prompts/import"):
            body = self.api.get(f"/prompts/{prompt}/export", headers=admin).json()
            body["name"] = f"{'team-' if caller == 'inside' else ''}imp{n}"
        elif (method, path) == ("POST", "/keys"):
            body = {"name": f"nk{n}", "role": "read"}
        elif (method, path) == ("POST", "/users"):
            body = {"name": f"nu{n}", "role": "read", "password": "a long password"}
        elif (method, path) == ("PUT", "/prompts/{prompt_id}/labels/{label}"):
            body = {"version_id": second.id}
        elif (method, path) == ("PATCH", "/prompts/{prompt_id}/labels/{label}"):
            body = {"protected": True}
        elif (method, path) == ("POST", "/prompts/{prompt_id}/deploy-requests"):
            body = {"label": "staging", "version_id": second.id, "reason": "matrix"}
        elif (method, path) == ("POST", "/webhooks"):
            body = {"url": "http://127.0.0.1:9/", "enabled": False}
        elif (method, path) == ("PATCH", "/webhooks/{hook_id}"):
            body = {"description": "matrix"}
        elif (method, path) == ("POST", "/outcomes"):
            version_id = created.active_version_id
            body = {"outcomes": [{"prompt_id": prompt, "version_id": version_id, "success": True}]}
        elif (method, path) == ("POST", ROLLOUT):
            body = plan
        elif (method, path) == ("PUT", "/prompts/{prompt_id}/alerts/{label}"):
            body = {"min_success": 0.9}
        elif path.endswith("/versions/{version_id}") and method == "DELETE":
            params = {"reason": "matrix"}
        if path == "/changes":
            params = {"wait": "0"}  # the long-poll form answers at once; the stream never ends
        if path == "/users/{name}":
            self.api.post(
                "/users",
                json={"name": f"u{n}", "role": "read", "password": "a long password"},
                headers=admin,
            )
        url = (
            path.replace("{prompt_id}", str(created.id if n % 2 else prompt))
            .replace(
                "{version_id}", str(second.id if "rollback" in path else created.active_version_id)
            )
            .replace("{name}", f"k{n}" if path.startswith("/keys") else f"u{n}")
            .replace("{label}", "production")
            .replace("{request_id}", str(proposed.id))
            .replace("{hook_id}", str(hook.hook.id))
        )
        before = snapshot(self.registry)
        response = self.api.request(method, url, json=body, params=params, headers=self.key(caller))
        return response, before


def outcome(response: Any) -> str:
    if response.status_code in (401, 403):
        assert response.headers["content-type"] == "application/problem+json"
        return str(response.status_code)
    if response.status_code == 404 and response.json().get("type", "").endswith(
        "/prompt-not-found"
    ):
        return "404"
    return "allowed"


def test_every_route_answers_every_caller_as_its_role_allows_and_refusals_change_nothing(
    keyed: TestClient, keys: Keys, registry: Registry
) -> None:
    schema = keyed.get("/openapi.json", headers=bearer(keys.read)).json()
    routes = [
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        for method in operations
    ]
    assert len(routes) >= 25 and ("GET", "/events") in routes
    counter = itertools.count(1)
    tried = mismatches = side_effects = 0
    wrong: list[str] = []
    for (method, path), caller in itertools.product(routes, CALLERS):
        cell = Cell(keyed, keys, registry, next(counter))
        response, before = cell.request(caller, method, path)
        want, got = expected(caller, method, path), outcome(response)
        tried += 1
        if want != got:
            mismatches += 1
            wrong.append(
                f"{caller} {method} {path}: want {want}, got {response.status_code} "
                f"{response.text[:120]}"
            )
        if want != "allowed" and snapshot(registry) != before:
            side_effects += 1
            wrong.append(f"{caller} {method} {path}: refused but changed the database")
    figure(
        "role matrix",
        f"{len(routes)} routes x {len(CALLERS)} callers = {tried} cells tried, "
        f"{mismatches} mismatches, {side_effects} side effects where refused",
    )
    assert wrong == []

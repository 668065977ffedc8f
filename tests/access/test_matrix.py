"""Every route of the app, the API's and the UI's, against every kind of caller: who gets in,
who is refused, and that a refused request changes nothing."""

from __future__ import annotations

import itertools
import re
from typing import Any

import pytest
from starlette.testclient import TestClient

from promptdeck.core import Registry
from promptdeck.core.evaluating import Evaluations
from promptdeck.core.webhooks import Destinations, Webhooks
from promptdeck.domain.caller import Caller
from promptdeck.domain.commands import (
    ControlRollout,
    CreatePrompt,
    CreateVersion,
    MoveLabel,
    ProposeDeploy,
    SetAlert,
    StartRollout,
)
from promptdeck.domain.evaluations import StartEvaluation
from promptdeck.domain.outgoing import parse_allowance
from promptdeck.domain.providers import provider_config
from promptdeck.domain.test_sets import Case
from tests.access.conftest import Keys, bearer, snapshot
from tests.access.test_route_roles import every_route
from tests.support.load import figure

# What each route needs, written here from the issue (not read from the server), so the
# server's declarations are checked against an independent table. A route missing here fails
# the test.
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
    # Model providers (issue 25): where the server's calls go, with which key.
    ("POST", "/providers"),
    ("PUT", "/providers/{name}"),
    ("DELETE", "/providers/{name}"),
    # Gates (issue 25): what a protected label requires is the admin's to say.
    ("PUT", "/prompts/{prompt_id}/labels/{label}/gate"),
    ("DELETE", "/prompts/{prompt_id}/labels/{label}/gate"),
    # The UI: the audit log, deleting a prompt (its confirmation page too), webhooks.
    ("GET", "/ui/audit"),
    ("GET", "/ui/prompts/{name}/delete"),
    ("POST", "/ui/prompts/{name}/delete"),
    ("GET", "/ui/webhooks"),
    ("POST", "/ui/webhooks"),
    ("GET", "/ui/webhooks/{hook_id}"),
    ("POST", "/ui/webhooks/{hook_id}/test"),
    ("POST", "/ui/webhooks/{hook_id}/enabled"),
    ("POST", "/ui/webhooks/{hook_id}/delete"),
    # The UI's gates (issue 25): set and remove, as the API's.
    ("POST", "/ui/prompts/{name}/gates"),
    ("POST", "/ui/prompts/{name}/labels/{label}/gate/remove"),
    ("GET", "/ui/providers"),
    ("POST", "/ui/providers"),
    ("POST", "/ui/providers/{name}/delete"),
}
PROVIDER_URL = "http://127.0.0.1:9/v1"  # never called: nothing runs in a cell
KEY = "sk-pdtest-matrix-provider-key"  # stored sealed: the sweep of every cell looks for it
ROLLOUT = "/prompts/{prompt_id}/labels/{label}/rollout"
ROLLOUT_CONTROLS = {("POST", f"{ROLLOUT}/{c}") for c in ("pause", "resume", "advance", "abort")}
UI_ROLLOUT = ("POST", "/ui/prompts/{name}/labels/{label}/rollout")
UI_CONTROL = ("POST", "/ui/prompts/{name}/labels/{label}/rollout/{action}")
WRITE = {
    ("POST", "/prompts"),
    ("PATCH", "/prompts/{prompt_id}"),
    ("POST", "/prompts/{prompt_id}/restore"),
    ("POST", "/prompts/{prompt_id}/versions"),
    ("POST", "/prompts/{prompt_id}/versions/{version_id}/rollback"),
    ("POST", "/prompts/{prompt_id}/versions/{version_id}/archive"),
    ("POST", "/prompts/{prompt_id}/versions/{version_id}/restore"),
    # Labels (issue 14): moves, protection, revert and deploy requests are writes; a
    # protected label and deciding a request need admin in the core (DECIDE below).
    ("PUT", "/prompts/{prompt_id}/labels/{label}"),
    ("PATCH", "/prompts/{prompt_id}/labels/{label}"),
    ("DELETE", "/prompts/{prompt_id}/labels/{label}"),
    ("POST", "/prompts/{prompt_id}/labels/{label}/revert"),
    ("POST", "/prompts/{prompt_id}/deploy-requests"),
    ("POST", "/prompts/{prompt_id}/deploy-requests/{request_id}/approve"),
    ("POST", "/prompts/{prompt_id}/deploy-requests/{request_id}/reject"),
    # Impact (issue 16): reporting outcomes and alert thresholds change what impact says.
    ("POST", "/outcomes"),
    # OpenTelemetry (issue 27): an OTLP export's spans become outcomes.
    ("POST", "/v1/traces"),
    ("PUT", "/prompts/{prompt_id}/alerts/{label}"),
    ("DELETE", "/prompts/{prompt_id}/alerts/{label}"),
    # Rollouts (issue 24): starting one and its controls are writes; starting one on a
    # protected label needs admin in the core, as moving it does (MOVES_OF_PRODUCTION below);
    # its controls do not (the right was checked at its start).
    ("POST", "/prompts/{prompt_id}/labels/{label}/rollout"),
    *ROLLOUT_CONTROLS,
    UI_ROLLOUT,
    UI_CONTROL,
    # The UI's forms that change things, and the pages that are only such a form.
    ("GET", "/ui/new"),
    ("POST", "/ui/new"),
    ("POST", "/ui/prompts/{name}"),
    ("GET", "/ui/prompts/{name}/versions/{version_id}/rollback"),
    ("POST", "/ui/prompts/{name}/versions/{version_id}/rollback"),
    ("POST", "/ui/prompts/{name}/restore"),
    ("POST", "/ui/prompts/{name}/labels/{label}"),
    ("POST", "/ui/prompts/{name}/deploy-requests"),
    ("POST", "/ui/prompts/{name}/deploy-requests/{request_id}/{verb}"),
    ("POST", "/ui/prompts/{name}/alerts"),
    ("POST", "/ui/prompts/{name}/alerts/{label}/remove"),
    ("POST", "/ui/prompts/{name}/chat"),
    # Test sets and evaluations (issue 25): creating and changing need write.
    ("POST", "/test-sets"),
    ("POST", "/test-sets/{name}/cases"),
    ("POST", "/prompts/{prompt_id}/evaluations"),
    ("POST", "/evaluations/{evaluation_id}/cancel"),
    ("POST", "/evaluations/{evaluation_id}/results"),
    ("POST", "/ui/test-sets"),
    ("POST", "/ui/test-sets/{set_name}/cases"),
    ("POST", "/ui/prompts/{name}/evaluations"),
    ("POST", "/ui/evaluations/{evaluation_id}/cancel"),
    # Running a version or a draft on a provider (issue 25): it spends, and is recorded.
    ("POST", "/prompts/{prompt_id}/run"),
    # The playground: only a form to run, save and make cases (every action writes or spends).
    ("GET", "/ui/prompts/{name}/playground"),
    ("POST", "/ui/prompts/{name}/playground"),
    ("POST", "/ui/prompts/{name}/playground/run"),
}
# Writes by their role, but the core refuses anyone below admin (the Caller's
# may_move_protected): protecting a label, deciding another's deploy request.
DECIDE = {
    ("PATCH", "/prompts/{prompt_id}/labels/{label}"),
    ("POST", "/prompts/{prompt_id}/deploy-requests/{request_id}/approve"),
    ("POST", "/prompts/{prompt_id}/deploy-requests/{request_id}/reject"),
    ("POST", "/ui/prompts/{name}/deploy-requests/{request_id}/{verb}"),
}
# Moves of a label: every cell moves `production`, protected on a new prompt by default
# (domain/labels.py DEFAULT_PROTECTED), so below admin the core refuses them too.
MOVES_OF_PRODUCTION = {
    ("PUT", "/prompts/{prompt_id}/labels/{label}"),
    ("DELETE", "/prompts/{prompt_id}/labels/{label}"),
    ("POST", "/prompts/{prompt_id}/labels/{label}/revert"),
    ("POST", ROLLOUT),
    UI_ROLLOUT,
    ("POST", "/ui/prompts/{name}/labels/{label}"),
}
# Reads sent as POST: rendering changes nothing; signing out needs no role beyond read.
READ = {
    ("POST", "/prompts/{prompt_id}/render"),
    # MCP's transport (issue 27): the read role to come in; each MCP request then acts as
    # its caller (a tool that writes is checked again: tests/mcp_server/test_mcp_mounted.py).
    ("POST", "/mcp"),
    ("DELETE", "/mcp"),
    ("POST", "/ui/prompts/{name}/versions/{version_id}"),
    ("POST", "/ui/sign-out"),
}
PROBES = {("GET", "/healthz"), ("GET", "/readyz")}
PUBLIC = PROBES | {
    ("GET", "/"),
    ("GET", "/ui"),
    ("GET", "/ui/sign-in"),
    ("POST", "/ui/sign-in"),
    ("GET", "/ui/static/{filename}"),
}
# A creation that names its prompt in the body: outside a key's prefixes, as missing.
CREATES = {
    ("POST", "/prompts"),
    ("POST", "/ui/new"),
    ("POST", "/test-sets"),
    ("POST", "/ui/test-sets"),
}
# Pages that read nothing of the prompt they name (a notice), and routes whose {name} is not a
# prompt's (a provider serves every prompt): no prefix to check.
NOTICE = {("GET", "/ui/deleted/{name}"), ("GET", "/providers/{name}")}
# The UI's answer to a path it has no page for: 404 for whoever may read.
NO_PAGE = ("GET", "/ui/{rest:path}")
# The sign-in form answers a wrong password alike for everyone: 401.
SIGN_IN = ("POST", "/ui/sign-in")
CALLERS = ["none", "bad", "revoked", "expired", "read", "write", "admin", "outside", "inside"]
ROLE_OF = {"read": 1, "write": 2, "admin": 3, "outside": 2, "inside": 2}
UNKNOWN = ("none", "bad", "revoked", "expired")


def needs(method: str, path: str) -> int:
    if (method, path) in ADMIN:
        return 3
    if (method, path) in WRITE:
        return 2
    assert method == "GET" or (method, path) in READ, f"classify {method} {path} in this test"
    return 1


def expected(caller: str, method: str, path: str) -> str:
    route = (method, path)
    if route in PROBES:
        return "allowed"  # load balancers probe without a key
    if caller in UNKNOWN[1:] or route == SIGN_IN:
        return "401"  # credentials the server does not know are refused everywhere
    if route in PUBLIC:
        return "allowed"
    if caller == "none":
        return "401"
    if ROLE_OF[caller] < needs(method, path):
        return "403"  # the route's role is checked before anything it reads
    # A test set or an evaluation belongs to one prompt: named by it, as the prompt is.
    names_prompt = any(
        p in path for p in ("{prompt_id}", "{name}", "{evaluation_id}", "{set_name}")
    )
    if caller == "outside" and ((names_prompt and route not in NOTICE) or route in CREATES):
        return "404"  # a prompt it may not read is as missing as one that never was
    if route in DECIDE | MOVES_OF_PRODUCTION and ROLE_OF[caller] < 3:
        return "403"
    return "404" if route == NO_PAGE else "allowed"


UI_FORMS: dict[tuple[str, str], Any] = {
    ("POST", "/ui/prompts/{name}"): {"action": "save", "content": "edited"},
    ("POST", "/ui/prompts/{name}/labels/{label}"): {"version_id": "{second}"},
    UI_ROLLOUT: {"version_id": "{second}", "steps": "50,100", "max_drop": "0.02", "manual": "1"},
    UI_CONTROL: {"reason": "matrix"},
    ("POST", "/ui/prompts/{name}/deploy-requests"): {
        "label": "staging",
        "version_id": "{second}",
        "reason": "matrix",
    },
    ("POST", "/ui/prompts/{name}/alerts"): {"label": "active", "min_success": "0.9"},
    ("POST", "/ui/prompts/{name}/chat"): {"role.0": "system", "content.0": "Be brief."},
    ("POST", "/ui/webhooks"): {"url": "http://127.0.0.1:9/"},
    ("POST", "/ui/test-sets/{set_name}/cases"): {"cases": '{"variables": {"q": "y"}}'},
    ("POST", "/ui/prompts/{name}/evaluations"): {
        "candidate": "{second}",
        "test_set": "{test_set}",
        "evaluators": '[{"type": "reported", "name": "r"}]',
    },
    ("POST", "/ui/prompts/{name}/gates"): {"label": "production", "test_set": "{test_set}"},
    ("POST", "/ui/providers"): {
        "name": "{provider}",
        "base_url": PROVIDER_URL,
        "models": "m",
        "api_key": KEY,
    },
    ("POST", "/ui/webhooks/{hook_id}/enabled"): {"enabled": "false"},
    ("POST", "/ui/sign-in"): {"name": "nobody", "password": "wrong password"},
}


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
        setup = Caller.local("setup")
        created = self.registry.create_prompt(CreatePrompt(prompt, content="one"), setup).prompt
        second = self.registry.create_version(CreateVersion(prompt, content="two"), setup).version
        admin = bearer(self.keys.admin)
        self.api.post("/keys", json={"name": f"k{n}", "role": "read"}, headers=admin)
        # Labels: `production` serves version 1; another caller asks to move it to 2.
        first = created.active_version_id
        assert first is not None
        self.registry.move_label(MoveLabel(prompt, "production", first), setup)
        self.registry.set_alert(SetAlert(prompt, "production", 0.9), setup)
        proposed = self.registry.propose_deploy(
            ProposeDeploy(prompt, "production", second.id, reason="matrix"), setup
        )
        # Paused: nothing is queued for it, so no delivery worker touches the database. One
        # at a time (a server keeps at most limits.WEBHOOKS_MAX).
        hooks = Webhooks(self.registry.db, Destinations(parse_allowance("127.0.0.1")))
        for old in hooks.page(limit=100).items:
            hooks.delete(old.id)
        hook = hooks.create("http://127.0.0.1:9/", enabled=False)
        # Evaluations: a test set of the prompt and an evaluation whose results a caller
        # reports (no provider: nothing runs it).
        evaluating = Evaluations(self.registry.db, parse_allowance("127.0.0.1"))
        for old in evaluating.list_providers(setup):  # at most PROVIDERS_MAX on a server
            evaluating.remove_provider(old.name, setup)
        evaluating.add_provider(provider_config(f"pv{n}", PROVIDER_URL, ["m"]), setup)
        test_set = evaluating.create_test_set(f"ts{n}", prompt, [Case({"q": "x"})], setup).name
        evaluation = evaluating.start_evaluation(
            StartEvaluation(prompt, (second.id,), test_set, ({"type": "reported", "name": "r"},)),
            setup,
        )
        if path.endswith("/gate/remove"):  # a gate to remove
            evaluating.set_gate(prompt, "production", test_set, {}, setup)
        plan = {
            "version_id": second.id,
            "steps": [50, 100],
            "guard": {"measure": "success_rate", "max_drop": 0.02},
            "advance": "manual",  # nothing moves by itself while the cell runs
        }
        if (method, path) in {*ROLLOUT_CONTROLS, ("GET", ROLLOUT), UI_CONTROL}:  # to read, pause…
            self.registry.start_rollout(StartRollout(prompt, "production", plan), setup)
            if path.endswith("/resume"):
                pause = ControlRollout(prompt, "production", "pause")
                self.registry.control_rollout(pause, setup)
        body: Any = None
        params: dict[str, str] = {}
        team = "team-" if caller == "inside" else ""
        if (method, path) == ("POST", "/prompts"):
            body = {"name": f"{team}new{n}", "content": "c"}
        elif (method, path) == ("PATCH", "/prompts/{prompt_id}"):
            body = {"description": "changed"}
        elif (method, path) == ("POST", "/prompts/{prompt_id}/versions"):
            body = {"content": "three"}
        elif (method, path) == ("POST", "/prompts/{prompt_id}/render"):
            body = {"variables": {}}
        elif (method, path) == ("POST", "/prompts/{prompt_id}/run"):
            body = {"variables": {}, "provider": "none"}  # none configured: 404 past the role
        elif (method, path) == ("POST", "/prompts/import"):
            body = self.api.get(f"/prompts/{prompt}/export", headers=admin).json()
            body["name"] = f"{team}imp{n}"
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
        elif (method, path) == ("POST", "/providers"):
            body = {"name": f"npv{n}", "base_url": PROVIDER_URL, "models": ["m"], "api_key": KEY}
        elif (method, path) == ("PUT", "/providers/{name}"):
            body = {"base_url": PROVIDER_URL, "models": ["m", "n"], "api_key": KEY}
        elif (method, path) == ("POST", "/webhooks"):
            body = {"url": "http://127.0.0.1:9/", "enabled": False}
        elif (method, path) == ("PATCH", "/webhooks/{hook_id}"):
            body = {"description": "matrix"}
        elif (method, path) == ("POST", "/outcomes"):
            body = {"outcomes": [{"prompt_id": prompt, "version_id": first, "success": True}]}
        elif (method, path) == ("POST", ROLLOUT):
            body = plan
        elif (method, path) == ("POST", "/v1/traces"):
            attributes = [
                {"key": "gen_ai.prompt.name", "value": {"stringValue": prompt}},
                {"key": "gen_ai.prompt.version", "value": {"stringValue": str(first)}},
            ]
            body = {"resourceSpans": [{"scopeSpans": [{"spans": [{"attributes": attributes}]}]}]}
        elif (method, path) == ("PUT", "/prompts/{prompt_id}/alerts/{label}"):
            body = {"min_success": 0.9}
        elif (method, path) == ("POST", "/test-sets"):
            body = {"name": f"nts{n}", "prompt": prompt, "cases": [{"variables": {}}]}
        elif (method, path) == ("POST", "/test-sets/{name}/cases"):
            body = {"cases": [{"variables": {"q": "y"}}]}
        elif (method, path) == ("POST", "/prompts/{prompt_id}/evaluations"):
            reported = [{"type": "reported", "name": "r"}]
            body = {"version_ids": [second.id], "test_set": test_set, "evaluators": reported}
        elif (method, path) == ("POST", "/evaluations/{evaluation_id}/results"):
            body = {"results": [{"item_id": 2**31 - 1, "output": "x"}]}
        elif (method, path) == ("PUT", "/prompts/{prompt_id}/labels/{label}/gate"):
            body = {"test_set": test_set}
        elif path.endswith("/gate/check"):
            params = {"version_id": str(second.id)}
        elif path.endswith("/versions/{version_id}") and method == "DELETE":
            params = {"reason": "matrix"}
        elif path.endswith("/versions/{version_id}/diff"):
            params = {"against": str(second.id)}
        if path == "/changes":
            params = {"wait": "0"}  # the long-poll form answers at once; the stream never ends
        if path == "/ui/prompts/{name}/promote":
            params = {"label": "production", "v": str(second.id)}
        if path == "/users/{name}":
            self.api.post(
                "/users",
                json={"name": f"u{n}", "role": "read", "password": "a long password"},
                headers=admin,
            )
        form = UI_FORMS.get((method, path))
        if (method, path) == ("POST", "/ui/new"):
            form = {"name": f"{team}new{n}", "content": "c"}
        if (method, path) == ("POST", "/ui/test-sets"):
            form = {"name": f"nuts{n}", "prompt": prompt, "cases": '{"variables": {}}'}
        if form is not None:
            form = {
                k: v.replace("{second}", str(second.id))
                .replace("{test_set}", test_set)
                .replace("{provider}", f"upv{n}")
                for k, v in form.items()
            }
        if (method, path) == SIGN_IN:
            # The form's own token, as a browser has it; a name of its own (no sign-in delay).
            page = self.api.get("/ui/sign-in").text
            form = {**(form or {}), "name": f"nobody{n}", "csrf": csrf_of(page)}
        account = {"/keys": f"k{n}", "/test": test_set, "/prov": f"pv{n}"}.get(path[:5], f"u{n}")
        url = (
            path.replace("{prompt_id}", str(created.id if n % 2 else prompt))
            .replace("{name}", f"pv{n}" if path.startswith("/ui/providers") else "{name}")
            .replace("{name}", prompt if path.startswith("/ui/") else account)
            .replace(
                "{version_id}", str(second.id if "rollback" in path else created.active_version_id)
            )
            .replace("{evaluation_id}", str(evaluation.id))
            .replace("{set_name}", test_set)
            .replace("{label}", "production")
            .replace("{action}", "pause")
            .replace("{request_id}", str(proposed.id))
            .replace("{hook_id}", str(hook.hook.id))
            .replace("{verb}", "approve")
            .replace("{filename}", "init.js" if path.startswith("/docs") else "app.css")
            .replace("{rest:path}", "nothing-here")
        )
        before = snapshot(self.registry)
        response = self.api.request(
            method,
            url,
            json=body,
            data=form,
            params=params,
            headers=self.key(caller),
            follow_redirects=False,
        )
        self.api.cookies.clear()  # no cell's cookies (a CSRF token, a session) reach another
        return response, before


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None, "the sign-in page carries its form's token"
    return found.group(1)


def outcome(response: Any, path: str) -> str:
    status = response.status_code
    if status in (302, 303, 307) and response.headers["location"].startswith("/ui/sign-in?"):
        return "401"  # a page sends a stranger to sign in
    if status in (401, 403):
        if not path.startswith(("/ui", "/docs")):
            assert response.headers["content-type"] == "application/problem+json"
        return str(status)
    if status == 404 and path.startswith("/ui"):
        return "404"
    # A test set or evaluation of a prompt out of reach is as missing as one that never was.
    missing = ("/prompt-not-found", "/test-set-not-found", "/evaluation-not-found")
    if status == 404 and response.json().get("type", "").endswith(missing):
        return "404"
    return "allowed"


@pytest.mark.timeout(3600)  # about 900 cells: several minutes, more on a loaded machine
def test_every_route_answers_every_caller_as_its_role_allows_and_refusals_change_nothing(
    keyed: TestClient, keys: Keys, registry: Registry
) -> None:
    routes = [(method, path) for method, path, _ in every_route(keyed)]
    assert len(routes) >= 90 and ("GET", "/events") in routes and ("POST", "/ui/new") in routes
    counter = itertools.count(1)
    tried = mismatches = side_effects = 0
    wrong: list[str] = []
    for (method, path), caller in itertools.product(routes, CALLERS):
        cell = Cell(keyed, keys, registry, next(counter))
        response, before = cell.request(caller, method, path)
        want, got = expected(caller, method, path), outcome(response, path)
        tried += 1
        if want != got:
            mismatches += 1
            wrong.append(
                f"{caller} {method} {path}: want {want}, got {response.status_code} "
                f"{response.text[:120]}"
            )
        if want != "allowed" and route_changes(method, path) and snapshot(registry) != before:
            side_effects += 1
            wrong.append(f"{caller} {method} {path}: refused but changed the database")
    figure(
        "role matrix",
        f"{len(routes)} routes (API and UI) x {len(CALLERS)} callers = {tried} cells tried, "
        f"{mismatches} mismatches, {side_effects} side effects where refused",
    )
    assert wrong == []


def route_changes(method: str, path: str) -> bool:
    """Whether a refusal must leave the database as it was (the sign-in form records a
    failed attempt by design)."""
    return (method, path) != SIGN_IN

"""One scope, everywhere: a caller limited to prompt-name prefixes reaches nothing of a prompt
outside them, by any route of the API or the UI, by name or by id, through includes, lists,
exports, events, outcomes or the changes stream; it changes nothing of it, and no answer
names it. A prompt outside the scope is answered exactly as one that never was."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from promptdeck.core import Registry
from promptdeck.core.access import Access
from promptdeck.core.webhooks import Destinations, Webhooks
from promptdeck.domain.caller import SYSTEM, Caller
from promptdeck.domain.commands import (
    CreatePrompt,
    CreateVersion,
    MoveLabel,
    Outcome,
    ProposeDeploy,
    ProtectLabel,
    ReportOutcomes,
    SetAlert,
)
from promptdeck.domain.outgoing import parse_allowance
from tests.access.conftest import bearer
from tests.access.test_route_roles import every_route
from tests.support.load import figure

OUT = "priv-zq8"  # outside every walked caller's prefixes
GHOST = "priv-zq9"  # never exists: what "as if it did not exist" answers
GHOST_ID = 987_654
MARK = "zq8mark"  # in everything of OUT's that a reader could be shown
ROLES = ("read", "write", "admin")
# Prefix lists that do not reach OUT (a near miss, a longer name, two prefixes) ...
BLIND: list[tuple[str, ...]] = [
    ("pub-",),
    ("pub-", "team-"),
    ("pub-host",),
    ("priv-zq8x",),
    ("priv-zq80", "pub-"),
]
# ... and some that do (a prefix of its first letters, a second prefix).
SEEING: list[tuple[str, ...]] = [("pr",), ("pub-", "priv-"), ("priv-zq8",)]
# Routes that only read, though sent as POST.
READS = {
    ("POST", "/prompts/{prompt_id}/render"),
    ("POST", "/ui/prompts/{name}/versions/{version_id}"),
}


@dataclass
class World:
    out_id: int
    out_v1: int
    out_v2: int
    request_id: int
    hook_id: int
    host: str
    host_v1: int
    inner_v1: int
    root_key: str  # an unlimited admin's


def build(registry: Registry, access: Access) -> World:
    """OUT, marked everywhere (content, description, version names, a protected label, a
    deploy request, an alert, an outcome, events), including an in-scope prompt; an
    in-scope prompt including OUT by id, made by an unlimited admin; a webhook."""
    root = Caller.local("root")
    inner = registry.create_prompt(CreatePrompt("pub-inner", content="inner text"), root)
    assert inner.prompt.active_version_id is not None
    out = registry.create_prompt(
        CreatePrompt(
            OUT,
            description=f"{MARK} description",
            content=f"{MARK} secret one",
            version_name=f"{MARK}-v1",
            version_description=f"{MARK} why",
        ),
        root,
    ).prompt
    v1 = out.active_version_id
    assert v1 is not None
    v2 = registry.create_version(
        CreateVersion(OUT, content=f"{MARK} two {{{{> pub-inner}}}}", version_name=f"{MARK}-v2"),
        root,
    ).version.id
    registry.move_label(MoveLabel(OUT, "production", v1, reason=f"{MARK} move"), root)
    registry.move_label(MoveLabel(OUT, f"{MARK}-lab", v2, reason=f"{MARK} move"), root)
    registry.protect_label(ProtectLabel(OUT, f"{MARK}-lab", True), root)
    request = registry.propose_deploy(
        ProposeDeploy(OUT, "production", v2, reason=f"{MARK} deploy"), root
    )
    registry.set_alert(SetAlert(OUT, "production", 0.9), root)
    registry.report_outcomes(
        ReportOutcomes([Outcome(OUT, v1, success=True, tags={"why": MARK})]), root
    )
    host = registry.create_prompt(
        CreatePrompt("pub-host", content=f"Hello {{{{> {out.id}}}}}"), root
    ).prompt
    assert host.active_version_id is not None
    hooks = Webhooks(registry.db, Destinations(parse_allowance("127.0.0.1")))
    hook = hooks.create("http://127.0.0.1:9/", enabled=False)
    root_key = access.create_key("root-key", "admin").secret
    return World(
        out.id, v1, v2, request.id, hook.hook.id, "pub-host", host.active_version_id,
        inner.prompt.active_version_id, root_key,
    )  # fmt: skip


def out_snapshot(registry: Registry, out_id: int) -> tuple[object, ...]:
    """Every row of OUT in every table that names a prompt, and its versions' contents."""
    with registry.engine.connect() as conn:
        inspector = sa.inspect(conn)
        rows: list[object] = []
        for table in sorted(inspector.get_table_names()):
            columns = {c["name"] for c in inspector.get_columns(table)}
            key = "id" if table == "prompts" else "prompt_id" if "prompt_id" in columns else None
            if key is None:
                continue
            query = sa.text(f'SELECT * FROM "{table}" WHERE {key} = :id ORDER BY 1')
            rows.append((table, [tuple(r) for r in conn.execute(query, {"id": out_id})]))
    versions = registry.list_versions(OUT, SYSTEM, limit=100).items
    contents = [registry.get_version(OUT, v.id, SYSTEM).content for v in versions]
    return (*rows, contents)


class Leaks:
    """What of OUT an answer may not show: its name, its marker, URLs and ids from its id.
    An answer about a reference the caller sent may echo it only as often as the answer
    about a prompt that never was echoes the ghost's."""

    def __init__(self, out_id: int) -> None:
        self.out_id = out_id
        self.by_id = re.compile(
            rf'prompts/{out_id}(?!\d)|"(?:target_)?prompt_id":\s*"?{out_id}(?!\d)'
        )

    def counts(self, text: str, own: tuple[str, ...] = ()) -> tuple[int, int, int]:
        """``own``: the caller's prefixes, which an answer may echo (one may hold OUT's name:
        ``priv-zq8x``)."""
        for prefix in sorted(own, key=len, reverse=True):
            text = text.replace(prefix, "")
        return text.count(OUT), text.count(MARK), len(self.by_id.findall(text))

    def ghost_counts(self, text: str, own: tuple[str, ...] = ()) -> tuple[int, int, int]:
        text = text.replace(GHOST, OUT).replace(f"prompts/{GHOST_ID}", f"prompts/{self.out_id}")
        text = re.sub(rf'("(?:target_)?prompt_id":\s*"?){GHOST_ID}', rf"\g<1>{self.out_id}", text)
        return self.counts(text, own)


def fill(path: str, world: World, target: str, ref: str) -> str:
    """The route's URL naming ``ref``, with ids of OUT (``target`` "out") or of the host."""
    host = target == "host"
    return (
        path.replace("{prompt_id}", ref)
        .replace("{name}", ref if path.startswith("/ui/") else "root-key")
        .replace("{version_id}", str(world.host_v1 if host else world.out_v2))
        .replace("{label}", "active" if host else f"{MARK}-lab")
        .replace("{request_id}", str(world.request_id))
        .replace("{hook_id}", str(world.hook_id))
        .replace("{verb}", "approve")
        .replace("{filename}", "init.js" if path.startswith("/docs") else "app.css")
        .replace("{rest:path}", "nothing-here")
    )


def payload(
    method: str, path: str, world: World, ref: str, record: dict[str, Any], n: int
) -> tuple[Any, Any, dict[str, str]]:
    """(json, form, query) for the route, naming ``ref`` wherever a body names a prompt."""
    route, out = (method, path), str(world.out_v2)
    body: dict[tuple[str, str], Any] = {
        ("POST", "/prompts"): {"name": ref, "content": MARK},
        ("PATCH", "/prompts/{prompt_id}"): {"description": "changed"},
        ("POST", "/prompts/{prompt_id}/versions"): {"content": "changed", "activate": True},
        ("POST", "/prompts/{prompt_id}/render"): {"variables": {}},
        ("POST", "/prompts/import"): {**record, "name": ref},
        ("POST", "/keys"): {"name": f"sk{n}", "role": "read"},
        ("POST", "/users"): {"name": f"su{n}", "role": "read", "password": "a long password"},
        ("PUT", "/prompts/{prompt_id}/labels/{label}"): {"version_id": world.out_v1},
        ("PATCH", "/prompts/{prompt_id}/labels/{label}"): {"protected": False},
        ("POST", "/prompts/{prompt_id}/deploy-requests"): {
            "label": "staging",
            "version_id": world.out_v2,
            "reason": "scope",
        },
        ("POST", "/webhooks"): {"url": "http://127.0.0.1:9/", "enabled": False},
        ("PATCH", "/webhooks/{hook_id}"): {"description": "scope"},
        ("POST", "/outcomes"): {
            "outcomes": [{"prompt_id": ref, "version_id": world.out_v1, "success": True}]
        },
        ("PUT", "/prompts/{prompt_id}/alerts/{label}"): {"min_success": 0.5},
    }
    forms: dict[tuple[str, str], dict[str, str]] = {
        ("POST", "/ui/new"): {"name": ref, "content": MARK},
        ("POST", "/ui/prompts/{name}"): {"action": "save", "content": "edited"},
        ("POST", "/ui/prompts/{name}/labels/{label}"): {"version_id": out},
        ("POST", "/ui/prompts/{name}/deploy-requests"): {
            "label": "staging",
            "version_id": out,
            "reason": "scope",
        },
        ("POST", "/ui/prompts/{name}/alerts"): {"label": "active", "min_success": "0.9"},
        ("POST", "/ui/prompts/{name}/chat"): {"role.0": "system", "content.0": "Be brief."},
        ("POST", "/ui/webhooks"): {"url": "http://127.0.0.1:9/"},
        ("POST", "/ui/webhooks/{hook_id}/enabled"): {"enabled": "false"},
        ("POST", "/ui/sign-in"): {"name": f"nobody{n}", "password": "wrong password"},
    }
    query: dict[str, str] = {}
    if path == "/changes":
        query = {"wait": "0", "after": "0"}  # every move since the start, answered at once
    elif path == "/ui/prompts/{name}/promote":
        query = {"label": "production", "v": out}
    elif route == ("DELETE", "/prompts/{prompt_id}/versions/{version_id}"):
        query = {"reason": "scope"}
    elif route == ("DELETE", "/prompts/{prompt_id}"):
        query = {"force": "true"}
    if route in body:
        return body[route], None, query
    if route in forms:
        return None, forms[route], query
    return (
        ({} if method in ("POST", "PUT", "PATCH") and not path.startswith("/ui") else None),
        ({} if method == "POST" and path.startswith("/ui") else None),
        query,
    )


# Routes naming no prompt in their path whose body names one.
NAMES_IN_BODY = {("POST", "/prompts"), ("POST", "/prompts/import"), ("POST", "/outcomes")}
NAMES_IN_BODY |= {("POST", "/ui/new")}
Who = tuple[str, tuple[str, ...]]  # (role, prefixes)


@pytest.fixture
def scoped(keyed: TestClient, registry: Registry, access: Access) -> Iterator[Any]:
    world = build(registry, access)
    secrets = {
        (role, prefixes): access.create_key(f"s-{role}-{i}", role, prefixes=list(prefixes)).secret
        for i, (role, prefixes) in enumerate(itertools.product(ROLES, BLIND + SEEING))
    }
    yield keyed, world, secrets


class Walk:
    """Requests to one route naming OUT (by name, by id) each beside its twin naming a prompt
    that never was, or the in-scope host, or nothing; what each answer shows of OUT."""

    def __init__(self, api: TestClient, world: World, secrets: dict[Who, str]) -> None:
        self.api, self.world, self.secrets = api, world, secrets
        self.leaks = Leaks(world.out_id)
        self.record = api.get(f"/prompts/{OUT}/export", headers=bearer(world.root_key)).json()
        self.wrong: list[str] = []
        self.requests = self.twins = 0
        self.counter = itertools.count(1)

    def route(self, who: Who, method: str, path: str) -> None:
        names_prompt = "{prompt_id}" in path or ("{name}" in path and path.startswith("/ui/"))
        world = self.world
        if names_prompt or (method, path) in NAMES_IN_BODY:
            self.probe(who, method, path, "out", OUT, GHOST)
            self.probe(who, method, path, "out", str(world.out_id), str(GHOST_ID))
        if names_prompt and (method == "GET" or (method, path) in READS):
            self.probe(who, method, path, "host", world.host, None)
        if not names_prompt and (method, path) not in NAMES_IN_BODY:
            self.probe(who, method, path, "plain", world.host, None)

    def send(self, who: Who, method: str, path: str, target: str, ref: str, n: int) -> Any:
        self.requests += 1
        json, form, query = payload(method, path, self.world, ref, self.record, n)
        response = self.api.request(
            method,
            fill(path, self.world, target, ref),
            json=json,
            data=form,
            params=query,
            headers=bearer(self.secrets[who]),
            follow_redirects=False,
        )
        self.api.cookies.clear()
        return response

    def probe(
        self, who: Who, method: str, path: str, target: str, ref: str, ghost: str | None
    ) -> None:
        n = next(self.counter)
        response = self.send(who, method, path, target, ref, n)
        what = f"{who} {method} {fill(path, self.world, target, ref)}"
        if response.status_code >= 500:
            self.wrong.append(f"{what}: {response.status_code} {response.text[:200]}")
            return
        shown, allowed = self.leaks.counts(response.text, who[1]), (0, 0, 0)
        if ghost is not None:
            self.twins += 1
            twin = self.send(who, method, path, target, ghost, n)
            allowed = self.leaks.ghost_counts(twin.text, who[1])
            if response.status_code != twin.status_code:
                self.wrong.append(
                    f"{what}: {response.status_code}, but {twin.status_code} for a prompt that "
                    f"never was: {response.text[:200]}"
                )
        if any(s > a for s, a in zip(shown, allowed, strict=True)):
            self.wrong.append(f"{what}: shows {shown} (name, marker, id): {response.text[:300]}")


@pytest.mark.timeout(900)
def test_a_limited_caller_neither_changes_nor_sees_anything_of_a_prompt_outside_its_scope(
    scoped: Any, registry: Registry
) -> None:
    api, world, secrets = scoped
    walk = Walk(api, world, secrets)
    # Warm what a server caches (the hot path's bodies) with an unlimited admin's reads first.
    root = bearer(world.root_key)
    for ref in (OUT, str(world.out_id)):
        for query in ("", f"?label={MARK}-lab", "?label=production"):
            assert api.get(f"/prompts/{ref}/active{query}", headers=root).status_code == 200
    assert api.post(f"/prompts/{world.host}/render", json={}, headers=root).status_code == 200
    # The listings do show OUT to whom it is in scope: their silence below means something.
    for url in ("/events", "/export", "/changes?wait=0&after=0", "/ui/audit", "/ui/prompts"):
        assert OUT in api.get(url, headers=root).text, url
    before = out_snapshot(registry, world.out_id)
    routes = [(m, p) for m, p, _ in every_route(api)]
    assert len(routes) >= 90
    for i, (method, path) in enumerate(routes):
        # Every route with every role and two prefix lists, the lists rotating over routes.
        for r, role in enumerate(ROLES):
            for step in (0, 2):
                walk.route((role, BLIND[(i + r + step) % len(BLIND)]), method, path)
    after = out_snapshot(registry, world.out_id)
    figure(
        "scope walk",
        f"{len(routes)} routes (API and UI) x {len(ROLES)} roles x 2 prefix lists (rotated "
        f"over {len(BLIND)}): {walk.requests} requests ({walk.twins} twins naming a prompt "
        f"that never was), {len(walk.wrong)} leaks or differences",
    )
    assert walk.wrong == [], "\n".join(walk.wrong)
    assert after == before, "a caller outside its scope changed the outside prompt"


def test_includes_resolve_only_within_the_callers_scope_at_render_and_at_creation(
    scoped: Any, registry: Registry
) -> None:
    api, world, secrets = scoped
    leaks = Leaks(world.out_id)
    missing = f"{{{{> {world.out_id}}}}}: no prompt '{world.out_id}'"
    for role, prefixes in itertools.product(ROLES, BLIND):
        key = bearer(secrets[(role, prefixes)])
        sees_host = any(world.host.startswith(p) for p in prefixes)
        rendered = api.post(f"/prompts/{world.host}/render", json={}, headers=key)
        if not sees_host:
            assert rendered.status_code == 404
            continue
        # The host includes OUT: the render refuses it as a prompt that never was.
        assert rendered.status_code == 422, rendered.text
        assert rendered.json()["detail"] == missing
        assert MARK not in rendered.text and OUT not in rendered.text
        page = api.get(f"/ui/prompts/{world.host}", headers=key)
        assert page.status_code == 200 and leaks.counts(page.text) == (0, 0, 0), page.text
        # Its dependencies list nothing outside the scope.
        deps = api.get(f"/prompts/{world.host}/versions/{world.host_v1}/dependencies", headers=key)
        assert deps.status_code == 200 and leaks.counts(deps.text) == (0, 0, 0), deps.text
    for role, prefixes in itertools.product(("write", "admin"), BLIND):
        key = bearer(secrets[(role, prefixes)])
        if not any("pub-inner".startswith(p) for p in prefixes):
            continue
        # Created including OUT (by name, by id, at a label): refused as a prompt that never
        # was; the twin names a prompt that never was.
        for include, ghost in (
            (OUT, GHOST),
            (str(world.out_id), str(GHOST_ID)),
            (f"{OUT}@{MARK}-lab", f"{GHOST}@{MARK}-lab"),
        ):
            made = api.post(
                "/prompts/pub-inner/versions", json={"content": f"{{{{> {include}}}}}"}, headers=key
            )
            twin = api.post(
                "/prompts/pub-inner/versions", json={"content": f"{{{{> {ghost}}}}}"}, headers=key
            )
            assert made.status_code == twin.status_code == 422, made.text
            expected = twin.json()["detail"].replace(GHOST, OUT)
            assert made.json()["detail"] == expected.replace(str(GHOST_ID), str(world.out_id))
        # A cycle through OUT (pub-inner -> pub-host -> OUT -> pub-inner) is refused without
        # naming it.
        cycle = api.post(
            "/prompts/pub-inner/versions", json={"content": "{{> pub-host}}"}, headers=key
        )
        assert cycle.status_code == 422, cycle.text
        assert leaks.counts(cycle.text) == (0, 0, 0), cycle.text
        # The dependents of pub-inner's version (OUT includes it) do not name OUT.
        dependents = api.get(
            f"/prompts/pub-inner/versions/{world.inner_v1}/dependents", headers=key
        )
        assert dependents.status_code == 200
        assert leaks.counts(dependents.text) == (0, 0, 0), dependents.text
        if role == "admin":
            # Deleting it is refused (OUT would break), without naming OUT.
            kept = api.delete("/prompts/pub-inner", headers=key)
            assert kept.status_code == 409, kept.text
            assert leaks.counts(kept.text) == (0, 0, 0), kept.text
    # Who sees OUT renders the host with OUT's content: the rule is the scope, not the include.
    for prefixes in SEEING:
        key = bearer(secrets[("read", prefixes)])
        if any(world.host.startswith(p) for p in prefixes):
            rendered = api.post(f"/prompts/{world.host}/render", json={}, headers=key)
            assert rendered.status_code == 200 and MARK in rendered.text, rendered.text
        listed = api.get("/prompts", headers=key).json()["items"]
        assert OUT in [p["name"] for p in listed]

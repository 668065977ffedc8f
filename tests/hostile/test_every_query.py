"""Every route of the API and the UI, every query parameter it declares and every path
segment it takes, given hostile values: never a 5xx. (Schemathesis sees only the API's
OpenAPI document and rarely sends a NUL; the UI's pages are not in it. Found this way: a
NUL in /events?prompt= or /ui/?q= and a 20-digit deploy request id in the UI were 500s on
PostgreSQL, which refuses NUL in text and range-checks integers; so were DELETE
/keys/{name} and /users/{name} with a NUL, and a preview posted for a version id past 32
bits.)"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

from fastapi.routing import APIRoute
from starlette.testclient import TestClient

import promptdeck.server.api
import promptdeck.server.ui
from promptdeck.core import Registry
from promptdeck.domain.caller import SYSTEM
from promptdeck.domain.commands import CreatePrompt, CreateVersion
from promptdeck.server import changes
from tests.support.load import figure

HOSTILE = ["a\x00b", "9" * 30, "-1", "1e309", "nan", "é\u0301", "", " ", "\u202e", "x" * 5000]
# Percent-encoded, as a client would send them in a path: NUL, a lone surrogate, bad UTF-8.
SEGMENTS = ["a%00b", "9" * 20, "-1", "0", "%ED%A0%80", "%FF", "..", "%2F"]
FILL = {
    "prompt_id": "p",
    "name": "p",
    "version_id": "1",
    "label": "active",
    "request_id": "1",
    "hook_id": "1",
    "set_name": "s",
    "evaluation_id": "1",
}


def _routes(get: bool) -> list[APIRoute]:
    modules: list[ModuleType] = [changes]
    for package in (promptdeck.server.api, promptdeck.server.ui):
        for info in pkgutil.iter_modules(package.__path__):
            modules.append(importlib.import_module(f"{package.__name__}.{info.name}"))
    found = []
    for module in modules:
        router = getattr(module, "router", None)
        if router is not None:
            found += [
                r for r in router.routes if isinstance(r, APIRoute) and ("GET" in r.methods) == get
            ]
    return found


def _path(template: str, hostile: str | None = None, at: str | None = None, **fill: str) -> str:
    for key, value in {**FILL, **fill}.items():
        template = template.replace("{" + key + "}", hostile if key == at else value)
    return template


def _sweep(api: TestClient, route: APIRoute, failures: list[str], **fill: str) -> int:
    """Each declared query parameter with each hostile value, then each path segment: the
    number of requests sent. Writes get an empty JSON body (their own checks come first)."""
    method = sorted(route.methods)[0]
    body = None if method == "GET" else {}
    base = _path(route.path, **fill)
    sent = 0
    for param in (p.alias for p in route.dependant.query_params):
        for value in HOSTILE:
            answer = api.request(method, base, params={param: value}, json=body)
            sent += 1
            if answer.status_code >= 500:
                failures.append(f"{answer.status_code} {method} {base}?{param}={value[:20]!r}")
    for key in FILL:
        if "{" + key + "}" in route.path:
            for segment in SEGMENTS:
                path = _path(route.path, segment, at=key, **fill)
                answer = api.request(method, path, json=body)
                sent += 1
                if answer.status_code >= 500:
                    failures.append(f"{answer.status_code} {method} {path[:100]}")
    return sent


def test_hostile_values_in_every_query_parameter_and_path_segment_get_no_5xx(
    api: TestClient, registry: Registry
) -> None:
    registry.create_prompt(CreatePrompt("p", content="x"), SYSTEM)
    registry.create_version(CreateVersion("p", content="y"), SYSTEM)
    reads = [r for r in _routes(get=True) if r.path != "/changes"]  # a stream: tested alone
    writes = _routes(get=False)
    assert len(reads) >= 40 and len(writes) >= 40, [r.path for r in reads + writes]
    failures: list[str] = []
    sent = sum(_sweep(api, route, failures) for route in reads)
    for i, route in enumerate(writes):  # each on a prompt of its own: a write may delete it
        name = f"w{i}"
        version = registry.create_prompt(
            CreatePrompt(name, content="x"), SYSTEM
        ).prompt.active_version_id
        sent += _sweep(api, route, failures, prompt_id=name, name=name, version_id=str(version))
    figure(
        "every query",
        f"{len(reads)} read and {len(writes)} write routes, {sent} hostile requests, "
        f"{len(failures)} 5xx",
    )
    assert failures == []

"""Every route of the app, API and UI alike, names what it needs in its signature: one role
dependency (server/roles.py). A route added without one fails here."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.testclient import TestClient

from promptdeck.server.roles import Acting, Anyone, Need
from tests.support.load import figure


def fastapi_app(api: TestClient) -> FastAPI:
    """The FastAPI app below the outer ASGI layers (the gate, the hot path, metrics)."""
    layer: Any = api.app
    while not isinstance(layer, FastAPI):
        layer = layer.app
    return layer


def needs_of(dependant: Dependant) -> list[Need | Anyone]:
    found: list[Need | Anyone] = []
    for sub in dependant.dependencies:
        call = sub.call
        if isinstance(call, Acting):
            found.append(call.need)
        elif isinstance(call, Need | Anyone):
            found.append(call)
        found += needs_of(sub)
    return found


def every_route(api: TestClient) -> list[tuple[str, str, list[Need | Anyone]]]:
    routes = []
    for context in iter_route_contexts(fastapi_app(api).routes):
        route = context.original_route
        assert isinstance(route, APIRoute), f"{context.path}: not an APIRoute, declares nothing"
        for method in sorted(context.methods or ()):
            routes.append((method, str(context.path), needs_of(context.dependant)))
    return routes


def test_every_route_of_the_api_and_the_ui_declares_exactly_one_role(api: TestClient) -> None:
    routes = every_route(api)
    paths = {path for _, path, _ in routes}
    assert {"/prompts", "/ui/new", "/openapi.json", "/docs", "/healthz"} <= paths
    undeclared = [f"{m} {p}" for m, p, needs in routes if len(needs) != 1]
    figure(
        "routes declaring their role",
        f"{len(routes) - len(undeclared)} of {len(routes)} (API and UI)",
    )
    assert undeclared == []


def test_only_the_probes_the_sign_in_page_and_its_files_are_public(api: TestClient) -> None:
    public = {(m, p) for m, p, needs in every_route(api) if needs and isinstance(needs[0], Anyone)}
    assert public == {
        ("GET", "/healthz"),
        ("GET", "/readyz"),
        ("GET", "/"),
        ("GET", "/ui"),
        ("GET", "/ui/sign-in"),
        ("POST", "/ui/sign-in"),
        ("GET", "/ui/static/{filename}"),
    }

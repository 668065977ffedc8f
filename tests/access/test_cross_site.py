"""No write from another site: forms of every enctype, Origin: null, a foreign Host, through
the API and the UI of real servers; not one state change."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx

from promptdeck.core import Registry
from promptdeck.core.access import Access
from promptdeck.domain.caller import SYSTEM, Caller
from promptdeck.domain.commands import CreatePrompt, CreateVersion
from tests.access.conftest import snapshot
from tests.support.load import figure
from tests.support.server import ServerProcess

EVIL = "https://evil.example"
ENCTYPES = {
    "application/x-www-form-urlencoded": b"name=evil&content=x&reason=r",
    "multipart/form-data; boundary=b": b'--b\r\nContent-Disposition: form-data; name="name"'
    b"\r\n\r\nevil\r\n--b--\r\n",
    "text/plain": b'{"name": "evil", "content": "x"}',
}
# How a browser marks a request another site's page made, and the ways it may not.
CROSS_SITE = [
    {"Origin": EVIL, "Sec-Fetch-Site": "cross-site"},
    {"Origin": EVIL},  # a browser without Fetch Metadata
    {"Origin": "null"},  # a sandboxed frame, a data: URL
    {"Sec-Fetch-Site": "same-site"},  # a sibling subdomain
    {},  # no header at all (an old browser): the content type alone must refuse it
]


def unsafe_routes(base: str, headers: dict[str, str]) -> list[tuple[str, str]]:
    schema = httpx.get(base + "/openapi.json", headers=headers).json()
    return [
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        for method in operations
        if method.upper() in ("POST", "PATCH", "DELETE", "PUT")
    ]


def ui_forms(base: str, headers: dict[str, str]) -> list[str]:
    """The action of every form on the pages a person uses."""
    actions: set[str] = set()
    for page in (
        "/ui/",
        "/ui/new",
        "/ui/prompts/target",
        "/ui/prompts/target/delete",
        "/ui/deleted/target",
        "/ui/prompts/target/versions/1/rollback",
    ):
        html = httpx.get(base + page, headers=headers).text
        actions |= set(re.findall(r'<form[^>]*method="post"[^>]*action="([^"]+)"', html))
        actions |= set(re.findall(r'<form[^>]*action="([^"]+)"[^>]*method="post"', html))
    return sorted(actions)


def attack(
    server: ServerProcess,
    registry: Registry,
    headers: dict[str, str],
    cookies: dict[str, str] | None = None,
) -> tuple[int, int]:
    """Every unsafe API route and UI form, every enctype, every cross-site marking."""
    routes = unsafe_routes(server.url, {**headers, "Cookie": _cookie(cookies)})
    forms = ui_forms(server.url, {**headers, "Cookie": _cookie(cookies)})
    assert len(forms) >= 4, forms
    tried = changes = 0
    with httpx.Client(base_url=server.url, cookies=cookies) as http:
        targets = [
            (
                m,
                p.replace("{prompt_id}", "target")
                .replace("{version_id}", "1")
                .replace("{name}", "admin"),
            )
            for m, p in routes
        ]
        targets += [("POST", action) for action in forms]
        for (method, path), (enctype, body), marks in _product(targets, ENCTYPES, CROSS_SITE):
            if not marks and path.startswith("/ui/") and not cookies:
                # Unmarked and without a session this is curl, not a browser: on an open
                # server it may post a form (every browser of the last years marks it).
                continue
            before = snapshot(registry)
            response = http.request(
                method,
                path,
                content=body,
                headers={**headers, **marks, "Content-Type": enctype},
            )
            tried += 1
            assert response.status_code in (403, 415), (method, path, marks, response.text)
            changes += snapshot(registry) != before
        # A foreign Host (DNS rebinding): refused before anything else, reads included.
        for method, path in [
            ("GET", "/prompts"),
            ("POST", "/prompts/target/purge"),
            ("POST", "/ui/prompts/target/delete"),
        ]:
            before = snapshot(registry)
            response = http.request(method, path, headers={**headers, "Host": "evil.example"})
            tried += 1
            assert response.status_code == 400, response.text
            changes += snapshot(registry) != before
    return tried, changes


def _cookie(cookies: dict[str, str] | None) -> str:
    return "; ".join(f"{k}={v}" for k, v in (cookies or {}).items())


def _product(*lists: Any) -> list[Any]:
    import itertools

    dicts = [list(x.items()) if isinstance(x, dict) else x for x in lists]
    return list(itertools.product(*dicts))


def seed(registry: Registry) -> None:
    registry.create_prompt(CreatePrompt("target", content="one"), Caller.local("setup"))
    registry.create_version(CreateVersion("target", content="two"), Caller.local("setup"))


def test_cross_site_writes_change_nothing_on_an_open_server(
    start_server: Callable[..., ServerProcess], registry: Registry
) -> None:
    seed(registry)
    server = start_server()
    tried, changes = attack(server, registry, {})
    figure("cross-site, open server", f"{tried} cross-site requests, {changes} state changes")
    assert changes == 0


def test_cross_site_writes_change_nothing_with_a_signed_in_session_or_a_key(
    start_server: Callable[..., ServerProcess], registry: Registry
) -> None:
    seed(registry)
    access = Access(registry.engine)
    key = access.create_key("admin", "admin").secret
    access.create_user("ana", "admin", "a long password")
    server = start_server()
    # A signed-in admin's browser, cookie and all: only the CSRF token is missing.
    session = access.sign_in("ana", "a long password").token
    tried, changes = attack(server, registry, {}, cookies={"promptdeck_session": session})
    # A program's key in the page's reach (it should not be; still refused by the browser
    # markings and the content type).
    more, more_changes = attack(server, registry, {"Authorization": f"Bearer {key}"})
    figure(
        "cross-site, server with keys",
        f"{tried + more} cross-site requests, {changes + more_changes} state changes",
    )
    assert changes + more_changes == 0
    # The same form with its token, from the page itself, does go through.
    with httpx.Client(base_url=server.url, cookies={"promptdeck_session": session}) as http:
        page = http.get("/ui/prompts/target/versions/1/rollback").text
        token = re.search(r'name="csrf" value="([^"]+)"', page)
        assert token is not None
        done = http.post(
            "/ui/prompts/target/versions/1/rollback",
            data={"csrf": token.group(1)},
            headers={"Sec-Fetch-Site": "same-origin"},
        )
    assert done.status_code == 303
    assert registry.get_active("target", SYSTEM)[1].number == 1

"""CORS is off unless origins are configured; the audit page is for admins."""

from __future__ import annotations

from starlette.testclient import TestClient

from promptdeck.config import Settings
from promptdeck.core import Registry
from promptdeck.core.access import Access
from promptdeck.domain.caller import Caller
from promptdeck.domain.commands import CreatePrompt
from promptdeck.server import create_app
from tests.access.conftest import bearer

APP_ORIGIN = "https://app.example.com"
PREFLIGHT = {
    "Origin": APP_ORIGIN,
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization, content-type",
}
PASSWORD = "a long enough password"


def test_cors_is_off_by_default_and_allows_only_the_configured_origins(
    settings: Settings, registry: Registry
) -> None:
    registry.create_prompt(CreatePrompt("greet", content="Hello"), Caller.local("setup"))
    key = bearer(Access(registry.engine).create_key("web-app", "write").secret)
    with TestClient(create_app(settings, registry)) as off:
        preflight = off.options("/prompts/greet/versions", headers=PREFLIGHT)
        assert "access-control-allow-origin" not in preflight.headers
        write = off.post(
            "/prompts/greet/versions",
            json={"content": "x"},
            headers={**key, "Origin": APP_ORIGIN, "Sec-Fetch-Site": "cross-site"},
        )
        assert write.status_code == 403
    configured = settings.model_copy(update={"cors_origins": APP_ORIGIN})
    with TestClient(create_app(configured, registry)) as on:
        preflight = on.options("/prompts/greet/versions", headers=PREFLIGHT)
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == APP_ORIGIN
        write = on.post(
            "/prompts/greet/versions",
            json={"content": "x"},
            headers={**key, "Origin": APP_ORIGIN, "Sec-Fetch-Site": "cross-site"},
        )
        assert write.status_code == 201
        assert write.headers["access-control-allow-origin"] == APP_ORIGIN
        other = on.post(
            "/prompts/greet/versions",
            json={"content": "y"},
            headers={**key, "Origin": "https://evil.example"},
        )
        assert other.status_code == 403


def signed_in(app: object, name: str) -> TestClient:
    browser = TestClient(app)  # type: ignore[arg-type]
    form = browser.get("/ui/sign-in").text
    token = form.split('name="csrf" value="')[1].split('"')[0]
    done = browser.post("/ui/sign-in", data={"name": name, "password": PASSWORD, "csrf": token})
    assert done.status_code == 200, done.text
    return browser


def test_the_audit_page_lists_every_change_with_who_made_it_for_admins_only(
    settings: Settings, registry: Registry
) -> None:
    access = Access(registry.engine)
    access.create_user("ada", "admin", PASSWORD)
    access.create_user("wes", "write", PASSWORD)
    writer = bearer(access.create_key("ci", "write").secret)
    app = create_app(settings, registry)
    with TestClient(app) as api:
        api.post("/prompts", json={"name": "greet", "content": "Hello"}, headers=writer)
        api.post(
            "/prompts",
            json={"name": "other", "content": "Hi"},
            headers=writer,
        )
    with signed_in(app, "ada") as admin:
        home = admin.get("/ui/")
        assert 'href="/ui/audit"' in home.text
        page = admin.get("/ui/audit", params={"prompt": "greet"})
        assert page.status_code == 200
        assert page.text.count("<td>ci</td>") == 3  # created, version created, activated
        assert "other" not in page.text
        assert "default-src 'self'" in page.headers["content-security-policy"]
    with signed_in(app, "wes") as person:
        assert 'href="/ui/audit"' not in person.get("/ui/").text
        assert person.get("/ui/audit").status_code == 403

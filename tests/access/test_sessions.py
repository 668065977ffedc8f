"""People in the web UI: the session cookie, wrong passwords slowed down, names in any
script on an open server too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from starlette.testclient import TestClient

from promptdeck.config import Settings
from promptdeck.core import Registry
from promptdeck.core.access import Access
from promptdeck.domain.caller import SYSTEM
from promptdeck.errors import TooManyAttempts, Unauthorized
from promptdeck.server import create_app

PASSWORD = "a long enough password"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_wrong_passwords_in_a_row_make_the_name_wait_longer_each_time(registry: Registry) -> None:
    clock = Clock()
    access = Access(registry.engine, clock=clock)
    access.create_user("ana", "write", PASSWORD)
    for _ in range(3):  # three tries are free
        with pytest.raises(Unauthorized):
            access.sign_in("ana", "wrong password!")
    with pytest.raises(TooManyAttempts) as first:
        access.sign_in("ana", PASSWORD)  # even the right password waits its turn
    clock.now += timedelta(seconds=3)
    with pytest.raises(Unauthorized):
        access.sign_in("ana", "wrong password!")
    with pytest.raises(TooManyAttempts) as second:
        access.sign_in("ana", PASSWORD)
    assert int(second.value.extra["retry_after"]) > int(first.value.extra["retry_after"]) >= 2
    clock.now += timedelta(seconds=5)
    assert access.sign_in("ana", PASSWORD).principal.name == "ana"
    with pytest.raises(Unauthorized):  # the right password reset the count
        access.sign_in("ana", "wrong password!")
    assert access.sign_in("ana", PASSWORD).principal.name == "ana"
    with pytest.raises(Unauthorized):
        access.sign_in("nobody", PASSWORD)


def test_the_session_cookie_is_http_only_same_site_and_secure_behind_tls(
    settings: Settings, registry: Registry
) -> None:
    Access(registry.engine).create_user("ana", "read", PASSWORD)
    for base, secure in (("http://testserver", False), ("https://testserver", True)):
        with TestClient(create_app(settings, registry), base_url=base) as browser:
            form = browser.get("/ui/sign-in").text
            token = form.split('name="csrf" value="')[1].split('"')[0]
            done = browser.post(
                "/ui/sign-in",
                data={"name": "ana", "password": PASSWORD, "csrf": token, "next": "//evil"},
                follow_redirects=False,
            )
            assert done.status_code == 303 and done.headers["location"] == "/ui/"
            cookie = next(
                c for c in done.headers.get_list("set-cookie") if "promptdeck_session" in c
            )
            assert "HttpOnly" in cookie and "SameSite=lax" in cookie
            assert ("Secure" in cookie) == secure
            assert browser.get("/ui/").status_code == 200


def test_a_sign_in_form_without_its_token_or_with_a_wrong_one_is_refused(
    settings: Settings, registry: Registry
) -> None:
    Access(registry.engine).create_user("ana", "read", PASSWORD)
    with TestClient(create_app(settings, registry)) as browser:
        refused = browser.post("/ui/sign-in", data={"name": "ana", "password": PASSWORD})
        assert refused.status_code == 403
        assert "promptdeck_session" not in browser.cookies
        # A token in any script is a wrong token, not a 500 (compare_digest refuses non-ASCII
        # str); the same for a signed-in person's form.
        browser.get("/ui/sign-in")
        for token in ("💥", "é" * 32, "\uff46\uff55\uff4c\uff4c"):
            wrong = browser.post(
                "/ui/sign-in", data={"name": "ana", "password": PASSWORD, "csrf": token}
            )
            assert wrong.status_code == 403, wrong.text
        form = browser.get("/ui/sign-in").text
        token = form.split('name="csrf" value="')[1].split('"')[0]
        signed_in = browser.post(
            "/ui/sign-in",
            data={"name": "ana", "password": PASSWORD, "csrf": token},
            follow_redirects=False,
        )
        assert signed_in.status_code == 303
        forged = browser.post("/ui/new", data={"name": "x", "csrf": "ключ"})
        assert forged.status_code == 403, forged.text


@pytest.mark.parametrize("name", ["Zoë", "Мария", "李雷", "فاطمة"])
def test_a_name_in_any_script_typed_on_an_open_server_is_saved_and_remembered(
    api: TestClient, registry: Registry, name: str
) -> None:
    created = api.post("/ui/new", data={"name": "greet", "actor": name}, follow_redirects=False)
    assert created.status_code == 303  # it answered 500 after committing
    again = api.post("/ui/new", data={"name": "greet2"}, follow_redirects=False)
    assert again.status_code == 303
    assert [registry.list_events(n, SYSTEM).items[-1].actor for n in ("greet", "greet2")] == [
        name,
        name,
    ]

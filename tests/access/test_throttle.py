"""Sign-in and key throttling on a frozen clock (issue 22): every failure is counted in the
database, known and unknown names are answered alike, an address is slowed down across
names, and many wrong keys from one address wait while a key already in use does not."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from starlette.testclient import TestClient

from promptdeck.config import Settings
from promptdeck.core import Registry
from promptdeck.core.access import Access
from promptdeck.domain.access import KEY_ADDRESS, SIGN_IN_ADDRESS, SIGN_IN_NAME
from promptdeck.errors import TooManyAttempts, Unauthorized
from promptdeck.server import create_app
from tests.access.conftest import bearer

PASSWORD = "a long enough password"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def frozen(registry: Registry, clock: Clock) -> Registry:
    """The registry (so the app's Access) on the frozen clock."""
    registry.clock = clock
    return registry


def outcome(call: object) -> tuple[str, int | None]:
    try:
        call()  # type: ignore[operator]
    except TooManyAttempts as exc:
        return "wait", int(exc.extra["retry_after"])
    except Unauthorized as exc:
        return exc.detail, None
    return "signed in", None


def test_known_and_unknown_names_wait_alike_and_get_the_same_answers(
    registry: Registry, clock: Clock
) -> None:
    access = Access(registry.engine, clock=clock)
    access.create_user("ana", "write", PASSWORD)
    seen: dict[str, list[tuple[str, int | None]]] = {"ana": [], "bob": []}
    for step in range(12):
        for name in seen:
            seen[name].append(outcome(lambda n=name: access.sign_in(n, "wrong password!")))
        clock.now += timedelta(seconds=step % 4)
    assert seen["ana"] == seen["bob"]
    assert [s for s, _ in seen["ana"][:3]] == ["wrong name or password"] * 3
    assert ("wait", 2) in seen["ana"]


def test_a_wait_is_counted_per_name_whatever_the_address_and_per_address_whatever_the_name(
    registry: Registry, clock: Clock
) -> None:
    access = Access(registry.engine, clock=clock)
    # One name from many addresses: the name's three free failures, then it waits.
    tried = [outcome(lambda i=i: access.sign_in("ana", "x" * 10, address=f"10.0.0.{i}"))
             for i in range(5)]  # fmt: skip
    assert [s for s, _ in tried] == ["wrong name or password"] * 3 + ["wait"] * 2
    # One address over many names: SIGN_IN_ADDRESS.free failures, then every name waits.
    free = SIGN_IN_ADDRESS.free
    tried = [outcome(lambda i=i: access.sign_in(f"n{i}", "x" * 10, address="10.9.9.9"))
             for i in range(free + 3)]  # fmt: skip
    assert [s for s, _ in tried] == ["wrong name or password"] * free + ["wait"] * 3
    # The window passes: both start again.
    clock.now += SIGN_IN_NAME.window + SIGN_IN_ADDRESS.window
    assert outcome(lambda: access.sign_in("zoe", "x" * 10, address="10.9.9.9"))[1] is None


def test_a_right_password_takes_its_own_charge_back_and_forgets_the_names_failures(
    registry: Registry, clock: Clock
) -> None:
    access = Access(registry.engine, clock=clock)
    access.create_user("ana", "write", PASSWORD)
    for _ in range(SIGN_IN_ADDRESS.free * 2):  # many sign-ins from one office: no wait
        assert access.sign_in("ana", PASSWORD, address="10.1.1.1").principal.name == "ana"
    for _ in range(2):
        with pytest.raises(Unauthorized):
            access.sign_in("ana", "wrong password!", address="10.1.1.1")
    access.sign_in("ana", PASSWORD, address="10.1.1.1")
    for _ in range(2):  # the name's count started again
        with pytest.raises(Unauthorized):
            access.sign_in("ana", "wrong password!", address="10.1.1.1")


def test_no_name_or_address_is_stored_as_typed(registry: Registry, clock: Clock) -> None:
    access = Access(registry.engine, clock=clock)
    with pytest.raises(Unauthorized):
        access.sign_in("a long password", "whatever it is", address="192.0.2.7")
    with registry.engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT scope, subject FROM auth_failures").all()
    assert {scope for scope, _ in rows} == {SIGN_IN_NAME.scope, SIGN_IN_ADDRESS.scope}
    assert all(len(subject) == 64 and "192.0.2.7" not in subject for _, subject in rows)


# --- through the web UI: status, body and headers alike ----------------------------------


def _form(browser: TestClient) -> str:
    page = browser.get("/ui/sign-in").text
    return page.split('name="csrf" value="')[1].split('"')[0]


def _answers(browser: TestClient, token: str, name: str, n: int) -> Iterator[tuple[object, ...]]:
    for _ in range(n):
        r = browser.post(
            "/ui/sign-in",
            data={"name": name, "password": "wrong password!", "csrf": token},
            follow_redirects=False,
        )
        headers = sorted((k, v) for k, v in r.headers.items() if k not in ("date", "x-request-id"))
        yield r.status_code, r.text.replace(name, "NAME"), headers


def test_the_sign_in_page_answers_a_known_and_an_unknown_name_byte_for_byte_alike(
    settings: Settings, frozen: Registry
) -> None:
    Access(frozen.engine).create_user("ana-x", "write", PASSWORD)
    with TestClient(create_app(settings, frozen)) as browser:
        token = _form(browser)
        known = list(_answers(browser, token, "ana-x", 6))
        unknown = list(_answers(browser, token, "bob-y", 6))
    assert [status for status, *_ in known] == [401, 401, 401, 429, 429, 429]
    assert known == unknown
    assert ("retry-after", "2") in known[3][2]


# --- API keys ----------------------------------------------------------------------------


def test_many_wrong_keys_from_one_address_wait_and_a_key_in_use_does_not(
    settings: Settings, frozen: Registry, clock: Clock
) -> None:
    access = Access(frozen.engine, clock=clock)
    good = bearer(access.create_key("app", "read").secret)
    other = bearer(access.create_key("other", "read").secret)
    stale = bearer("pdk_00000000_" + "s" * 40)
    with TestClient(create_app(settings, frozen), raise_server_exceptions=False) as http:
        assert http.get("/prompts", headers=good).status_code == 200
        # A stale key retried is answered from the process's cache: never counted.
        assert {http.get("/prompts", headers=stale).status_code for _ in range(50)} == {401}
        answers = [
            http.get("/prompts", headers=bearer(f"pdk_{i:08x}_" + "w" * 40))
            for i in range(1, KEY_ADDRESS.free + 3)
        ]
        statuses = [r.status_code for r in answers]
        # The stale key was the first failure; the free ones are checked; then 429s.
        assert statuses == [401] * (KEY_ADDRESS.free - 1) + [429] * 3
        assert answers[-1].headers["retry-after"] == "2"
        assert answers[-1].json()["type"].endswith("too-many-attempts")
        assert answers[-1].json()["title"] == "Too many wrong API keys"
        assert http.get("/prompts", headers=good).status_code == 200  # in use: no wait
        # A valid key this process has not checked yet waits like any other.
        assert http.get("/prompts", headers=other).status_code == 429
        clock.now += timedelta(seconds=3)
        assert http.get("/prompts", headers=other).status_code == 200

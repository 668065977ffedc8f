"""Where a hook may point (DESIGN rule 10): loopback, link-local, private and metadata
addresses, in every spelling and after resolution, are refused at creation and patch (422
naming ``url``) and again at each delivery, unless PROMPTDECK_ALLOW_OUTGOING lists them;
redirects are never followed."""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable, Iterator
from ipaddress import ip_address

import anyio
import pytest
from starlette.testclient import TestClient

from promptdeck.config import Settings
from promptdeck.core import Registry
from promptdeck.domain.outgoing import Address
from promptdeck.domain.webhooks import Delivery
from promptdeck.server import create_app
from promptdeck.server import webhooks as webhooks_server
from promptdeck.server.webhooks import Deliverer
from tests.api.helpers import assert_problem
from tests.support.receiver import Receiver
from tests.webhooks.helpers import hooks_of, table_resolver

# Never contacted: these tests run no delivery worker against them.
PUBLIC = "93.184.215.14"
NAMES = {
    "hooks.example": PUBLIC,
    "internal.example": "10.1.2.3",
    "rebound.example": "169.254.169.254",
    "six.example": "fd00:ec2::254",
    "mapped.example": "::ffff:127.0.0.1",
}

REFUSED = [
    "http://169.254.169.254/latest/meta-data/",
    "http://0x7f000001/",
    "http://2130706433/",
    "http://[fd00:ec2::254]/",
    "http://127.1:9/",
    "http://0177.0.0.1/",
    "http://0x7f.0.0.1/",
    "http://127.0.0.1./",
    "http://%31%32%37.0.0.1/",
    "http://[::1]:8080/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://[0:0:0:0:0:ffff:a9fe:a9fe]/",
    "http://0.0.0.0/",
    "http://10.0.0.5/",
    "http://172.16.3.4/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",
    "http://[fe80::1]/",
    "http://[fc00::1]/",
    "https://100.100.100.200/",
    "http://localhost:9/",
    "http://LOCALHOST./",
    "http://api.localhost/",
    "http://metadata.google.internal/computeMetadata/v1/",
    # Names that resolve to refused addresses (the resolver's answer, not the spelling).
    "http://internal.example/hook",
    "http://rebound.example/",
    "http://six.example/",
    "http://mapped.example/",
]


@pytest.fixture
def app_of(
    database_url: str, registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., TestClient]]:
    """An app (no delivery worker) whose hooks may point at ``allow``; names resolve from
    NAMES (the system's resolver swapped for a table: no DNS in a test)."""
    monkeypatch.setattr(webhooks_server, "resolve_now", table_resolver(NAMES))
    clients: list[TestClient] = []

    def make(allow: str = "") -> TestClient:
        settings = Settings(database_url=database_url, webhooks_deliver=False, allow_outgoing=allow)
        client = TestClient(create_app(settings, registry), raise_server_exceptions=False)
        clients.append(client.__enter__())
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.mark.parametrize("url", REFUSED)
def test_a_hook_to_an_address_inside_in_any_spelling_or_after_resolution_is_a_422_naming_url(
    app_of: Callable[..., TestClient], url: str
) -> None:
    http = app_of()
    problem = assert_problem(http.post("/webhooks", json={"url": url}), 422, "outgoing-refused")
    assert problem["field"] == "url"
    assert "PROMPTDECK_ALLOW_OUTGOING" in problem["detail"] or "write" in problem["detail"]
    hook = http.post("/webhooks", json={"url": "http://hooks.example/in"}).json()
    patched = http.patch(f"/webhooks/{hook['id']}", json={"url": url})
    assert assert_problem(patched, 422, "outgoing-refused")["field"] == "url"
    assert http.get(f"/webhooks/{hook['id']}").json()["url"] == "http://hooks.example/in"
    assert [h["url"] for h in http.get("/webhooks").json()["items"]] == [hook["url"]]


def test_public_names_and_names_that_do_not_resolve_yet_are_taken(
    app_of: Callable[..., TestClient],
) -> None:
    http = app_of()
    for url in ("http://hooks.example/in", f"https://{PUBLIC}:8443/x", "https://later.example/"):
        assert http.post("/webhooks", json={"url": url}).status_code == 201, url


def test_the_operator_allows_hosts_and_networks_but_never_an_odd_spelling(
    app_of: Callable[..., TestClient],
) -> None:
    http = app_of("127.0.0.1,10.0.0.0/8,rebound.example")
    for url in ("http://127.0.0.1:9/", "http://internal.example/", "http://rebound.example/"):
        assert http.post("/webhooks", json={"url": url}).status_code == 201, url
    for url in ("http://0x7f000001/", "http://2130706433:9/", "http://169.254.169.254/"):
        problem = assert_problem(http.post("/webhooks", json={"url": url}), 422)
        assert problem["field"] == "url"


def test_the_ui_refuses_a_hook_to_the_metadata_service_too(
    database_url: str, registry: Registry
) -> None:
    settings = Settings(database_url=database_url, webhooks_deliver=False)
    with TestClient(create_app(settings, registry), raise_server_exceptions=False) as http:
        page = http.get("/ui/webhooks").text
        csrf = page.split('name="csrf" value="')[1].split('"')[0]
        form = {"url": "http://169.254.169.254/", "csrf": csrf}
        refused = http.post("/ui/webhooks", data=form)
    assert refused.status_code == 422
    assert "169.254.169.254" in refused.text
    assert hooks_of(registry).page().items == []


# --- at delivery ---------------------------------------------------------------------------


def deliver_once(registry: Registry, url: str, allow: str, resolves_to: str) -> list[Delivery]:
    """Queue a test delivery to ``url`` and run a real Deliverer until it is tried once,
    its resolver answering ``resolves_to`` for every name; the delivery log after."""
    hooks = hooks_of(registry, allow="127.0.0.1,*.example")  # no resolver: not looked up
    hook = hooks.create(url).hook
    hooks.send_test(hook.id)
    settings = Settings(
        database_url="sqlite://",
        webhook_poll_s=0.05,
        webhook_timeout_s=5,
        allow_outgoing=allow,
    )

    async def resolver(host: str, port: int) -> list[Address]:
        return [ip_address(resolves_to)]

    async def run() -> list[Delivery]:
        deliverer = Deliverer(hooks, settings, resolver=resolver)
        deliverer.start()
        try:
            for _ in range(400):
                log = await anyio.to_thread.run_sync(lambda: hooks.deliveries(hook.id).items)
                if log[0].attempts:
                    return list(log)
                await asyncio.sleep(0.05)
            return list(log)
        finally:
            await deliverer.stop()

    # In a thread of its own: a loop left running on this thread by another test must not
    # matter to this one.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, run()).result()


def test_a_name_that_resolves_inside_at_delivery_is_refused_and_nothing_is_sent(
    registry: Registry,
) -> None:
    with Receiver("ok") as rx:
        port = rx.url.split(":")[2].split("/")[0]
        (d,) = deliver_once(registry, f"http://moved.example:{port}/hook", "", "127.0.0.1")
    assert d.attempts == 1 and d.status == "pending"
    assert d.last_status_code is None
    assert d.last_error is not None
    assert "127.0.0.1" in d.last_error and "loopback" in d.last_error
    assert rx.received() == []


def test_a_name_allowed_at_delivery_reaches_the_address_it_was_checked_at(
    registry: Registry,
) -> None:
    with Receiver("ok") as rx:
        port = rx.url.split(":")[2].split("/")[0]
        url = f"http://moved.example:{port}/hook"
        (d,) = deliver_once(registry, url, "127.0.0.1", "127.0.0.1")
    assert (d.status, d.last_status_code) == ("delivered", 200)
    assert len(rx.accepted()) == 1
    assert rx.accepted()[0].headers["host"] == f"moved.example:{port}"


def test_a_redirect_is_not_followed_even_to_an_allowed_address(registry: Registry) -> None:
    with Receiver("ok") as target:
        with Receiver("redirect", redirect_to=target.url) as rx:
            (d,) = deliver_once(registry, rx.url, "127.0.0.1", "127.0.0.1")
        assert len(rx.received()) == 1
        assert target.received() == []
    assert (d.status, d.last_status_code) == ("pending", 302)

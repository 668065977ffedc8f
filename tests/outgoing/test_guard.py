"""The guarded httpx client against a real local server: nothing reaches loopback unless
allowed, whatever the spelling, the redirect or the name; what is allowed works, with the
name in Host and the connection made to the very address that was checked."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from ipaddress import ip_address

import httpx
import pytest

from promptdeck.domain.outgoing import NOTHING, Allowance, parse_allowance, refusal
from promptdeck.errors import OutgoingRefused
from promptdeck.outgoing.guard import GuardedBackend, guarded_client
from tests.support.aio import run
from tests.support.fake_llm import Answer, FakeLLM, LoopbackOnly, Names

pytestmark = pytest.mark.sqlite_only  # no database here: one pass is enough

TIMEOUT = httpx.Timeout(10.0)
BODY = {"model": "m", "messages": [{"role": "user", "content": "hello"}]}


@pytest.fixture
def llm() -> Iterator[FakeLLM]:
    with FakeLLM() as server:
        yield server


async def _post(
    url: str,
    allowance: Allowance,
    *,
    names: Names | None = None,
    follow: bool = True,
    inner: LoopbackOnly | None = None,
) -> httpx.Response:
    kwargs = {"resolver": names} if names is not None else {}
    async with guarded_client(
        allowance,
        timeout=TIMEOUT,
        inner=inner or LoopbackOnly(),
        follow_redirects=follow,
        **kwargs,  # type: ignore[arg-type]
    ) as http:
        return await http.post(url, json=BODY)


def test_loopback_is_refused_unless_the_operator_allows_it(llm: FakeLLM) -> None:
    url = f"{llm.url}/chat/completions"
    with pytest.raises(OutgoingRefused, match=r"127\.0\.0\.1 \(loopback\)"):
        run(_post(url, NOTHING))
    assert llm.received() == []
    answer = run(_post(url, parse_allowance("127.0.0.1")))
    assert answer.status_code == 200
    assert answer.json()["choices"][0]["message"]["content"] == "hello"


@pytest.mark.parametrize(
    "host",
    [
        "0x7f000001",
        "2130706433",
        "0177.0.0.1",
        "127.1",
        "127.0.1",
        "0x7f.1",
        "127.0.0.1.",
        "%31%32%37.0.0.1",
        "[::ffff:127.0.0.1]",
        "[::ffff:7f00:1]",
        "[::127.0.0.1]",
        "[::1]",
        "0",
        "0.0.0.0",
        "[::]",
        "localhost",
        "LocalHost.",
        "a@127.0.0.1",
        "user:pw@127.0.0.1",
    ],
)
def test_every_hostile_spelling_of_loopback_is_refused_before_anything_is_sent(
    llm: FakeLLM, host: str
) -> None:
    inner = LoopbackOnly()
    with pytest.raises((OutgoingRefused, httpx.InvalidURL)):
        run(_post(f"http://{host}:{llm.port}/v1/chat/completions", NOTHING, inner=inner))
    assert inner.connected == []
    assert llm.received() == []


def test_an_odd_spelling_is_refused_even_when_its_address_is_allowed(llm: FakeLLM) -> None:
    url = f"http://0x7f000001:{llm.port}/v1/chat/completions"
    with pytest.raises(OutgoingRefused, match=r"write the host 0x7f000001 as 127\.0\.0\.1"):
        run(_post(url, parse_allowance("127.0.0.1")))
    assert llm.received() == []


def test_the_backend_checks_what_the_system_resolver_reads_from_a_hex_spelling() -> None:
    """Below the URL check: getaddrinfo reads 0x7f000001 as 127.0.0.1, and that is refused."""

    async def connect() -> None:
        await GuardedBackend(NOTHING, inner=LoopbackOnly()).connect_tcp("0x7f000001", 9, 5.0)

    with pytest.raises(OutgoingRefused, match=r"0x7f000001 resolves to 127\.0\.0\.1"):
        run(connect())


def test_a_name_the_system_resolves_inside_is_refused_after_resolution() -> None:
    """`vm` and `runsc` are in this machine's hosts file as 127.0.0.1; elsewhere the
    machine's own name, when it resolves inside (127.0.1.1 on Debian)."""
    for name in ("vm", "runsc", socket.gethostname()):
        try:
            found = {ip_address(i[4][0]) for i in socket.getaddrinfo(name, 80)}
        except OSError:
            continue
        if not all(refusal(a) for a in found):
            continue

        async def connect(host: str = name) -> None:
            await GuardedBackend(NOTHING, inner=LoopbackOnly()).connect_tcp(host, 9, 5.0)

        with pytest.raises(OutgoingRefused, match="resolves to"):
            run(connect())
        return
    pytest.skip("no name of this machine resolves to an inside address")


def test_a_name_resolving_to_a_private_address_is_refused(llm: FakeLLM) -> None:
    names = Names({"llm.example.test": ["10.1.2.3"]})
    with pytest.raises(OutgoingRefused, match=r"resolves to 10\.1\.2\.3 \(private\)"):
        run(_post(f"http://llm.example.test:{llm.port}/v1/chat/completions", NOTHING, names=names))
    assert names.calls == ["llm.example.test"]


def test_one_inside_address_among_public_ones_refuses_the_name(llm: FakeLLM) -> None:
    names = Names({"mixed.example.test": ["93.184.216.34", "169.254.169.254"]})
    with pytest.raises(OutgoingRefused, match="cloud metadata"):
        run(_post(f"http://mixed.example.test:{llm.port}/v1/x", NOTHING, names=names))


def test_the_connection_goes_to_the_checked_address_with_the_name_in_host(llm: FakeLLM) -> None:
    """The name is resolved once, by the guard: a name no system resolver knows is reached,
    so nothing resolved it a second time; the server sees the name in Host."""
    names = Names({"llm.example.test": ["127.0.0.1"]})
    inner = LoopbackOnly()

    async def two_requests() -> list[int]:
        async with guarded_client(
            parse_allowance("127.0.0.1"), timeout=TIMEOUT, resolver=names, inner=inner
        ) as http:
            url = f"http://llm.example.test:{llm.port}/v1/chat/completions"
            return [(await http.post(url, json=BODY)).status_code for _ in range(2)]

    assert run(two_requests()) == [200, 200]
    assert [r.headers["host"] for r in llm.received()] == [f"llm.example.test:{llm.port}"] * 2
    assert names.calls == ["llm.example.test"]  # one connection, kept alive
    assert inner.connected == ["127.0.0.1"]


def test_a_name_that_rebinds_to_an_inside_address_is_refused_on_its_next_connection(
    llm: FakeLLM,
) -> None:
    names = Names({"rebind.example.test": ["127.0.0.1"]})
    url = f"http://rebind.example.test:{llm.port}/v1/chat/completions"
    allowance = parse_allowance("127.0.0.1")
    assert run(_post(url, allowance, names=names)).status_code == 200
    names.table["rebind.example.test"] = ["192.168.0.10"]
    with pytest.raises(OutgoingRefused, match=r"192\.168\.0\.10"):
        run(_post(url, allowance, names=names))
    assert len(llm.received()) == 1


def test_an_allowed_name_is_reached_whatever_it_resolves_to(llm: FakeLLM) -> None:
    names = Names({"llm.internal": ["127.0.0.1"]})
    allowance = parse_allowance("llm.internal")
    url = f"http://llm.internal:{llm.port}/v1/chat/completions"
    answer = run(_post(url, allowance, names=names))
    assert answer.status_code == 200


def test_a_redirect_to_a_refused_address_is_refused(llm: FakeLLM) -> None:
    """The server is reached by an allowed name; it redirects to its own address, which is
    not allowed: the redirect is checked like the first request, and refused."""
    names = Names({"llm.internal": ["127.0.0.1"]})
    allowance = parse_allowance("llm.internal")
    for target in (
        f"http://127.0.0.1:{llm.port}/v1/chat/completions",
        f"http://0x7f000001:{llm.port}/v1/chat/completions",
        f"http://[::ffff:127.0.0.1]:{llm.port}/v1/chat/completions",
        "http://169.254.169.254/latest/meta-data/",
        "http://metadata.google.internal/computeMetadata/v1/",
    ):
        llm.script(Answer(status=307, location=target))
        url = f"http://llm.internal:{llm.port}/v1/chat/completions"
        with pytest.raises(OutgoingRefused):
            run(_post(url, allowance, names=names))
    assert len(llm.received()) == 5  # the five first requests; no redirect followed


def test_an_allowed_redirect_is_followed_within_the_bound(llm: FakeLLM) -> None:
    allowance = parse_allowance("127.0.0.1")
    llm.script(Answer(status=307, location="/v1/chat/completions?again"), Answer(text="moved"))
    answer = run(_post(f"{llm.url}/old/chat/completions", allowance))
    assert answer.json()["choices"][0]["message"]["content"] == "moved"
    llm.script(Answer(status=307, location="/v1/chat/completions"))  # for ever
    with pytest.raises(httpx.TooManyRedirects):
        run(_post(f"{llm.url}/chat/completions", allowance))


def test_redirects_are_not_followed_unless_asked(llm: FakeLLM) -> None:
    llm.script(Answer(status=302, location="http://127.0.0.1:1/"))
    answer = run(_post(f"{llm.url}/chat/completions", parse_allowance("127.0.0.1"), follow=False))
    assert answer.status_code == 302


def test_a_client_without_every_timeout_cannot_be_made() -> None:
    with pytest.raises(ValueError, match="timeout"):
        guarded_client(NOTHING, timeout=httpx.Timeout(None))


def test_proxies_from_the_environment_are_not_used(
    llm: FakeLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://10.9.9.9:3128")
    monkeypatch.setenv("ALL_PROXY", "http://10.9.9.9:3128")
    answer = run(_post(f"{llm.url}/chat/completions", parse_allowance("127.0.0.1")))
    assert answer.status_code == 200

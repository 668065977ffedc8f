"""An httpx client that reaches only what rule 10 allows (``domain/outgoing.py``).

Every request's URL is checked as written (``check_url``: odd spellings, metadata names),
and every connection is made by ``GuardedBackend``: it resolves the host itself, checks every
address the name resolved to, and connects to one of those checked addresses. The pool keeps
the host name as the connection's origin, so the ``Host`` header and TLS's SNI and
certificate check use the name, while the socket goes to the address that was checked: no
second resolution, so DNS rebinding (a public answer for the check, a private one for the
connection) has nothing to act on. A redirect is a new request through the same transport,
so its target is checked the same way before anything connects to it.

Proxies are never used (``trust_env=False``): a proxy would resolve the target itself.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable, Iterable
from ipaddress import ip_address

import httpcore
import httpx

from promptdeck.domain.outgoing import Address, Allowance, check_name, check_resolved, check_url
from promptdeck.errors import OutgoingRefused

Resolver = Callable[[str, int], Awaitable[list[Address]]]

MAX_REDIRECTS = 3
ADDRESSES_TRIED = 4  # of those a name resolved to (all are checked), in the resolver's order


async def system_resolver(host: str, port: int) -> list[Address]:
    """The addresses ``getaddrinfo`` gives for ``host`` (which reads ``0x7f000001``, ``127.1``
    and the hosts file as the system does)."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
        )
    except (socket.gaierror, UnicodeError) as exc:
        raise httpcore.ConnectError(f"{host[:80]} could not be resolved: {exc}") from None
    return [ip_address(info[4][0]) for info in infos]


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend with the check between the resolution and the connect."""

    def __init__(
        self,
        allowance: Allowance,
        resolver: Resolver = system_resolver,
        inner: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self.allowance = allowance
        self.resolver = resolver
        self.inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        check_name(host, self.allowance)
        try:
            async with asyncio.timeout(timeout):
                addresses = await self.resolver(host, port)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"resolving {host[:80]} took too long") from None
        checked = check_resolved(host, addresses, self.allowance)
        failure: Exception | None = None
        for address in checked[:ADDRESSES_TRIED]:
            try:
                return await self.inner.connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None  # check_resolved returns at least one address
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise OutgoingRefused("calls out of the server never use a Unix socket")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport with a guarded connection pool: each request's URL is checked as
    written, each new connection after resolution."""

    def __init__(
        self,
        allowance: Allowance,
        *,
        resolver: Resolver = system_resolver,
        inner: httpcore.AsyncNetworkBackend | None = None,
        limits: httpx.Limits | None = None,
        verify: bool | str = True,
    ) -> None:
        limits = limits or httpx.Limits(max_connections=100, max_keepalive_connections=20)
        super().__init__(verify=verify, trust_env=False, limits=limits)
        self.allowance = allowance
        # httpx builds its pool without a way to pass a network backend; ours replaces it
        # (same settings). The assertion fails loudly should httpx ever rename it.
        assert isinstance(self._pool, httpcore.AsyncConnectionPool)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=verify, trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(allowance, resolver, inner),
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        check_url(str(request.url), self.allowance, field=None)
        return await super().handle_async_request(request)


def guarded_client(
    allowance: Allowance,
    *,
    timeout: httpx.Timeout,
    resolver: Resolver = system_resolver,
    inner: httpcore.AsyncNetworkBackend | None = None,
    follow_redirects: bool = False,
    max_redirects: int = MAX_REDIRECTS,
    limits: httpx.Limits | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` for calls out: guarded, no proxy from the environment, every
    timeout set, redirects (when followed at all) at most ``max_redirects``, each checked."""
    if None in (timeout.connect, timeout.read, timeout.write, timeout.pool):
        raise ValueError("every timeout of a call out must be set")
    return httpx.AsyncClient(
        transport=GuardedTransport(allowance, resolver=resolver, inner=inner, limits=limits),
        timeout=timeout,
        follow_redirects=follow_redirects,
        max_redirects=max_redirects,
        trust_env=False,
        headers=headers,
    )

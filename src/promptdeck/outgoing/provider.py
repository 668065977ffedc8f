"""A model provider over HTTP: OpenAI's chat completions protocol (``POST
{base_url}/chat/completions``, whole or as Server-Sent Events) with httpx, through the guard
(``outgoing/guard.py``: every connection checked, redirects included).

Every call is bounded: httpx's connect and read timeouts, and a total one over all its
attempts (a stream's whole length included); answers are read with a size bound. A failed
attempt (408, 409, 429, 5xx, no connection, no answer in time) is tried again after a
doubling, jittered wait or the provider's ``Retry-After`` (when short enough), at most
``retry.attempts`` times and never past the total timeout; a stream only until its first
piece was given out. Cancelling the task that awaits a call closes its HTTP request.

The key goes into the ``Authorization`` header and nowhere else: not in a log line, an
error's text (a provider that echoes it has it scrubbed out), a repr.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import re
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import TypeVar

import httpcore
import httpx

from promptdeck.config import environment_secret
from promptdeck.domain.completions import (
    ANSWER_MAX_BYTES,
    DONE,
    LINE_MAX_BYTES,
    Completion,
    Delta,
    EventDecoder,
    StreamAssembler,
    error_text,
    parse_completion,
)
from promptdeck.domain.outgoing import Allowance
from promptdeck.domain.providers import (
    ChatRequest,
    ProviderConfig,
    Secret,
    StoredProvider,
    chat_body,
    retry_after_seconds,
    retryable,
)
from promptdeck.domain.sealing import Keyring
from promptdeck.errors import (
    ProviderError,
    ProviderRefused,
    ProviderTimeout,
    ProviderUnavailable,
)
from promptdeck.outgoing.guard import Resolver, guarded_client, system_resolver
from promptdeck.version import __version__

log = logging.getLogger("promptdeck.providers")

T = TypeVar("T")
ERROR_BODY_MAX = 64_000
_EOL = re.compile(rb"\r\n|\r|\n")


def api_key(config: ProviderConfig, stored: Secret | None = None) -> Secret | None:
    """The key to send: the stored one, else the environment variable the configuration
    names (None: the provider takes no key)."""
    if stored is not None or config.api_key_env is None:
        return stored
    value = environment_secret(config.api_key_env)
    if value is None:
        raise ProviderUnavailable(
            f"provider {config.name}: {config.api_key_env} is not set in the server's environment",
            field="api_key_env",
        )
    return Secret(value)


def provider_key(stored: StoredProvider, keyring: Keyring) -> Secret | None:
    """The key to send for a provider as the server keeps it: its stored key opened with the
    server's secret keys (``ProviderKeyUnusable`` when they cannot), else ``api_key``."""
    if stored.sealed_key is not None:
        return api_key(stored.config, keyring.open(stored.sealed_key, stored.name))
    return api_key(stored.config)


class ProviderClients:
    """One client (its pool of connections) a stored provider, made again when the provider's
    configuration changed; a replaced client is closed with the rest (calls out may still use
    it). The evaluation runner and the runs each keep one."""

    def __init__(
        self,
        allowance: Allowance,
        keyring: Keyring,
        *,
        resolver: Resolver = system_resolver,
        backend: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self.allowance, self.keyring = allowance, keyring
        self.resolver, self.backend = resolver, backend
        self._current: dict[int, tuple[StoredProvider, Provider]] = {}
        self._retired: list[Provider] = []

    def get(self, stored: StoredProvider) -> Provider:
        """The provider's client; its key is opened (or read from the environment) when the
        client is made: a provider whose key is missing or cannot be opened fails here."""
        found = self._current.get(stored.id)
        if found is not None and found[0].updated_at == stored.updated_at:
            return found[1]
        client = Provider(
            stored.config,
            key=provider_key(stored, self.keyring),
            allowance=self.allowance,
            resolver=self.resolver,
            backend=self.backend,
        )
        if found is not None:
            self._retired.append(found[1])
        self._current[stored.id] = (stored, client)
        return client

    async def aclose(self) -> None:
        for client in [c for _, c in self._current.values()] + self._retired:
            await client.aclose()
        self._current.clear()
        self._retired.clear()


class Provider:
    """One provider's endpoint: ``complete`` and ``stream``, over one guarded connection pool.
    Use it as an async context manager (or ``aclose`` it)."""

    def __init__(
        self,
        config: ProviderConfig,
        *,
        key: Secret | None,
        allowance: Allowance,
        resolver: Resolver = system_resolver,
        backend: httpcore.AsyncNetworkBackend | None = None,
        rng: random.Random | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.config = config
        self._key = key
        self._rng = rng or random.Random()
        self._sleep = sleep
        self._now = now
        t = config.timeouts
        self._http = guarded_client(
            allowance,
            timeout=httpx.Timeout(
                connect=t.connect_s, read=t.read_s, write=t.read_s, pool=t.read_s
            ),
            resolver=resolver,
            inner=backend,
            follow_redirects=True,  # each hop checked by the guard; httpx drops the key
            headers={"User-Agent": f"promptdeck/{__version__}"},  # across origins
        )

    def __repr__(self) -> str:
        return f"Provider({self.config.name!r}, {self.config.base_url!r})"

    async def __aenter__(self) -> Provider:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    def _headers(self, stream: bool) -> dict[str, str]:
        headers = {"Accept": "text/event-stream" if stream else "application/json"}
        if self._key is not None:
            headers["Authorization"] = "Bearer " + self._key.reveal()
        return headers

    # --- whole answers --------------------------------------------------------------------

    async def complete(self, request: ChatRequest) -> Completion:
        body = chat_body(request, stream=False)
        deadline = asyncio.get_running_loop().time() + self.config.timeouts.total_s
        return await self._bounded(deadline, self._complete(body, request.model, deadline))

    async def _complete(self, body: dict[str, object], model: str, deadline: float) -> Completion:
        attempt = 0
        while True:
            attempt += 1
            started = asyncio.get_running_loop().time()
            try:
                async with self._http.stream(
                    "POST", self.config.completions_url, json=body, headers=self._headers(False)
                ) as response:
                    raw = await _read(response, ANSWER_MAX_BYTES)
            except httpx.HTTPError as exc:
                failure, again = self._transport_failure(exc)
                retry_after = None
            else:
                if 200 <= response.status_code < 300:
                    return parse_completion(
                        _json(raw),
                        latency_ms=_ms(started),
                        price=self.config.prices.get(model),
                        attempts=attempt,
                        secret=self._key,
                    )
                failure, retry_after = self._status_failure(response, raw)
                again = True
            await self._wait(attempt, failure, retry_after, deadline, again)

    # --- streams --------------------------------------------------------------------------

    async def stream(self, request: ChatRequest) -> AsyncIterator[Delta | Completion]:
        """The answer's pieces as they come (``Delta``), then the whole ``Completion``. Close
        it when stopping early (``contextlib.aclosing``), or cancel the task: either closes
        the HTTP request."""
        body = chat_body(request, stream=True, stream_usage=self.config.stream_usage)
        deadline = asyncio.get_running_loop().time() + self.config.timeouts.total_s
        attempt = 0
        while True:
            attempt += 1
            started = asyncio.get_running_loop().time()
            given = 0
            async with contextlib.AsyncExitStack() as stack:
                try:
                    response = await self._bounded(
                        deadline,
                        stack.enter_async_context(
                            self._http.stream(
                                "POST",
                                self.config.completions_url,
                                json=body,
                                headers=self._headers(True),
                            )
                        ),
                    )
                    if response.status_code >= 300:
                        raw = await self._bounded(deadline, _read(response, ERROR_BODY_MAX))
                        failure, retry_after = self._status_failure(response, raw)
                        again = True
                    else:
                        assembler = StreamAssembler(self._key)
                        decoder = EventDecoder()
                        lines = _lines(response)
                        stack.push_async_callback(lines.aclose)
                        first: float | None = None
                        while True:
                            line = await self._bounded(deadline, anext(lines, None))
                            data = decoder.end() if line is None else decoder.line(line)
                            if data == DONE or (data is None and line is None):
                                break
                            if data is None:
                                continue
                            delta = assembler.feed(data)
                            if delta is not None:
                                first = _ms(started) if first is None else first
                                given += 1
                                yield delta
                        yield assembler.finish(
                            latency_ms=_ms(started),
                            first_token_ms=first,
                            price=self.config.prices.get(request.model),
                            attempts=attempt,
                        )
                        return
                except httpx.HTTPError as exc:
                    failure, again = self._transport_failure(exc)
                    retry_after = None
                    if given:  # what was given out cannot be taken back
                        raise ProviderUnavailable(
                            f"provider {self.config.name}: the stream broke after {given} "
                            f"pieces ({failure.detail})"
                        ) from None
            await self._wait(attempt, failure, retry_after, deadline, again)

    # --- shared -----------------------------------------------------------------------------

    async def _bounded(self, deadline: float, step: Awaitable[T]) -> T:
        """One step of a call within the call's total timeout (never across a ``yield``)."""
        try:
            async with asyncio.timeout_at(deadline):
                return await step
        except TimeoutError:
            raise ProviderTimeout(
                f"provider {self.config.name} gave no whole answer within "
                f"{self.config.timeouts.total_s:g} s"
            ) from None

    def _transport_failure(self, exc: httpx.HTTPError) -> tuple[ProviderError, bool]:
        """What a failure of the exchange means, and whether another attempt may help."""
        name = self.config.name
        if isinstance(exc, httpx.TimeoutException):
            what = "connect" if isinstance(exc, httpx.ConnectTimeout) else "read"
            return ProviderTimeout(f"provider {name}: no answer within the {what} timeout"), True
        # No str(exc): it is httpx's and may quote what the server sent.
        again = isinstance(exc, httpx.NetworkError | httpx.RemoteProtocolError)
        return ProviderUnavailable(
            f"provider {name} could not be reached ({type(exc).__name__})"
        ), again

    def _status_failure(
        self, response: httpx.Response, raw: bytes
    ) -> tuple[ProviderError, float | None]:
        status = response.status_code
        detail = f"provider {self.config.name} answered {status}: {error_text(raw, self._key)}"
        if not retryable(status):
            cls = ProviderRefused if 400 <= status < 500 else ProviderUnavailable
            raise cls(detail, provider_status=status)
        after = retry_after_seconds(response.headers, self._now())
        return ProviderUnavailable(detail, provider_status=status, retry_after=after), after

    async def _wait(
        self,
        attempt: int,
        failure: ProviderError,
        retry_after: float | None,
        deadline: float,
        again: bool,
    ) -> None:
        """Sleep before the next attempt, or raise ``failure`` when there is none."""
        if not again:
            raise failure
        wait = self.config.retry.delay(attempt, retry_after, self._rng.random())
        if wait is None or asyncio.get_running_loop().time() + wait >= deadline:
            raise failure
        log.info(
            "provider %s: attempt %d failed (%s); trying again in %.2f s",
            self.config.name,
            attempt,
            failure.detail,
            wait,
        )
        await self._sleep(wait)


async def _read(response: httpx.Response, most: int) -> bytes:
    data = bytearray()
    async for chunk in response.aiter_bytes():
        data += chunk
        if len(data) > most:
            raise ProviderUnavailable(f"the provider's answer is larger than {most} bytes")
    return bytes(data)


async def _lines(response: httpx.Response) -> AsyncGenerator[str, None]:
    """The stream's lines (CR, LF or CRLF ends one), each at most LINE_MAX_BYTES."""
    pending = b""
    async for chunk in response.aiter_bytes():
        pending += chunk
        start = 0
        for end in _EOL.finditer(pending):
            if end.group() == b"\r" and end.end() == len(pending):
                break  # maybe the first half of a CRLF
            yield pending[start : end.start()].decode("utf-8", "replace")
            start = end.end()
        pending = pending[start:]
        if len(pending) > LINE_MAX_BYTES:
            raise ProviderUnavailable(f"a line of the provider's stream is over {LINE_MAX_BYTES}")
    if pending:
        yield pending.rstrip(b"\r").decode("utf-8", "replace")


def _json(raw: bytes) -> object:
    try:
        return json.loads(raw)
    except ValueError:
        raise ProviderUnavailable("the provider's answer is not JSON") from None


def _ms(started: float) -> float:
    return round((asyncio.get_running_loop().time() - started) * 1000, 3)

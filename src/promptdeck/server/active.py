"""GET /prompts/{prompt_id}/active (and ?label=): the hot path, answered below FastAPI.

Applications call this many times a second, so it skips routing, dependency injection and
response models: a pure ASGI handler serves pre-encoded bodies from memory. Which body, and
why it is never stale across processes, is core/live.py's ``ActiveCache``: the body of a
version is rendered once (versions are immutable) and only the pointer is checked, with
``PRAGMA data_version`` on SQLite and one coalesced pointer read (async, shared by the
requests waiting at that moment) on PostgreSQL. A label (``?label=staging``) is served the
same way: its pointer is checked like `active`'s (in the same read), its body is the
version's. A label that is not a slug goes on to FastAPI's route (its 422).

A label in a rollout (docs/rollouts.md) answers the version the caller's ``?key=`` is
assigned (a random arm without one), with that version's ETag, and says how it splits in a
``Promptdeck-Rollout`` header (domain/rollouts/split.py), so clients assign locally.

What it needs of the caller is declared once, as routes declare it: ``HOT_NEED`` (read), and
a caller kept to prompt prefixes gets only the prompts within them.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_plus

import anyio.to_thread

from promptdeck import limits
from promptdeck.core.live import ActiveCache
from promptdeck.domain import etag
from promptdeck.domain.caller import Caller
from promptdeck.domain.labels import ACTIVE, LABEL_MAX, LABEL_PATTERN
from promptdeck.domain.models import Prompt, Version
from promptdeck.domain.refs import is_id
from promptdeck.domain.rollouts import assign
from promptdeck.domain.rollouts.split import HEADER
from promptdeck.errors import InvalidInput, PromptdeckError, PromptNotFound
from promptdeck.schemas import ActiveOut
from promptdeck.server.logs import request_id, request_id_of
from promptdeck.server.respond import (
    ASGIApp,
    Receive,
    Scope,
    Send,
    problem_parts,
    send_response,
    send_unexpected,
)
from promptdeck.server.roles import READ

PREFIX = "/prompts/"
SUFFIX = "/active"
ROLLOUT_HEADER = HEADER.lower().encode()


class Entry:
    __slots__ = ("body", "etag", "headers", "not_modified")

    def __init__(self, tag: str, body: bytes) -> None:
        self.etag = tag
        self.body = body
        common = [(b"etag", tag.encode()), (b"cache-control", b"no-cache")]
        self.headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            *common,
        ]
        self.not_modified = common


def _contract_json(version: Version) -> dict[str, Any] | None:
    contract = version.full_contract
    return None if contract is None else contract.to_json()


def render(prompt: Prompt, version: Version) -> Entry:
    out = ActiveOut.model_validate(
        {
            "prompt_id": prompt.id,
            "prompt_name": prompt.name,
            "version_id": version.id,
            "number": version.number,
            "version_name": version.version_name,
            "description": version.description,
            "content": version.content or "",
            "model_config": version.model_config or {},
            "content_hash": version.content_hash,
            "created_at": version.created_at,
            "created_by": version.created_by,
            # Templates: what Client.get_active(...).render() needs to render locally.
            "kind": version.kind,
            "template_format": version.template_format,
            "messages": version.messages,
            # Contracts: what a client checks render variables against locally.
            "contract": _contract_json(version),
        }
    )
    body = out.model_dump_json(by_alias=True).encode()
    return Entry(etag.active_etag(version.id), body)


# Upper bounds (seconds) of the hot path's latency buckets: sub-millisecond from 100 µs.
BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)


HOT_ROUTE = "/prompts/{prompt_id}/active"


class Latency:
    """Request counts by (route, method, status) and latency bucket: a list increment
    (~0.2 µs) where a prometheus_client Histogram.observe takes a lock (~2 µs, a tenth of a
    hot-path request). /metrics (server/observe.py) exposes them as one histogram."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str, int], list[int]] = {}
        self.sums: dict[tuple[str, str, int], float] = {}

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        key = (route, method, status)
        counts = self.counts.get(key)
        if counts is None:
            counts = self.counts[key] = [0] * (len(BUCKETS) + 1)
            self.sums[key] = 0.0
        counts[bisect.bisect_left(BUCKETS, seconds)] += 1
        self.sums[key] += seconds


# What GET /prompts/{prompt_id}/active needs, as ``caller: Reader`` declares it on a route.
HOT_NEED = READ


class ActiveEndpoint:
    """ASGI middleware that answers GET/HEAD /prompts/{ref}/active and passes on the rest.
    ``visible(ref, caller)`` raises PromptNotFound for a prompt outside the caller's
    prefixes (the core's ``Registry.get_prompt``)."""

    def __init__(
        self,
        app: ASGIApp,
        cache: ActiveCache[Entry],
        latency: Latency,
        visible: Callable[[str, Caller], object],
        *,
        request_ids: bool = False,
    ) -> None:
        self.app = app
        self.cache = cache
        self.latency = latency
        self.visible = visible
        # With the access log on, its lines need the request id (~1 µs a request).
        self.request_ids = request_ids

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        hot = hot_request(scope)
        if hot is None:
            await self.app(scope, receive, send)
            return
        ref, label = hot
        started = time.perf_counter()
        if self.request_ids:
            token = request_id.set(request_id_of(scope))
            try:
                status = await self.serve(ref, label, scope, send)
            finally:
                request_id.reset(token)
        else:
            status = await self.serve(ref, label, scope, send)
        elapsed = time.perf_counter() - started
        self.latency.observe(HOT_ROUTE, scope["method"], status, elapsed)

    async def serve(self, ref: str, label: str, scope: Scope, send: Send) -> int:
        """Answer; the status sent."""
        try:
            caller = HOT_NEED.caller(scope)
            if caller.limited:  # before the label is read: not even which labels it has
                await self._within_prefixes(ref, caller)
            state = scope.get("state")
            probed = state.get(PROBED) if state is not None else None
            query: bytes = scope.get("query_string", b"")
            key = key_of(query) if b"key=" in query else None
            entry, split = await self.cache.get(ref, label, probed, key)
        except PromptdeckError as exc:
            status, headers, body = problem_parts(exc, scope["path"])
            await send_response(send, status, headers, body)
            return status
        except Exception:
            # This handler sits outside FastAPI's error handling: without this, a database
            # outage reached the client as uvicorn's text/plain 500 instead of a problem.
            token = request_id.set(request_id_of(scope))  # only now: free on the happy path
            await send_unexpected(send, scope)
            request_id.reset(token)
            return 500
        if_none_match = _header(scope, b"if-none-match")
        fresh = if_none_match is not None and etag.matches(
            if_none_match.decode("latin-1"), entry.etag
        )
        headers = entry.not_modified if fresh else entry.headers
        if split is not None:  # the label's rollout: clients assign from it (split.py)
            headers = [*headers, (ROLLOUT_HEADER, split.header_bytes)]
        if fresh:
            await send_response(send, 304, headers, b"")
            return 304
        body = b"" if scope["method"] == "HEAD" else entry.body
        await send_response(send, 200, headers, body)
        return 200

    async def _within_prefixes(self, ref: str, caller: Caller) -> None:
        """A name is the caller's to see by its prefixes; an id, once the core has read the
        prompt's name."""
        if not is_id(ref):
            if not caller.may_see(ref):
                raise PromptNotFound(f"no prompt {ref!r}")
            return
        await anyio.to_thread.run_sync(self.visible, ref, caller)


# The scope["state"] key under which the gate leaves a hot-path request's pointers, read
# with the access generation in one round trip (PostgreSQL; core/live.py ``Probed``).
PROBED = "promptdeck.probed"


def hot_request(scope: Scope) -> tuple[str, str] | None:
    """(ref, label) of a request the hot path answers; None for any other."""
    if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
        return None
    path: str = scope["path"]
    if not (path.startswith(PREFIX) and path.endswith(SUFFIX)):
        return None
    ref = path[len(PREFIX) : -len(SUFFIX)]
    # Only printable refs: a NUL or a lone surrogate must not reach the pointer read that
    # other requests share (PostgreSQL refuses them); FastAPI's route answers those (404)
    # without the cache.
    if not ref or "/" in ref or len(ref) > limits.PROMPT_NAME_MAX or not ref.isprintable():
        return None
    query: bytes = scope.get("query_string", b"")
    label = _label_of(query) if b"label=" in query else ACTIVE
    return None if label is None else (ref, label)


_WANTED = ("label", "key")


def _decoded(raw: bytes) -> str | None:
    """A query string's part, percent-decoded as UTF-8; None when it is not UTF-8 text."""
    try:
        text = raw.decode("utf-8")
        return unquote_plus(text, errors="strict") if "%" in text or "+" in text else text
    except UnicodeDecodeError:
        return None


def _params(query: bytes) -> dict[str, str | None]:
    """The last ``label`` and ``key`` of a query string (None: not UTF-8 text), blank values
    kept, as FastAPI's route reads them. One pass over the bytes, each part decoded alone
    and only when quoted: urllib's parse_qs cost ~10 µs a request."""
    found: dict[str, str | None] = {}
    for part in query.split(b"&"):
        raw, _, value = part.partition(b"=")
        name = _decoded(raw)
        if name in _WANTED:
            found[str(name)] = _decoded(value)
    return found


def _label_of(query: bytes) -> str | None:
    """The label a query string asks for (the last ``label=``; `active` when none or blank,
    as FastAPI's route reads it); None when it is not a label (FastAPI's 422)."""
    params = _params(query)
    if "label" in params and params["label"] is None:
        return None  # not UTF-8: FastAPI's route refuses it
    label = params.get("label") or ACTIVE
    if len(label) > LABEL_MAX or not LABEL_PATTERN.fullmatch(label):
        return None
    return label


def key_of(query: bytes) -> str | None:
    """The caller's key (``?key=``; the last one), exactly as sent: UTF-8 that does not
    decode, or more than 512 bytes of it, is a 422 naming ``key``, never replaced (two
    clients must not disagree on its bytes). None when the query names none."""
    params = _params(query)
    if "key" not in params:
        return None
    key = params["key"]
    if key is None:
        raise InvalidInput("key: not UTF-8 text (a lone surrogate?)", field="key")
    assign.check_key(key)
    return key


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None

"""The gate in front of the whole app (the /active hot path included): Host check, refusal
of cross-site writes and authentication, as one outer ASGI middleware. It finds who is asking
and leaves the principal (None: nobody) in ``scope["state"]``; what each route needs is
declared on the route (server/roles.py) and decided there and in the core. It reads no body.

Per request on a cache hit it costs a SHA-256 of the key, a dict lookup and one "did access
change?" check: on SQLite ``PRAGMA data_version`` (microseconds; the generation is read only
when some connection committed), on PostgreSQL one primary-key read of the generation. A
revocation bumps the generation, so every process drops its cache at its next request.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime
from urllib.parse import urlsplit

import anyio.to_thread
from sqlalchemy.engine import make_url

from promptdeck import errors
from promptdeck.core.access import Access, PostgresGeneration, SQLiteDataVersion
from promptdeck.core.live import PointerReads, Probed
from promptdeck.domain.access import OPEN, Principal
from promptdeck.domain.labels import ACTIVE
from promptdeck.server.active import PROBED, hot_request
from promptdeck.server.html import SESSION_COOKIE
from promptdeck.server.respond import (
    ASGIApp,
    Receive,
    Scope,
    Send,
    send_error,
    send_response,
    sign_in_location,
    wants_html,
)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1", "[::1]")
CACHE_MAX = 10_000


def is_loopback(host: str) -> bool:
    return host in LOOPBACK_NAMES or host.startswith("127.")


def default_allowed_hosts(bound: str) -> list[str]:
    """The names a browser may use for this server: its bound address and localhost."""
    hosts = ["localhost", "127.0.0.1", "[::1]", "::1"]
    if bound not in ("0.0.0.0", "::", "") and bound not in hosts:
        hosts.append(bound)
    return hosts


def host_of(value: str) -> str:
    """``Host`` without its port, lower-case (``[::1]:8000`` -> ``[::1]``)."""
    value = value.strip().lower()
    if value.startswith("["):
        return value.split("]", 1)[0] + "]"
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


# --- the gate ------------------------------------------------------------------------------


class AccessChanges:
    """Whether keys, people or sessions may have changed since the last look. Every change
    bumps the generation; it is above 0 once any key or person was ever created."""

    def __init__(
        self, access: Access, database_url: str, shared: PointerReads | None = None
    ) -> None:
        self.access = access
        self.generation: int | None = None
        self._sqlite: SQLiteDataVersion | None = None
        self._postgres: PostgresGeneration | None = None
        # PostgreSQL: the hot path's coalesced reads carry the generation too, so a hot-path
        # request's access check and pointer are one round trip (``probed``).
        self._shared = shared
        if make_url(database_url).get_backend_name() == "sqlite":
            self._sqlite = SQLiteDataVersion(database_url)
        elif shared is None:
            self._postgres = PostgresGeneration(database_url)

    @property
    def closed(self) -> bool:
        return bool(self.generation)

    async def refresh(self, hot: tuple[str, str] | None = None) -> tuple[bool, Probed | None]:
        """True when the caches must be dropped; and, for a hot-path request ``hot`` (ref,
        label) on a shared read, its pointers from the same read."""
        probed = None
        if self._sqlite is not None:
            if not self._sqlite.changed() and self.generation is not None:
                return False, None
            generation = self.access.generation()
        elif self._shared is not None:
            ref, label = hot if hot is not None else (None, ACTIVE)
            generation, pointers = await self._shared.probe(ref, label)
            if hot is not None:
                probed = Probed(hot[0], hot[1], pointers)
        else:
            assert self._postgres is not None
            generation = await self._postgres.read()
        changed = generation != self.generation
        self.generation = generation
        return changed, probed

    async def close(self) -> None:
        if self._sqlite is not None:
            self._sqlite.close()
        if self._postgres is not None:
            await self._postgres.close()


class Gate:
    """ASGI middleware: Host, cross-site writes, and who is asking."""

    def __init__(
        self,
        app: ASGIApp,
        access: Access,
        *,
        database_url: str,
        allowed_hosts: list[str] | None,
        cors_origins: list[str],
        open_allowed: bool,
        max_body_bytes: int,
        clock: Callable[[], datetime],
        shared: PointerReads | None = None,
    ) -> None:
        self.app = app
        self.access = access
        self.changes = AccessChanges(access, database_url, shared)
        self.any_host = allowed_hosts is None or "*" in allowed_hosts
        self.allowed_hosts = frozenset(host_of(h) for h in allowed_hosts or ())
        self.cors_origins = frozenset(o.rstrip("/") for o in cors_origins)
        self.open_allowed = open_allowed
        self.max_body_bytes = max_body_bytes
        self.clock = clock
        self.keys: dict[str, Principal | None] = {}  # SHA-256 of the key -> its principal
        self.sessions: dict[str, tuple[Principal, datetime] | None] = {}
        self._hosts_seen: dict[str, bool] = {}

    async def close(self) -> None:
        await self.changes.close()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        path: str = scope["path"]
        method: str = scope["method"]
        ui = wants_html(path)
        if not self.any_host and not self._host_allowed(headers.get("host", "")):
            await self._refuse(
                scope,
                send,
                errors.HostNotAllowed(
                    f"this server does not answer to the host {headers.get('host', '')!r} "
                    "(setting PROMPTDECK_ALLOWED_HOSTS)"
                ),
                ui,
            )
            return
        if path in ("/healthz", "/readyz"):  # load balancers probe without a key
            await self.app(scope, receive, send)
            return
        if method not in SAFE_METHODS:
            refusal = self._cross_site(headers, ui)
            if refusal is not None:
                await self._refuse(scope, send, refusal, ui)
                return
        try:
            changed, probed = await self.changes.refresh(hot_request(scope))
            if changed:
                self.keys.clear()
                self.sessions.clear()
            if probed is not None:
                scope.setdefault("state", {})[PROBED] = probed
            client = scope.get("client")
            principal = await self._principal(headers, client[0] if client else None)
        except errors.Unauthorized as exc:
            await self._unauthorized(scope, send, exc, ui, path)
            return
        except (errors.DatabaseUnavailable, errors.TooManyAttempts) as exc:
            await self._refuse(scope, send, exc, ui)
            return
        scope.setdefault("state", {})["principal"] = principal
        await self.app(scope, receive, send)

    def _host_allowed(self, host: str) -> bool:
        allowed = self._hosts_seen.get(host)
        if allowed is None:
            allowed = host_of(host) in self.allowed_hosts
            if len(self._hosts_seen) < 1000:  # a bounded memo: Host is the client's to choose
                self._hosts_seen[host] = allowed
        return allowed

    # --- who ---------------------------------------------------------------------------------

    async def _principal(self, headers: dict[str, str], address: str | None) -> Principal | None:
        """The caller; None on a closed server without credentials (the route decides).
        ``address`` (the client's) is what wrong keys are counted against."""
        authorization = headers.get("authorization")
        if authorization is not None:
            scheme, _, secret = authorization.partition(" ")
            if scheme.lower() != "bearer" or not secret.strip():
                raise errors.Unauthorized("send the key as 'Authorization: Bearer <key>'")
            return await self._key(secret.strip(), address)
        token = _cookie(headers.get("cookie", ""), SESSION_COOKIE)
        if token:
            found = await self._session(token)
            if found is not None:
                return found
        if not self.changes.closed:
            if self.open_allowed:
                return OPEN
            raise errors.Unauthorized(
                "this server has no key or user yet: create one with "
                "'promptdeck keys create --database-url …'"
            )
        return None

    async def _key(self, secret: str, address: str | None) -> Principal:
        digest = hashlib.sha256(secret.encode()).hexdigest()
        if digest in self.keys:  # a key checked before, valid or not: nothing counted
            principal = self.keys[digest]
        else:
            # A key not seen yet: refused while the address must wait (known to this
            # process: no database read), else checked and, when wrong, counted
            # (domain/access.py KEY_ADDRESS).
            if address is not None:
                self.access.key_wait(address)
            principal = await anyio.to_thread.run_sync(self.access.check_key, secret, address)
            if len(self.keys) >= CACHE_MAX:
                self.keys.clear()
            self.keys[digest] = principal
        if principal is None:
            raise errors.Unauthorized("the key is not valid (unknown or revoked)")
        if principal.expired(self.clock()):
            raise errors.Unauthorized("the key has expired")
        return principal

    async def _session(self, token: str) -> Principal | None:
        digest = hashlib.sha256(token.encode()).hexdigest()
        if digest in self.sessions:
            found = self.sessions[digest]
        else:
            found = await anyio.to_thread.run_sync(self.access.check_session, token)
            if len(self.sessions) >= CACHE_MAX:
                self.sessions.clear()
            self.sessions[digest] = found
        if found is None or self.clock() >= found[1]:
            return None
        return found[0]

    def _cross_site(self, headers: dict[str, str], ui: bool) -> errors.PromptdeckError | None:
        """Refuse an unsafe request a browser sent for another site: CSRF by form, by fetch
        with a simple content type, from a sandboxed frame (Origin: null)."""
        origin = headers.get("origin")
        if origin is not None and origin.rstrip("/") in self.cors_origins:
            foreign = False
        elif (fetch_site := headers.get("sec-fetch-site")) is not None:
            # Set by the browser itself (pages cannot forge it) and not garbled by proxies.
            foreign = fetch_site not in ("same-origin", "none")
        elif origin is not None:
            hosts = {headers.get("host", "").lower(), headers.get("x-forwarded-host", "").lower()}
            foreign = origin == "null" or urlsplit(origin).netloc.lower() not in hosts
        else:
            foreign = False  # not a browser: curl, scripts, the client
        if foreign:
            return errors.CrossSiteRefused(
                "This form was sent from another site, so it was not accepted. Open the page "
                "in promptdeck and submit it there"
                if ui
                else f"a request from another site ({origin or 'unknown origin'}) may not "
                "change anything"
            )
        if not ui:
            has_body = headers.get("content-length", "0") not in ("0", "") or (
                "transfer-encoding" in headers
            )
            media = headers.get("content-type", "").split(";", 1)[0].strip().lower()
            # OTLP's protobuf export (POST /v1/traces) too: like JSON, a type a browser must
            # ask CORS before sending, so no form or simple fetch can forge it.
            json_like = media == "application/json" or media.endswith("+json")
            if has_body and not (json_like or media == "application/x-protobuf"):
                return errors.UnsupportedMediaType(
                    "send the body as application/json", field="Content-Type"
                )
        return None

    # --- answers -----------------------------------------------------------------------------

    async def _unauthorized(
        self, scope: Scope, send: Send, exc: errors.PromptdeckError, ui: bool, path: str
    ) -> None:
        if ui and scope["method"] in ("GET", "HEAD"):
            query = scope.get("query_string", b"").decode("latin-1")
            location = sign_in_location(path, query)
            await send_response(send, 303, [(b"location", location.encode())], b"")
            return
        await self._refuse(scope, send, exc, ui)

    async def _refuse(
        self, scope: Scope, send: Send, exc: errors.PromptdeckError, ui: bool
    ) -> None:
        await send_error(send, exc, str(scope["path"]), max_body_bytes=self.max_body_bytes)


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}


def _cookie(header: str, name: str) -> str | None:
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return None

"""Webhooks: what a hook may subscribe to, where it may point, how a delivery is signed and
when a failed one is tried again. Pure rules, no SQL, no HTTP client.

A delivery's body is fixed when its event commits; every attempt signs that same body with
a fresh timestamp: ``Promptdeck-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret,
"<t>.<body>")>`` (docs/webhooks.md has the receiver's recipe)."""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from promptdeck.domain import outgoing
from promptdeck.domain.outgoing import Allowance
from promptdeck.domain.refs import EventKind
from promptdeck.errors import InvalidInput

ALL = "*"
TEST_KIND = "webhook.test"  # the "send a test" delivery; every hook receives it
SECRET_PREFIX = "whsec_"  # generated secrets start with it, so a leaked one is easy to grep for
SECRET_MIN = 16
SECRET_MAX = 200
URL_MAX = 2048
DESCRIPTION_MAX = 500
ERROR_KEEP = 300
KINDS = frozenset(str(k) for k in EventKind)

SIGNATURE_HEADER = "Promptdeck-Signature"
EVENT_HEADER = "Promptdeck-Event"
DELIVERY_HEADER = "Promptdeck-Delivery"


@dataclass(frozen=True, slots=True)
class Hook:
    """A webhook as everyone may see it (never its secret)."""

    id: int
    url: str
    events: tuple[str, ...]
    prompt_id: int | None
    prompt_name: str | None
    description: str
    enabled: bool
    created_at: datetime
    created_by: str
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class NewHook:
    """A hook just created: ``secret`` is in this answer and nowhere else it is shown."""

    hook: Hook
    secret: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class Delivery:
    """One event on its way to one hook, with its last attempt's outcome."""

    id: int
    uid: str  # the Promptdeck-Delivery header: the same on every attempt
    hook_id: int
    event_id: int | None
    kind: str
    status: str  # pending, delivered, failed
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None
    finished_at: datetime | None
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    last_duration_ms: int | None


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A claimed delivery, ready to send: the hook's address and secret with the body."""

    id: int
    uid: str
    hook_id: int
    kind: str
    url: str
    secret: str = field(repr=False)
    body: bytes
    claim: str
    attempts: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Attempt:
    """What one attempt gave: a status code or an error, and how long it took. Never the
    receiver's answer: a hook may point at an internal service, and the log must not let an
    admin read it."""

    status_code: int | None
    error: str | None
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass(frozen=True, slots=True)
class Retry:
    """When failed deliveries are tried again: ``base`` doubling up to ``cap``, with jitter,
    until ``give_up_after`` since the event (then the delivery is failed)."""

    base: timedelta
    cap: timedelta
    give_up_after: timedelta

    def delay(self, attempts: int, rng: random.Random | None = None) -> timedelta:
        """The wait after the ``attempts``-th failed attempt: the doubled delay, less a
        random part of up to half of it, so hooks that failed together spread out."""
        exp: timedelta = min(self.cap, self.base * (2 ** min(max(attempts - 1, 0), 30)))
        return exp * (1 - 0.5 * (rng or _rng).random())


_rng = random.Random()


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def check_secret(secret: str) -> str:
    if not SECRET_MIN <= len(secret) <= SECRET_MAX or not secret.isprintable():
        raise InvalidInput(
            f"secret must be {SECRET_MIN} to {SECRET_MAX} printable characters", field="secret"
        )
    return secret


def check_url(url: str, allowance: Allowance = outgoing.NOTHING) -> str:
    """An absolute http(s) URL with a host, no credentials, at most URL_MAX characters, whose
    host is not an address (in any spelling) or a name that calls out of the server may not
    reach (domain/outgoing.py), unless ``allowance`` lists it. Where a name resolves to is
    checked by the caller (core/webhooks.py) and again at each delivery."""
    if len(url) > URL_MAX:
        raise InvalidInput(f"url must be at most {URL_MAX} characters", field="url")
    if not url.isascii() or any(c.isspace() or ord(c) < 32 for c in url):
        raise InvalidInput(
            "url must be ASCII without spaces (percent-encode the rest)", field="url"
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise InvalidInput("url is not a valid URL", field="url") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput("url must be an http:// or https:// URL with a host", field="url")
    if parts.username is not None or parts.password is not None:
        raise InvalidInput("url must not hold credentials: sign with the secret", field="url")
    if port == 0:
        raise InvalidInput("url has no valid port", field="url")
    outgoing.check_url(url, allowance, field="url")
    return url


def check_events(kinds: Iterable[str]) -> tuple[str, ...]:
    """Event kinds as given (``*``: all), without repeats; at least one."""
    found: list[str] = []
    for kind in kinds:
        if kind != ALL and kind not in KINDS:
            raise InvalidInput(
                f"unknown event kind {kind[:40]!r}: use * or one of {', '.join(sorted(KINDS))}",
                field="events",
            )
        if kind not in found:
            found.append(kind)
    if not found:
        raise InvalidInput("events must name at least one kind (or *)", field="events")
    return (ALL,) if ALL in found else tuple(found)


def check_description(text: str) -> str:
    if len(text) > DESCRIPTION_MAX:
        raise InvalidInput(
            f"description must be at most {DESCRIPTION_MAX} characters", field="description"
        )
    return text


def wants(events: Iterable[str], kind: str) -> bool:
    return kind == TEST_KIND or any(e in (ALL, kind) for e in events)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The header's value for one attempt."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def clip(text: str | None, keep: int) -> str | None:
    return None if text is None else text[:keep]


def iso(at: datetime) -> str:
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def payload(uid: str, event: Mapping[str, object], prompt_name: str | None) -> bytes:
    """A delivery's body: the event as the API's /events shows it, with its prompt's name.

    ``event`` holds ``id``, ``kind``, ``prompt_id``, ``version_id``, ``from_version_id``,
    ``actor``, ``created_at`` (a datetime) and ``detail``, and may hold ``announce``: more
    keys for the event object (a version's creation: its ``contract``)."""
    created_at = event["created_at"]
    assert isinstance(created_at, datetime)
    announce = event.get("announce") or {}
    assert isinstance(announce, dict)
    body = {
        "id": uid,
        "type": event["kind"],
        "created_at": iso(created_at),
        "event": {
            "id": event.get("id"),
            "kind": event["kind"],
            "prompt_id": event.get("prompt_id"),
            "prompt_name": prompt_name,
            "version_id": event.get("version_id"),
            "from_version_id": event.get("from_version_id"),
            "actor": event.get("actor"),
            "created_at": iso(created_at),
            "detail": event.get("detail") or {},
            # What the event's operation added for hooks alone (not stored): a creation's
            # contract.
            **announce,
        },
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=str).encode()

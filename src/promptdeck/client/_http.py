"""What the sync and async clients share: requests as data, retries, problem -> error."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import httpx

from promptdeck.errors import (
    ApiError,
    Conflict,
    ConnectionFailed,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    PromptdeckError,
    ServerError,
    StaleEtag,
    error_classes,
)
from promptdeck.version import __version__

T = TypeVar("T")

DEFAULT_URL = "http://127.0.0.1:8000"
USER_AGENT = f"promptdeck-python/{__version__}"
# When a problem's code is unknown to this client (a newer server), fall back on its status.
BY_STATUS: dict[int, type[PromptdeckError]] = {
    404: NotFound,
    409: Conflict,
    412: StaleEtag,
    413: PayloadTooLarge,
    422: InvalidInput,
}


def seg(ref: str | int) -> str:
    """One path segment: a prompt id or name, quoted."""
    return quote(str(ref), safe="")


@dataclass(frozen=True, slots=True)
class Call(Generic[T]):
    """One API request and how to read its answer."""

    method: str
    path: str
    parse: Callable[[httpx.Response], T]
    params: dict[str, Any] | None = None
    json: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    # Safe to send again after a timeout or a 5xx (reads, idempotency-keyed creates,
    # rollbacks). Anything may be retried when the connection was never made.
    retry: bool = False
    ok: tuple[int, ...] = (200, 201, 204)
    timeout: float | None = None  # None: the client's


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    retries: int = 2
    backoff: float = 0.1
    backoff_max: float = 2.0

    def delay(self, attempt: int) -> float:
        base = min(self.backoff_max, self.backoff * 2**attempt)
        return float(base * (0.5 + random.random() / 2))


def should_retry(call: Call[Any], exc: Exception | None, response: httpx.Response | None) -> bool:
    if exc is not None:
        return call.retry or isinstance(exc, httpx.ConnectError)
    return call.retry and response is not None and response.status_code >= 500


def transport_error(call: Call[Any], base_url: str, exc: Exception) -> ConnectionFailed:
    kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "failed"
    return ConnectionFailed(
        f"{call.method} {base_url}{call.path} {kind}: {exc or type(exc).__name__}"
    )


def error_from(response: httpx.Response) -> PromptdeckError:
    """The error class named by the problem's ``type`` (its last segment is the code), with
    the problem's fields kept on the exception (status, title, detail, field)."""
    status = response.status_code
    body: dict[str, Any] = {}
    try:
        parsed = response.json()
        if isinstance(parsed, dict):
            body = parsed
    except ValueError:
        pass
    code = str(body.get("type", "")).rstrip("/").rsplit("/", 1)[-1]
    cls = error_classes().get(code) if code else None
    if cls is None or cls in (PromptdeckError, ApiError):
        cls = BY_STATUS.get(status, ServerError if status >= 500 else ApiError)
    detail = str(body.get("detail") or response.text[:500] or response.reason_phrase)
    extra = {k: body[k] for k in ("type", "instance", "errors") if k in body}
    return cls(
        detail,
        field=body.get("field"),
        status=status,
        title=str(body.get("title") or response.reason_phrase or cls.title),
        **extra,
    )


def result(call: Call[T], response: httpx.Response) -> T:
    if response.status_code in call.ok:
        return call.parse(response)
    raise error_from(response)


def headers(api_key: str | None, actor: str | None) -> dict[str, str]:
    out = {"User-Agent": USER_AGENT, "Accept": "application/json"}
    if api_key:
        out["Authorization"] = f"Bearer {api_key}"
    if actor:
        out["X-Actor"] = actor
    return out

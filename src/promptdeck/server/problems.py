"""RFC 9457 problem documents: the one table from error to HTTP status, the document's body,
and the OpenAPI declarations of the problems a route can answer (server/respond.py sends them)."""

from __future__ import annotations

import json
import logging
from typing import Any

from promptdeck import errors
from promptdeck.schemas import Problem

log = logging.getLogger("promptdeck")

PROBLEM_TYPE_BASE = "https://promptdeck.dev/problems/"
MEDIA_TYPE = "application/problem+json"

STATUS: dict[type[errors.PromptdeckError], int] = {
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.StaleEtag: 412,
    errors.InvalidInput: 422,
    errors.ExportMalformed: 400,
    errors.IdempotencyKeyReused: 422,
    errors.PayloadTooLarge: 413,
    errors.DatabaseUnavailable: 503,
    errors.Unauthorized: 401,
    errors.Forbidden: 403,
    errors.UnsupportedMediaType: 415,
    errors.TooManyAttempts: 429,
    errors.RateLimited: 429,
    errors.HostNotAllowed: 400,
    errors.OutgoingRefused: 422,
    errors.ProviderUnavailable: 502,
    errors.ProviderTimeout: 504,
    errors.ProviderRefused: 422,
    errors.ProviderKeyUnusable: 409,
    errors.RolloutNotFound: 404,
    errors.RolloutInProgress: 409,
    errors.RolloutStateConflict: 409,
    errors.ContractInvalid: 422,
    errors.VariablesInvalid: 422,
    errors.VariablesTooLarge: 422,
}

RETRY_AFTER_SECONDS = "1"  # sent with every 503


def headers_of(status: int) -> dict[str, str] | None:
    return {"Retry-After": RETRY_AFTER_SECONDS} if status == 503 else None


def status_of(exc: errors.PromptdeckError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


def problem_body(
    status: int,
    code: str,
    title: str,
    detail: str,
    *,
    instance: str | None = None,
    field: str | None = None,
    errors_: list[dict[str, Any]] | None = None,
) -> bytes:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance is not None:
        body["instance"] = instance
    if field is not None:
        body["field"] = field
    if errors_ is not None:
        body["errors"] = errors_
    return json.dumps(body, ensure_ascii=False).encode()


RESPONSE_DESCRIPTIONS = {
    400: "Malformed JSON or bad request",
    404: "Prompt or version not found",
    409: "Conflict (name taken, version unavailable…)",
    412: "If-Match does not match the current ETag",
    413: "Request body larger than the configured limit",
    401: "No key, or a key that is unknown, revoked or expired",
    403: "The key's role does not allow this, a cross-site write, a protected label, or "
    "approving one's own deploy request",
    415: "The body is not application/json",
    503: "The database is unavailable or busy; retry after Retry-After seconds",
    422: "Invalid input; `field` names the failing field",
    429: "Too many requests from this key; retry after Retry-After seconds",
    502: "The model provider could not be reached, failed or kept refusing with 429",
    504: "The model provider did not answer within its timeouts",
}


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI declarations of the problem responses a route can give."""
    return {
        s: {
            "model": Problem,
            "description": RESPONSE_DESCRIPTIONS.get(s, "Error"),
            "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for s in statuses
    }

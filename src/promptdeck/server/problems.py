"""RFC 9457 problem responses: the one table from error to HTTP status."""

from __future__ import annotations

import json
import logging
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute, Match

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


def problem_response(status: int, body: bytes, headers: dict[str, str] | None = None) -> Response:
    return Response(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def from_error(exc: errors.PromptdeckError, instance: str | None = None) -> Response:
    status = status_of(exc)
    headers = headers_of(status)
    wait = exc.extra.get("retry_after")
    if status == 429 and isinstance(wait, int | float):  # whole seconds, at least one
        headers = {"Retry-After": str(max(1, math.ceil(wait)))}
    return problem_response(
        status,
        problem_body(status, exc.code, exc.title, exc.detail, instance=instance, field=exc.field),
        headers=headers,
    )


def _field_of(loc: Any) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or str(loc[0] if loc else "body")


def _clean(err: dict[str, Any]) -> dict[str, Any]:
    out = {"loc": list(err.get("loc", ())), "msg": err.get("msg", ""), "type": err.get("type", "")}
    return {k: (v if isinstance(v, str | list) else str(v)) for k, v in out.items()}


HTTP_TITLES = {
    400: ("bad-request", "Bad request"),
    401: ("unauthorized", "Unauthorized"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    406: ("not-acceptable", "Not acceptable"),
    413: ("payload-too-large", "Payload too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
}


def _ui_page(
    request: Request, status: int, title: str, message: str, headers: dict[str, str]
) -> Response:
    """A UI error is a page, with the UI's security headers, not problem+json."""
    from promptdeck.server.ui.view import SECURITY_HEADERS, render  # the UI imports this module

    page = render(request, "error.html", status, title=title, message=message)
    page.headers.update({**SECURITY_HEADERS, **headers})
    return page


def allowed_methods(request: Request) -> str:
    """Every method some route offers at this path (Starlette names only the first route's,
    and GET and POST /prompts are two routes)."""
    routes: list[BaseRoute] = request.app.router.routes
    methods = {
        method
        for method in ("DELETE", "GET", "PATCH", "POST", "PUT")
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes
        )
    }
    if "GET" in methods:
        methods.add("HEAD")
    return ", ".join(sorted(methods))


def install(app: FastAPI) -> None:
    @app.exception_handler(errors.PromptdeckError)
    async def _domain(request: Request, exc: errors.PromptdeckError) -> Response:
        return from_error(exc, instance=request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        errs = [_clean(dict(e)) for e in exc.errors()]
        if any(e["type"] == "json_invalid" for e in errs):
            return problem_response(
                400,
                problem_body(
                    400,
                    "malformed-json",
                    "Malformed JSON",
                    "the request body is not valid JSON",
                    instance=request.url.path,
                ),
            )
        first = errs[0] if errs else {"loc": ["body"], "msg": "invalid"}
        field = _field_of(first["loc"])
        detail = f"{field}: {first['msg']}"
        return problem_response(
            422,
            problem_body(
                422,
                "validation-error",
                "Invalid input",
                detail,
                instance=request.url.path,
                field=field,
                errors_=errs,
            ),
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        code, title = HTTP_TITLES.get(exc.status_code, ("http-error", "HTTP error"))
        detail = exc.detail if isinstance(exc.detail, str) else title
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no resource at {request.url.path}"
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = allowed_methods(request)
        if request.url.path.startswith("/ui/"):
            return _ui_page(request, exc.status_code, title, f"{title}: {detail}.", headers)
        return problem_response(
            exc.status_code,
            problem_body(exc.status_code, code, title, detail, instance=request.url.path),
            headers=headers,
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        if request.url.path.startswith("/ui/"):
            message = "The server failed to handle this page; it has been logged."
            return _ui_page(request, 500, "Internal server error", message, {})
        return problem_response(
            500,
            problem_body(
                500,
                "internal-error",
                "Internal server error",
                "the server failed to handle the request; it has been logged",
                instance=request.url.path,
            ),
        )


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

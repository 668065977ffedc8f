"""One way to answer: the ASGI plumbing, the security headers, whether a path wants a page or
a problem document, and turning an error into a response.

Every face and middleware answers through here (Datasette's ``handle_exception``: the status
from the exception, a page or a document by the path): the gate and the body limit before
FastAPI, the hot path beside it, FastAPI's exception handlers and the UI's pages inside it.
The status of each error is ``server/problems.py``'s table.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute, Match

from promptdeck import errors
from promptdeck.server import html
from promptdeck.server.problems import MEDIA_TYPE, headers_of, log, problem_body, status_of

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
_SECURITY: Headers = [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
_HTML: Headers = [(b"content-type", b"text/html; charset=utf-8"), *_SECURITY]

# Pages, not documents: the UI, and the two addresses a browser opens by hand.
PAGE_PATHS = frozenset({"/", "/ui", "/docs"})

# Field names as a form labels them, for sentences about a form's input.
FIELD_LABELS = {
    "name": "Name",
    "description": "Description",
    "tags": "Tags",
    "content": "Content",
    "llm_config": "Model config",
    "model_config": "Model config",
    "contract": "Contract",
    "accept_breaking": "Accept the breaking change",
    "version_name": "Version name",
    "version_description": "Version description",
    "actor": "Your name",
    "min_success": "Min success",
    "window_minutes": "Window",
    "min_count": "Min count",
    "cases": "Cases",
    "file": "File",
    "format": "Format",
    "test_set": "Test set",
    "version_ids": "Versions",
    "evaluators": "Evaluators",
    "provider": "Model",
    "thresholds": "Least pass rates",
}


def wants_html(path: str) -> bool:
    """Whether an answer at ``path`` is a page (the UI) or a problem document (the API)."""
    return path.startswith("/ui/") or path in PAGE_PATHS


def sign_in_location(path: str, query: str) -> str:
    """Where a page sends a stranger: sign in, then back to the page."""
    target = path + (f"?{query}" if query else "")
    return f"/ui/sign-in?next={quote(target, safe='')}"


async def send_response(send: Send, status: int, headers: Headers, body: bytes) -> None:
    """A whole response from an ASGI handler (no streaming)."""
    if status != 304 and not any(k == b"content-length" for k, _ in headers):
        headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


# --- an error as a problem document or a page ---------------------------------------------


def _problem_headers(exc: errors.PromptdeckError, status: int) -> dict[str, str]:
    headers = dict(headers_of(status) or {})
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="promptdeck"'
    wait = exc.extra.get("retry_after")
    if status == 429 and isinstance(wait, int | float):  # whole seconds, at least one
        headers["Retry-After"] = str(max(1, math.ceil(wait)))
    return headers


def problem_parts(exc: errors.PromptdeckError, path: str) -> tuple[int, Headers, bytes]:
    status = status_of(exc)
    listed = exc.extra.get("errors")  # every failing path of a variables-invalid, say
    body = problem_body(
        status,
        exc.code,
        exc.title,
        exc.detail,
        instance=path,
        field=exc.field,
        errors_=listed if isinstance(listed, list) else None,
    )
    headers = [(b"content-type", MEDIA_TYPE.encode())]
    headers += [(k.lower().encode(), v.encode()) for k, v in _problem_headers(exc, status).items()]
    return status, headers, body


def sentence(text: str) -> str:
    """An error's detail as a sentence on a page."""
    text = text.rstrip(".")
    return f"{text[:1].upper()}{text[1:]}."


def page_parts(
    status: int, title: str, message: str, path: str, max_body_bytes: int
) -> tuple[int, Headers, bytes]:
    """An error page without a request (before FastAPI): no signed-in context."""
    page = html.page_html(
        "error.html",
        path=path,
        actor="",
        max_body_bytes=max_body_bytes,
        title=title,
        message=message,
    )
    return status, _HTML, page.encode()


async def send_error(
    send: Send, exc: errors.PromptdeckError, path: str, *, max_body_bytes: int
) -> None:
    """An error answered by an ASGI middleware: a page under the UI, a problem elsewhere."""
    if wants_html(path):
        status, headers, body = page_parts(
            status_of(exc), exc.title, sentence(exc.detail), path, max_body_bytes
        )
        headers = [*headers, *_problem_extra(exc)]
    else:
        status, headers, body = problem_parts(exc, path)
    await send_response(send, status, headers, body)


def _problem_extra(exc: errors.PromptdeckError) -> Headers:
    status = status_of(exc)
    extra = _problem_headers(exc, status)
    extra.pop("WWW-Authenticate", None)  # a page asks nobody for a bearer key
    return [(k.lower().encode(), v.encode()) for k, v in extra.items()]


async def send_unexpected(send: Send, scope: Scope) -> None:
    """A bug in an ASGI handler: logged, and a 500 problem (never uvicorn's text/plain)."""
    log.exception("unexpected error on %s %s", scope["method"], scope["path"])
    body = problem_body(
        500,
        "internal-error",
        "Internal server error",
        "the server failed to handle the request; it has been logged",
        instance=scope["path"],
    )
    await send_response(send, 500, [(b"content-type", MEDIA_TYPE.encode())], body)


# --- inside FastAPI: the exception handlers and the UI's pages --------------------------------


def message_of(exc: Exception) -> str:
    """A sentence a person can act on, from a domain or validation error."""
    if isinstance(exc, errors.StaleEtag):
        return (
            "Someone else changed this prompt since you opened this page. Nothing was saved. "
            "Your text is still below: check the latest state, then submit again."
        )
    if isinstance(exc, ValidationError | RequestValidationError):
        first = exc.errors()[0]
        loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path")]
        label = FIELD_LABELS.get(loc[0], loc[0]) if loc else "Input"
        msg = str(first.get("msg", "is invalid")).removeprefix("Value error, ")
        if first.get("type") == "string_pattern_mismatch":
            msg = "use lowercase letters, digits, '.', '_' and '-', starting with a letter or digit"
        return f"{label}: {msg[:1].lower()}{msg[1:]}."
    if isinstance(exc, errors.PromptdeckError):
        if exc.field:
            label = FIELD_LABELS.get(exc.field, exc.field)
            if exc.detail.startswith(f"{exc.field}:"):
                # The detail names its path already (a contract's): label its first part.
                label = FIELD_LABELS.get(exc.field.split(".")[0].split("[")[0], "Input")
            return f"{label}: {exc.detail.rstrip('.')}."
        return sentence(exc.detail)
    return "Something went wrong."


def status_for(exc: Exception) -> int:
    if isinstance(exc, errors.PromptdeckError):
        return status_of(exc)
    return 422


def error_page(request: Request, exc: Exception) -> Response:
    """A UI error as a page, with the signed-in context (the UI's forms and routes). A page
    that needs someone signed in sends a stranger to sign in."""
    if isinstance(exc, errors.Unauthorized) and request.method in ("GET", "HEAD"):
        where = sign_in_location(request.url.path, request.url.query)
        return with_security_headers(RedirectResponse(where, status_code=303))
    status = status_for(exc)
    title = exc.title if isinstance(exc, errors.PromptdeckError) else "Invalid input"
    message = message_of(exc)
    if isinstance(exc, RequestValidationError):
        in_path = any(e.get("loc", ("",))[0] == "path" for e in exc.errors())
        status, title = (404, "Page not found") if in_path else (400, "Bad request")
        if in_path:
            message = f"There is no page at {request.url.path}."
    name = request.path_params.get("name") if isinstance(exc, errors.PromptNotFound) else None
    page = html.render(request, "error.html", status, title=title, message=message, deleted=name)
    if isinstance(exc, errors.PromptdeckError):
        page.headers.update(
            {k: v for k, v in _problem_headers(exc, status).items() if k != "WWW-Authenticate"}
        )
    return with_security_headers(page)


def with_security_headers(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    return response


def error_response(request: Request, exc: errors.PromptdeckError) -> Response:
    """A domain error raised in a route: a page under the UI, a problem elsewhere."""
    path = request.url.path
    if wants_html(path):
        return error_page(request, exc)
    status, headers, body = problem_parts(exc, path)
    return Response(body, status_code=status, headers={k.decode(): v.decode() for k, v in headers})


def _problem(status: int, body: bytes, headers: dict[str, str] | None = None) -> Response:
    return Response(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


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


def _field_of(loc: Any) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or str(loc[0] if loc else "body")


def _clean(err: dict[str, Any]) -> dict[str, Any]:
    out = {"loc": list(err.get("loc", ())), "msg": err.get("msg", ""), "type": err.get("type", "")}
    return {k: (v if isinstance(v, str | list) else str(v)) for k, v in out.items()}


def _page(
    request: Request, status: int, title: str, message: str, headers: dict[str, str]
) -> Response:
    page = html.render(request, "error.html", status, title=title, message=message)
    page.headers.update(headers)
    return with_security_headers(page)


def install(app: FastAPI) -> None:
    """FastAPI's exception handlers: every error a route raises, answered through here."""

    @app.exception_handler(errors.PromptdeckError)
    async def _domain(request: Request, exc: errors.PromptdeckError) -> Response:
        return error_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        errs = [_clean(dict(e)) for e in exc.errors()]
        path = request.url.path
        if any(e["type"] == "json_invalid" for e in errs):
            return _problem(
                400,
                problem_body(
                    400,
                    "malformed-json",
                    "Malformed JSON",
                    "the request body is not valid JSON",
                    instance=path,
                ),
            )
        first = errs[0] if errs else {"loc": ["body"], "msg": "invalid"}
        field = _field_of(first["loc"])
        return _problem(
            422,
            problem_body(
                422,
                "validation-error",
                "Invalid input",
                f"{field}: {first['msg']}",
                instance=path,
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
        if wants_html(request.url.path):
            return _page(request, exc.status_code, title, f"{title}: {detail}.", headers)
        return _problem(
            exc.status_code,
            problem_body(exc.status_code, code, title, detail, instance=request.url.path),
            headers=headers,
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        if wants_html(request.url.path):
            message = "The server failed to handle this page; it has been logged."
            return _page(request, 500, "Internal server error", message, {})
        return _problem(
            500,
            problem_body(
                500,
                "internal-error",
                "Internal server error",
                "the server failed to handle the request; it has been logged",
                instance=request.url.path,
            ),
        )

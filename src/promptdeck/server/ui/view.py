"""Rendering for the UI: the Jinja environment, security headers, the actor, small filters.

Prompt text is data: it is only ever passed to autoescaped templates as a value, never
compiled as a template (research/reliability.md 6.2).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Coroutine
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlencode, urlsplit

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from pydantic import ValidationError

from promptdeck import errors
from promptdeck.domain import templates, values
from promptdeck.domain.access import OPEN, Principal, Role
from promptdeck.domain.caller import Caller
from promptdeck.domain.diff import Skip
from promptdeck.limits import ACTOR_MAX
from promptdeck.server.problems import status_of

HERE = Path(__file__).parent
NOBODY = Principal(name="", role=Role.read, kind="nobody")  # not signed in, server closed
ACTOR_COOKIE = "promptdeck_actor"
SESSION_COOKIE = "promptdeck_session"
CSRF_COOKIE = "promptdeck_csrf"  # the sign-in form's token, before there is a session

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}

FIELD_LABELS = {
    "name": "Name",
    "description": "Description",
    "tags": "Tags",
    "content": "Content",
    "llm_config": "Model config",
    "model_config": "Model config",
    "version_name": "Version name",
    "version_description": "Version description",
    "actor": "Your name",
    "min_success": "Min success",
    "window_minutes": "Window",
    "min_count": "Min count",
}


def variables(content: str | None) -> list[str]:
    """The ``{{ name }}`` placeholders of a prompt, each once, in order of appearance."""
    return templates.variables("text", "plain", content or "")


def when(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def ago(value: datetime | None, now: datetime | None = None) -> str:
    if value is None:
        return ""
    seconds = int(((now or datetime.now(UTC)) - value.astimezone(UTC)).total_seconds())
    if seconds < 60:
        return "just now"
    for size, unit in ((86400 * 365, "year"), (86400 * 30, "month"), (86400, "day")):
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'s' if n > 1 else ''} ago"
    for size, unit in ((3600, "hour"), (60, "minute")):
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'s' if n > 1 else ''} ago"
    return "just now"  # pragma: no cover


def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


def short_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


env = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"], default_for_string=True, default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
env.filters.update(when=when, ago=ago, pretty_json=pretty_json, short_json=short_json)
env.globals.update(variables=variables)
env.tests.update(skip=lambda value: isinstance(value, Skip))


def page_html(template: str, *, path: str, actor: str, max_body_bytes: int, **context: Any) -> str:
    """A page's HTML; ``max_body_bytes`` lets the page's script stop over-large forms."""
    context.setdefault("me", None)
    context.setdefault("can_write", True)
    context.setdefault("can_admin", False)
    context.setdefault("csrf", "")
    return env.get_template(template).render(
        path=path, actor=actor, max_body_bytes=max_body_bytes, **context
    )


def principal(request: Request) -> Principal:
    """Who is asking (set by the gate, server/security.py); OPEN without it."""
    found = getattr(request.state, "principal", OPEN)
    return found if isinstance(found, Principal) else NOBODY


def csrf_token(request: Request) -> str:
    """The token a signed-in person's forms carry: derived from the session cookie, which a
    page of another site can neither read nor send (SameSite)."""
    session = request.cookies.get(SESSION_COOKIE, "")
    if not session:
        return ""
    return hashlib.sha256(b"csrf:" + session.encode()).hexdigest()[:32]


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    me = principal(request)
    context.setdefault("actor", actor_cookie(request))
    context.setdefault("max_body_bytes", request.app.state.settings.max_body_bytes)
    context.setdefault("me", me if me.kind in ("key", "user") else None)
    context.setdefault("can_write", me.kind != "nobody" and me.may(Role.write))
    context.setdefault("can_admin", me.kind != "nobody" and me.may(Role.admin))
    context.setdefault("csrf", csrf_token(request))
    html = page_html(template, path=request.url.path, **context)
    return HTMLResponse(html, status_code=status_code)


def redirect(path: str, **params: str | int | None) -> RedirectResponse:
    """POST-redirect-GET: 303 so the browser fetches the result with GET."""
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return RedirectResponse(f"{path}?{query}" if query else path, status_code=303)


def actor_cookie(request: Request) -> str:
    # Quoted: a cookie is Latin-1 on the wire, a name may be in any script.
    return unquote(request.cookies.get(ACTOR_COOKIE, ""))[:ACTOR_MAX]


def acting(request: Request, caller: Caller, typed: str = "") -> Caller:
    """The caller of a form. A signed-in person or a key is its own name; on an open server
    the change is recorded under the name typed in the form, the remembered one, X-Actor,
    or web."""
    if caller.kind != "open":
        return caller
    return replace(caller, actor=_typed_actor(request, typed))


def actor_of(request: Request, typed: str = "") -> str:
    """Who makes a change (the name ``acting`` gives the caller)."""
    me = principal(request)
    return me.name if me.kind != "open" else _typed_actor(request, typed)


def _typed_actor(request: Request, typed: str) -> str:
    name = typed.strip() or actor_cookie(request) or request.headers.get("x-actor", "")
    try:
        values.check_text(name)
    except ValueError as exc:
        raise errors.InvalidInput(str(exc), field="actor") from exc
    return name.strip()[:ACTOR_MAX] or "web"


def remember_actor(response: Response, typed: str) -> Response:
    if typed.strip():
        # Percent-encoded: a cookie is Latin-1 on the wire, a name may be any text.
        response.set_cookie(
            ACTOR_COOKIE,
            quote(typed.strip()[:ACTOR_MAX], safe=""),
            max_age=365 * 86400,
            samesite="lax",
        )
    return response


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
        detail = exc.detail.rstrip(".")
        if exc.field:
            label = FIELD_LABELS.get(exc.field, exc.field)
            return f"{label}: {detail}."
        return f"{detail[:1].upper()}{detail[1:]}."
    return "Something went wrong."


def status_for(exc: Exception) -> int:
    if isinstance(exc, errors.PromptdeckError):
        return status_of(exc)
    return 422


def error_page(request: Request, exc: Exception) -> HTMLResponse:
    status = status_for(exc)
    title = exc.title if isinstance(exc, errors.PromptdeckError) else "Invalid input"
    message = message_of(exc)
    if isinstance(exc, RequestValidationError):
        in_path = any(e.get("loc", ("",))[0] == "path" for e in exc.errors())
        status, title = (404, "Page not found") if in_path else (400, "Bad request")
        if in_path:
            message = f"There is no page at {request.url.path}."
    name = request.path_params.get("name") if isinstance(exc, errors.PromptNotFound) else None
    return render(request, "error.html", status, title=title, message=message, deleted=name)


def cross_site(request: Request) -> bool:
    """A form posted from another site (CSRF). Browsers say where a request comes from in
    Sec-Fetch-Site, which a reverse proxy cannot garble; older ones send an Origin to compare
    with the host the browser asked for."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site not in ("same-origin", "none")
    origin = request.headers.get("origin")
    if origin is None:
        return False  # not a browser form: curl, scripts
    hosts = {request.headers.get("host"), request.headers.get("x-forwarded-host")}
    return origin == "null" or urlsplit(origin).netloc not in hosts


def same_token(sent: str, expected: str) -> bool:
    """A constant-time comparison of a sent token with the expected one. Both are compared
    as UTF-8 bytes: ``hmac.compare_digest`` raises TypeError on a str that is not ASCII,
    and a form field or a cookie can hold any text."""
    return hmac.compare_digest(
        sent.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass")
    )


async def forged(request: Request) -> bool:
    """A signed-in person's form without its CSRF token (on an open server, with no session,
    the Origin and Sec-Fetch-Site checks alone guard the forms)."""
    if principal(request).kind != "user" or request.url.path == "/ui/sign-in":
        return False  # the sign-in form has its own token (server/ui/session.py)
    expected = csrf_token(request)
    sent = (await request.form()).get("csrf")
    return not expected or not isinstance(sent, str) or not same_token(sent, expected)


class UIRoute(APIRoute):
    """A page route: security headers on every answer; errors become readable pages; forms
    posted from another site are refused."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                response: Response
                if request.method == "POST" and await forged(request):
                    response = render(
                        request,
                        "error.html",
                        403,
                        title="Refused",
                        message="This form is out of date or was sent from another site, so "
                        "it was not accepted. Reload the page and submit it again.",
                    )
                elif request.method == "POST" and cross_site(request):
                    response = render(
                        request,
                        "error.html",
                        403,
                        title="Refused",
                        message="This form was sent from another site, so it was not accepted. "
                        "Open the page in promptdeck and submit it there.",
                    )
                else:
                    response = await original(request)
            except (errors.PromptdeckError, RequestValidationError) as exc:
                response = error_page(request, exc)
            response.headers.update(SECURITY_HEADERS)
            return response

        return handler

"""What every UI page shares beyond rendering (server/html.py): redirects, who makes a change,
the form token, and ``UIRoute``, which answers a page route's errors through
server/respond.py and refuses a signed-in person's forms without their token.

Cross-site form posts never reach a page: the gate refuses them (server/security.py).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Coroutine
from dataclasses import replace
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute

from promptdeck import errors
from promptdeck.domain import values
from promptdeck.domain.caller import Caller
from promptdeck.limits import ACTOR_MAX
from promptdeck.server.html import ACTOR_COOKIE, actor_cookie, csrf_token, render
from promptdeck.server.respond import error_page, with_security_headers
from promptdeck.server.roles import caller_of


def redirect(path: str, **params: str | int | None) -> RedirectResponse:
    """POST-redirect-GET: 303 so the browser fetches the result with GET."""
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return RedirectResponse(f"{path}?{query}" if query else path, status_code=303)


def acting(request: Request, caller: Caller, typed: str = "") -> Caller:
    """The caller of a form. A signed-in person or a key is its own name; on an open server
    the change is recorded under the name typed in the form, the remembered one, X-Actor,
    or web."""
    if caller.kind != "open":
        return caller
    return replace(caller, actor=_typed_actor(request, typed))


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


def same_token(sent: str, expected: str) -> bool:
    """A constant-time comparison of a sent token with the expected one. Both are compared
    as UTF-8 bytes: ``hmac.compare_digest`` raises TypeError on a str that is not ASCII,
    and a form field or a cookie can hold any text."""
    return hmac.compare_digest(
        sent.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass")
    )


async def forged(request: Request) -> bool:
    """A signed-in person's form without its CSRF token (on an open server, with no session,
    the gate's Origin and Sec-Fetch-Site checks alone guard the forms)."""
    me = caller_of(request.scope)
    if me is None or me.kind != "user" or request.url.path == "/ui/sign-in":
        return False  # the sign-in form has its own token (server/ui/session.py)
    expected = csrf_token(request)
    sent = (await request.form()).get("csrf")
    return not expected or not isinstance(sent, str) or not same_token(sent, expected)


class UIRoute(APIRoute):
    """A page route: security headers on every answer; errors become readable pages; a
    signed-in person's forms without their token are refused."""

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
                else:
                    response = await original(request)
            except (errors.PromptdeckError, RequestValidationError) as exc:
                response = error_page(request, exc)
            return with_security_headers(response)

        return handler

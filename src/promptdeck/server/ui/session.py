"""Signing in and out of the web UI, and the audit page for admins."""

from __future__ import annotations

import secrets
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import HTMLResponse

from promptdeck import errors
from promptdeck.server.deps import AccessDep
from promptdeck.server.html import CSRF_COOKIE, SESSION_COOKIE, render
from promptdeck.server.respond import status_for
from promptdeck.server.roles import Admin, Public, Reader
from promptdeck.server.ui.view import UIRoute, redirect, same_token

router = APIRouter(prefix="/ui", route_class=UIRoute, include_in_schema=False)

Text = Annotated[str, Form()]
AUDIT_PAGE = 50


def _next(target: str) -> str:
    """Where to go after signing in: a page of this server only (no open redirect)."""
    if target.startswith(("/ui/", "/docs")) and not target.startswith("//"):
        return target
    return "/ui/"


def _secure(request: Request) -> bool:
    return request.url.scheme == "https" or bool(request.app.state.settings.secure_cookies)


def _sign_in_page(
    request: Request, *, next_: str, name: str = "", error: str | None = None, status: int = 200
) -> HTMLResponse:
    token = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
    page = render(
        request, "sign_in.html", status, next=_next(next_), name=name, error=error, csrf=token
    )
    page.set_cookie(
        CSRF_COOKIE, token, httponly=True, samesite="strict", secure=_secure(request), path="/ui/"
    )
    return page


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_form(
    request: Request, _caller: Public, next: Annotated[str, Query(max_length=2000)] = "/ui/"
) -> HTMLResponse:
    return _sign_in_page(request, next_=next)


@router.post("/sign-in", response_class=HTMLResponse)
def sign_in(
    request: Request,
    access: AccessDep,
    _caller: Public,
    name: Text = "",
    password: Text = "",
    csrf: Text = "",
    next: Text = "/ui/",
) -> Response:
    expected = request.cookies.get(CSRF_COOKIE, "")
    if not expected or not same_token(csrf, expected):
        return _sign_in_page(
            request,
            next_=next,
            name=name,
            error="The sign-in form had expired. Please sign in again.",
            status=403,
        )
    try:
        address = request.client.host if request.client else None
        signed_in = access.sign_in(name.strip(), password, address=address)
    except (errors.Unauthorized, errors.TooManyAttempts) as exc:
        page = _sign_in_page(
            request,
            next_=next,
            name=name,
            error=exc.detail[:1].upper() + exc.detail[1:] + ".",
            status=status_for(exc),
        )
        if isinstance(exc, errors.TooManyAttempts):
            page.headers["Retry-After"] = str(exc.extra.get("retry_after", 1))
        return page
    done = redirect(_next(next))
    done.set_cookie(
        SESSION_COOKIE,
        signed_in.token,
        max_age=7 * 86400,
        httponly=True,
        samesite="lax",
        secure=_secure(request),
        path="/",
    )
    done.delete_cookie(CSRF_COOKIE, path="/ui/")
    return done


@router.post("/sign-out", response_class=HTMLResponse)
def sign_out(request: Request, access: AccessDep, _caller: Reader) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        access.sign_out(token)
    done = redirect("/ui/sign-in")
    done.delete_cookie(SESSION_COOKIE, path="/")
    return done


@router.get("/audit", response_class=HTMLResponse)
def audit(
    request: Request,
    access: AccessDep,
    caller: Admin,
    prompt: Annotated[str, Query(max_length=128)] = "",
    actor: Annotated[str, Query(max_length=128)] = "",
    kind: Annotated[str, Query(max_length=40)] = "",
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> HTMLResponse:
    """Every prompt's events (admins)."""
    filters = {"prompt": prompt.strip(), "actor": actor.strip(), "kind": kind.strip()}
    page = access.list_events(
        limit=AUDIT_PAGE,
        cursor=cursor,
        prompt=filters["prompt"] or None,
        actor=filters["actor"] or None,
        kind=filters["kind"] or None,
        prefixes=caller.prefixes,
    )
    query = urlencode({k: v for k, v in filters.items() if v})
    return render(request, "audit.html", page=page, filters=filters, cursor=cursor, query=query)

"""The UI's pages as HTML: the Jinja environment, its filters, and the context every page
gets (who is asking, whether they may write, the form token).

Prompt text is data: it is only ever passed to autoescaped templates as a value, never
compiled as a template (research/reliability.md 6.2).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from promptdeck.domain import templates
from promptdeck.domain.access import Role
from promptdeck.domain.diff import Skip
from promptdeck.domain.timefmt import ago, when
from promptdeck.limits import ACTOR_MAX
from promptdeck.server import contract_view
from promptdeck.server.roles import caller_of

HERE = Path(__file__).parent / "ui"
ACTOR_COOKIE = "promptdeck_actor"
SESSION_COOKIE = "promptdeck_session"
CSRF_COOKIE = "promptdeck_csrf"  # the sign-in form's token, before there is a session


def variables(content: str | None) -> list[str]:
    """The ``{{ name }}`` placeholders of a prompt, each once, in order of appearance."""
    return templates.variables("text", "plain", content or "")


def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


def short_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _ago(value: datetime | None, now: datetime | None = None) -> str:
    return "" if value is None else ago(value, now or datetime.now(UTC))


env = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"], default_for_string=True, default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
env.filters.update(when=when, ago=_ago, pretty_json=pretty_json, short_json=short_json)
env.filters.update(contract_view.FILTERS)
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


def csrf_token(request: Request) -> str:
    """The token a signed-in person's forms carry: derived from the session cookie, which a
    page of another site can neither read nor send (SameSite)."""
    session = request.cookies.get(SESSION_COOKIE, "")
    if not session:
        return ""
    return hashlib.sha256(b"csrf:" + session.encode()).hexdigest()[:32]


def actor_cookie(request: Request) -> str:
    # Quoted: a cookie is Latin-1 on the wire, a name may be in any script.
    return unquote(request.cookies.get(ACTOR_COOKIE, ""))[:ACTOR_MAX]


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    me = caller_of(request.scope)  # what a page offers, by the Caller the routes check
    context.setdefault("actor", actor_cookie(request))
    context.setdefault("max_body_bytes", request.app.state.settings.max_body_bytes)
    context.setdefault("me", me if me is not None and me.kind in ("key", "user") else None)
    context.setdefault("can_write", me is not None and me.may(Role.write))
    context.setdefault("can_admin", me is not None and me.may(Role.admin))
    context.setdefault("csrf", csrf_token(request))
    html = page_html(template, path=request.url.path, **context)
    return HTMLResponse(html, status_code=status_code)

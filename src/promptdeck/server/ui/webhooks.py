"""Webhooks in the web UI (admins who may see every prompt: ``HookAdmin``): the list with a
form to add one, and each hook's page with its delivery log, "send a test", pause and
delete."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request, Response
from fastapi.responses import HTMLResponse

from promptdeck.domain import webhooks as rules
from promptdeck.server.api.webhooks import HookAdmin
from promptdeck.server.deps import CanonicalId, WebhooksDep
from promptdeck.server.html import render
from promptdeck.server.ui.view import UIRoute, acting, redirect

router = APIRouter(prefix="/ui", route_class=UIRoute, include_in_schema=False)

HookId = Annotated[int, Path(ge=1, le=2**31 - 1), CanonicalId]
KINDS = sorted(rules.KINDS)
LOG = 50


@router.get("/webhooks", response_class=HTMLResponse)
def webhooks_page(request: Request, hooks: WebhooksDep, _caller: HookAdmin) -> HTMLResponse:
    return render(request, "webhooks.html", hooks=hooks.page(limit=200).items, kinds=KINDS, form={})


@router.post("/webhooks", response_class=HTMLResponse)
def create(
    request: Request,
    hooks: WebhooksDep,
    caller: HookAdmin,
    url: Annotated[str, Form(max_length=rules.URL_MAX)],
    events: Annotated[list[str] | None, Form(max_length=len(KINDS) + 1)] = None,
    prompt: Annotated[str, Form(max_length=128)] = "",
    description: Annotated[str, Form(max_length=rules.DESCRIPTION_MAX)] = "",
    secret: Annotated[str, Form(max_length=rules.SECRET_MAX)] = "",
) -> HTMLResponse:
    """Answered with the new hook's page itself, not a redirect: the secret is shown this
    once and must not travel in a URL."""
    new = hooks.create(
        url.strip(),
        events=events or [rules.ALL],
        prompt=prompt.strip() or None,
        secret=secret or None,
        description=description.strip(),
        actor=acting(request, caller).actor,
    )
    return _hook_page(request, hooks, new.hook.id, secret=None if secret else new.secret)


@router.get("/webhooks/{hook_id}", response_class=HTMLResponse)
def hook_page(
    request: Request,
    hooks: WebhooksDep,
    _caller: HookAdmin,
    hook_id: HookId,
    done: Annotated[str, Query(max_length=20)] = "",
) -> HTMLResponse:
    notice = {"tested": "Test delivery queued.", "saved": "Saved."}.get(done)
    return _hook_page(request, hooks, hook_id, notice=notice)


def _hook_page(
    request: Request,
    hooks: WebhooksDep,
    hook_id: int,
    *,
    secret: str | None = None,
    notice: str | None = None,
) -> HTMLResponse:
    return render(
        request,
        "webhook.html",
        hook=hooks.get(hook_id),
        deliveries=hooks.deliveries(hook_id, limit=LOG).items,
        secret=secret,
        notice=notice,
    )


@router.post("/webhooks/{hook_id}/test", response_class=HTMLResponse)
def send_test(request: Request, hooks: WebhooksDep, caller: HookAdmin, hook_id: HookId) -> Response:
    hooks.send_test(hook_id, actor=acting(request, caller).actor)
    return redirect(f"/ui/webhooks/{hook_id}", done="tested")


@router.post("/webhooks/{hook_id}/enabled", response_class=HTMLResponse)
def set_enabled(
    hooks: WebhooksDep, _caller: HookAdmin, hook_id: HookId, enabled: Annotated[bool, Form()]
) -> Response:
    hooks.update(hook_id, {"enabled": enabled})
    return redirect(f"/ui/webhooks/{hook_id}", done="saved")


@router.post("/webhooks/{hook_id}/delete", response_class=HTMLResponse)
def delete(hooks: WebhooksDep, _caller: HookAdmin, hook_id: HookId) -> Response:
    hooks.delete(hook_id)
    return redirect("/ui/webhooks")

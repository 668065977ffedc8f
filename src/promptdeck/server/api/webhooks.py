"""/webhooks (admin): hooks, their delivery logs, and "send a test" (docs/webhooks.md)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response

from promptdeck import limits
from promptdeck.domain.access import Role
from promptdeck.domain.caller import Caller
from promptdeck.domain.models import Page as DomainPage
from promptdeck.domain.webhooks import Delivery, Hook
from promptdeck.schemas import (
    DeliveryOut,
    Page,
    WebhookCreate,
    WebhookCreated,
    WebhookOut,
    WebhookPatch,
)
from promptdeck.server.api.prompts import Cursor, Limit
from promptdeck.server.deps import CanonicalId, WebhooksDep
from promptdeck.server.problems import responses
from promptdeck.server.roles import needs

router = APIRouter(tags=["webhooks"], responses=responses(400, 401, 403, 422))


HookId = Annotated[int, Path(ge=1, le=limits.ID_MAX, description="The webhook's id."), CanonicalId]
# A hook hears every prompt's events: an admin who may see every prompt.
HookAdmin = Annotated[Caller, needs(Role.admin, every_prompt=True)]
ActingHookAdmin = Annotated[Caller, needs(Role.admin, acting=True, every_prompt=True)]


def hook_out(hook: Hook) -> WebhookOut:
    return WebhookOut(
        id=hook.id,
        url=hook.url,
        events=list(hook.events),
        prompt_id=hook.prompt_id,
        prompt_name=hook.prompt_name,
        description=hook.description,
        enabled=hook.enabled,
        created_at=hook.created_at,
        created_by=hook.created_by,
        updated_at=hook.updated_at,
    )


def delivery_out(d: Delivery) -> DeliveryOut:
    return DeliveryOut.model_validate(d)


def delivery_page(page: DomainPage[Delivery]) -> Page[DeliveryOut]:
    return Page[DeliveryOut](
        items=[delivery_out(d) for d in page.items], next_cursor=page.next_cursor
    )


@router.post(
    "/webhooks",
    status_code=201,
    response_model=WebhookCreated,
    responses=responses(404, 409),
    summary="Create a webhook (admin); its signing secret is in this answer only",
)
def create_webhook(
    body: WebhookCreate, hooks: WebhooksDep, caller: ActingHookAdmin, response: Response
) -> WebhookCreated:
    new = hooks.create(
        body.url,
        events=body.events,
        prompt=body.prompt,
        secret=body.secret,
        description=body.description,
        enabled=body.enabled,
        actor=caller.actor,
    )
    response.headers["Location"] = f"/webhooks/{new.hook.id}"
    return WebhookCreated(**hook_out(new.hook).model_dump(), secret=new.secret)


@router.get("/webhooks", response_model=Page[WebhookOut], summary="Webhooks, oldest first (admin)")
def list_webhooks(
    hooks: WebhooksDep,
    _caller: HookAdmin,
    limit: Limit = limits.PAGE_LIMIT_DEFAULT,
    cursor: Cursor = None,
) -> Page[WebhookOut]:
    page = hooks.page(limit=limit, cursor=cursor)
    return Page[WebhookOut](items=[hook_out(h) for h in page.items], next_cursor=page.next_cursor)


@router.get(
    "/webhooks/{hook_id}",
    response_model=WebhookOut,
    responses=responses(404),
    summary="One webhook (admin; never its secret)",
)
def get_webhook(hook_id: HookId, hooks: WebhooksDep, _caller: HookAdmin) -> WebhookOut:
    return hook_out(hooks.get(hook_id))


@router.patch(
    "/webhooks/{hook_id}",
    response_model=WebhookOut,
    responses=responses(404),
    summary="Change a webhook's url, events, description, secret, or pause it (admin)",
)
def update_webhook(
    hook_id: HookId, body: WebhookPatch, hooks: WebhooksDep, _caller: HookAdmin
) -> WebhookOut:
    return hook_out(hooks.update(hook_id, body.model_dump(exclude_unset=True)))


@router.delete(
    "/webhooks/{hook_id}",
    status_code=204,
    responses=responses(404),
    summary="Delete a webhook and its deliveries, pending ones included (admin)",
)
def delete_webhook(hook_id: HookId, hooks: WebhooksDep, _caller: HookAdmin) -> Response:
    hooks.delete(hook_id)
    return Response(status_code=204)


@router.get(
    "/webhooks/{hook_id}/deliveries",
    response_model=Page[DeliveryOut],
    responses=responses(404),
    summary="A webhook's delivery log, newest first, with each one's last attempt (admin)",
)
def list_deliveries(
    hook_id: HookId,
    hooks: WebhooksDep,
    _caller: HookAdmin,
    limit: Limit = limits.PAGE_LIMIT_DEFAULT,
    cursor: Cursor = None,
    status: Annotated[
        Literal["pending", "delivered", "failed"] | None,
        Query(description="Only deliveries in this state."),
    ] = None,
) -> Page[DeliveryOut]:
    return delivery_page(hooks.deliveries(hook_id, limit=limit, cursor=cursor, status=status))


@router.post(
    "/webhooks/{hook_id}/test",
    status_code=202,
    response_model=DeliveryOut,
    responses=responses(404),
    summary="Queue a webhook.test delivery to the webhook (admin): 'send a test'",
)
def test_webhook(hook_id: HookId, hooks: WebhooksDep, caller: ActingHookAdmin) -> DeliveryOut:
    return delivery_out(hooks.send_test(hook_id, actor=caller.actor))

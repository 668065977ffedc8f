"""Webhooks as `Call`s (admin): the AsyncClient's and Client's webhook methods send these."""

from __future__ import annotations

from typing import Any

from promptdeck.client._http import Call
from promptdeck.client._ops import _model, _none, _params
from promptdeck.schemas import DeliveryOut, Page, WebhookCreated, WebhookOut


def create(
    url: str,
    *,
    events: list[str] | None,
    prompt: str | int | None,
    secret: str | None,
    description: str | None,
    enabled: bool,
) -> Call[WebhookCreated]:
    body: dict[str, Any] = _params(
        url=url,
        events=events,
        prompt=str(prompt) if prompt is not None else None,
        secret=secret,
        description=description,
    )
    body["enabled"] = enabled
    return Call("POST", "/webhooks", _model(WebhookCreated), json=body, ok=(201,))


def listing(*, limit: int | None, cursor: str | None) -> Call[Page[WebhookOut]]:
    return Call(
        "GET",
        "/webhooks",
        _model(Page[WebhookOut]),
        params=_params(limit=limit, cursor=cursor),
        retry=True,
    )


def get(hook_id: int) -> Call[WebhookOut]:
    return Call("GET", f"/webhooks/{int(hook_id)}", _model(WebhookOut), retry=True)


def update(hook_id: int, changes: dict[str, Any]) -> Call[WebhookOut]:
    return Call("PATCH", f"/webhooks/{int(hook_id)}", _model(WebhookOut), json=changes)


def delete(hook_id: int) -> Call[None]:
    return Call("DELETE", f"/webhooks/{int(hook_id)}", _none, ok=(204,), retry=True)


def deliveries(
    hook_id: int, *, status: str | None, limit: int | None, cursor: str | None
) -> Call[Page[DeliveryOut]]:
    return Call(
        "GET",
        f"/webhooks/{int(hook_id)}/deliveries",
        _model(Page[DeliveryOut]),
        params=_params(status=status, limit=limit, cursor=cursor),
        retry=True,
    )


def send_test(hook_id: int) -> Call[DeliveryOut]:
    return Call("POST", f"/webhooks/{int(hook_id)}/test", _model(DeliveryOut), ok=(202,))

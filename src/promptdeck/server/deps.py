"""Dependencies shared by the routers: the registry and the actor."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from promptdeck.core import Registry
from promptdeck.limits import ACTOR_MAX, IDEMPOTENCY_KEY_MAX


def get_registry(request: Request) -> Registry:
    registry: Registry = request.app.state.registry
    return registry


def get_actor(
    x_actor: Annotated[
        str | None,
        Header(max_length=ACTOR_MAX, description="Who makes the change (recorded in events)."),
    ] = None,
) -> str:
    return x_actor or "anonymous"


def get_may_move_protected(request: Request) -> bool:
    """Whether the caller may move protected labels and decide deploy requests: the admin
    role. Open mode (no auth): allowed. The auth middleware sets ``scope["state"]["role"]``."""
    role = request.scope.get("state", {}).get("role")
    return role is None or role == "admin"


RegistryDep = Annotated[Registry, Depends(get_registry)]
MayMoveProtected = Annotated[bool, Depends(get_may_move_protected)]
ActorDep = Annotated[str, Depends(get_actor)]
IfMatch = Annotated[
    str | None,
    Header(description="The prompt's ETag; a stale one is refused with 412."),
]
IdempotencyKey = Annotated[
    str | None,
    Header(
        min_length=1,
        max_length=IDEMPOTENCY_KEY_MAX,
        description="A retry with the same key returns the first result instead of creating twice.",
    ),
]

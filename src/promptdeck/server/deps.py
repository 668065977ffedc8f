"""Dependencies shared by the routers: the registry and the actor."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Header, Request
from pydantic import AfterValidator, BeforeValidator

from promptdeck.core import Registry
from promptdeck.core.access import Access
from promptdeck.core.webhooks import Webhooks
from promptdeck.domain import values
from promptdeck.domain.access import NOBODY, OPEN, Principal, Role
from promptdeck.limits import ACTOR_MAX, IDEMPOTENCY_KEY_MAX


def principal_of(state: Any) -> Principal:
    """The caller the gate (server/security.py) let through: OPEN when the app runs without
    the gate; NOBODY when the gate let a caller without credentials through to a page anyone
    may open (the sign-in page)."""
    found = getattr(state, "principal", OPEN)
    return found if isinstance(found, Principal) else NOBODY


def get_registry(request: Request) -> Registry:
    registry: Registry = request.app.state.registry
    return registry


def _canonical_id(value: object) -> object:
    """A path id is a canonical ASCII decimal ("007", "+7", an Arabic-Indic 7 are not ids)."""
    if isinstance(value, str) and values.parse_id(value) is None:
        raise ValueError("an id is a decimal number without sign, spaces or leading zeros")
    return value


# For an integer path segment: canonical spelling only (domain/values.py parse_id).
CanonicalId = BeforeValidator(_canonical_id)
# Query or header text that reaches the database: valid Unicode, no NUL.
CheckedText = AfterValidator(values.check_text)


def get_actor(
    request: Request,
    x_actor: Annotated[
        str | None,
        Header(
            max_length=ACTOR_MAX,
            description="On an open server (no keys or users): who makes the change, recorded "
            "in events. With keys, events name the key or person and this header is ignored.",
        ),
        CheckedText,
    ] = None,
) -> str:
    principal = principal_of(request.state)
    if principal.kind != "open":
        return principal.name
    return x_actor or "anonymous"


def get_principal(request: Request) -> Principal:
    return principal_of(request.state)


def get_access(request: Request) -> Access:
    access: Access = request.app.state.access
    return access


def get_webhooks(request: Request) -> Webhooks:
    hooks: Webhooks = request.app.state.webhooks
    return hooks


def get_may_move_protected(request: Request) -> bool:
    """Whether the caller may move protected labels and decide deploy requests: the admin
    role. Open mode's principal (OPEN) is an admin."""
    return principal_of(request.state).may(Role.admin)


RegistryDep = Annotated[Registry, Depends(get_registry)]
AccessDep = Annotated[Access, Depends(get_access)]
WebhooksDep = Annotated[Webhooks, Depends(get_webhooks)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
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
    CheckedText,
]

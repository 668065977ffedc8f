"""Dependencies shared by the routers: the services, headers and path ids several routes
take, and the principal the gate found. What a route needs of its caller: server/roles.py."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Annotated, Any

from fastapi import Depends, Header, Query, Request
from pydantic import AfterValidator, BeforeValidator

from promptdeck.core import Registry
from promptdeck.core.access import Access
from promptdeck.core.webhooks import Webhooks
from promptdeck.domain import values
from promptdeck.domain.access import NOBODY, OPEN, Principal
from promptdeck.limits import IDEMPOTENCY_KEY_MAX


def principal_of(scope: MutableMapping[str, Any]) -> Principal:
    """Who the gate (server/security.py) found for this request: OPEN when the app runs
    without the gate; NOBODY when nobody is signed in (routes that need a role refuse it)."""
    state = scope.get("state")
    found = state.get("principal", OPEN) if state is not None else OPEN
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


def get_access(request: Request) -> Access:
    access: Access = request.app.state.access
    return access


def get_webhooks(request: Request) -> Webhooks:
    hooks: Webhooks = request.app.state.webhooks
    return hooks


RegistryDep = Annotated[Registry, Depends(get_registry)]
AccessDep = Annotated[Access, Depends(get_access)]
WebhooksDep = Annotated[Webhooks, Depends(get_webhooks)]
AcceptBreaking = Annotated[
    bool,
    Query(
        description="Move a protected label to a version whose contract breaks what the label "
        "serves now (docs/contracts.md); without it such a move is 409 breaking-change."
    ),
]
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

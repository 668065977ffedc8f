"""Webhooks and their deliveries (docs/webhooks.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import (
    Field,
)

from promptdeck import limits
from promptdeck.domain.webhooks import ALL, KINDS
from promptdeck.schemas.common import Text, _In, _Out

WebhookUrl = Annotated[
    str,
    Field(
        min_length=1,
        max_length=2048,
        json_schema_extra={"pattern": "^https?://"},
        description="Where deliveries are POSTed: an http:// or https:// URL with a host. "
        "Which hosts a call out may reach is the server's configuration "
        "(PROMPTDECK_ALLOW_OUTGOING, docs/webhooks.md): no pattern can say it.",
    ),
]


WebhookEvents = Annotated[
    list[Annotated[str, Field(max_length=40, json_schema_extra={"enum": [ALL, *sorted(KINDS)]})]],
    Field(
        min_length=1,
        max_length=40,
        description='Event kinds to send (version.created, label.moved…), or ["*"]: all.',
    ),
]


WebhookSecret = Annotated[
    str,
    Field(
        min_length=16,
        max_length=200,
        description="The signing secret (16 to 200 printable characters); generated if "
        "omitted. Never shown again.",
    ),
]


WebhookDescription = Annotated[Text, Field(max_length=500)]


class WebhookCreate(_In):
    url: WebhookUrl
    events: WebhookEvents = Field(default_factory=lambda: ["*"])
    prompt: str | None = Field(
        default=None,
        min_length=1,
        max_length=limits.PROMPT_NAME_MAX,
        description="A prompt's id or name: only its events (none: every prompt's).",
    )
    secret: WebhookSecret | None = None
    description: WebhookDescription = ""
    enabled: bool = True


class WebhookPatch(_In):
    url: WebhookUrl | None = None
    events: WebhookEvents | None = None
    secret: WebhookSecret | None = Field(
        default=None, description="A new signing secret (rotation); not shown again."
    )
    description: WebhookDescription | None = None
    enabled: bool | None = None


class WebhookOut(_Out):
    id: int
    url: str
    events: list[str]
    prompt_id: int | None = Field(description="The prompt whose events it gets (null: all).")
    prompt_name: str | None
    description: str
    enabled: bool
    created_at: datetime
    created_by: str
    updated_at: datetime


class WebhookCreated(WebhookOut):
    secret: str = Field(description="The signing secret. Shown this once.")


class DeliveryOut(_Out):
    id: int
    uid: str = Field(description="The Promptdeck-Delivery header: the same on every attempt.")
    hook_id: int
    event_id: int | None = Field(description="The event (null: a test delivery).")
    kind: str
    status: str = Field(description="pending, delivered or failed")
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None
    finished_at: datetime | None
    last_attempt_at: datetime | None
    last_status_code: int | None = Field(description="The receiver's last answer (null: none).")
    last_error: str | None = Field(description="Why the last attempt got no answer.")
    last_duration_ms: int | None

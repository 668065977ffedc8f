"""GET /changes: pointer moves pushed to clients."""

from __future__ import annotations

from datetime import datetime

from pydantic import (
    Field,
)

from promptdeck.schemas.common import _Out


class MoveOut(_Out):
    """A pointer move on GET /changes: ``label`` of ``prompt`` now names ``version_id``
    (null: the prompt was deleted, or the label removed)."""

    id: int = Field(description="The event id: send it back as Last-Event-ID or ?after=.")
    prompt_id: int
    prompt: str
    label: str = Field(description='Which label moved: "active", or another (label.moved).')
    kind: str = Field(description="The event: version.activated, version.rolled_back, …")
    version_id: int | None
    number: int | None
    version_name: str | None
    at: datetime


class ChangesOut(_Out):
    """The long-poll form of GET /changes (``?wait=``)."""

    events: list[MoveOut]
    last_event_id: int = Field(description="Resume from here with ?after= or Last-Event-ID.")

"""GET /changes: pointer moves pushed to clients."""

from __future__ import annotations

from datetime import datetime

from pydantic import (
    Field,
)

from promptdeck.schemas.common import _Out


class RolloutSplitOut(_Out):
    """A label's rollout as a rollout event on GET /changes leaves it: enough to assign a
    caller (docs/rollouts.md, "Assignment")."""

    id: int
    status: str = Field(description="running, paused, completed, rolled_back or aborted.")
    step: int
    percent: float = Field(description="The candidate's share now (0 once it ended).")
    basis_points: int = Field(description="The same share in basis points (of 10,000).")
    baseline_id: int
    candidate_id: int
    salt: str


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
    rollout: RolloutSplitOut | None = Field(
        default=None,
        description="rollout.* events: the label's split now (null for a move of a pointer).",
    )


class ChangesOut(_Out):
    """The long-poll form of GET /changes (``?wait=``)."""

    events: list[MoveOut]
    last_event_id: int = Field(description="Resume from here with ?after= or Last-Event-ID.")

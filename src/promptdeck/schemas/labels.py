"""Labels, their moves, and deploy requests."""

from __future__ import annotations

from datetime import datetime

from pydantic import (
    Field,
    StrictBool,
)

from promptdeck.domain import values
from promptdeck.domain.commands import (
    DecideDeploy,
    MoveLabel,
    ProposeDeploy,
    ProtectLabel,
)
from promptdeck.domain.labels import LABEL_MAX, LABEL_REGEX, REASON_MAX
from promptdeck.limits import ID_MAX
from promptdeck.schemas.common import _In, _Out


class LabelSet(_In):
    version_id: int = Field(ge=1, le=ID_MAX, description="The version the label points at.")
    reason: str | None = Field(
        None, max_length=REASON_MAX, description="Why (kept in the history)."
    )

    def to_command(self, prompt: str, label: str, *, if_match: str | None = None) -> MoveLabel:
        return MoveLabel(prompt, label, self.version_id, self.reason, if_match)


class LabelPatch(_In):
    protected: StrictBool = Field(
        description="Moving a protected label needs the admin role or an approved deploy request."
    )

    def to_command(self, prompt: str, label: str) -> ProtectLabel:
        return ProtectLabel(prompt, label, self.protected)


class LabelOut(_Out):
    prompt_id: int
    name: str
    version_id: int | None = Field(description="None: protected but not set yet.")
    number: int | None
    version_name: str | None
    protected: bool
    moved_at: datetime | None
    moved_by: str | None
    etag: str = Field(
        description="The label's ETag: send it as If-Match to move it only if unmoved."
    )


class LabelMoveOut(_Out):
    id: int
    prompt_id: int
    label: str
    from_version_id: int | None
    from_number: int | None
    to_version_id: int | None = Field(description="None: the label was removed.")
    to_number: int | None
    actor: str
    reason: str
    created_at: datetime


class MovedOut(_Out):
    changed: bool = Field(description="False when the label already pointed there (a no-op).")
    label: LabelOut


class DeployCreate(_In):
    label: str = Field(
        min_length=1, max_length=LABEL_MAX, json_schema_extra={"pattern": LABEL_REGEX}
    )
    version_id: int = Field(ge=1, le=ID_MAX)
    reason: str = Field(
        min_length=1,
        max_length=REASON_MAX,
        json_schema_extra={"pattern": values.NOT_BLANK_REGEX},
        description="Why: required (not only spaces).",
    )

    def to_command(self, prompt: str) -> ProposeDeploy:
        return ProposeDeploy(prompt, self.label, self.version_id, self.reason)


class DeployDecision(_In):
    reason: str | None = Field(None, max_length=REASON_MAX)

    def to_command(self, prompt: str, request_id: int, *, approve: bool) -> DecideDeploy:
        return DecideDeploy(prompt, request_id, approve, self.reason)


class DeployOut(_Out):
    id: int
    prompt_id: int
    label: str
    version_id: int
    number: int | None
    from_version_id: int | None = Field(description="What the label served when proposed.")
    from_number: int | None
    reason: str
    proposed_by: str
    created_at: datetime
    status: str = Field(description="open, approved, rejected, or stale (open, label moved since).")
    decided_by: str | None
    decided_at: datetime | None
    decision_reason: str | None
    diff: list[str] = Field(
        description="Unified diff, what the label serves now to the proposed version; each line "
        "starts with '  ', '- ' or '+ ' (empty in lists)."
    )

"""Labels, their moves, and deploy requests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

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
from promptdeck.schemas.contracts import ContractChangeOut
from promptdeck.schemas.evaluations import GateCheckOut
from promptdeck.schemas.rollouts import RolloutCreate, RolloutOut


class LabelSet(_In):
    version_id: int = Field(ge=1, le=ID_MAX, description="The version the label points at.")
    reason: str | None = Field(
        None, max_length=REASON_MAX, description="Why (kept in the history)."
    )

    def to_command(
        self,
        prompt: str,
        label: str,
        *,
        if_match: str | None = None,
        accept_breaking: bool = False,
    ) -> MoveLabel:
        return MoveLabel(prompt, label, self.version_id, self.reason, if_match, accept_breaking)


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
    rollout: RolloutOut | None = Field(
        default=None,
        description="The label's newest rollout (live or ended; docs/rollouts.md), if any.",
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
    kind: str | None = Field(
        default=None,
        description="null: the label moved; rollout.started, rollout.advanced…: a change of "
        "its rollout (from: the baseline, to: the candidate).",
    )


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
    plan: RolloutCreate | None = Field(
        default=None,
        description="A rollout plan (docs/rollouts.md; its version_id may be left out): "
        "approving the request starts that rollout instead of moving the label.",
    )

    def to_command(self, prompt: str) -> ProposeDeploy:
        plan = None if self.plan is None else self.plan.plan()
        return ProposeDeploy(prompt, self.label, self.version_id, self.reason, plan)


class DeployDecision(_In):
    reason: str | None = Field(None, max_length=REASON_MAX)
    override_gate: StrictBool = Field(
        False,
        description="Approve although the label's gate is not passed (admin; needs a reason, "
        "recorded as a gate.overridden event).",
    )

    def to_command(
        self, prompt: str, request_id: int, *, approve: bool, accept_breaking: bool = False
    ) -> DecideDeploy:
        return DecideDeploy(
            prompt, request_id, approve, self.reason, accept_breaking, self.override_gate
        )


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
    plan: dict[str, Any] | None = Field(
        default=None, description="The rollout plan approving starts (null: a plain move)."
    )
    contract_changes: list[ContractChangeOut] = Field(
        default_factory=list,
        description="The contract's changes from what the label serves now (empty in lists).",
    )
    breaking: bool = Field(
        default=False,
        description="A contract change breaks the label's callers: approving needs "
        "accept_breaking when the label is protected.",
    )
    gate: GateCheckOut | None = Field(
        None,
        description="An open request's gate as it stands now: the evaluation it reads and "
        "why it does not pass (null in lists, for decided requests and labels without one).",
    )

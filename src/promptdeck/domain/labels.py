"""Labels: named pointers at versions (`active`, `production`, `staging`…), their ETags,
moves and deploy requests. `active` is the default label: it is the prompt's active version."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from promptdeck.domain.contracts import ContractChange
from promptdeck.errors import InvalidInput

if TYPE_CHECKING:  # domain/gates imports the statistics; labels stays light for the client
    from promptdeck.domain.gates import GateCheck

ACTIVE = "active"
# A new prompt's protected labels (created or imported without a protected set of its own):
# moving `production` needs the admin role or an approved deploy request until an admin
# unprotects it. Stored as rows when the prompt is created, so an admin's change sticks.
DEFAULT_PROTECTED = ("production",)
LABEL_MAX = 64
REASON_MAX = 1000
# The one spelling of the rule: checked here and written as `pattern` in the OpenAPI document
# (where a blank ?label= means active, blank is allowed too).
_SLUG = r"[a-z0-9][a-z0-9._-]*"
LABEL_REGEX = f"^{_SLUG}$"
LABEL_OR_BLANK_REGEX = f"^(?:{_SLUG})?$"
LABEL_PATTERN = re.compile(LABEL_REGEX)


def check_label(name: str) -> str:
    """A label is a slug of at most 64 characters (``production``, ``canary-eu``)."""
    if len(name) > LABEL_MAX or not LABEL_PATTERN.fullmatch(name):
        raise InvalidInput(
            f"label {name[:80]!r} must be a lowercase slug ([a-z0-9][a-z0-9._-]*) of at most "
            f"{LABEL_MAX} characters",
            field="label",
        )
    return name


def check_reason(reason: str | None, *, required: bool = False) -> str:
    reason = (reason or "").strip()
    if required and not reason:
        raise InvalidInput("a deploy request needs a reason", field="reason")
    if len(reason) > REASON_MAX:
        raise InvalidInput(f"reason is longer than {REASON_MAX} characters", field="reason")
    return reason


@dataclass(frozen=True, slots=True)
class Label:
    prompt_id: int
    name: str
    version_id: int | None  # None: protected but not set
    number: int | None
    version_name: str | None
    protected: bool
    moved_at: datetime | None
    moved_by: str | None
    etag: str
    # The label's newest rollout (domain/rollouts/record.py ``Rollout``; typed loosely here:
    # the rollouts package imports this module), None when it never had one.
    rollout: Any = None


@dataclass(frozen=True, slots=True)
class LabelMove:
    """One move of a label (to_version_id None: removed): the deploy history."""

    id: int
    prompt_id: int
    label: str
    from_version_id: int | None
    from_number: int | None
    to_version_id: int | None
    to_number: int | None
    actor: str
    reason: str
    created_at: datetime
    kind: str | None = None  # None: the pointer moved; else a rollout's change (rollout.…)


@dataclass(frozen=True, slots=True)
class Moved:
    label: Label
    changed: bool


@dataclass(frozen=True, slots=True)
class DeployRequest:
    id: int
    prompt_id: int
    label: str
    version_id: int
    number: int | None
    from_version_id: int | None
    from_number: int | None
    reason: str
    proposed_by: str
    created_at: datetime
    status: str  # open, approved, rejected, stale (open, but the label moved since)
    decided_by: str | None
    decided_at: datetime | None
    decision_reason: str | None
    diff: list[str]  # unified diff: what the label serves now → the proposed version
    plan: dict[str, Any] | None = None  # a rollout plan: approving starts it (docs/rollouts.md)
    # The contract's changes from what the label serves now (with the diff only).
    contract_changes: list[ContractChange] = field(default_factory=list)
    gate: GateCheck | None = None  # an open request's gate, as it stands now (issue 25)

    @property
    def breaking(self) -> bool:
        return any(change.breaking for change in self.contract_changes)


OPEN, APPROVED, REJECTED, STALE = "open", "approved", "rejected", "stale"
DEPLOY_STATUSES = (OPEN, APPROVED, REJECTED)  # what a list filters by (stale is open)

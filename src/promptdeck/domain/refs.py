"""The vocabulary every layer shares: how a prompt, a version and an event are named.

A path gives a prompt as text; ``PromptRef.parse`` is the one place that decides whether
that text is an id or a name, by ``is_id`` (digits are ids: names cannot be all digits)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from promptdeck.domain import values


def is_id(text: str) -> bool:
    """Whether a prompt reference written as text is an id rather than a name: a canonical
    ASCII decimal in range (``values.parse_id``; "007", "+7" or "²" are names that find
    nothing). ``PromptRef.parse`` reads by it; names are refused when they are all digits of
    any kind (``looks_like_id``), so no name is ever mistaken for an id."""
    return values.parse_id(text) is not None


def looks_like_id(text: str) -> bool:
    """A name that a reader could take for an id (digits only, of any script)."""
    return text.isdigit()


@dataclass(frozen=True, slots=True)
class PromptRef:
    """A prompt by its integer id or by its name (exactly one of them is set)."""

    id: int | None = None
    name: str | None = None

    @classmethod
    def parse(cls, text: str | int | PromptRef) -> PromptRef:
        if isinstance(text, PromptRef):
            return text
        if isinstance(text, int):
            return cls(id=text)
        number = values.parse_id(text)
        return cls(id=number) if number is not None else cls(name=text)

    def __str__(self) -> str:
        return str(self.id) if self.id is not None else str(self.name)


# A prompt as the faces name it (text from a path) or already parsed: ``core/load.prompt_row``
# parses it, once.
PromptLike = PromptRef | str


@dataclass(frozen=True, slots=True)
class VersionRef:
    """A version by its id, within one prompt (rule 5: another prompt's version is missing)."""

    prompt: PromptRef
    version_id: int

    def __str__(self) -> str:
        return f"{self.prompt}/versions/{self.version_id}"


class EventKind(StrEnum):
    """What an event records (``events.kind``; the timeline shows them)."""

    PROMPT_CREATED = "prompt.created"
    PROMPT_UPDATED = "prompt.updated"
    PROMPT_DELETED = "prompt.deleted"
    PROMPT_RESTORED = "prompt.restored"
    VERSION_CREATED = "version.created"
    VERSION_ACTIVATED = "version.activated"
    VERSION_ROLLED_BACK = "version.rolled_back"
    VERSION_ARCHIVED = "version.archived"
    VERSION_RESTORED = "version.restored"
    VERSION_PURGED = "version.purged"
    LABEL_MOVED = "label.moved"
    LABEL_REMOVED = "label.removed"
    LABEL_PROTECTED = "label.protected"
    DEPLOY_REQUESTED = "deploy.requested"
    DEPLOY_APPROVED = "deploy.approved"
    DEPLOY_REJECTED = "deploy.rejected"
    IMPACT_ALERT = "impact.alert"  # a label's threshold was crossed after a move
    # Rollouts (docs/rollouts.md): each change of a rollout's state (domain/rollouts/state.py
    # ``Kind``); rolled_back is the guard's alert, with its figures in the detail.
    ROLLOUT_STARTED = "rollout.started"
    ROLLOUT_ADVANCED = "rollout.advanced"
    ROLLOUT_PAUSED = "rollout.paused"
    ROLLOUT_RESUMED = "rollout.resumed"
    ROLLOUT_COMPLETED = "rollout.completed"
    ROLLOUT_ROLLED_BACK = "rollout.rolled_back"
    ROLLOUT_ABORTED = "rollout.aborted"
    GATE_SET = "gate.set"  # a label now requires a test set to be passed (or changed it)
    GATE_REMOVED = "gate.removed"
    GATE_OVERRIDDEN = "gate.overridden"  # an admin approved a deploy its gate refused
    EVALUATION_COMPLETED = "evaluation.completed"
    # A version or a draft run once on a provider (POST /prompts/{id}/run, the playground):
    # who, which, where, how long, ok or not (docs/evaluations.md).
    PROMPT_RUN = "prompt.run"

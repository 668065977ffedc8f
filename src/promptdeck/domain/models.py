"""Domain records returned by the core. Plain, frozen, no persistence attached."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from promptdeck.domain import templates
from promptdeck.domain.contracts import Contract, with_inferred
from promptdeck.domain.etag import prompt_etag

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Version:
    id: int
    prompt_id: int
    number: int
    version_name: str
    description: str
    created_at: datetime
    created_by: str
    content_hash: str
    active: bool
    archived: bool = False
    archived_at: datetime | None = None
    purged: bool = False
    purged_at: datetime | None = None
    purged_by: str | None = None
    purge_reason: str | None = None
    previous_version_id: int | None = None
    content: str | None = None  # None in summaries, and for purged versions
    model_config: dict[str, Any] | None = None
    kind: str = "text"  # or "chat": content is then the messages as JSON (domain/templates)
    template_format: str = "plain"  # or "jinja" (sandboxed sections, opted into)
    contract: Contract | None = None  # as given at creation; None without one (or a summary)

    @property
    def full_contract(self) -> Contract | None:
        """The contract as a read of the version in full shows it: its variables inferred
        from the template when none were given (docs/contracts.md). None once purged
        without a contract (no template left to infer from)."""
        if self.content is None:
            return self.contract
        return with_inferred(self.contract, self.kind, self.template_format, self.content)

    @property
    def messages(self) -> list[dict[str, str]] | None:
        """A chat version's messages (None for text, and once purged)."""
        if self.kind != "chat" or self.content is None:
            return None
        return templates.decode_messages(self.content)

    @property
    def variables(self) -> list[str] | None:
        if self.content is None:
            return None
        return templates.variables(self.kind, self.template_format, self.content)


@dataclass(frozen=True, slots=True)
class Prompt:
    id: int
    name: str
    description: str
    tags: list[str]
    content: str
    model_config: dict[str, Any]
    active_version_id: int
    version_count: int
    max_versions: int | None
    revision: int
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = None
    active_version: Version | None = None

    @property
    def etag(self) -> str:
        return prompt_etag(self.id, self.revision)


@dataclass(frozen=True, slots=True)
class Event:
    id: int
    prompt_id: int
    kind: str  # an EventKind's value (imported histories may carry others)
    actor: str
    created_at: datetime
    version_id: int | None = None
    from_version_id: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class Include:
    """One include edge (``{{> target@at}}`` in a version), with both ends named."""

    version_id: int
    prompt_id: int
    prompt_name: str
    number: int
    target_prompt_id: int
    target_prompt_name: str
    at: str | None
    target_version_id: int | None

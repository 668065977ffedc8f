"""Prompts: create, edit, one prompt, its events, a rollback's answer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import (
    Field,
    field_validator,
)

from promptdeck import limits
from promptdeck.domain.commands import CreatePrompt, UpdatePrompt
from promptdeck.domain.refs import looks_like_id
from promptdeck.domain.templates import Kind, TemplateFormat
from promptdeck.schemas.common import (
    Content,
    Description,
    ModelConfig,
    TagName,
    Text,
    VersionName,
    _check_model_config,
    _In,
    _Out,
)
from promptdeck.schemas.versions import VersionOut, VersionSummaryOut


class PromptCreate(_In):
    name: str = Field(
        min_length=1,
        max_length=limits.PROMPT_NAME_MAX,
        pattern=limits.PROMPT_NAME_PATTERN,
        description="Unique slug: lowercase letters, digits, '.', '_', '-'; not all digits.",
        examples=["support-reply"],
    )
    description: Description = ""
    tags: list[TagName] = Field(default_factory=list, max_length=limits.TAGS_MAX)
    content: Text = Field(
        default="", max_length=limits.CONTENT_MAX, description="The prompt text (working copy)."
    )
    llm_config: ModelConfig = Field(
        default_factory=dict,
        alias="model_config",
        description="Model settings (model name, temperature…), any JSON object.",
    )
    version_name: VersionName | None = Field(
        default=None,
        min_length=1,
        max_length=limits.VERSION_NAME_MAX,
        description="Name of the first version; defaults to the UTC creation timestamp.",
    )
    version_description: Description = ""
    max_versions: int | None = Field(
        default=None,
        ge=1,
        le=limits.MAX_VERSIONS_MAX,
        description="Keep at most this many unarchived versions; older ones (never the active "
        "one) are archived. Omitted: the server default (PROMPTDECK_DEFAULT_MAX_VERSIONS).",
    )
    messages: list[dict[str, Any]] | None = Field(
        default=None,
        max_length=limits.MESSAGES_MAX,
        description="Make the first version a chat one with these messages (see "
        "VersionCreate.messages); the working copy stays content.",
    )
    kind: Kind | None = Field(
        default=None,
        description='The first version\'s kind, as on POST …/versions: "chat" needs messages, '
        '"text" takes none; omitted: "chat" when messages are given, else "text".',
    )
    template_format: TemplateFormat = Field(default="plain", description="See VersionCreate.")
    contract: dict[str, Any] | None = Field(
        default=None, description="The first version's contract (see VersionCreate.contract)."
    )

    _mc = field_validator("llm_config")(_check_model_config)

    def to_command(self, *, idempotency_key: str | None = None) -> CreatePrompt:
        return CreatePrompt(
            name=self.name,
            description=self.description,
            tags=list(self.tags),
            content=self.content,
            model_config=self.llm_config,
            version_name=self.version_name,
            version_description=self.version_description,
            max_versions=self.max_versions,
            messages=self.messages,
            template_format=self.template_format,
            idempotency_key=idempotency_key,
            kind=self.kind,
            contract=self.contract,
        )

    @field_validator("name", mode="before")  # before the pattern, for this message
    @classmethod
    def _not_all_digits(cls, v: object) -> object:
        if isinstance(v, str) and looks_like_id(v):
            raise ValueError("name cannot be all digits (that is how ids are written)")
        return v

    @field_validator("tags")
    @classmethod
    def _tags(cls, v: list[str]) -> list[str]:
        for tag in v:
            if not 1 <= len(tag) <= limits.TAG_MAX:
                raise ValueError(f"each tag is 1 to {limits.TAG_MAX} characters")
        return v


class PromptPatch(_In):
    description: Description | None = None
    tags: list[TagName] | None = Field(default=None, max_length=limits.TAGS_MAX)
    content: Content | None = None
    llm_config: ModelConfig | None = Field(default=None, alias="model_config")
    max_versions: int | None = Field(
        default=None,
        ge=1,
        le=limits.MAX_VERSIONS_MAX,
        description="New retention limit (applied at once); null: unlimited.",
    )

    _mc = field_validator("llm_config")(_check_model_config)

    def changes(self) -> dict[str, Any]:
        """Only the fields the request set, under their domain names; null clears max_versions."""
        out: dict[str, Any] = {}
        for name in self.model_fields_set:
            value = getattr(self, name)
            key = "model_config" if name == "llm_config" else name
            if value is None and key != "max_versions":
                continue
            out[key] = value
        return out

    def to_command(self, prompt: str, *, if_match: str | None = None) -> UpdatePrompt:
        return UpdatePrompt(prompt, self.changes(), if_match)


class PromptOut(_Out):
    id: int
    name: str
    description: str
    tags: list[str]
    content: str = Field(description="The working copy: what the next version snapshots.")
    llm_config: ModelConfig = Field(alias="model_config", serialization_alias="model_config")
    active_version: VersionSummaryOut | None
    version_count: int
    max_versions: int | None
    etag: str = Field(description="Send it back in If-Match to guard an edit or a rollback.")
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = Field(
        default=None,
        description="When it was soft-deleted (in GET /prompts?deleted=true); null when live.",
    )


class EventOut(_Out):
    id: int
    prompt_id: int
    kind: str = Field(
        description="prompt.created, prompt.updated, prompt.deleted, prompt.restored, "
        "version.created, version.activated, version.rolled_back, version.archived, "
        "version.restored, version.purged, …"
    )
    version_id: int | None
    from_version_id: int | None = Field(description="The version that was active before.")
    actor: str
    created_at: datetime
    detail: dict[str, Any]


class RollbackOut(_Out):
    changed: bool = Field(description="False when the version was already active (a no-op).")
    prompt: PromptOut
    version: VersionOut

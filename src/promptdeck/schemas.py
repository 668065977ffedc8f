"""Wire models (JSON in and out), shared by the server and the client.

Request models forbid unknown fields, so server-owned fields (id, number, created_at,
content_hash, active…) can never be set from input.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from promptdeck import limits
from promptdeck.domain.refs import is_id

T = TypeVar("T")

ModelConfig = dict[str, Any]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, protected_namespaces=())


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True, populate_by_name=True, protected_namespaces=())


def _check_model_config(value: ModelConfig | None) -> ModelConfig | None:
    import json

    if value is not None and len(json.dumps(value)) > limits.MODEL_CONFIG_MAX_BYTES:
        raise ValueError(f"model_config is larger than {limits.MODEL_CONFIG_MAX_BYTES} bytes")
    return value


class PromptCreate(_In):
    name: str = Field(
        min_length=1,
        max_length=limits.PROMPT_NAME_MAX,
        pattern=limits.PROMPT_NAME_PATTERN,
        description="Unique slug: lowercase letters, digits, '.', '_', '-'; not all digits.",
        examples=["support-reply"],
    )
    description: str = Field(default="", max_length=limits.DESCRIPTION_MAX)
    tags: list[str] = Field(default_factory=list, max_length=limits.TAGS_MAX)
    content: str = Field(
        default="", max_length=limits.CONTENT_MAX, description="The prompt text (working copy)."
    )
    llm_config: ModelConfig = Field(
        default_factory=dict,
        alias="model_config",
        description="Model settings (model name, temperature…), any JSON object.",
    )
    version_name: str | None = Field(
        default=None,
        min_length=1,
        max_length=limits.VERSION_NAME_MAX,
        description="Name of the first version; defaults to the UTC creation timestamp.",
    )
    version_description: str = Field(default="", max_length=limits.DESCRIPTION_MAX)
    max_versions: int | None = Field(
        default=None,
        ge=1,
        le=1_000_000,
        description="Keep at most this many unarchived versions; older ones (never the active "
        "one) are archived. Omitted: the server default (PROMPTDECK_DEFAULT_MAX_VERSIONS).",
    )

    _mc = field_validator("llm_config")(_check_model_config)

    def create_args(self) -> dict[str, Any]:
        """The arguments of ``Registry.create_prompt``, under their domain names."""
        args = self.model_dump(exclude={"llm_config"})
        args["model_config"] = self.llm_config
        return args

    @field_validator("name")
    @classmethod
    def _not_all_digits(cls, v: str) -> str:
        if is_id(v):
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
    description: str | None = Field(default=None, max_length=limits.DESCRIPTION_MAX)
    tags: list[str] | None = Field(default=None, max_length=limits.TAGS_MAX)
    content: str | None = Field(default=None, max_length=limits.CONTENT_MAX)
    llm_config: ModelConfig | None = Field(default=None, alias="model_config")
    max_versions: int | None = Field(
        default=None,
        ge=1,
        le=1_000_000,
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


class VersionCreate(_In):
    version_name: str | None = Field(
        default=None,
        min_length=1,
        max_length=limits.VERSION_NAME_MAX,
        description="Unique per prompt; defaults to the UTC timestamp (suffixed -2, -3… if taken).",
        examples=["tone-v2"],
    )
    description: str | None = Field(
        default=None, max_length=limits.DESCRIPTION_MAX, description="What changed and why."
    )
    content: str | None = Field(
        default=None,
        max_length=limits.CONTENT_MAX,
        description="The text to snapshot; omitted: the prompt's working copy.",
    )
    llm_config: ModelConfig | None = Field(
        default=None,
        alias="model_config",
        description="The model config to snapshot; omitted: the working copy's.",
    )
    activate: bool = Field(default=False, description="Also make the new version active.")

    _mc = field_validator("llm_config")(_check_model_config)


class VersionSummaryOut(_Out):
    id: int
    prompt_id: int
    number: int = Field(description="1, 2, 3… per prompt, never reused.")
    version_name: str
    description: str
    created_at: datetime
    created_by: str
    content_hash: str
    active: bool
    archived: bool = Field(
        default=False,
        description="Out of the prompt's max_versions window: kept in history, content "
        "restorable (POST …/restore, or a rollback restores it).",
    )
    archived_at: datetime | None = None
    purged: bool = Field(
        default=False, description="Content destroyed for good; the row is a tombstone."
    )
    purged_at: datetime | None = None
    purged_by: str | None = Field(default=None, description="Who purged it (X-Actor).")
    purge_reason: str | None = Field(default=None, description="Why it was purged.")


class VersionOut(VersionSummaryOut):
    content: str | None = Field(description="The prompt text of this version (null once purged).")
    llm_config: ModelConfig | None = Field(alias="model_config", serialization_alias="model_config")
    previous_version_id: int | None = Field(
        description="The version before this one (the base for a diff), if any."
    )


class VersionPurge(_In):
    reason: str = Field(
        min_length=1,
        max_length=1000,
        description="Why the content must go (recorded in history; do not repeat the secret).",
        examples=["an API key was pasted into the prompt"],
    )


class StorageOut(_Out):
    prompt_id: int
    versions: int = Field(description="Versions in history (archived and purged included).")
    archived: int = Field(description="Archived versions (purged tombstones included).")
    purged: int
    blobs: int = Field(description="Distinct contents the versions use (identical: stored once).")
    raw_bytes: int = Field(description="UTF-8 bytes of every version's content, per version.")
    stored_bytes: int = Field(
        description="Bytes those contents take as stored (zstd copies and deltas), before "
        "table and index overhead."
    )
    labelled: int = Field(
        0, description="Distinct versions a label points at (active included); never archived."
    )


class ActiveOut(_Out):
    prompt_id: int
    prompt_name: str
    version_id: int
    number: int
    version_name: str
    description: str
    content: str
    llm_config: ModelConfig = Field(alias="model_config", serialization_alias="model_config")
    content_hash: str
    created_at: datetime
    created_by: str


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


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        description="Pass as ?cursor= to get the next page; null on the last page."
    )


class RollbackOut(_Out):
    changed: bool = Field(description="False when the version was already active (a no-op).")
    prompt: PromptOut
    version: VersionOut


class LabelSet(_In):
    version_id: int = Field(ge=1, le=2**31 - 1, description="The version the label points at.")
    reason: str | None = Field(None, max_length=1000, description="Why (kept in the history).")


class LabelPatch(_In):
    protected: bool = Field(
        description="Moving a protected label needs the admin role or an approved deploy request."
    )


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
    label: str = Field(min_length=1, max_length=64)
    version_id: int = Field(ge=1, le=2**31 - 1)
    reason: str = Field(min_length=1, max_length=1000, description="Why: required.")


class DeployDecision(_In):
    reason: str | None = Field(None, max_length=1000)


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


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    field: str | None = None
    errors: list[dict[str, Any]] | None = None


class _Record(BaseModel):
    """Export records let unknown fields through, so newer columns survive a round trip."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, protected_namespaces=())


class VersionRecord(_Record):
    number: int = Field(ge=1)
    version_name: str = Field(min_length=1, max_length=limits.VERSION_NAME_MAX)
    description: str = Field(max_length=limits.DESCRIPTION_MAX)
    content: str | None = Field(max_length=limits.CONTENT_MAX)
    llm_config: ModelConfig | None = Field(alias="model_config", serialization_alias="model_config")
    content_hash: str
    created_by: str
    created_at: datetime


class EventRecord(_Record):
    kind: str
    actor: str
    created_at: datetime
    detail: dict[str, Any]
    version_number: int | None = None
    from_version_number: int | None = None


class PromptRecord(_Record):
    """A prompt's whole history (GET /prompts/{prompt_id}/export, POST /prompts/import)."""

    format: int = 1
    name: str = Field(
        min_length=1, max_length=limits.PROMPT_NAME_MAX, pattern=limits.PROMPT_NAME_PATTERN
    )
    description: str
    tags: list[str]
    content: str
    llm_config: ModelConfig = Field(alias="model_config", serialization_alias="model_config")
    max_versions: int | None
    next_version_number: int
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = None
    active_version_number: int
    versions: list[VersionRecord] = Field(description="Every version in full, oldest first.")
    events: list[EventRecord] = Field(description="The timeline, oldest first.")

    def to_record(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True)


class ImportOut(_Out):
    created: bool = Field(description="False when an identical prompt was already there.")
    prompt: PromptOut

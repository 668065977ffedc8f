"""Export records and imports of whole histories."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
)

from promptdeck import limits
from promptdeck.domain.commands import ImportPrompt
from promptdeck.domain.labels import LABEL_MAX, LABEL_REGEX
from promptdeck.domain.templates import Kind, TemplateFormat
from promptdeck.schemas.common import (
    Actor,
    ConfigIn,
    Content,
    Description,
    ModelConfig,
    TagName,
    Text,
    VersionName,
    _Out,
)
from promptdeck.schemas.prompts import PromptOut


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
    contract: dict[str, Any] | None = Field(
        default=None,
        description="The contract as given at creation (null without one; records written "
        "before contracts have none).",
    )


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


class _Import(BaseModel):
    """An imported record obeys exactly the API's rules. Fields this server does not know
    (from a newer server) are dropped: they could not be stored."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, protected_namespaces=())


class VersionImport(_Import):
    number: int = Field(ge=1, le=limits.ID_MAX)
    version_name: VersionName
    description: Description = ""
    content: Content | None
    llm_config: ConfigIn | None = Field(alias="model_config", serialization_alias="model_config")
    content_hash: str = Field(pattern=r"^sha256:[0-9a-f]{64}$")
    created_by: Actor
    created_at: AwareDatetime
    archived: bool = False
    archived_at: AwareDatetime | None = None
    purged_at: AwareDatetime | None = None
    purged_by: Actor | None = None
    purge_reason: Annotated[Text, Field(max_length=limits.PURGE_REASON_MAX)] | None = None
    kind: Kind = "text"  # records written before templates have neither
    template_format: TemplateFormat = "plain"
    # Checked whole (domain/history.py); records written before contracts have none.
    contract: dict[str, Any] | None = None


class EventImport(_Import):
    kind: str = Field(min_length=1, max_length=32, pattern=r"^[a-z_]+\.[a-z_]+$")
    actor: Actor
    created_at: AwareDatetime
    detail: ConfigIn
    version_number: int | None = Field(default=None, ge=1, le=limits.ID_MAX)
    from_version_number: int | None = Field(default=None, ge=1, le=limits.ID_MAX)


LabelName = Annotated[str, Field(min_length=1, max_length=LABEL_MAX, pattern=LABEL_REGEX)]


Reason = Annotated[Text, Field(max_length=1000)]


Number = Annotated[int, Field(ge=1, le=limits.ID_MAX)]


class LabelImport(_Import):
    name: LabelName
    version_number: Number
    moved_at: AwareDatetime | None = None
    moved_by: Actor | None = None


class LabelMoveImport(_Import):
    label: LabelName
    actor: Actor
    reason: Reason | None = None
    created_at: AwareDatetime
    from_version_number: Number | None = None
    to_version_number: Number | None = None


class DeployRequestImport(_Import):
    label: LabelName
    reason: Reason
    proposed_by: Actor
    created_at: AwareDatetime
    status: Literal["open", "approved", "rejected", "stale"]
    decided_by: Actor | None = None
    decided_at: AwareDatetime | None = None
    decision_reason: Reason | None = None
    version_number: Number
    from_version_number: Number | None = None
    base_move: int | None = Field(default=None, ge=0, le=limits.ID_MAX)


class PromptImport(_Import):
    """POST /prompts/import and `promptdeck import`: a PromptRecord, checked like the API
    checks a create (every bound, every value), then as a whole (domain/history.py)."""

    format: Literal[1] = 1
    name: str = Field(
        min_length=1, max_length=limits.PROMPT_NAME_MAX, pattern=limits.PROMPT_NAME_PATTERN
    )
    description: Description = ""
    tags: list[TagName] = Field(default_factory=list, max_length=limits.TAGS_MAX)
    content: Content = ""
    llm_config: ConfigIn = Field(
        default_factory=dict, alias="model_config", serialization_alias="model_config"
    )
    max_versions: int | None = Field(default=None, ge=1, le=limits.MAX_VERSIONS_MAX)
    next_version_number: int = Field(ge=0, le=limits.ID_MAX)
    created_at: AwareDatetime
    updated_at: AwareDatetime
    deleted_at: AwareDatetime | None = None
    active_version_number: int = Field(ge=1, le=limits.ID_MAX)
    versions: list[VersionImport] = Field(min_length=1)
    events: list[EventImport] = Field(default_factory=list)
    # Issue 14 (labels): records written before labels have none of these, and import so.
    labels: list[LabelImport] | None = None
    protected_labels: list[LabelName] | None = None
    label_moves: list[LabelMoveImport] | None = None
    deploy_requests: list[DeployRequestImport] | None = None

    @field_validator("name", mode="before")  # before the pattern, for this message
    @classmethod
    def _not_all_digits(cls, v: object) -> object:
        if isinstance(v, str) and v.isdigit():
            raise ValueError("name cannot be all digits (that is how ids are written)")
        return v

    def to_record(self) -> dict[str, Any]:
        record = self.model_dump(by_alias=True)
        for key in ("labels", "protected_labels", "label_moves", "deploy_requests"):
            if record[key] is None:  # absent: the record was written before labels
                del record[key]
        return record

    def to_command(self) -> ImportPrompt:
        return ImportPrompt(self.to_record())


class ImportOut(_Out):
    created: bool = Field(description="False when an identical prompt was already there.")
    prompt: PromptOut

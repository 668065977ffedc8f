"""Wire models (JSON in and out), shared by the server and the client.

Request models forbid unknown fields, so server-owned fields (id, number, created_at,
content_hash, active…) can never be set from input.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    field_validator,
)

from promptdeck import limits
from promptdeck.domain import templates, values
from promptdeck.domain.refs import looks_like_id
from promptdeck.domain.templates import Kind, TemplateFormat
from promptdeck.errors import VersionUnavailable

T = TypeVar("T")

ModelConfig = dict[str, Any]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, protected_namespaces=())


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True, populate_by_name=True, protected_namespaces=())


def _check_model_config(value: ModelConfig | None) -> ModelConfig | None:
    return None if value is None else values.check_model_config(value)


def _name_of_at_most(most: int) -> Any:
    def check(value: str) -> str:
        value = values.check_name(value)
        if not 1 <= len(value) <= most:
            raise ValueError(f"must be 1 to {most} characters (after NFC normalization)")
        return value

    return AfterValidator(check)


# Every text a request can store goes through domain/values.py (one validation point for
# the API, the UI, the CLI through the API, and import).
Text = Annotated[str, AfterValidator(values.check_text)]
VersionName = Annotated[
    str,
    Field(min_length=1, max_length=limits.VERSION_NAME_MAX),
    _name_of_at_most(limits.VERSION_NAME_MAX),
]
TagName = Annotated[
    str, Field(min_length=1, max_length=limits.TAG_MAX), _name_of_at_most(limits.TAG_MAX)
]
Description = Annotated[Text, Field(max_length=limits.DESCRIPTION_MAX)]
Content = Annotated[Text, Field(max_length=limits.CONTENT_MAX)]


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
        le=1_000_000,
        description="Keep at most this many unarchived versions; older ones (never the active "
        "one) are archived. Omitted: the server default (PROMPTDECK_DEFAULT_MAX_VERSIONS).",
    )
    messages: list[dict[str, Any]] | None = Field(
        default=None,
        max_length=limits.MESSAGES_MAX,
        description="Make the first version a chat one with these messages (see "
        "VersionCreate.messages); the working copy stays content.",
    )
    template_format: TemplateFormat = Field(default="plain", description="See VersionCreate.")

    _mc = field_validator("llm_config")(_check_model_config)

    def create_args(self) -> dict[str, Any]:
        """The arguments of ``Registry.create_prompt``, under their domain names."""
        args = self.model_dump(exclude={"llm_config"})
        args["model_config"] = self.llm_config
        return args

    @field_validator("name")
    @classmethod
    def _not_all_digits(cls, v: str) -> str:
        if looks_like_id(v):
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
    version_name: VersionName | None = Field(
        default=None,
        min_length=1,
        max_length=limits.VERSION_NAME_MAX,
        description="Unique per prompt; defaults to the UTC timestamp (suffixed -2, -3… if taken).",
        examples=["tone-v2"],
    )
    description: Text | None = Field(
        default=None, max_length=limits.DESCRIPTION_MAX, description="What changed and why."
    )
    content: Text | None = Field(
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
    kind: Kind = Field(
        default="text",
        description='"text" (content) or "chat" (messages); the kind is part of the version.',
    )
    messages: list[dict[str, Any]] | None = Field(
        default=None,
        max_length=limits.MESSAGES_MAX,
        description='A chat version\'s messages: {"role": "system"|"user"|"assistant"|"tool", '
        '"content": template} or {"role": "placeholder", "name": variable} (filled at render '
        "time with a list of messages).",
        examples=[[{"role": "system", "content": "You are {{persona}}."}]],
    )
    template_format: TemplateFormat = Field(
        default="plain",
        description='"plain": {{variables}} and {{> includes}} only; "jinja": also {% if %} and '
        "{% for %} sections, rendered in Jinja2's sandbox.",
    )
    if_changed: bool = Field(
        default=False,
        description="Return the latest version (200, not 201) when it has the same content, "
        "kind, format and model_config: nothing is created.",
    )

    _mc = field_validator("llm_config")(_check_model_config)

    @field_validator("messages")
    @classmethod
    def _messages_size(cls, v: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
        import json

        if v is not None and len(json.dumps(v)) > limits.CONTENT_MAX:
            raise ValueError(f"messages are larger than {limits.CONTENT_MAX} characters")
        return v


class _Renderable:
    """Local rendering of a fetched version (the client's cache): no request."""

    kind: str
    template_format: str
    content: str | None

    def render(self, **variables: Any) -> str | list[dict[str, Any]]:
        """The filled template: a string for a text version, a list of messages for a chat
        one, as OpenAI's ``messages=`` takes it. Missing variables raise MissingVariables."""
        return self.rendered(variables).value()

    def rendered(self, variables: dict[str, Any]) -> templates.Rendered:
        if self.content is None:
            raise VersionUnavailable("this version was purged: nothing to render")
        return templates.render(self.kind, self.template_format, self.content, variables)

    def render_anthropic(self, **variables: Any) -> dict[str, Any]:
        """``{"system": …, "messages": […]}`` for ``anthropic.messages.create(**…)``: the
        system messages joined, the others as they are."""
        out = self.rendered(variables)
        messages = (
            out.messages
            if out.messages is not None
            else [{"role": "user", "content": out.text or ""}]
        )
        system = "\n\n".join(m["content"] for m in messages if m["role"] == "system")
        rest = [m for m in messages if m["role"] != "system"]
        return {"system": system, "messages": rest} if system else {"messages": rest}


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
    kind: Kind = "text"
    template_format: TemplateFormat = "plain"


class VersionOut(_Renderable, VersionSummaryOut):
    content: str | None = Field(
        description="The prompt text of this version (null once purged); for a chat version, "
        "its messages as JSON."
    )
    messages: list[dict[str, Any]] | None = Field(
        default=None, description="A chat version's messages (null for text)."
    )
    variables: list[str] | None = Field(
        default=None,
        description="The variables its template uses, in order (placeholders included); "
        "included prompts' variables are not listed.",
    )
    llm_config: ModelConfig | None = Field(alias="model_config", serialization_alias="model_config")
    previous_version_id: int | None = Field(
        description="The version before this one (the base for a diff), if any."
    )


class VersionPurge(_In):
    reason: Text = Field(
        min_length=1,
        max_length=limits.PURGE_REASON_MAX,
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


class ActiveOut(_Renderable, _Out):
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
    kind: Kind = "text"
    template_format: TemplateFormat = "plain"
    messages: list[dict[str, Any]] | None = None


class RenderIn(_In):
    variables: dict[str, Any] = Field(
        default_factory=dict,
        description="Values by name: text inserted as is (numbers, booleans and JSON as "
        "JSON); for a placeholder, a list of messages.",
        examples=[{"customer": "Ada", "question": "Where is my parcel?"}],
    )
    version_id: int | None = Field(
        default=None, ge=1, le=limits.ID_MAX, description="Render this version."
    )
    version: Text | None = Field(
        default=None,
        max_length=limits.VERSION_NAME_MAX,
        description="Or a version number, a label (active) or a version name, as after @ in "
        "an include. Neither: the active version.",
        examples=["3", "active"],
    )


class RenderOut(_Out):
    prompt_id: int
    prompt_name: str
    version: VersionSummaryOut
    kind: Kind
    text: str | None = Field(description="The filled text (text versions).")
    messages: list[dict[str, Any]] | None = Field(description="The filled messages (chat).")
    llm_config: ModelConfig = Field(alias="model_config", serialization_alias="model_config")
    unused_variables: list[str] = Field(description="Variables given that the template never uses.")


class IncludeOut(_Out):
    version_id: int = Field(description="The including version.")
    prompt_id: int
    prompt_name: str
    number: int
    target_prompt_id: int
    target_prompt_name: str
    at: str | None = Field(description="As written after @ (null: the active version).")
    target_version_id: int | None = Field(
        description="The version pinned (by number or version name); null for a label."
    )


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
    protected: StrictBool = Field(
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


def _iso_8601_only(value: Any) -> Any:
    """A time in a query is ISO 8601 text: pydantic would also read a bare number as seconds
    since 1970, which the schema (format date-time) does not allow."""
    if isinstance(value, str) and not _ISO_DATE.match(value):
        raise ValueError("must be an ISO 8601 time, e.g. 2026-11-25T10:00:00Z")
    return value


def _in_utc(value: datetime) -> datetime:
    """The time in UTC; one written without an offset is UTC (times are UTC throughout).
    Naive, it would fail against stored times; past year 9999 or before year 1 once in UTC
    (9999-12-31T23:59:59-01:00), it cannot be held at all."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("must be a time between the years 1 and 9999 in UTC") from exc


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
IsoDatetime = Annotated[datetime, BeforeValidator(_iso_8601_only), AfterValidator(_in_utc)]


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


ConfigIn = Annotated[dict[str, Any], AfterValidator(values.check_model_config)]
Actor = Annotated[Text, Field(max_length=limits.ACTOR_MAX)]


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


class EventImport(_Import):
    kind: str = Field(min_length=1, max_length=32, pattern=r"^[a-z_]+\.[a-z_]+$")
    actor: Actor
    created_at: AwareDatetime
    detail: ConfigIn
    version_number: int | None = Field(default=None, ge=1, le=limits.ID_MAX)
    from_version_number: int | None = Field(default=None, ge=1, le=limits.ID_MAX)


LabelName = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9._-]*$")]
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
    max_versions: int | None = Field(default=None, ge=1, le=1_000_000)
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

    @field_validator("name")
    @classmethod
    def _not_all_digits(cls, v: str) -> str:
        if v.isdigit():
            raise ValueError("name cannot be all digits (that is how ids are written)")
        return v

    def to_record(self) -> dict[str, Any]:
        record = self.model_dump(by_alias=True)
        for key in ("labels", "protected_labels", "label_moves", "deploy_requests"):
            if record[key] is None:  # absent: the record was written before labels
                del record[key]
        return record


class ImportOut(_Out):
    created: bool = Field(description="False when an identical prompt was already there.")
    prompt: PromptOut


# --- access: keys, people, the history across prompts -------------------------------------

Role: Any = Field(
    description="read (every GET), write (create, edit, roll back, archive, restore) "
    "or admin (delete, purge, import, retention settings, keys and users).",
    pattern="^(read|write|admin)$",
)
Prefixes: Any = Field(
    default_factory=list,
    max_length=20,
    description="Only prompts whose names start with one of these (none: every prompt).",
)


class KeyCreate(_In):
    name: str = Field(min_length=1, max_length=64, description="Names the key in the history.")
    role: str = Role
    prompts: list[str] = Prefixes
    expires: str | None = Field(
        default=None, max_length=8, description="Lifetime, like 90d, 12h, 2w (none: forever)."
    )


class UserCreate(_In):
    name: str = Field(min_length=1, max_length=64, description="Sign-in name, in the history.")
    role: str = Role
    password: str = Field(min_length=10, max_length=1024)
    prompts: list[str] = Prefixes


class AccountOut(_Out):
    name: str
    kind: str = Field(description="key or user")
    role: str
    prompts: list[str] = Field(description="Prompt-name prefixes (empty: every prompt).")
    key_prefix: str | None = Field(
        description="The start of the key (pdk_…), to tell keys apart; the key itself is "
        "shown only once, when it is created."
    )
    created_at: datetime
    created_by: str
    expires_at: datetime | None
    revoked_at: datetime | None


class KeyCreated(AccountOut):
    key: str = Field(description="The key. Shown this once; only its hash is stored.")


class AuditEventOut(EventOut):
    prompt_name: str


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


# --- webhooks (docs/webhooks.md) ---------------------------------------------------------------

WebhookUrl = Annotated[
    str,
    Field(
        min_length=1,
        max_length=2048,
        description="Where deliveries are POSTed: an http:// or https:// URL.",
    ),
]
WebhookEvents = Annotated[
    list[Annotated[str, Field(max_length=40)]],
    Field(
        min_length=1,
        max_length=40,
        description='Event kinds to send (version.created, label.moved…), or ["*"]: all.',
    ),
]
WebhookSecret = Annotated[
    str,
    Field(
        min_length=16,
        max_length=200,
        description="The signing secret (16 to 200 printable characters); generated if "
        "omitted. Never shown again.",
    ),
]
WebhookDescription = Annotated[Text, Field(max_length=500)]


class WebhookCreate(_In):
    url: WebhookUrl
    events: WebhookEvents = Field(default_factory=lambda: ["*"])
    prompt: str | None = Field(
        default=None,
        min_length=1,
        max_length=limits.PROMPT_NAME_MAX,
        description="A prompt's id or name: only its events (none: every prompt's).",
    )
    secret: WebhookSecret | None = None
    description: WebhookDescription = ""
    enabled: bool = True


class WebhookPatch(_In):
    url: WebhookUrl | None = None
    events: WebhookEvents | None = None
    secret: WebhookSecret | None = Field(
        default=None, description="A new signing secret (rotation); not shown again."
    )
    description: WebhookDescription | None = None
    enabled: bool | None = None


class WebhookOut(_Out):
    id: int
    url: str
    events: list[str]
    prompt_id: int | None = Field(description="The prompt whose events it gets (null: all).")
    prompt_name: str | None
    description: str
    enabled: bool
    created_at: datetime
    created_by: str
    updated_at: datetime


class WebhookCreated(WebhookOut):
    secret: str = Field(description="The signing secret. Shown this once.")


class DeliveryOut(_Out):
    id: int
    uid: str = Field(description="The Promptdeck-Delivery header: the same on every attempt.")
    hook_id: int
    event_id: int | None = Field(description="The event (null: a test delivery).")
    kind: str
    status: str = Field(description="pending, delivered or failed")
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None
    finished_at: datetime | None
    last_attempt_at: datetime | None
    last_status_code: int | None = Field(description="The receiver's last answer (null: none).")
    last_error: str | None = Field(description="Why the last attempt got no answer.")
    last_response: str | None = Field(description="The start of the receiver's last answer.")
    last_duration_ms: int | None


# --- outcomes and impact (issue 16) -----------------------------------------------------------


def _no_bool(value: object) -> object:
    """JSON true/false is not a number (pydantic would read it as 1/0)."""
    if isinstance(value, bool):
        raise ValueError("a number, not true or false")
    return value


Number_ = Annotated[float, BeforeValidator(_no_bool)]
Count_ = Annotated[int, BeforeValidator(_no_bool)]
TagKey = Annotated[Text, Field(min_length=1, max_length=limits.OUTCOME_TAG_KEY_MAX)]
TagValue = Annotated[Text, Field(max_length=limits.OUTCOME_TAG_VALUE_MAX)]


class OutcomeIn(_In):
    """One call of a prompt version and how it went; every measure is optional."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, protected_namespaces=())

    prompt_id: Annotated[
        int | Annotated[Text, Field(min_length=1, max_length=limits.PROMPT_NAME_MAX)],
        BeforeValidator(_no_bool),
    ] = Field(description="The prompt's id or name.", examples=["support-reply"])
    version_id: Count_ = Field(ge=1, le=limits.ID_MAX, description="The version that was used.")
    success: bool | None = None
    score: Number_ | None = Field(default=None, ge=0, le=1, description="A quality score, 0..1.")
    latency_ms: Number_ | None = Field(default=None, ge=0, le=limits.OUTCOME_LATENCY_MS_MAX)
    input_tokens: Count_ | None = Field(default=None, ge=0, le=limits.OUTCOME_TOKENS_MAX)
    output_tokens: Count_ | None = Field(default=None, ge=0, le=limits.OUTCOME_TOKENS_MAX)
    cost: Number_ | None = Field(default=None, ge=0, le=limits.OUTCOME_COST_MAX)
    feedback: Literal[1, -1] | None = Field(default=None, description="User feedback: +1 or -1.")
    tags: dict[TagKey, TagValue] = Field(
        default_factory=dict, max_length=limits.OUTCOME_TAGS_MAX, description="A few free tags."
    )
    at: AwareDatetime | None = Field(
        default=None,
        description="When the call happened (default: when the server receives it); at most "
        f"{limits.OUTCOME_PAST_DAYS_MAX} days old and {limits.OUTCOME_FUTURE_S_MAX} s ahead.",
    )

    @field_validator("prompt_id")
    @classmethod
    def _id_in_range(cls, value: int | str) -> int | str:
        if isinstance(value, int) and not 1 <= value <= limits.ID_MAX:
            raise ValueError(f"an id is 1 to {limits.ID_MAX}")
        return value


class OutcomesIn(_In):
    outcomes: list[OutcomeIn] = Field(
        min_length=1,
        max_length=limits.OUTCOMES_BATCH_MAX,
        description=f"1 to {limits.OUTCOMES_BATCH_MAX} outcomes; one bad item refuses the batch.",
    )


class OutcomesOut(BaseModel):
    accepted: int
    alerts: int = Field(description="impact.alert events this batch raised.")


class IntervalOut(_Out):
    value: float | None
    low: float | None = Field(description="95% confidence interval, lower bound.")
    high: float | None


class SummaryOut(_Out):
    count: int
    success_n: int = Field(description="Outcomes that reported success or failure.")
    success_rate: float | None
    success_rate_ci: IntervalOut = Field(description="Wilson score interval.")
    score_n: int
    mean_score: float | None
    mean_score_ci: IntervalOut = Field(description="Student t interval.")
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    mean_latency_ms: float | None
    input_tokens: int
    output_tokens: int
    cost: float
    feedback_up: int
    feedback_down: int


class SpanOut(_Out):
    label: str
    version_id: int
    start: datetime
    end: datetime | None = Field(description="None: it still serves this version.")


class VersionImpactOut(SummaryOut):
    version_id: int
    number: int | None
    version_name: str | None
    periods: list[SpanOut] = Field(description="When the label served this version.")


class PeriodImpactOut(SummaryOut):
    label: str
    version_id: int
    start: datetime
    end: datetime | None
    move_id: int
    actor: str
    reason: str


class ComparisonOut(_Out):
    measure: str
    a: float | None
    b: float | None
    verdict: Literal["better", "worse", "inconclusive"] = Field(
        description="B against A at the 5% level."
    )
    test: str = Field(description="chi2_contingency, fisher_exact, welch_t, or none.")
    p_value: float | None
    higher_is_better: bool


class SeriesPointOut(_Out):
    start: datetime
    count: int
    success_n: int
    success_rate: float | None
    score_n: int
    mean_score: float | None


class MarkOut(_Out):
    at: datetime
    kind: str
    label: str
    version_id: int | None
    from_version_id: int | None
    detail: dict[str, Any] = Field(description="The event's detail (an alert's numbers).")


class ImpactOut(_Out):
    prompt_id: int
    prompt_name: str
    label: str
    since: datetime | None
    until: datetime | None
    versions: list[VersionImpactOut]
    periods: list[PeriodImpactOut]
    compare: list[int] | None = Field(default=None, description="[A, B] of ?compare=A,B.")
    comparisons: list[ComparisonOut] = Field(default_factory=list)
    series_minutes: int = Field(description="Minutes each series point covers.")
    series: list[SeriesPointOut]
    marks: list[MarkOut] = Field(description="Activations, rollbacks, label moves, alerts.")


class AlertSet(_In):
    min_success: Number_ = Field(ge=0, le=1, allow_inf_nan=False, examples=[0.9])
    window_minutes: Count_ = Field(default=15, ge=1, le=limits.ALERT_WINDOW_MINUTES_MAX)
    min_count: Count_ = Field(default=20, ge=1, le=1_000_000)


class AlertOut(_Out):
    label: str
    min_success: float
    window_minutes: int
    min_count: int
    created_at: datetime | None = Field(default=None, description="When it was last set.")
    created_by: str | None = Field(default=None, description="Who last set it.")


class RawOutcomeOut(_Out):
    id: int
    version_id: int
    at: datetime
    success: bool | None
    score: float | None
    latency_ms: float | None
    input_tokens: int | None
    output_tokens: int | None
    cost: float | None
    feedback: int | None
    tags: dict[str, str]


class RawOutcomesOut(Page[RawOutcomeOut]):
    """A page of raw outcomes, newest first by when they happened, with the server's raw
    outcome settings (an empty list is then no mystery)."""

    kept: bool = Field(
        description="Whether this server keeps raw outcomes (PROMPTDECK_OUTCOMES_RAW); when "
        "false the list holds at most what was kept before."
    )
    days: int = Field(
        description="How many days raw outcomes are kept (PROMPTDECK_OUTCOMES_RAW_DAYS); older "
        "ones are never listed."
    )

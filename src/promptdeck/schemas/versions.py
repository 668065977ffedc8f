"""Versions: create, one in full, the history's summaries, purge, storage, the active version."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import (
    Field,
    field_validator,
)

from promptdeck import limits
from promptdeck.domain import contracts, templates, values
from promptdeck.domain.commands import CreateVersion, PurgeVersion
from promptdeck.domain.templates import Kind, TemplateFormat
from promptdeck.errors import VersionUnavailable
from promptdeck.schemas.common import (
    ModelConfig,
    Text,
    VersionName,
    _check_model_config,
    _In,
    _Out,
)
from promptdeck.schemas.contracts import ContractOut


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

    contract: dict[str, Any] | None = Field(
        default=None,
        description="What the version promises its callers (docs/contracts.md): "
        '{"variables": JSON Schema of the render\'s variables, "tools": [...], '
        '"response_format": {...}}; checked whole and against the template. Omitted: the '
        "variables are inferred from the template.",
    )

    _mc = field_validator("llm_config")(_check_model_config)

    def to_command(
        self,
        prompt: str,
        *,
        idempotency_key: str | None = None,
        if_match: str | None = None,
        save_working_copy: bool = False,
    ) -> CreateVersion:
        """``save_working_copy``: the editor's "save as a version" (not on the wire)."""
        return CreateVersion(
            prompt,
            version_name=self.version_name,
            description=self.description or "",
            content=self.content,
            model_config=self.llm_config,
            activate=self.activate,
            save_working_copy=save_working_copy,
            kind=self.kind,
            messages=self.messages,
            template_format=self.template_format,
            if_changed=self.if_changed,
            idempotency_key=idempotency_key,
            if_match=if_match,
            contract=self.contract,
        )

    @field_validator("messages")
    @classmethod
    def _messages_size(cls, v: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
        import json

        if v is not None and len(json.dumps(v)) > limits.CONTENT_MAX:
            raise ValueError(f"messages are larger than {limits.CONTENT_MAX} characters")
        return v


class _Renderable:
    """Local rendering of a fetched version (the client's cache): no request. The variables
    are checked against the version's contract first, exactly as the server's render
    checks them (VariablesInvalid naming every failing path)."""

    kind: str
    template_format: str
    content: str | None
    contract: ContractOut | None

    def render(self, **variables: Any) -> str | list[dict[str, Any]]:
        """The filled template: a string for a text version, a list of messages for a chat
        one, as OpenAI's ``messages=`` takes it. Missing variables raise MissingVariables;
        variables its contract refuses, VariablesInvalid (``exc.extra["errors"]``)."""
        return self.rendered(variables).value()

    def check_variables(self, variables: dict[str, Any]) -> None:
        """Raise VariablesInvalid (or VariablesTooLarge) when the contract's variables
        schema refuses ``variables``; an inferred schema checks nothing."""
        if self.contract is not None and not self.contract.variables_inferred:
            contracts.check_variables(self.contract.as_contract(), variables)

    def rendered(self, variables: dict[str, Any]) -> templates.Rendered:
        if self.content is None:
            raise VersionUnavailable("this version was purged: nothing to render")
        self.check_variables(variables)
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
    contract: ContractOut | None = Field(
        default=None,
        description="What the version promises its callers: its variables' schema (inferred "
        "from the template when none was given), tools and response format. Null only for "
        "a purged version made without one.",
    )


class VersionPurge(_In):
    reason: Text = Field(
        min_length=1,
        max_length=limits.PURGE_REASON_MAX,
        json_schema_extra={"pattern": values.NOT_BLANK_REGEX},
        description="Why the content must go (recorded in history; do not repeat the secret).",
        examples=["an API key was pasted into the prompt"],
    )

    def to_command(self, prompt: str, version_id: int) -> PurgeVersion:
        return PurgeVersion(prompt, version_id, self.reason)


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
    contract: ContractOut | None = Field(
        default=None,
        description="The version's contract, as on GET …/versions/{version_id}: a client "
        "checks render variables against it locally.",
    )

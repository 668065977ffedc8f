"""Rendering on the server, and the include graph."""

from __future__ import annotations

from typing import Any

from pydantic import (
    Field,
)

from promptdeck import limits
from promptdeck.domain.commands import RenderPrompt
from promptdeck.domain.templates import Kind
from promptdeck.schemas.common import ModelConfig, Text, _In, _Out
from promptdeck.schemas.versions import VersionSummaryOut


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

    def to_command(self, prompt: str) -> RenderPrompt:
        return RenderPrompt(prompt, self.variables, self.version_id, self.version)


class RenderOut(_Out):
    prompt_id: int
    prompt_name: str
    version: VersionSummaryOut
    kind: Kind
    text: str | None = Field(description="The filled text (text versions).")
    messages: list[dict[str, Any]] | None = Field(description="The filled messages (chat).")
    llm_config: ModelConfig = Field(alias="model_config", serialization_alias="model_config")
    unused_variables: list[str] = Field(description="Variables given that the template never uses.")
    tools: list[dict[str, Any]] = Field(
        default_factory=list,
        description="The contract's tool definitions, as OpenAI's chat completions take them "
        "(empty without a contract or tools): pass them to the model SDK as they are.",
    )
    response_format: dict[str, Any] | None = Field(
        default=None,
        description="The contract's response format, as the same API takes it (null: text).",
    )


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

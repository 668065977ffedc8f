"""Running a prompt once: ``POST /prompts/{id}/run`` (a saved version or an unsaved draft)."""

from __future__ import annotations

import json
from typing import Any

from pydantic import Field, field_validator, model_validator

from promptdeck import limits
from promptdeck.domain.runs import Draft, RunPrompt
from promptdeck.domain.templates import TemplateFormat
from promptdeck.schemas.common import ModelConfig, Text, _check_model_config, _In, _Out
from promptdeck.schemas.evaluations import ToolCallOut, UsageOut


class RunDraftIn(_In):
    """An unsaved version: ``content`` (text) or ``messages`` (chat), as a version takes them."""

    content: Text | None = Field(
        default=None,
        max_length=limits.CONTENT_MAX,
        description="A text template; omitted (and no messages): the prompt's working copy.",
    )
    messages: list[dict[str, Any]] | None = Field(
        default=None,
        max_length=limits.MESSAGES_MAX,
        description="A chat template's messages, as a chat version takes them.",
    )
    llm_config: ModelConfig | None = Field(
        default=None,
        alias="model_config",
        description="Passed to the model (temperature, max_tokens…); omitted: the working copy's.",
    )
    contract: dict[str, Any] | None = Field(
        default=None,
        description="The draft's contract (docs/contracts.md): its variables schema is "
        "checked before the call, its tools and response_format sent with it.",
    )
    template_format: TemplateFormat = "plain"

    _mc = field_validator("llm_config")(_check_model_config)

    @field_validator("messages")
    @classmethod
    def _messages_size(cls, v: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
        if v is not None and len(json.dumps(v)) > limits.CONTENT_MAX:
            raise ValueError(f"messages are larger than {limits.CONTENT_MAX} characters")
        return v

    @model_validator(mode="after")
    def _one_template(self) -> Any:
        if self.content is not None and self.messages is not None:
            raise ValueError("give content (text) or messages (chat), not both")
        return self

    def to_draft(self) -> Draft:
        return Draft(
            content=self.content,
            messages=self.messages,
            model_config=self.llm_config,
            contract=self.contract,
            template_format=self.template_format,
        )


class RunIn(_In):
    version_id: int | None = Field(
        default=None,
        ge=1,
        le=limits.ID_MAX,
        description="The version to run; with neither it nor a draft, the active version.",
    )
    draft: RunDraftIn | None = Field(
        default=None,
        description="An unsaved version to run instead (the playground's); not with version_id.",
    )
    variables: dict[str, Any] = Field(
        default_factory=dict,
        description="Values by name, as render takes them; the contract's variables schema "
        "checks them first (422 naming every failing path).",
        examples=[{"question": "Where is my parcel?"}],
    )
    provider: Text = Field(
        min_length=1,
        max_length=64,
        description="The configured provider's name.",
        examples=["local"],
    )
    model: Text | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="One of the provider's models; omitted: the version's model_config.model, "
        "else the provider's first.",
    )
    stream: bool = Field(
        default=False,
        description="Answer as Server-Sent Events (as does Accept: text/event-stream).",
    )

    @model_validator(mode="after")
    def _one_source(self) -> Any:
        if self.version_id is not None and self.draft is not None:
            raise ValueError("give version_id or draft, not both")
        return self

    def to_command(self, prompt: str, *, stream: bool = False) -> RunPrompt:
        return RunPrompt(
            prompt,
            values=self.variables,
            provider=self.provider,
            version_id=self.version_id,
            draft=None if self.draft is None else self.draft.to_draft(),
            model=self.model,
            stream=self.stream or stream,
        )


class RunOut(_Out):
    output: str = Field(description="The model's text (empty when it only called tools).")
    tool_calls: list[ToolCallOut] = Field(default_factory=list)
    finish_reason: str | None = None
    latency_ms: float = Field(description="From the request to the whole answer (last attempt).")
    first_token_ms: float | None = Field(
        default=None, description="Streams: when the first piece came."
    )
    usage: UsageOut | None = Field(description="Token counts, when the provider reports them.")
    cost: float | None = Field(description="From the usage and the provider's prices, if set.")
    version_id: int | None = Field(description="The version run; null: a draft.")
    prompt_id: int
    provider: str
    model: str = Field(description="The model asked for.")
    attempts: int = Field(default=1, description="Calls made (retries on 429 and 5xx included).")

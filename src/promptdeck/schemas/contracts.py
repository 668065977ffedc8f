"""Contracts on the wire (docs/api.md, "Contracts"): a version's contract as read back, and a
comparison of two versions (its text diff and contract changes)."""

from __future__ import annotations

from typing import Any

from pydantic import Field, PrivateAttr

from promptdeck.domain.contracts import Contract
from promptdeck.schemas.common import _Out

CONTRACT_DESCRIPTION = (
    'What the version promises its callers: {"variables": a JSON Schema (draft 2020-12) '
    'object, "tools": OpenAI chat-completions tool definitions, "response_format": '
    '{"type": "text" | "json_object" | "json_schema", …}}. Checked whole when the version is '
    "created (422 contract-invalid naming the path); bounds and vocabulary in docs/api.md, "
    '"Contracts". Omitted: the variables are inferred from the template.'
)

CONTRACT_EXAMPLE: dict[str, Any] = {
    "variables": {
        "type": "object",
        "properties": {
            "customer": {"type": "string"},
            "age": {"type": "integer", "minimum": 0},
        },
        "required": ["customer"],
    },
    "tools": [],
    "response_format": {"type": "text"},
}


class ContractOut(_Out):
    """A version's contract as every read of the version in full gives it."""

    variables: dict[str, Any] | None = Field(
        description="The variables' JSON Schema; inferred from the template when none was "
        "given (then variables_inferred is true); null only for a purged version without one."
    )
    variables_inferred: bool = Field(
        description="True when the version gave no variables schema: each variable its "
        "template uses is required (a string in the plain format, any value in Jinja, a list "
        "of messages for a chat placeholder), and renders check nothing more than before."
    )
    tools: list[dict[str, Any]] = Field(
        description="Tool definitions, as OpenAI's chat completions take them (maybe empty)."
    )
    response_format: dict[str, Any] | None = Field(
        description="The answer's format, as OpenAI's chat completions take it (null: text)."
    )

    # The domain's Contract, made once per copy (a client renders a cached copy many times).
    _contract: Contract | None = PrivateAttr(default=None)

    @classmethod
    def of(cls, contract: Contract | None) -> ContractOut | None:
        return None if contract is None else cls.model_validate(contract.to_json())

    def as_contract(self) -> Contract:
        if self._contract is None:
            self._contract = Contract.from_json(self.model_dump())
        return self._contract


class ContractChangeOut(_Out):
    path: str = Field(
        description="Where in the contract: variables.customer.age, tools.lookup_order, "
        "response_format.answer…",
        examples=["variables.age"],
    )
    change: str = Field(description="What changed, in words.", examples=["new required variable"])
    breaking: bool = Field(
        description="True when a caller of the old version could fail on the new one "
        '(docs/api.md, "Breaking changes").'
    )


class ConfigChangeOut(_Out):
    key: str = Field(description="A model config key; nested keys dotted (a.b).")
    kind: str = Field(description='"added", "removed" or "changed".')
    old: Any = None
    new: Any = None


class VersionDiffOut(_Out):
    """GET /prompts/{prompt_id}/versions/{version_id}/diff?against={other_id}: what changed
    from ``against`` (the old side) to ``version_id`` (the new side)."""

    prompt_id: int
    version_id: int = Field(description="The new side.")
    against: int = Field(description="The old side (the version compared with).")
    comparable: bool = Field(
        description="False when either version's content is gone (purged) or away (archived): "
        "no text diff, the contract changes only."
    )
    diff: str = Field(
        description="The text diff as `diff -u` prints it (a chat version's messages one "
        'after the other, each under a "[role]" line); "" when the texts are the same.'
    )
    added: int = Field(description="Lines added.")
    removed: int = Field(description="Lines removed.")
    coarse: bool = Field(
        description="True when the texts were too large to compare line by line everywhere "
        '(docs/api.md, "Limits"): some changed lines are shown as whole blocks.'
    )
    config_changes: list[ConfigChangeOut] = Field(description="The model config's changes.")
    contract_changes: list[ContractChangeOut]
    breaking: bool = Field(description="True when any contract change is breaking.")

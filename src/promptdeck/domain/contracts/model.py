"""A version's contract: the variables schema, the tools, the answer's format; checked
whole before anything is stored (docs/contracts.md)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from promptdeck import limits
from promptdeck.domain import templates, values
from promptdeck.domain.contracts.paths import Segment, render_path
from promptdeck.domain.contracts.schema import check_schema
from promptdeck.errors import ContractInvalid

CONTRACT_KEYS = ("variables", "variables_inferred", "tools", "response_format")
TOOL_NAME = re.compile(limits.TOOL_NAME_PATTERN)
RESPONSE_TYPES = ("text", "json_object", "json_schema")
# What an inferred contract says a chat placeholder takes: a list of messages.
MESSAGES_SCHEMA: dict[str, Any] = {
    "type": "array",
    "items": {"type": "object", "properties": {"role": {"type": "string"}}, "required": ["role"]},
}


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, UTF-8 as is: one text per value (storage, hashes, cache)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class Contract:
    """``variables`` is a JSON Schema object (None: not given and not inferred yet);
    ``tools`` OpenAI chat-completions tool definitions; ``response_format`` the same API's
    ``{"type": "text" | "json_object" | "json_schema", …}`` or None (text)."""

    variables: dict[str, Any] | None = None
    tools: tuple[dict[str, Any], ...] = ()
    response_format: dict[str, Any] | None = None
    variables_inferred: bool = False
    variables_key: str = field(default="", compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.variables is not None and not self.variables_key:
            object.__setattr__(self, "variables_key", canonical_json(self.variables))

    def to_json(self) -> dict[str, Any]:
        return {
            "variables": self.variables,
            "variables_inferred": self.variables_inferred,
            "tools": list(self.tools),
            "response_format": self.response_format,
        }

    def canonical(self) -> str:
        return canonical_json(self.to_json())

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Contract:
        """A stored contract (checked when it was stored), read back."""
        return cls(
            variables=data.get("variables"),
            tools=tuple(data.get("tools") or ()),
            response_format=data.get("response_format"),
            variables_inferred=bool(data.get("variables_inferred", False)),
        )


def _fail(segments: tuple[Segment, ...], detail: str) -> ContractInvalid:
    path = render_path("contract", segments)
    return ContractInvalid(f"{path}: {detail}", field=path)


def _integral(value: Any) -> Any:
    """Integral floats as integers (``1.0`` and ``1`` are one JSON Schema number): one
    canonical form, whichever way a client wrote it."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _integral(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_integral(v) for v in value]
    return value


def _object_schema(schema: Any, at: tuple[Segment, ...], what: str) -> None:
    if not isinstance(schema, dict) or schema.get("type") != "object":
        raise _fail((*at, "type"), f'{what} is an object: its schema says "type": "object"')


def _keys(value: Any, at: tuple[Segment, ...], allowed: tuple[str, ...], what: str) -> None:
    if not isinstance(value, dict):
        raise _fail(at, f"{what} is an object")
    for key in value:
        if key not in allowed:
            raise _fail((*at, key), f"unknown key {key!r} (allowed: {', '.join(allowed)})")


def _check_tools(tools: Any) -> tuple[dict[str, Any], ...]:
    if not isinstance(tools, list):
        raise _fail(("tools",), "tools is a list of tool definitions")
    if len(tools) > limits.CONTRACT_TOOLS_MAX:
        raise _fail(("tools",), f"at most {limits.CONTRACT_TOOLS_MAX} tools")
    seen: dict[str, int] = {}
    for i, tool in enumerate(tools):
        at: tuple[Segment, ...] = ("tools", i)
        _keys(tool, at, ("type", "function"), "a tool")
        if tool.get("type") != "function":
            raise _fail((*at, "type"), 'type must be "function"')
        function = tool.get("function")
        _keys(
            function, (*at, "function"), ("name", "description", "parameters", "strict"), "function"
        )
        name = function.get("name")
        if not isinstance(name, str) or not TOOL_NAME.match(name):
            raise _fail((*at, "function", "name"), f"a name matches {limits.TOOL_NAME_PATTERN}")
        if name in seen:
            raise _fail((*at, "function", "name"), f"{name!r} is also tools[{seen[name]}]")
        seen[name] = i
        if "description" in function and not isinstance(function["description"], str):
            raise _fail((*at, "function", "description"), "description must be a string")
        if "strict" in function and not isinstance(function["strict"], bool):
            raise _fail((*at, "function", "strict"), "strict must be true or false")
        if "parameters" in function:
            _object_schema(function["parameters"], (*at, "function", "parameters"), "parameters")
            check_schema(function["parameters"], (*at, "function", "parameters"))
    return tuple(tools)


def _check_response_format(value: Any) -> dict[str, Any]:
    at: tuple[Segment, ...] = ("response_format",)
    _keys(value, at, ("type", "json_schema"), "response_format")
    kind = value.get("type")
    if kind not in RESPONSE_TYPES:
        raise _fail((*at, "type"), f"type is one of {', '.join(RESPONSE_TYPES)}")
    if kind != "json_schema":
        if "json_schema" in value:
            raise _fail((*at, "json_schema"), f'only with "type": "json_schema", not {kind!r}')
        return dict(value)
    spec = value.get("json_schema")
    where = (*at, "json_schema")
    _keys(spec, where, ("name", "description", "schema", "strict"), "json_schema")
    name = spec.get("name")
    if not isinstance(name, str) or not TOOL_NAME.match(name):
        raise _fail((*where, "name"), f"a name matches {limits.TOOL_NAME_PATTERN}")
    if "description" in spec and not isinstance(spec["description"], str):
        raise _fail((*where, "description"), "description must be a string")
    if "strict" in spec and not isinstance(spec["strict"], bool):
        raise _fail((*where, "strict"), "strict must be true or false")
    if "schema" not in spec:
        raise _fail((*where, "schema"), "a json_schema response format needs its schema")
    check_schema(spec["schema"], (*where, "schema"))
    return dict(value)


def check_contract(raw: Any) -> Contract:
    """The contract a request gives, checked whole (ContractInvalid naming the path), or
    refused. ``variables_inferred: true`` (as a read gives it back) drops ``variables``:
    they are inferred again from the new version's template."""
    _keys(raw, (), CONTRACT_KEYS, "contract")
    try:
        values.check_json(raw)
    except ValueError as exc:
        raise _fail((), str(exc)) from None
    if values.json_size(raw) > limits.CONTRACT_MAX_BYTES:
        raise _fail((), f"a contract is at most {limits.CONTRACT_MAX_BYTES} bytes as JSON")
    raw = _integral(raw)
    inferred = raw.get("variables_inferred", False)
    if not isinstance(inferred, bool):
        raise _fail(("variables_inferred",), "variables_inferred must be true or false")
    variables = None if inferred else raw.get("variables")
    if variables is not None:
        _object_schema(variables, ("variables",), "the variables")
        check_schema(variables, ("variables",))
    tools = raw.get("tools")
    response_format = raw.get("response_format")
    return Contract(
        variables=variables,
        tools=() if tools is None else _check_tools(tools),
        response_format=None
        if response_format is None
        else _check_response_format(response_format),
    )


# --- inferred from the template --------------------------------------------------------------


def infer_variables(kind: str, template_format: str, content: str) -> dict[str, Any]:
    """The variables schema a template implies: each variable required; a string in the
    plain format, any JSON value in Jinja (loops and tests take lists, objects, numbers);
    a chat placeholder a list of messages."""
    placeholders = set()
    if kind == "chat":
        placeholders = {
            m["name"] for m in templates.decode_messages(content) if m["role"] == "placeholder"
        }
    names = templates.variables(kind, template_format, content)
    properties: dict[str, Any] = {}
    for name in names:
        if name in placeholders:
            properties[name] = MESSAGES_SCHEMA
        else:
            properties[name] = {"type": "string"} if template_format == "plain" else {}
    return {"type": "object", "properties": properties, "required": names}


def with_inferred(
    contract: Contract | None, kind: str, template_format: str, content: str
) -> Contract:
    """The contract with its variables inferred when it has none (a version without a
    contract compares, and reads, as this)."""
    contract = contract or Contract()
    if contract.variables is not None:
        return contract
    inferred = infer_variables(kind, template_format, content)
    return replace(contract, variables=inferred, variables_inferred=True, variables_key="")


def check_template(contract: Contract, kind: str, template_format: str, content: str) -> None:
    """A given variables schema declares every variable the template uses, and requires
    each in the plain format (where a missing one cannot render)."""
    schema = contract.variables
    if schema is None or contract.variables_inferred:
        return
    properties = schema.get("properties", {})
    required = set(schema.get("required", []))
    for name in templates.variables(kind, template_format, content):
        if name not in properties:
            raise _fail(("variables", "properties"), f"the template uses {name!r}: declare it here")
        if template_format == "plain" and name not in required:
            raise _fail(("variables", "required"), f"the template needs {name!r}: require it")

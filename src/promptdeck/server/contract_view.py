"""How a contract reads on a page (the version page, the editor): its variables as rows of
a small table, its tools, its answer's format. Presentation only: what a schema means is
domain/contracts' (these words summarize it; the full schema is shown beside them)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from promptdeck.domain.contracts import Contract
from promptdeck.domain.contracts.model import MESSAGES_SCHEMA

# Keywords summarized in a row's "rules" cell, with how each reads.
RULES = (
    ("minimum", "≥ {}"),
    ("exclusiveMinimum", "> {}"),
    ("maximum", "≤ {}"),
    ("exclusiveMaximum", "< {}"),
    ("multipleOf", "multiple of {}"),
    ("minLength", "at least {} characters"),
    ("maxLength", "at most {} characters"),
    ("pattern", "matches {}"),
    ("format", "format {}"),
    ("minItems", "at least {} items"),
    ("maxItems", "at most {} items"),
    ("minProperties", "at least {} keys"),
    ("maxProperties", "at most {} keys"),
)
ENUM_SHOWN = 8


@dataclass(frozen=True, slots=True)
class VariableRow:
    name: str
    type: str
    required: bool
    rules: list[str]
    description: str


@dataclass(frozen=True, slots=True)
class ToolRow:
    name: str
    description: str
    parameters: list[str]  # names, a required one marked with *
    strict: bool
    schema: dict[str, Any] | None


def _short(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def type_of(schema: Any) -> str:
    """A schema's type in a few words: ``integer``, ``string or null``, ``one of "a",
    "b"``, ``array of string``, ``messages``, ``any``."""
    if schema is True or schema == {}:
        return "any"
    if schema is False:
        return "nothing (not allowed)"
    if not isinstance(schema, dict):
        return "see the schema"
    if schema == MESSAGES_SCHEMA:
        return "messages"
    if "const" in schema:
        return f"exactly {_short(schema['const'])}"
    if "enum" in schema:
        options = [_short(v) for v in schema["enum"][:ENUM_SHOWN]]
        more = len(schema["enum"]) - len(options)
        return "one of " + ", ".join(options) + (f" (and {more} more)" if more else "")
    kind = schema.get("type")
    if kind is None:
        if "$ref" in schema:
            return f"as {schema['$ref']}"
        if any(k in schema for k in ("anyOf", "oneOf", "allOf", "not")):
            return "combined (see the schema)"
        return "any"
    names = kind if isinstance(kind, list) else [kind]
    if "array" in names and isinstance(schema.get("items"), dict | bool):
        inner = type_of(schema["items"])
        names = [f"array of {inner}" if n == "array" else n for n in names]
    return " or ".join(str(n) for n in names)


def rules_of(schema: Any) -> list[str]:
    if not isinstance(schema, dict):
        return []
    found = [text.format(_plain(schema[key])) for key, text in RULES if key in schema]
    if schema.get("uniqueItems") is True:
        found.append("no duplicates")
    if schema.get("additionalProperties") is False:
        found.append("no other keys")
    return found


def _plain(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def variable_rows(contract: Contract | None) -> list[VariableRow]:
    """The declared variables: the required ones in the order ``required`` lists them,
    then the others by name."""
    schema = contract.variables if contract is not None else None
    if not isinstance(schema, dict):
        return []
    properties = schema.get("properties") or {}
    required = [n for n in schema.get("required") or [] if n in properties]
    order = required + sorted(n for n in properties if n not in set(required))
    rows = []
    for name in order:
        sub = properties[name]
        about = (
            str(sub.get("description") or sub.get("title") or "") if isinstance(sub, dict) else ""
        )
        rows.append(VariableRow(name, type_of(sub), name in required, rules_of(sub), about))
    return rows


def closed(contract: Contract | None) -> bool:
    """Whether the variables schema refuses variables it does not declare."""
    schema = contract.variables if contract is not None else None
    return isinstance(schema, dict) and schema.get("additionalProperties") is False


def tool_rows(contract: Contract | None) -> list[ToolRow]:
    rows = []
    for tool in contract.tools if contract is not None else ():
        function = tool.get("function") or {}
        parameters = function.get("parameters")
        props = (parameters or {}).get("properties") or {}
        required = set((parameters or {}).get("required") or [])
        rows.append(
            ToolRow(
                name=str(function.get("name", "")),
                description=str(function.get("description", "")),
                parameters=[f"{n}*" if n in required else n for n in props],
                strict=bool(function.get("strict", False)),
                schema=parameters,
            )
        )
    return rows


def response_summary(contract: Contract | None) -> str:
    """The answer's format in words: text, any JSON object, or JSON matching a schema."""
    response = contract.response_format if contract is not None else None
    if response is None or response.get("type") == "text":
        return "text"
    if response.get("type") == "json_object":
        return "a JSON object"
    spec = response.get("json_schema") or {}
    strict = " (strict)" if spec.get("strict") else ""
    return f"JSON matching the schema {spec.get('name', '')}{strict}"


def response_schema(contract: Contract | None) -> dict[str, Any] | None:
    response = contract.response_format if contract is not None else None
    if response is None or response.get("type") != "json_schema":
        return None
    schema = (response.get("json_schema") or {}).get("schema")
    return schema if isinstance(schema, dict) else None


def editable(contract: Contract | None) -> str:
    """A version's given contract as the editor's text (blank without one): what a new
    version sends again, since it does not inherit its predecessor's. Variables that were
    inferred are left out, so the new template's are inferred in turn."""
    if contract is None:
        return ""
    given: dict[str, Any] = {}
    if contract.variables is not None and not contract.variables_inferred:
        given["variables"] = contract.variables
    if contract.tools:
        given["tools"] = list(contract.tools)
    if contract.response_format is not None:
        given["response_format"] = contract.response_format
    return json.dumps(given, indent=2, ensure_ascii=False) if given else ""


FILTERS = {
    "variable_rows": variable_rows,
    "tool_rows": tool_rows,
    "response_summary": response_summary,
    "response_schema": response_schema,
    "closed_variables": closed,
}

"""Comparing contracts (domain/contracts/diff.py): each change, breaking or compatible, by
the documented rule."""

from __future__ import annotations

from typing import Any

import pytest

from promptdeck.domain.contracts import (
    Contract,
    ContractChange,
    check_contract,
    diff_contracts,
    with_inferred,
)

# Pure functions: the database plays no part, so the SQLite pass alone runs them.
pytestmark = pytest.mark.sqlite_only


def variables(properties: dict[str, Any], required: list[str], **more: Any) -> Contract:
    schema = {"type": "object", "properties": properties, "required": required, **more}
    return check_contract({"variables": schema})


BASE = {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0, "maximum": 150}}


def changes(old: Contract, new: Contract) -> list[tuple[str, str, bool]]:
    return [(c.path, c.change, c.breaking) for c in diff_contracts(old, new)]


VARIABLE_CASES: list[tuple[Contract, list[tuple[str, str, bool]]]] = [
    (variables({**BASE, "tone": {"type": "string"}}, ["name", "tone"]),
     [("variables.tone", "variable new and required", True)]),
    (variables({**BASE, "tone": {"type": "string"}}, ["name"]),
     [("variables.tone", "new optional variable", False)]),
    (variables({**BASE, "name": {"type": "string", "maxLength": 10}}, ["name"]),
     [("variables.name", "maxLength none -> 10", True)]),
    (variables({**BASE, "age": {"type": "number", "minimum": 0, "maximum": 150}}, ["name"]),
     [("variables.age", "type widened: integer -> number", False)]),
    (variables({**BASE, "name": {"type": "integer"}}, ["name"]),
     [("variables.name", "type changed: string -> integer", True)]),
    (variables({**BASE, "age": {"type": "integer", "minimum": 18, "maximum": 150}}, ["name"]),
     [("variables.age", "minimum 0 -> 18", True)]),
    (variables({**BASE, "age": {"type": "integer", "minimum": 0}}, ["name"]),
     [("variables.age", "maximum 150 -> none", False)]),
    (variables(BASE, []), [("variables.name", "variable no longer required", False)]),
    (variables(BASE, ["name"], additionalProperties=False),
     [("variables", "additionalProperties closed", True)]),
    (variables({"name": {"type": "string"}}, ["name"]),
     [("variables.age", "variable no longer declared", False)]),
    (variables({**BASE, "name": {"type": "string", "description": "who"}}, ["name"]),
     [("variables.name", "description or annotations changed", False)]),
]  # fmt: skip


@pytest.mark.parametrize(("new", "expected"), VARIABLE_CASES)
def test_variable_changes_are_breaking_when_a_value_the_old_schema_took_is_refused(
    new: Contract, expected: list[tuple[str, str, bool]]
) -> None:
    assert changes(variables(BASE, ["name"]), new) == expected


def test_enum_values_removed_break_and_added_do_not() -> None:
    old = variables({"tier": {"enum": ["free", "pro", "team"]}}, [])
    fewer = variables({"tier": {"enum": ["free", "pro"]}}, [])
    more = variables({"tier": {"enum": ["free", "pro", "team", "enterprise"]}}, [])
    assert changes(old, fewer) == [("variables.tier", 'enum values removed: "team"', True)]
    assert changes(old, more) == [("variables.tier", 'enum values added: "enterprise"', False)]


def test_nested_objects_and_items_are_compared_path_by_path() -> None:
    old = variables(
        {"customer": {"type": "object", "properties": {"age": {"type": "integer"}}},
         "tags": {"type": "array", "items": {"type": "string"}}}, [],
    )  # fmt: skip
    new = variables(
        {"customer": {"type": "object", "properties": {"age": {"type": "string"}}},
         "tags": {"type": "array", "items": {"type": "string", "pattern": "^[a-z]+$"}}}, [],
    )  # fmt: skip
    assert changes(old, new) == [
        ("variables.customer.age", "type changed: integer -> string", True),
        ("variables.tags[]", 'pattern none -> "^[a-z]+$"', True),
    ]


def test_a_composite_change_is_compatible_only_when_proven() -> None:
    old = variables({"x": {"anyOf": [{"type": "string"}, {"type": "null"}]}}, [])
    wider = variables(
        {"x": {"anyOf": [{"type": "string"}, {"type": "null"}, {"type": "integer"}]}}, []
    )
    narrower = variables({"x": {"anyOf": [{"type": "string"}]}}, [])
    assert changes(old, wider) == [("variables.x", "schema changed (proven compatible)", False)]
    [(path, text, breaking)] = changes(old, narrower)
    assert (path, breaking) == ("variables.x", True)
    assert "cannot prove" in text


def test_a_version_without_a_contract_compares_as_its_inferred_one() -> None:
    old = with_inferred(None, "text", "plain", "Hello {{name}}")
    given = variables({"name": {"type": "string"}, "n": {"type": "integer"}}, ["name", "n"])
    new = with_inferred(given, "text", "plain", "Hello {{name}} {{n}}")
    assert changes(old, new) == [
        ("variables", "variables schema given (was inferred from the template)", False),
        ("variables.n", "variable new and required", True),
    ]
    same = with_inferred(None, "text", "plain", "Hi {{name}}")
    assert changes(old, same) == []


def tools(*defs: dict[str, Any]) -> Contract:
    return check_contract({"tools": [{"type": "function", "function": d} for d in defs]})


SEARCH = {
    "name": "search",
    "description": "find",
    "parameters": {"type": "object", "properties": {"q": {"type": "string"}}},
}


def test_tool_changes_follow_the_rule() -> None:
    old = tools(SEARCH)
    assert changes(old, tools()) == [("tools.search", "tool removed", True)]
    assert changes(old, tools(SEARCH, {"name": "cancel"})) == [("tools.cancel", "new tool", False)]
    assert changes(old, tools({**SEARCH, "description": "find orders"})) == [
        ("tools.search", "description changed", False)
    ]
    assert changes(old, tools({**SEARCH, "strict": True})) == [
        ("tools.search", "strict false -> true", True)
    ]
    wider = {
        **SEARCH,
        "parameters": {"type": "object", "properties": {"q": {"type": "string"}, "n": {}}},
    }
    assert changes(old, tools(wider)) == [("tools.search.parameters", "parameters changed", True)]
    q = {"type": "string", "description": "terms"}
    described = {**SEARCH, "parameters": {"type": "object", "properties": {"q": q}}}
    assert changes(old, tools(described)) == [
        ("tools.search.parameters", "parameter descriptions changed", False)
    ]


def answer(
    schema: dict[str, Any] | None = None, kind: str = "json_schema", **more: Any
) -> Contract:
    if kind != "json_schema":
        return check_contract({"response_format": {"type": kind}})
    spec = {"name": "reply", "schema": schema, **more}
    return check_contract({"response_format": {"type": "json_schema", "json_schema": spec}})


REPLY = {
    "type": "object",
    "properties": {"answer": {"type": "string"}, "score": {"type": "number"}},
    "required": ["answer", "score"],
}


def test_response_changes_break_when_an_answer_valid_now_could_fail_the_old_schema() -> None:
    old = answer(REPLY)
    removed = {**REPLY, "properties": {"answer": {"type": "string"}}, "required": ["answer"]}
    assert ("response_format.score", "property removed", True) in changes(old, answer(removed))
    optional = {**REPLY, "required": ["answer"]}
    assert changes(old, answer(optional)) == [
        ("response_format.score", "property no longer required", True)
    ]
    narrowed = {**REPLY, "properties": {**REPLY["properties"], "score": {"type": "integer"}}}
    assert changes(old, answer(narrowed)) == [
        ("response_format.score", "type narrowed: number -> integer", False)
    ]
    widened = {
        **REPLY,
        "properties": {**REPLY["properties"], "answer": {"type": ["string", "null"]}},
    }
    assert changes(old, answer(widened)) == [
        ("response_format.answer", "type widened: string -> null/string", True)
    ]
    added = {**REPLY, "properties": {**REPLY["properties"], "why": {"type": "string"}}}
    assert changes(old, answer(added)) == [("response_format.why", "new property", False)]
    closed = answer({**REPLY, "additionalProperties": False})
    added_closed = answer({**REPLY, **added, "additionalProperties": False})
    [(path, _, breaking)] = changes(closed, added_closed)
    assert (path, breaking) == ("response_format.why", True)
    assert changes(old, answer(REPLY, strict=True)) == [
        ("response_format", "strict false -> true", False)
    ]


def test_the_answer_kind_changing_follows_the_rule() -> None:
    text, json_object, schema = Contract(), answer(kind="json_object"), answer(REPLY)
    assert changes(text, json_object) == [("response_format", "type text -> json_object", True)]
    assert changes(json_object, text) == [("response_format", "type json_object -> text", True)]
    assert changes(json_object, schema) == [
        ("response_format", "type json_object -> json_schema", False)
    ]
    assert changes(schema, json_object) == [
        ("response_format", "type json_schema -> json_object", True)
    ]


def test_a_change_is_a_small_frozen_record() -> None:
    change = ContractChange("variables.x", "new optional variable", False)
    with pytest.raises(AttributeError):
        change.breaking = True  # type: ignore[misc]

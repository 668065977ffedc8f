"""Contracts: what is stored, what is refused and where (domain/contracts/model.py,
schema.py, pattern.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from promptdeck import limits
from promptdeck.domain import templates
from promptdeck.domain.contracts import (
    Contract,
    check_contract,
    check_template,
    check_variables,
    infer_variables,
    with_inferred,
)
from promptdeck.domain.contracts.pattern import PatternError, check_pattern
from promptdeck.errors import ContractInvalid

# Pure functions: the database plays no part, so the SQLite pass alone runs them.
pytestmark = pytest.mark.sqlite_only

FULL: dict[str, Any] = {
    "variables": {
        "type": "object",
        "properties": {
            "customer": {"$ref": "#/$defs/customer"},
            "question": {"type": "string", "minLength": 1, "description": "what they ask"},
        },
        "required": ["customer", "question"],
        "$defs": {
            "customer": {
                "type": "object",
                "properties": {"age": {"type": "integer", "minimum": 0}},
                "required": ["age"],
            }
        },
    },
    "tools": [
        {
            "type": "function",
            "function": {
                "name": "lookup_order",
                "description": "Find an order",
                "parameters": {
                    "type": "object",
                    "properties": {"order_id": {"type": "string"}},
                    "required": ["order_id"],
                    "additionalProperties": False,
                },
                "strict": True,
            },
        }
    ],
    "response_format": {
        "type": "json_schema",
        "json_schema": {
            "name": "reply",
            "schema": {"type": "object", "properties": {"answer": {"type": "string"}}},
            "strict": True,
        },
    },
}


def test_a_full_contract_is_stored_canonically_and_reads_back_the_same() -> None:
    contract = check_contract(FULL)
    stored = json.loads(contract.canonical())
    again = Contract.from_json(stored)
    assert again == contract
    assert again.canonical() == contract.canonical()
    assert stored["variables_inferred"] is False
    assert stored["tools"][0]["function"]["name"] == "lookup_order"


def test_integral_floats_are_stored_as_integers_so_one_schema_has_one_canonical_form() -> None:
    a = check_contract({"variables": {"type": "object", "maxProperties": 3.0}})
    b = check_contract({"variables": {"type": "object", "maxProperties": 3}})
    assert a.canonical() == b.canonical()


def test_a_contract_given_back_as_inferred_is_inferred_again_from_the_new_template() -> None:
    contract = check_contract({"variables": {"type": "object"}, "variables_inferred": True})
    assert contract.variables is None
    filled = with_inferred(contract, "text", "plain", "Hi {{name}}")
    assert filled.variables_inferred
    assert filled.variables == {
        "type": "object",
        "properties": {"name": {"type": "string"}},
        "required": ["name"],
    }


REFUSED: list[tuple[Any, str]] = [
    ([], "contract"),
    ({"variabels": {}}, "contract.variabels"),
    (
        {"variables": {"type": "object", "properties": {"age": {"type": "integr"}}}},
        "contract.variables.properties.age.type",
    ),
    ({"variables": {"type": "object", "requried": ["a"]}}, "contract.variables.requried"),
    ({"variables": {"type": "object", "if": {}}}, "contract.variables.if"),
    (
        {"variables": {"type": "object", "properties": {"a": {"$dynamicRef": "#x"}}}},
        "contract.variables.properties.a.$dynamicRef",
    ),
    ({"variables": {"type": "string"}}, "contract.variables.type"),
    ({"variables": {"properties": {}}}, "contract.variables.type"),
    (
        {"variables": {"type": "object", "$ref": "https://example.com/s.json"}},
        "contract.variables.$ref",
    ),
    ({"variables": {"type": "object", "$ref": "#/$defs/missing"}}, "contract.variables.$ref"),
    (
        {"variables": {"type": "object", "required": ["a"], "$ref": "#/required"}},
        "contract.variables.$ref",
    ),
    (
        {"variables": {"type": "object", "properties": {"a": {"$ref": "#"}}}},
        "contract.variables.properties.a.$ref",
    ),
    (
        {
            "variables": {
                "type": "object",
                "$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}},
                "properties": {"x": {"$ref": "#/$defs/a"}},
            }
        },
        "contract.variables.$defs.b.$ref",
    ),
    (
        {"variables": {"type": "object", "properties": {"a": {"minLength": -1}}}},
        "contract.variables.properties.a.minLength",
    ),
    (
        {"variables": {"type": "object", "properties": {"a": {"multipleOf": 0.5}}}},
        "contract.variables.properties.a.multipleOf",
    ),
    (
        {"variables": {"type": "object", "properties": {"a": {"pattern": "(?=a)"}}}},
        "contract.variables.properties.a.pattern",
    ),
    (
        {"variables": {"type": "object", "properties": {"a": {"enum": []}}}},
        "contract.variables.properties.a.enum",
    ),
    ({"variables": {"type": "object", "required": ["a", "a"]}}, "contract.variables.required"),
    (
        {"variables": {"type": "object", "properties": {"a": {"anyOf": []}}}},
        "contract.variables.properties.a.anyOf",
    ),
    (
        {"variables": {"type": "object", "properties": {"a": {"$schema": "x"}}}},
        "contract.variables.properties.a.$schema",
    ),
    (
        {"variables": {"type": "object", "$schema": "http://json-schema.org/draft-07/schema#"}},
        "contract.variables.$schema",
    ),
    ({"variables": {"type": "object", "properties": {"a": 3}}}, "contract.variables.properties.a"),
    (
        {"variables": {"type": "object", "properties": {"a b": {"type": "x"}}}},
        'contract.variables.properties["a b"].type',
    ),
    ({"tools": {}}, "contract.tools"),
    (
        {
            "tools": [
                {"type": "function", "function": {"name": "a"}},
                {"type": "function", "function": {"name": "b"}},
                {"type": "function", "function": {"name": "a"}},
            ]
        },
        "contract.tools[2].function.name",
    ),
    (
        {"tools": [{"type": "function", "function": {"name": "has space"}}]},
        "contract.tools[0].function.name",
    ),
    (
        {"tools": [{"type": "function", "function": {"name": "x" * 65}}]},
        "contract.tools[0].function.name",
    ),
    ({"tools": [{"type": "code_interpreter"}]}, "contract.tools[0].type"),
    (
        {
            "tools": [
                {"type": "function", "function": {"name": "a", "parameters": {"type": "array"}}}
            ]
        },
        "contract.tools[0].function.parameters.type",
    ),
    (
        {"tools": [{"type": "function", "function": {"name": "a", "strict": "yes"}}]},
        "contract.tools[0].function.strict",
    ),
    (
        {
            "tools": [
                {
                    "type": "function",
                    "function": {
                        "name": "a",
                        "parameters": {"type": "object", "properties": {"q": {"typ": "string"}}},
                    },
                }
            ]
        },
        "contract.tools[0].function.parameters.properties.q.typ",
    ),
    ({"response_format": {"type": "xml"}}, "contract.response_format.type"),
    (
        {"response_format": {"type": "text", "json_schema": {}}},
        "contract.response_format.json_schema",
    ),
    (
        {"response_format": {"type": "json_schema", "json_schema": {"name": "r"}}},
        "contract.response_format.json_schema.schema",
    ),
    (
        {
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "r", "schema": {"maxItems": "3"}},
            }
        },
        "contract.response_format.json_schema.schema.maxItems",
    ),
    ({"variables": {"type": "object", "properties": {"a": {"const": float("nan")}}}}, "contract"),
]


@pytest.mark.parametrize(("raw", "field"), REFUSED)
def test_each_problem_is_a_422_naming_the_path(raw: Any, field: str) -> None:
    with pytest.raises(ContractInvalid) as caught:
        check_contract(raw)
    assert caught.value.field == field
    assert caught.value.detail.startswith(field)


def test_annotations_are_allowed_and_ignored() -> None:
    contract = check_contract(
        {
            "variables": {
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "$id": "https://example.com/support.json",
                "$comment": "kept",
                "type": "object",
                "title": "t",
                "properties": {
                    "when": {
                        "type": "string",
                        "format": "date",
                        "examples": ["x"],
                        "default": "d",
                        "deprecated": True,
                        "readOnly": False,
                        "writeOnly": False,
                    },
                },
            }
        }
    )
    check_variables(contract, {"when": "not a date: format is an annotation"})


def test_the_bounds_are_enforced() -> None:
    def variables(**props: Any) -> dict[str, Any]:
        return {"variables": {"type": "object", "properties": props}}

    too_many_tools = [
        {"type": "function", "function": {"name": f"t{i}"}}
        for i in range(limits.CONTRACT_TOOLS_MAX + 1)
    ]
    big = variables(a={"enum": ["x" * 1000] * 101})
    chain = {f"d{i}": {"not": {"$ref": f"#/$defs/d{i - 1}"}} for i in range(1, 40)}
    deep = {"type": "object", "$defs": {"d0": {}, **chain}, "$ref": "#/$defs/d39"}
    wide = {f"d{i}": {"anyOf": [{"$ref": f"#/$defs/d{i - 1}"}] * 2} for i in range(1, 14)}
    heavy = {
        "variables": {
            "type": "object",
            "$defs": {"d0": {}, **wide},
            "properties": {"x": {"$ref": "#/$defs/d13"}},
        }
    }
    cases = [
        ({"tools": too_many_tools}, "contract.tools"),
        (big, "contract"),
        (
            variables(a={"enum": list(range(limits.SCHEMA_ENUM_MAX + 1))}),
            "contract.variables.properties.a.enum",
        ),
        ({"variables": deep}, "contract.variables.$defs.d24.not"),
        (heavy, "contract.variables.$defs.d11"),
        (
            variables(a={"pattern": "a" * (limits.PATTERN_MAX + 1)}),
            "contract.variables.properties.a.pattern",
        ),
    ]
    for raw, field in cases:
        with pytest.raises(ContractInvalid) as caught:
            check_contract(raw)
        assert caught.value.field == field, caught.value.detail


SUPPORTED_PATTERNS = [
    r"^[a-z]+$",
    r"^\d{5}(?:-\d{4})?$",
    r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$",
    r"a|b|",
    r"(ab)*c",
    r"^\w+\W\s\S\D$",
    r"[\-\]\\]",
    r"\x41\u00e9\u{1F600}",
    r"[.*+?(){}|/]",
    r"a{2}b{2,}c{2,3}?",
    r"^$",
    r"\t\n\r\f\v",
    r"\^\$\.\*\+\?\(\)\[\]\{\}\|\/",
    "é😀",
]
REFUSED_PATTERNS = [
    r"(?=a)",
    r"(?!a)",
    r"(?<=a)",
    r"(a)\1",
    r"(?<n>a)",
    r"\bword",
    r"\p{L}",
    r"\cJ",
    r"\0",
    r"(?i)a",
    r"a**",
    r"a{2}{3}",
    r"^*",
    r"{",
    r"}",
    r"]",
    r"[]",
    r"[z-a]",
    r"[\d-z]",
    r"a{1001}",
    r"a{3,2}",
    r"a{,2}",
    "(" * 17 + ")" * 17,
    r"\ud800",
    r"(a",
    r"a)",
    "\\",
    r"\-",
    r"\q",
    r"(?:[a-z]{1,100}){1,100}",
]


@pytest.mark.parametrize("pattern", SUPPORTED_PATTERNS)
def test_patterns_in_the_subset_are_accepted_and_compile(pattern: str) -> None:
    check_pattern(pattern)
    check_contract({"variables": {"type": "object", "properties": {"p": {"pattern": pattern}}}})


@pytest.mark.parametrize("pattern", REFUSED_PATTERNS)
def test_patterns_outside_the_subset_are_refused(pattern: str) -> None:
    with pytest.raises(PatternError):
        check_pattern(pattern)


def test_inferred_variables_are_required_strings_and_placeholders_lists_of_messages() -> None:
    chat = templates.encode_messages(
        [
            {"role": "system", "content": "You help {{customer}}."},
            {"role": "placeholder", "name": "history"},
            {"role": "user", "content": "{{question}} {{customer}}"},
        ]
    )
    schema = infer_variables("chat", "plain", chat)
    assert schema["required"] == ["history", "customer", "question"]
    assert schema["properties"]["customer"] == {"type": "string"}
    assert schema["properties"]["history"]["type"] == "array"
    assert schema["properties"]["history"]["items"]["required"] == ["role"]
    jinja = infer_variables("text", "jinja", "{% for i in items %}{{ i }}{% endfor %}")
    assert jinja["properties"] == {"items": {}}  # Jinja takes lists, numbers, objects
    check_contract({"variables": schema})  # an inferred schema is itself a valid contract


def test_an_inferred_contract_describes_and_does_not_refuse() -> None:
    contract = with_inferred(None, "text", "plain", "{{n}} items")
    assert contract.variables_inferred
    check_variables(contract, {"n": 3})  # renders as before: a number is written as JSON


def test_a_given_schema_must_declare_and_require_what_a_plain_template_uses() -> None:
    contract = check_contract({"variables": {"type": "object", "properties": {"a": {}}}})
    with pytest.raises(ContractInvalid) as caught:
        check_template(contract, "text", "plain", "{{b}}")
    assert caught.value.field == "contract.variables.properties"
    with pytest.raises(ContractInvalid) as caught:
        check_template(contract, "text", "plain", "{{a}}")
    assert caught.value.field == "contract.variables.required"
    check_template(contract, "text", "jinja", "{% if a is defined %}{{ a }}{% endif %}")

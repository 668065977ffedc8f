"""Checking render variables against a contract (domain/contracts/check.py): every failing
path named, from the fixed vocabulary; the work bounded; jsonschema-rs and the listing agree
(generated schemas and values)."""

from __future__ import annotations

import datetime
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from promptdeck import limits
from promptdeck.domain.contracts import Contract, check_contract, check_variables
from promptdeck.domain.contracts.check import _Listing, compiled
from promptdeck.errors import (
    ContractInvalid,
    PromptdeckError,
    VariablesInvalid,
    VariablesTooLarge,
)

# Pure functions: the database plays no part, so the SQLite pass alone runs them.
pytestmark = pytest.mark.sqlite_only


def contract_of(**properties: Any) -> Contract:
    return check_contract({"variables": {"type": "object", "properties": properties}})


def failures(contract: Contract, values: dict[str, Any]) -> list[str]:
    with pytest.raises(VariablesInvalid) as caught:
        check_variables(contract, values)
    assert caught.value.field == "variables"
    return [f"{e['path']}: {e['message']}" for e in caught.value.extra["errors"]]


def test_every_failing_path_is_named_sorted_with_its_message() -> None:
    contract = check_contract(
        {
            "variables": {
                "type": "object",
                "properties": {
                    "customer": {
                        "type": "object",
                        "properties": {"age": {"type": "integer"}, "name": {"type": "string"}},
                        "required": ["age", "name"],
                    },
                    "tags": {"type": "array", "items": {"type": "string", "maxLength": 3}},
                },
                "required": ["customer", "question"],
                "additionalProperties": False,
            }
        }
    )
    assert failures(contract, {"customer": {"age": "41"}, "tags": ["ok", 7, "long"], "x": 1}) == [
        "variables.customer.age: expected integer",
        "variables.customer.name: is required",
        "variables.question: is required",
        "variables.tags[1]: expected string",
        "variables.tags[2]: must be at most 3 characters",
        "variables.x: is not allowed",
    ]


MESSAGES: list[tuple[dict[str, Any], Any, str]] = [
    ({"type": ["string", "null"]}, 1, "expected string or null"),
    ({"type": ["integer", "string", "null"]}, 1.5, "expected integer, string or null"),
    ({"type": "integer"}, True, "expected integer"),
    ({"type": "number"}, "1", "expected number"),
    ({"enum": ["a", 1, None, True]}, "b", 'must be one of "a", 1, null, true'),
    ({"enum": [{"a": 1}]}, {"a": 2}, "must be one of the allowed values"),
    ({"enum": list(range(11))}, 11, "must be one of the allowed values"),
    ({"const": "x"}, "y", 'must be "x"'),
    ({"const": [1]}, [2], "must be the constant value"),
    ({"minimum": 0.0000001}, 0, "must be >= 0.0000001"),
    ({"maximum": 2.0}, 3, "must be <= 2"),
    ({"exclusiveMinimum": -1.5}, -1.5, "must be > -1.5"),
    ({"exclusiveMaximum": 10}, 10, "must be < 10"),
    ({"multipleOf": 3}, 4.5, "must be a multiple of 3"),
    ({"minLength": 1}, "", "must be at least 1 character"),
    ({"maxLength": 1}, "ab", "must be at most 1 character"),
    ({"maxLength": 1}, "😀", None),  # one code point
    ({"pattern": "^[a-z]+$"}, "A", "must match the pattern ^[a-z]+$"),
    ({"minItems": 2}, [1], "must have at least 2 items"),
    ({"maxItems": 1}, [1, 2], "must have at most 1 item"),
    ({"uniqueItems": True}, [1, 1.0], "must not have duplicate items"),
    ({"uniqueItems": True}, [1, True], None),  # true is not 1
    ({"uniqueItems": True}, [{"a": 1, "b": 2}, {"b": 2, "a": 1}], "must not have duplicate items"),
    ({"minProperties": 1}, {}, "must have at least 1 property"),
    ({"maxProperties": 1}, {"a": 1, "b": 2}, "must have at most 1 property"),
    (
        {"anyOf": [{"type": "string"}, {"type": "null"}]},
        1,
        "must match at least one schema in anyOf",
    ),
    ({"oneOf": [{"minimum": 0}, {"maximum": 10}]}, 5, "must match exactly one schema in oneOf"),
    ({"oneOf": [{"minimum": 10}, {"maximum": 0}]}, 5, "must match exactly one schema in oneOf"),
    ({"not": {"type": "string"}}, "s", "must not match the schema in not"),
    ({"allOf": [{"minimum": 3}, {"maximum": 1}]}, 2, "must be <= 1"),
    (False, 1, "is not allowed"),
    ({"type": "integer"}, 2.0, None),  # an integral number is an integer
]


@pytest.mark.parametrize(("schema", "value", "message"), MESSAGES)
def test_each_keyword_fails_with_its_fixed_message(
    schema: dict[str, Any], value: Any, message: str | None
) -> None:
    contract = contract_of(v=schema)
    if message is None:
        check_variables(contract, {"v": value})
    else:
        assert f"variables.v: {message}" in failures(contract, {"v": value})


def test_paths_quote_keys_that_are_not_identifiers_and_sort_indices_as_numbers() -> None:
    contract = contract_of(
        **{"a b": {"type": "string"}, "list": {"type": "array", "items": {"type": "string"}}}
    )
    got = failures(contract, {"a b": 1, "list": [0] * 11})
    assert got[0] == 'variables["a b"]: expected string'
    assert got[1:4] == [f"variables.list[{i}]: expected string" for i in range(3)]
    assert got[-1] == "variables.list[10]: expected string"


def test_a_long_list_of_failures_stops_at_the_cap_and_says_how_many_more() -> None:
    contract = contract_of(v={"type": "array", "items": {"type": "string"}})
    got = failures(contract, {"v": [0] * 150})
    assert len(got) == limits.VARIABLES_ERRORS_LISTED_MAX + 1
    assert got[-1] == "variables: 50 more failing paths not listed"


@pytest.mark.parametrize(
    "value", [math.nan, math.inf, 2**53, datetime.date(2026, 1, 1), {1: "a"}, [{"x": -math.inf}]]
)
def test_values_no_client_can_read_exactly_are_refused_with_their_path(value: Any) -> None:
    got = failures(contract_of(v={}), {"v": value})
    assert got[0].startswith("variables.v") and got[0].endswith(
        "is not a JSON value every client reads exactly"
    )


def test_variables_too_large_for_the_schema_are_refused_before_any_check() -> None:
    heavy = contract_of(v={"type": "array", "items": {"enum": list(range(1000))}})
    weight = compiled(heavy.variables_key).weight
    n = limits.CONTRACT_CHECK_WORK_MAX // weight
    with pytest.raises(VariablesTooLarge):
        check_variables(heavy, {"v": [0] * n})
    check_variables(heavy, {"v": [0] * (n // 2)})
    with pytest.raises(VariablesTooLarge):
        check_variables(contract_of(), {"t": "x" * 16 * limits.VARIABLES_SIZE_MAX})


def test_failures_past_the_listing_bound_are_summed_up_in_one_line() -> None:
    contract = contract_of(v={"type": "array", "items": {"type": "string"}})
    n = limits.CONTRACT_LIST_WORK_MAX // compiled(contract.variables_key).weight
    assert failures(contract, {"v": [0] * n}) == ["variables: too large to list each failing path"]


def test_compiled_validators_are_kept_in_a_bounded_cache() -> None:
    assert compiled.cache_info().maxsize == limits.CONTRACT_VALIDATORS_CACHED


def test_no_contract_or_an_inferred_one_checks_nothing() -> None:
    check_variables(None, {"anything": object()})
    inferred = Contract(variables={"type": "object", "required": ["x"]}, variables_inferred=True)
    check_variables(inferred, {})


# --- generated: schemas in the vocabulary, values from them, mutations ------------------------

TEXT = st.text(st.characters(exclude_characters="\x00"), max_size=5)  # NUL cannot be stored
SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-1000, 1000),
    TEXT,
    st.floats(-1000, 1000, allow_nan=False).filter(lambda f: f != 0 or math.copysign(1, f) > 0),
)
PATTERNS = {r"^[a-c]{1,4}$": r"[a-c]{1,4}", r"^x\d+$": r"x[0-9]+", r"^(?:ab|cd)*$": r"(ab|cd)*"}
NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,5}", fullmatch=True)


def leaf() -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(
        st.builds(
            lambda lo, span, pattern: {
                "type": "string",
                **({"minLength": lo} if lo else {}),
                **({"maxLength": lo + span} if span is not None else {}),
                **({"pattern": pattern} if pattern else {}),
            },
            st.integers(0, 2),
            st.none() | st.integers(0, 4),
            st.none() | st.sampled_from(sorted(PATTERNS)),
        ).filter(lambda s: "pattern" not in s or ("minLength" not in s and "maxLength" not in s)),
        st.builds(
            lambda lo, span, m: {
                "type": "integer",
                "minimum": lo,
                "maximum": lo + span,
                **({"multipleOf": m} if m else {}),
            },
            st.integers(-50, 50),
            st.integers(10, 100),
            st.none() | st.integers(1, 5),
        ),
        st.builds(lambda lo: {"type": "number", "exclusiveMinimum": lo}, st.integers(-10, 10)),
        st.just({"type": "boolean"}),
        st.just({"type": ["string", "null"]}),
        st.lists(SCALAR, min_size=1, max_size=4, unique_by=repr).map(lambda v: {"enum": v}),
        SCALAR.map(lambda v: {"const": v}),
    )


def composite(children: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(
        st.builds(
            lambda item, lo, unique: {
                "type": "array",
                "items": item,
                "minItems": 0 if unique else lo,
                "maxItems": lo + 3,
                **({"uniqueItems": True} if unique else {}),
            },
            children,
            st.integers(0, 2),
            st.booleans(),
        ),
        st.builds(
            lambda props, required, closed: {
                "type": "object",
                "properties": props,
                "required": sorted(set(required) & set(props)),
                **({"additionalProperties": False} if closed else {}),
            },
            st.dictionaries(NAMES, children, max_size=4),
            st.lists(NAMES, max_size=4),
            st.booleans(),
        ),
    )


SCHEMAS = st.recursive(leaf(), composite, max_leaves=8)


def values_for(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "const" in schema:
        return st.just(schema["const"])
    kind = schema["type"]
    if kind == ["string", "null"]:
        return st.none() | st.text(max_size=5)
    if kind == "boolean":
        return st.booleans()
    if kind == "number":
        return st.integers(schema["exclusiveMinimum"] + 1, 10**6)
    if kind == "integer":
        ints = st.integers(schema["minimum"], schema["maximum"])
        m = schema.get("multipleOf")
        return ints.filter(lambda i: i % m == 0) if m else ints
    if kind == "string":
        if "pattern" in schema:
            return st.from_regex(PATTERNS[schema["pattern"]], fullmatch=True)
        return st.text(
            min_size=schema.get("minLength", 0), max_size=schema.get("maxLength", 6)
        ).filter(lambda s: "\x00" not in s)
    if kind == "array":
        return st.lists(
            values_for(schema["items"]),
            min_size=schema["minItems"],
            max_size=schema["maxItems"],
            # JSON equality (objects unordered), not repr: two equal frozensets may print apart
            unique_by=_json_key if schema.get("uniqueItems") else None,
        )
    required = set(schema["required"])
    return st.fixed_dictionaries(
        {k: values_for(v) for k, v in schema["properties"].items() if k in required},
        optional={k: values_for(v) for k, v in schema["properties"].items() if k not in required},
    )


def _json_key(value: Any) -> Any:
    from promptdeck.domain.contracts.check import _key

    return _key(value)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(data=st.data(), schema=SCHEMAS)
def test_any_value_generated_from_a_schema_is_accepted(
    data: st.DataObject, schema: dict[str, Any]
) -> None:
    contract = contract_of(v=schema)
    value = data.draw(values_for(schema))
    check_variables(contract, {"v": value})


def _paths(value: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [at]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*at, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*at, i))
    return out


WRONG = [{"__wrong__": [1]}, ["wrong"], "wrong", 12345678, None, True]


def _related(a: str, b: str) -> bool:
    """One path is the other, or inside it."""
    short, long = sorted((a, b), key=len)
    return long == short or long.startswith((short + ".", short + "["))


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(data=st.data(), schema=SCHEMAS)
def test_a_value_made_wrong_at_one_path_is_refused_naming_that_path(
    data: st.DataObject, schema: dict[str, Any]
) -> None:
    contract = contract_of(v=schema)
    value = {"v": data.draw(values_for(schema))}
    at = data.draw(st.sampled_from(_paths(value["v"])))
    holder: Any = value
    path: tuple[Any, ...] = ("v", *at)
    for step in path[:-1]:
        holder = holder[step]
    original = holder[path[-1]]
    holder[path[-1]] = data.draw(st.sampled_from(WRONG))
    if holder[path[-1]] == original and type(holder[path[-1]]) is type(original):
        return
    try:
        check_variables(contract, value)
    except VariablesInvalid as exc:
        from promptdeck.domain.contracts.paths import render_path

        paths = [e["path"] for e in exc.extra["errors"]]
        wrong = render_path("variables", path)
        # the wrong value's own path, a path inside it, or the container it broke (a
        # closed object, a list whose items are now equal)
        assert any(_related(wrong, p) for p in paths), (wrong, paths)
        return
    # Accepted: only when the wrong value happens to fit the schema where it is.


ANY_VALUE = st.recursive(
    SCALAR, lambda c: st.lists(c, max_size=3) | st.dictionaries(NAMES, c, max_size=3), max_leaves=10
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    schema=SCHEMAS
    | st.builds(lambda a, b: {"anyOf": [a, b]}, SCHEMAS, SCHEMAS)
    | st.builds(lambda a, b: {"oneOf": [a, b]}, SCHEMAS, SCHEMAS)
    | st.builds(lambda a: {"not": a}, SCHEMAS),
    value=ANY_VALUE,
)
def test_the_listing_and_jsonschema_rs_agree_on_every_value_and_never_fail_otherwise(
    schema: dict[str, Any], value: Any
) -> None:
    try:
        contract = contract_of(v=schema)
    except ContractInvalid:  # a generated string with a lone surrogate: refused, rightly
        reject()
    rust = compiled(contract.variables_key).validator.is_valid({"v": value})
    listing = _Listing(compiled(contract.variables_key))
    listing.check(compiled(contract.variables_key).schema, {"v": value}, ())
    assert rust == (not listing.out), listing.out
    try:
        check_variables(contract, {"v": value})
    except PromptdeckError as exc:
        assert isinstance(exc, VariablesInvalid)
        assert not rust

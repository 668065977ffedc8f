"""Render variables checked against a contract's variables schema (docs/contracts.md,
"Checking variables").

Validity is decided by ``jsonschema-rs`` (Rust, linear-time regular expressions, compiled
once per schema and kept in a bounded LRU). When the variables fail, the failing paths are
listed by ``_Listing`` below, which is the specification every client reproduces: one line
per failing path, ``variables.customer.age: expected integer``, from a fixed vocabulary of
messages, sorted by path then message, each once. Before either runs, the work is bounded:
the schema's weight times the variables' size (values, plus characters // 16) may not
exceed ``CONTRACT_CHECK_WORK_MAX``, so no schema within the bounds can make one check take
more than the render's CPU bound (measured: docs/contracts.md).
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from promptdeck import limits
from promptdeck.domain.contracts.model import Contract
from promptdeck.domain.contracts.paths import (
    Segment,
    is_scalar,
    number,
    render_path,
    scalar,
    segments_key,
    utf16_key,
)
from promptdeck.domain.contracts.schema import check_schema, resolve
from promptdeck.errors import VariablesInvalid, VariablesTooLarge

ROOT = "variables"
ENUM_LISTED_MAX = 10  # an enum of at most this many scalars is spelled out in its message


@dataclass(slots=True)
class Compiled:
    schema: dict[str, Any]
    weight: int
    validator: Any  # jsonschema_rs.Validator
    patterns: dict[str, Any] = field(default_factory=dict)
    enums: dict[int, frozenset[Any]] = field(default_factory=dict)  # by id() of the list

    def enum(self, options: list[Any]) -> frozenset[Any]:
        found = self.enums.get(id(options))
        if found is None:
            found = self.enums[id(options)] = frozenset(_key(v) for v in options)
        return found

    def matches(self, pattern: str, text: str) -> bool:
        found = self.patterns.get(pattern)
        if found is None:
            found = self.patterns[pattern] = _compile({"pattern": pattern})
        return bool(found.is_valid(text))


def _compile(schema: Any) -> Any:
    import jsonschema_rs  # a client that never checks a contract never loads it

    return jsonschema_rs.Draft202012Validator(
        schema, validate_formats=False, pattern_options=jsonschema_rs.RegexOptions()
    )


@functools.lru_cache(maxsize=limits.CONTRACT_VALIDATORS_CACHED)
def compiled(key: str) -> Compiled:
    """The compiled validator of a variables schema, by its canonical JSON (the cache key:
    two versions with one schema share it)."""
    schema = json.loads(key)
    facts = check_schema(schema, (ROOT,))
    return Compiled(schema, facts.weight, _compile(schema))


# --- the variables' size, and values no client can check -------------------------------------


@dataclass(slots=True)
class _Size:
    nodes: int = 0
    chars: int = 0
    bad: list[tuple[tuple[Segment, ...], str]] = field(default_factory=list)

    @property
    def units(self) -> int:
        return self.nodes + self.chars // 16


NOT_JSON = "is not a JSON value every client reads exactly"


def _measure(values: Mapping[str, Any], weight: int) -> _Size:
    """Count values and characters (iteratively: depth is what is being checked); stop as
    soon as the work is over the bound. Non-JSON values (a NaN, an integer past 2**53 - 1,
    a date) are noted with their path."""
    size = _Size()
    budget = limits.CONTRACT_CHECK_WORK_MAX // weight
    stack: list[tuple[Any, tuple[Segment, ...]]] = [(values, ())]
    while stack:
        value, at = stack.pop()
        size.nodes += 1
        if size.units > budget:
            return size
        if len(at) > limits.JSON_DEPTH_MAX:
            size.bad.append(((), f"nested more than {limits.JSON_DEPTH_MAX} levels deep"))
            return size
        if isinstance(value, str):
            size.chars += len(value)
        elif isinstance(value, bool) or value is None:
            pass
        elif isinstance(value, int):
            if abs(value) > limits.JSON_INT_MAX:
                size.bad.append((at, NOT_JSON))
        elif isinstance(value, float):
            if not math.isfinite(value):
                size.bad.append((at, NOT_JSON))
        elif isinstance(value, Mapping):
            for key, item in value.items():
                if not isinstance(key, str):
                    size.bad.append((at, NOT_JSON))
                    break
                size.chars += len(key)
                stack.append((item, (*at, key)))
        elif isinstance(value, list | tuple):
            stack.extend((item, (*at, i)) for i, item in enumerate(value))
        else:
            size.bad.append((at, NOT_JSON))
    return size


# --- the listing: the specification of which paths fail, with which message -------------------


class _Stop(Exception):
    pass


def _type_ok(name: str, x: Any) -> bool:
    if name == "null":
        return x is None
    if name == "boolean":
        return isinstance(x, bool)
    if name == "object":
        return isinstance(x, Mapping)
    if name == "array":
        return isinstance(x, list | tuple)
    if name == "string":
        return isinstance(x, str)
    if isinstance(x, bool) or not isinstance(x, int | float):
        return False
    return name == "number" or isinstance(x, int) or x.is_integer()


def _key(x: Any) -> Any:
    """JSON equality as a hashable key: ``1 == 1.0``, ``true != 1``, objects unordered."""
    if x is None or isinstance(x, bool):
        return ("b", x)
    if isinstance(x, int | float):
        return ("n", x)
    if isinstance(x, str):
        return ("s", x)
    if isinstance(x, Mapping):
        return ("o", frozenset((k, _key(v)) for k, v in x.items()))
    return ("a", tuple(_key(v) for v in x))


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


class _Listing:
    def __init__(self, compiled: Compiled, *, first_only: bool = False) -> None:
        self.compiled = compiled
        self.first_only = first_only
        self.out: list[tuple[tuple[Segment, ...], str]] = []

    def add(self, at: tuple[Segment, ...], message: str) -> None:
        if self.first_only:
            raise _Stop
        self.out.append((at, message))

    def valid(self, schema: Any, x: Any) -> bool:
        try:
            _Listing(self.compiled, first_only=True).check(schema, x, ())
        except _Stop:
            return False
        return True

    def check(self, schema: Any, x: Any, at: tuple[Segment, ...]) -> None:
        if schema is True:
            return
        if schema is False:
            self.add(at, "is not allowed")
            return
        types = schema.get("type")
        if types is not None:
            names = types if isinstance(types, list) else [types]
            if not any(_type_ok(n, x) for n in names):
                self.add(at, "expected " + _or(names))
                return
        if "$ref" in schema:
            self.check(resolve(self.compiled.schema, schema["$ref"]), x, at)
        if "enum" in schema and _key(x) not in self.compiled.enum(schema["enum"]):
            options = schema["enum"]
            if len(options) <= ENUM_LISTED_MAX and all(is_scalar(v) for v in options):
                self.add(at, "must be one of " + ", ".join(scalar(v) for v in options))
            else:
                self.add(at, "must be one of the allowed values")
        if "const" in schema and _key(x) != _key(schema["const"]):
            const = schema["const"]
            self.add(
                at, f"must be {scalar(const)}" if is_scalar(const) else "must be the constant value"
            )
        if _type_ok("number", x):
            self.numeric(schema, x, at)
        elif isinstance(x, str):
            self.text(schema, x, at)
        elif isinstance(x, list | tuple):
            self.array(schema, x, at)
        elif isinstance(x, Mapping):
            self.object(schema, x, at)
        for sub in schema.get("allOf", ()):
            self.check(sub, x, at)
        if "anyOf" in schema and not any(self.valid(s, x) for s in schema["anyOf"]):
            self.add(at, "must match at least one schema in anyOf")
        if "oneOf" in schema and sum(self.valid(s, x) for s in schema["oneOf"]) != 1:
            self.add(at, "must match exactly one schema in oneOf")
        if "not" in schema and self.valid(schema["not"], x):
            self.add(at, "must not match the schema in not")

    def numeric(self, schema: Mapping[str, Any], x: float, at: tuple[Segment, ...]) -> None:
        for key, words in (
            ("minimum", ">="),
            ("maximum", "<="),
            ("exclusiveMinimum", ">"),
            ("exclusiveMaximum", "<"),
        ):
            bound = schema.get(key)
            if bound is None:
                continue
            fails = {
                "minimum": x < bound,
                "maximum": x > bound,
                "exclusiveMinimum": x <= bound,
                "exclusiveMaximum": x >= bound,
            }[key]
            if fails:
                self.add(at, f"must be {words} {number(bound)}")
        m = schema.get("multipleOf")
        if m is not None and not (float(x).is_integer() and int(x) % m == 0):
            self.add(at, f"must be a multiple of {m}")

    def text(self, schema: Mapping[str, Any], x: str, at: tuple[Segment, ...]) -> None:
        if "minLength" in schema and len(x) < schema["minLength"]:
            self.add(
                at, f"must be at least {_plural(schema['minLength'], 'character', 'characters')}"
            )
        if "maxLength" in schema and len(x) > schema["maxLength"]:
            self.add(
                at, f"must be at most {_plural(schema['maxLength'], 'character', 'characters')}"
            )
        if "pattern" in schema and not self.compiled.matches(schema["pattern"], x):
            self.add(at, f"must match the pattern {schema['pattern']}")

    def array(self, schema: Mapping[str, Any], x: Any, at: tuple[Segment, ...]) -> None:
        if "minItems" in schema and len(x) < schema["minItems"]:
            self.add(at, f"must have at least {_plural(schema['minItems'], 'item', 'items')}")
        if "maxItems" in schema and len(x) > schema["maxItems"]:
            self.add(at, f"must have at most {_plural(schema['maxItems'], 'item', 'items')}")
        if schema.get("uniqueItems") is True and len({_key(v) for v in x}) != len(x):
            self.add(at, "must not have duplicate items")
        prefix = schema.get("prefixItems", [])
        for i, item in enumerate(x):
            if i < len(prefix):
                self.check(prefix[i], item, (*at, i))
            elif "items" in schema:
                self.check(schema["items"], item, (*at, i))

    def object(
        self, schema: Mapping[str, Any], x: Mapping[str, Any], at: tuple[Segment, ...]
    ) -> None:
        if "minProperties" in schema and len(x) < schema["minProperties"]:
            self.add(
                at,
                f"must have at least {_plural(schema['minProperties'], 'property', 'properties')}",
            )
        if "maxProperties" in schema and len(x) > schema["maxProperties"]:
            self.add(
                at,
                f"must have at most {_plural(schema['maxProperties'], 'property', 'properties')}",
            )
        for name in schema.get("required", ()):
            if name not in x:
                self.add((*at, name), "is required")
        properties = schema.get("properties", {})
        for name, item in x.items():
            if name in properties:
                self.check(properties[name], item, (*at, name))
            elif "additionalProperties" in schema:
                self.check(schema["additionalProperties"], item, (*at, name))


def _or(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def lines(found: list[tuple[tuple[Segment, ...], str]]) -> list[dict[str, str]]:
    """Each failing path once, sorted by path (segment by segment) then message, at most
    VARIABLES_ERRORS_LISTED_MAX and a last line saying how many more."""
    unique = sorted(set(found), key=lambda e: (segments_key(e[0]), utf16_key(e[1])))
    out = [{"path": render_path(ROOT, at), "message": m} for at, m in unique]
    cap = limits.VARIABLES_ERRORS_LISTED_MAX
    if len(out) > cap:
        more = len(out) - cap
        out = [*out[:cap], {"path": ROOT, "message": f"{more} more failing paths not listed"}]
    return out


def _refuse(found: list[dict[str, str]]) -> VariablesInvalid:
    text = "; ".join(f"{e['path']}: {e['message']}" for e in found)
    return VariablesInvalid(
        f"the variables do not match the contract: {text}", field=ROOT, errors=found
    )


def check_variables(contract: Contract | None, values: Mapping[str, Any]) -> None:
    """Check render variables against the contract's given variables schema (an inferred
    one is descriptive: a version without a schema renders as before). Raises
    VariablesInvalid listing every failing path, or VariablesTooLarge."""
    if contract is None or contract.variables is None or contract.variables_inferred:
        return
    schema = compiled(contract.variables_key)
    size = _measure(values, schema.weight)
    if schema.weight * size.units > limits.CONTRACT_CHECK_WORK_MAX:
        raise VariablesTooLarge(
            f"the variables are too large to check against this contract: their size "
            f"({size.units}+ values and characters/16) times the schema's weight "
            f"({schema.weight}) is over {limits.CONTRACT_CHECK_WORK_MAX}",
            field=ROOT,
        )
    if size.bad:
        raise _refuse(lines(size.bad))
    if schema.validator.is_valid(values):
        return
    if schema.weight * size.nodes > limits.CONTRACT_LIST_WORK_MAX:
        raise _refuse([{"path": ROOT, "message": "too many values to list each failing path"}])
    listing = _Listing(schema)
    listing.check(schema.schema, values, ())
    raise _refuse(lines(listing.out) or [{"path": ROOT, "message": "do not match the contract"}])

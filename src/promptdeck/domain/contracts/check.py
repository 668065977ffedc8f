"""Render variables checked against a contract's variables schema (docs/contracts.md,
"Checking variables").

Validity is decided by ``jsonschema-rs`` (Rust, linear-time regular expressions, compiled
once per schema and kept in a bounded LRU). When the variables fail, the failing paths are
listed by ``_Listing`` below, which is the specification every client reproduces: one line
per failing path, ``variables.customer.age: expected integer``, from a fixed vocabulary of
messages, sorted by path then message, each once. Before either runs, the work is bounded:
the variables' size (values, plus characters // 16) may not exceed ``VARIABLES_SIZE_MAX``,
nor the schema's weight times it ``CONTRACT_CHECK_WORK_MAX``, so no schema within the
bounds can make one check take more than the render's CPU bound (measured:
docs/contracts.md).
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
from promptdeck.domain.contracts.pattern import engine_pattern
from promptdeck.domain.contracts.schema import check_schema, engine_schema, resolve
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
            found = self.patterns[pattern] = _compile({"pattern": engine_pattern(pattern)})
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
    return Compiled(schema, facts.weight, _compile(engine_schema(schema)))


# --- the variables' size, and values no client can check -------------------------------------

NOT_JSON = "is not a JSON value every client reads exactly"
_FIND_NODES_MAX = 200_000  # values looked at to find a non-JSON one (a rare, bounded walk)


def _size(values: Mapping[str, Any], budget: int) -> tuple[int, bool]:
    """The variables' size, values plus characters // 16 (strings and keys), and whether
    all are plain JSON. Iterative (nesting costs no stack) and stops once over ``budget``:
    about 0.1 µs a value, the same order as parsing the request that brought them."""
    nodes = chars = 0
    plain = True
    stack: list[Any] = [values]
    while stack:
        x = stack.pop()
        nodes += 1
        kind = type(x)
        if kind is str:
            chars += len(x)
        elif kind is dict:
            stack.extend(x.values())
            try:
                chars += sum(map(len, x))
            except TypeError:
                plain = False
        elif kind is list or kind is tuple:
            stack.extend(x)
            if nodes + chars // 16 > budget:
                break
        elif kind is int:
            plain = plain and -limits.JSON_INT_MAX <= x <= limits.JSON_INT_MAX
        elif kind is float:
            plain = plain and math.isfinite(x)
        elif x is not None and kind is not bool:
            plain = False
    return nodes + chars // 16, plain


def _not_json(values: Mapping[str, Any]) -> list[tuple[tuple[Segment, ...], str]]:
    """Where the values are not JSON every client reads exactly: a NaN or infinity, an
    integer past 2**53 - 1, a key that is not a string, a date or another object."""
    found: list[tuple[tuple[Segment, ...], str]] = []
    stack: list[tuple[Any, tuple[Segment, ...]]] = [(values, ())]
    seen = 0
    while stack and seen < _FIND_NODES_MAX:
        value, at = stack.pop()
        seen += 1
        if isinstance(value, str | bool) or value is None:
            continue
        if isinstance(value, int):
            if abs(value) > limits.JSON_INT_MAX:
                found.append((at, NOT_JSON))
        elif isinstance(value, float):
            if not math.isfinite(value):
                found.append((at, NOT_JSON))
        elif isinstance(value, Mapping):
            if not all(isinstance(k, str) for k in value):
                found.append((at, NOT_JSON))
            else:
                stack.extend((item, (*at, key)) for key, item in value.items())
        elif isinstance(value, list | tuple):
            stack.extend((item, (*at, i)) for i, item in enumerate(value))
        else:
            found.append((at, NOT_JSON))
    return found or [((), NOT_JSON)]


# --- the listing: the specification of which paths fail, with which message -------------------


class _Stop(Exception):
    pass


_KINDS: dict[type, str] = {
    str: "string", bool: "boolean", int: "number", float: "number", dict: "object",
    list: "array", tuple: "array", type(None): "null",
}  # fmt: skip


def _kind(x: Any) -> str:
    """The JSON type of a value (integers are numbers here; ``_type_ok`` tells them)."""
    found = _KINDS.get(type(x))
    if found is not None:
        return found
    return "object" if isinstance(x, Mapping) else "array"  # any other was refused before


def _type_ok(name: str, kind: str, x: Any) -> bool:
    if name == kind:
        return True
    return name == "integer" and kind == "number" and (type(x) is int or float(x).is_integer())


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
        kind = _kind(x)
        types = schema.get("type")
        if types is not None:
            names = types if isinstance(types, list) else [types]
            if not any(_type_ok(n, kind, x) for n in names):
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
        if kind == "number":
            self.numeric(schema, x, at)
        elif kind == "string":
            self.text(schema, x, at)
        elif kind == "array":
            self.array(schema, x, at)
        elif kind == "object":
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
    budget = min(limits.VARIABLES_SIZE_MAX, limits.CONTRACT_CHECK_WORK_MAX // schema.weight)
    size, plain = _size(values, budget)
    if size > budget:
        raise VariablesTooLarge(
            f"the variables are too large to check against this contract: their size "
            f"({size}+: values, and characters / 16) is over {budget} (at most "
            f"{limits.VARIABLES_SIZE_MAX}, and at most {limits.CONTRACT_CHECK_WORK_MAX} "
            f"divided by the schema's weight, {schema.weight})",
            field=ROOT,
        )
    if not plain:
        raise _refuse(lines(_not_json(values)))
    if schema.validator.is_valid(values):
        return
    if schema.weight * size > limits.CONTRACT_LIST_WORK_MAX:
        raise _refuse([{"path": ROOT, "message": "too large to list each failing path"}])
    listing = _Listing(schema)
    try:
        listing.check(schema.schema, values, ())
    except RecursionError:  # values nested hundreds deep under an enum, const or uniqueItems
        too_deep = [{"path": ROOT, "message": "nested too deep to list each failing path"}]
        raise _refuse(too_deep) from None
    raise _refuse(lines(listing.out) or [{"path": ROOT, "message": "do not match the contract"}])

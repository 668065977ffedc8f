"""A contract's JSON Schemas: the supported vocabulary of draft 2020-12, checked before
anything is stored (docs/contracts.md, "Schemas").

Supported, with the meaning draft 2020-12 gives them: ``type`` (a name or a list of names),
``enum``, ``const``, ``minimum``, ``maximum``, ``exclusiveMinimum``, ``exclusiveMaximum``,
``multipleOf`` (a positive integer), ``minLength``, ``maxLength``, ``pattern`` (the subset
of ``pattern.py``), ``minItems``, ``maxItems``, ``uniqueItems``, ``prefixItems``, ``items``,
``minProperties``, ``maxProperties``, ``required``, ``properties``,
``additionalProperties``, ``allOf``, ``anyOf``, ``oneOf``, ``not``, ``$ref`` (local: ``#``
or ``#/json/pointer``, not recursive) and ``$defs``. Annotations, allowed and ignored:
``title``, ``description``, ``default``, ``examples``, ``deprecated``, ``readOnly``,
``writeOnly``, ``format``, ``$comment``; at the root also ``$schema`` (draft 2020-12 only)
and ``$id``. Any other keyword is refused with the path that names it (a typo such as
``"requried"`` would otherwise be silently ignored).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from promptdeck import limits
from promptdeck.domain.contracts.paths import Segment, render_path
from promptdeck.domain.contracts.pattern import PatternError, check_pattern, engine_pattern
from promptdeck.errors import ContractInvalid

DIALECT = "https://json-schema.org/draft/2020-12/schema"
TYPES = ("null", "boolean", "object", "array", "number", "integer", "string")
ANNOTATIONS: dict[str, Callable[[Any], bool]] = {
    "title": lambda v: isinstance(v, str),
    "description": lambda v: isinstance(v, str),
    "default": lambda v: True,
    "examples": lambda v: isinstance(v, list),
    "deprecated": lambda v: isinstance(v, bool),
    "readOnly": lambda v: isinstance(v, bool),
    "writeOnly": lambda v: isinstance(v, bool),
    "format": lambda v: isinstance(v, str),
    "$comment": lambda v: isinstance(v, str),
}
NUMBERS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
COUNTS = ("minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties")
SCHEMA_MAPS = ("properties", "$defs")
SCHEMA_ONE = ("additionalProperties", "items", "not")
SCHEMA_LISTS = ("prefixItems", "allOf", "anyOf", "oneOf")
KEYWORDS = frozenset(
    {"type", "enum", "const", "multipleOf", "pattern", "uniqueItems", "required", "$ref"}
    | set(NUMBERS)
    | set(COUNTS)
    | set(SCHEMA_MAPS)
    | set(SCHEMA_ONE)
    | set(SCHEMA_LISTS)
)
UNSUPPORTED = frozenset(
    {
        "$anchor", "$dynamicRef", "$dynamicAnchor", "$vocabulary", "$recursiveRef",
        "$recursiveAnchor", "if", "then", "else", "contains", "minContains", "maxContains",
        "patternProperties", "propertyNames", "dependentRequired", "dependentSchemas",
        "dependencies", "unevaluatedItems", "unevaluatedProperties", "contentEncoding",
        "contentMediaType", "contentSchema", "definitions", "additionalItems",
    }
)  # fmt: skip

Pointer = tuple[Segment, ...]
# What a keyword costs, in visits of a plain subschema (about 15 ns; bench/contracts.py):
# jsonschema-rs 0.60 converts the value to compare it with an enum or a const (about
# 200 ns, and as much again for each object or array among an enum's values), hashes every
# item for uniqueItems, runs a regular expression for a pattern.
CONST_WEIGHT = 16
UNIQUE_WEIGHT = 32
PATTERN_WEIGHT = 8


@dataclass(frozen=True, slots=True)
class SchemaFacts:
    """What the check learned: the weight (1 for each subschema with every ``$ref``
    inlined, 16 for each ``enum`` and ``const``, 1 for each scalar and 16 for each object or
    array among an enum's values, 32 for each ``uniqueItems: true``, 8 for each ``pattern``)
    bounds the work of checking a value against it: work <= weight x the value's size."""

    weight: int


def _fail(base: tuple[Segment, ...], at: Pointer, detail: str) -> ContractInvalid:
    path = render_path("contract", (*base, *at))
    return ContractInvalid(f"{path}: {detail}", field=path)


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class _Walk:
    def __init__(self, root: Any, base: tuple[Segment, ...]) -> None:
        self.root = root
        self.base = base
        self.children: dict[Pointer, list[Pointer]] = {}
        self.refs: dict[Pointer, Pointer] = {}
        self.own: dict[Pointer, int] = {}  # 1, plus the enum's values

    def fail(self, at: Pointer, detail: str) -> ContractInvalid:
        return _fail(self.base, at, detail)

    def schema(self, node: Any, at: Pointer) -> None:
        if isinstance(node, bool):
            self.children[at] = []
            self.own[at] = 1
            return
        if not isinstance(node, dict):
            raise self.fail(at, "a schema is an object or a boolean")
        kids: list[Pointer] = []
        self.children[at] = kids
        self.own[at] = 1
        for key, value in node.items():
            where = (*at, key)
            if key in ANNOTATIONS:
                if not ANNOTATIONS[key](value):
                    raise self.fail(where, f"{key} has the wrong type")
            elif key in ("$schema", "$id"):
                if at:
                    raise self.fail(where, f"{key} is allowed at the root of a schema only")
                if key == "$schema" and value != DIALECT:
                    raise self.fail(where, f"$schema must be {DIALECT} (draft 2020-12)")
                if not isinstance(value, str):
                    raise self.fail(where, f"{key} must be a string")
            elif key in KEYWORDS:
                self.keyword(key, value, at, kids)
            elif key in UNSUPPORTED:
                raise self.fail(where, f"{key} is not supported in promptdeck contracts")
            else:
                raise self.fail(where, f"unknown keyword {key!r}")

    def keyword(self, key: str, value: Any, at: Pointer, kids: list[Pointer]) -> None:
        where = (*at, key)
        if key == "type":
            names = value if isinstance(value, list) else [value]
            if not names or any(n not in TYPES for n in names) or len(set(names)) != len(names):
                raise self.fail(where, f"type is one of {', '.join(TYPES)}, or a list of them")
        elif key == "enum":
            if not isinstance(value, list) or not value:
                raise self.fail(where, "enum is a non-empty list of values")
            if len(value) > limits.SCHEMA_ENUM_MAX:
                raise self.fail(where, f"enum has at most {limits.SCHEMA_ENUM_MAX} values")
            self.own[at] += CONST_WEIGHT + sum(
                CONST_WEIGHT if isinstance(v, dict | list) else 1 for v in value
            )
        elif key in NUMBERS:
            if not _is_number(value):
                raise self.fail(where, f"{key} must be a number")
        elif key == "multipleOf":
            if not _is_count(value) or value == 0:
                raise self.fail(where, "multipleOf must be a positive integer")
        elif key in COUNTS:
            if not _is_count(value):
                raise self.fail(where, f"{key} must be a non-negative integer")
        elif key == "pattern":
            if not isinstance(value, str):
                raise self.fail(where, "pattern must be a string")
            try:
                check_pattern(value)
            except PatternError as exc:
                raise self.fail(where, f"pattern not supported: {exc}") from None
            self.own[at] += PATTERN_WEIGHT
        elif key == "uniqueItems":
            if not isinstance(value, bool):
                raise self.fail(where, "uniqueItems must be true or false")
            if value:  # hashing each item costs about 30 visits of a subschema
                self.own[at] += UNIQUE_WEIGHT
        elif key == "required":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise self.fail(where, "required is a list of property names")
            if len(set(value)) != len(value):
                raise self.fail(where, "required names a property twice")
        elif key == "$ref":
            self.refs[at] = self.pointer(value, where)
        elif key in SCHEMA_MAPS:
            if not isinstance(value, dict):
                raise self.fail(where, f"{key} is an object of schemas")
            for name, sub in value.items():
                self.schema(sub, (*where, name))
                if key != "$defs":  # definitions count where they are used
                    kids.append((*where, name))
        elif key in SCHEMA_ONE:
            self.schema(value, where)
            kids.append(where)
        elif key in SCHEMA_LISTS:
            if not isinstance(value, list) or not value:
                raise self.fail(where, f"{key} is a non-empty list of schemas")
            for i, sub in enumerate(value):
                self.schema(sub, (*where, i))
                kids.append((*where, i))
        elif key == "const":  # any JSON value (checked with the whole contract)
            self.own[at] += CONST_WEIGHT

    def pointer(self, ref: Any, where: Pointer) -> Pointer:
        if not isinstance(ref, str) or not (ref == "#" or ref.startswith("#/")):
            raise self.fail(
                where, "$ref must be local: '#' or '#/' and a JSON pointer into this schema"
            )
        if "%" in ref:
            raise self.fail(where, "$ref cannot use percent-encoding")
        tokens = [] if ref == "#" else ref[2:].split("/")
        node = self.root
        out: list[Segment] = []
        for raw in tokens:
            token = raw.replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and token in node:
                node = node[token]
                out.append(token)
            elif isinstance(node, list) and token.isascii() and token.isdigit():
                index = int(token)
                if str(index) != token or index >= len(node):
                    raise self.fail(where, f"$ref {ref} points at nothing")
                node = node[index]
                out.append(index)
            else:
                raise self.fail(where, f"$ref {ref} points at nothing")
        return tuple(out)


def check_schema(schema: Any, base: tuple[Segment, ...]) -> SchemaFacts:
    """Raise ContractInvalid (field: the path) unless ``schema`` is in the vocabulary, its
    references are local, lead to schemas and never loop, and it is within the bounds."""
    walk = _Walk(schema, base)
    walk.schema(schema, ())
    for holder, target in walk.refs.items():
        if target not in walk.children:
            raise walk.fail((*holder, "$ref"), "$ref must point at a schema")
    weights: dict[Pointer, int] = {}
    stack: list[Pointer] = []

    def weigh(at: Pointer) -> int:
        if at in weights:
            return weights[at]
        if at in stack:
            raise walk.fail((*stack[-1], "$ref"), "recursive $ref is not supported")
        if len(stack) >= limits.SCHEMA_DEPTH_MAX:
            raise walk.fail(at, f"schemas nest more than {limits.SCHEMA_DEPTH_MAX} deep")
        stack.append(at)
        total = walk.own[at] + sum(weigh(kid) for kid in walk.children[at])
        if at in walk.refs:
            total += weigh(walk.refs[at])
        stack.pop()
        if total > limits.SCHEMA_WEIGHT_MAX:
            raise walk.fail(
                at,
                f"the schema weighs more than {limits.SCHEMA_WEIGHT_MAX} (subschemas with "
                "$ref inlined, enum and const values, uniqueItems and patterns: "
                "docs/contracts.md)",
            )
        weights[at] = total
        return total

    weight = weigh(())
    # The library's own meta-schema check: what the vocabulary above lets through must
    # also be valid draft 2020-12.
    import jsonschema_rs

    try:
        jsonschema_rs.meta.validate(schema)
    except jsonschema_rs.ValidationError as exc:
        raise walk.fail(tuple(exc.instance_path), exc.message) from None
    return SchemaFacts(weight=weight)


def resolve(root: Any, ref: str) -> Any:
    """The subschema a checked local ``$ref`` names."""
    node = root
    if ref == "#":
        return node
    for raw in ref[2:].split("/"):
        token = raw.replace("~1", "/").replace("~0", "~")
        node = node[int(token)] if isinstance(node, list) else node[token]
    return node


def inline(root: Any, node: Any = None) -> Any:
    """The schema with every ``$ref`` replaced by what it names (and ``$defs`` dropped):
    finite, since references never loop, and no larger than the weight."""
    node = root if node is None else node
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("$defs", "$schema", "$id", "$comment"):
            continue
        if key in SCHEMA_MAPS:
            out[key] = {k: inline(root, v) for k, v in value.items()}
        elif key in SCHEMA_ONE:
            out[key] = inline(root, value)
        elif key in SCHEMA_LISTS:
            out[key] = [inline(root, v) for v in value]
        elif key != "$ref":
            out[key] = value
    if "$ref" in node:
        target = inline(root, resolve(root, node["$ref"]))
        if not out:
            return target
        return (
            {"allOf": [target, out]}
            if isinstance(target, dict)
            else (out if target is True else False)
        )
    return out


def engine_schema(node: Any) -> Any:
    """The schema as jsonschema-rs gets it: each ``pattern`` in the meaning ECMAScript gives
    it (``pattern.engine_pattern``); everything else as written."""
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "pattern" and isinstance(value, str):
            out[key] = engine_pattern(value)
        elif key in SCHEMA_MAPS:
            out[key] = {k: engine_schema(v) for k, v in value.items()}
        elif key in SCHEMA_ONE:
            out[key] = engine_schema(value)
        elif key in SCHEMA_LISTS:
            out[key] = [engine_schema(v) for v in value]
        else:
            out[key] = value
    return out

"""Evaluators built from their configurations (``{"type": "contains", "value": "refund"}``),
checked whole before anything runs: an unknown type or key, a value of the wrong kind, a
pattern RE2 does not take, a schema that is not one are refused with the field that is
wrong (``evaluators[2].pattern``)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import re2

from promptdeck.domain.evaluators import (
    PATTERN_MAX,
    RE2_MAX_MEM,
    TYPES,
    VALUE_MAX,
    VALUES_MAX,
    Contains,
    Equals,
    Evaluator,
    JsonSchema,
    Judge,
    Latency,
    Length,
    Regex,
    Reported,
    SchemaValidator,
    ToolCalled,
    ValidJson,
)
from promptdeck.errors import InvalidInput

EVALUATORS_MAX = 20


# --- the configuration -------------------------------------------------------------------


class _Config:
    """A configuration's keys, each read once; what is left at the end is refused."""

    def __init__(self, raw: Any, where: str) -> None:
        if not isinstance(raw, Mapping):
            raise InvalidInput("an evaluator is an object with a type", field=where)
        self.left = dict(raw)
        self.where = where

    def bad(self, key: str, what: str) -> InvalidInput:
        return InvalidInput(f"{key} {what}", field=f"{self.where}.{key}")

    def take(self, key: str, default: Any = None) -> Any:
        return self.left.pop(key, default)

    def flag(self, key: str) -> bool:
        value = self.take(key, False)
        if not isinstance(value, bool):
            raise self.bad(key, "must be true or false")
        return value

    def text(self, key: str, *, most: int = VALUE_MAX, required: bool = True) -> str | None:
        value = self.take(key)
        if value is None and not required:
            return None
        if not isinstance(value, str) or not value or len(value) > most:
            raise self.bad(key, f"must be text of 1 to {most} characters")
        return value

    def number(self, key: str, *, low: float = 0, high: float = 1e12) -> float | None:
        value = self.take(key)
        if value is None:
            return None
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if not ok or not math.isfinite(value) or not low <= value <= high:
            raise self.bad(key, f"must be a number from {low:g} to {high:g}")
        return float(value)

    def done(self) -> None:
        if self.left:
            key = sorted(self.left)[0]
            raise InvalidInput(f"unknown key {key[:40]!r}", field=f"{self.where}.{key[:40]}")


def build(
    raw: Any, *, where: str = "evaluator", validator: SchemaValidator | None = None
) -> Evaluator:
    """An evaluator from its configuration (``{"type": "contains", "value": "refund"}``)."""
    c = _Config(raw, where)
    kind = c.take("type")
    if kind not in TYPES:
        raise InvalidInput(f"type must be one of {', '.join(TYPES)}", field=f"{where}.type")
    name = c.text("name", most=64, required=False) or str(kind)
    maker = _MAKERS[kind]
    found = maker(c, name, validator)
    c.done()
    return found


def build_all(
    raws: Any, *, where: str = "evaluators", validator: SchemaValidator | None = None
) -> list[Evaluator]:
    if not isinstance(raws, list) or not 1 <= len(raws) <= EVALUATORS_MAX:
        raise InvalidInput(f"give 1 to {EVALUATORS_MAX} evaluators", field=where)
    found = [build(r, where=f"{where}[{i}]", validator=validator) for i, r in enumerate(raws)]
    names = [e.name for e in found]
    for i, n in enumerate(names):
        if n in names[:i]:
            raise InvalidInput(
                f"two evaluators are named {n!r}: give one a name", field=f"{where}[{i}].name"
            )
    return found


def _equals(c: _Config, name: str, _: SchemaValidator | None) -> Evaluator:
    value = c.take("value")
    if isinstance(value, str) and len(value) > VALUE_MAX:
        raise c.bad("value", f"must be at most {VALUE_MAX} characters")
    return Equals(name, value, c.flag("ignore_case"), c.flag("ignore_whitespace"))


def _contains(c: _Config, name: str, _: SchemaValidator | None) -> Evaluator:
    one, many = c.take("value"), c.take("values")
    values = [one] if one is not None and many is None else many
    if (
        not isinstance(values, list)
        or not 1 <= len(values) <= VALUES_MAX
        or not all(isinstance(v, str) and 0 < len(v) <= VALUE_MAX for v in values)
    ):
        raise c.bad("value", f"(or values) must be text, or a list of 1 to {VALUES_MAX} texts")
    mode = c.take("mode", "any")
    if mode not in ("any", "all"):
        raise c.bad("mode", "must be any or all")
    return Contains(name, tuple(values), mode == "all", c.flag("ignore_case"))


def _regex(c: _Config, name: str, _: SchemaValidator | None) -> Evaluator:
    pattern = c.text("pattern", most=PATTERN_MAX)
    assert pattern is not None
    options = re2.Options()
    options.log_errors = False
    options.max_mem = RE2_MAX_MEM
    options.case_sensitive = not c.flag("ignore_case")
    try:
        compiled = re2.compile(pattern, options)
    except re2.error as exc:
        detail = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else exc
        raise c.bad(
            "pattern",
            f"is not an RE2 expression ({str(detail)[:120]}); backreferences and lookarounds "
            "are not available",
        ) from None
    return Regex(name, pattern, compiled, c.flag("full"))


def _valid_json(c: _Config, name: str, _: SchemaValidator | None) -> Evaluator:
    return ValidJson(name, c.flag("fenced_ok"))


def _schema(c: _Config, validator: SchemaValidator | None, required: bool) -> Any:
    schema = c.take("schema")
    if schema is None and not required:
        return None
    if not isinstance(schema, Mapping):
        raise c.bad("schema", "must be a JSON Schema object")
    if validator is None:
        raise c.bad("schema", "cannot be checked here (no JSON Schema validator)")
    validator.check(schema, f"{c.where}.schema")
    return schema


def _json_schema(c: _Config, name: str, validator: SchemaValidator | None) -> Evaluator:
    schema = _schema(c, validator, True)
    assert validator is not None
    return JsonSchema(name, schema, validator, c.flag("fenced_ok"))


def _tool_called(c: _Config, name: str, validator: SchemaValidator | None) -> Evaluator:
    tool = c.text("tool", most=128)
    assert tool is not None
    arguments = c.take("arguments")
    if arguments is not None and not isinstance(arguments, Mapping):
        raise c.bad("arguments", "must be an object (the arguments that must be there)")
    schema = _schema(c, validator, False)
    return ToolCalled(name, tool, arguments, schema, validator)


def _bound(c: _Config, key: str) -> int | None:
    value = c.number(key, high=10_000_000)
    if value is not None and value != int(value):
        raise c.bad(key, "must be a whole number")
    return None if value is None else int(value)


def _length(c: _Config, name: str, _: SchemaValidator | None) -> Evaluator:
    low, high = _bound(c, "min"), _bound(c, "max")
    if low is None and high is None:
        raise c.bad("max", "(or min) must be given")
    if low is not None and high is not None and low > high:
        raise c.bad("min", "must be at most max")
    return Length(name, low, high)


def _latency(c: _Config, name: str, _: SchemaValidator | None) -> Evaluator:
    most = c.number("max_ms", high=3_600_000)
    if most is None:
        raise c.bad("max_ms", "must be given")
    return Latency(name, most)


def _judge(c: _Config, name: str, _: SchemaValidator | None) -> Evaluator:
    prompt = c.text("prompt", most=128)
    assert prompt is not None
    version = c.number("version", low=1, high=2**31 - 1)
    label = c.text("label", most=64, required=False)
    if version is not None and label is not None:
        raise c.bad("label", "and version cannot both be given")
    threshold = c.number("threshold", low=0, high=1)
    return Judge(
        name,
        prompt,
        None if version is None else int(version),
        label,
        c.text("provider", most=64, required=False),
        c.text("model", most=200, required=False),
        0.5 if threshold is None else threshold,
    )


def _reported(c: _Config, name: str, _: SchemaValidator | None) -> Evaluator:
    return Reported(name)


_MAKERS: dict[str, Callable[[_Config, str, SchemaValidator | None], Evaluator]] = {
    "equals": _equals,
    "contains": _contains,
    "regex": _regex,
    "valid_json": _valid_json,
    "json_schema": _json_schema,
    "tool_called": _tool_called,
    "length": _length,
    "latency": _latency,
    "judge": _judge,
    "reported": _reported,
}

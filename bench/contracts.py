# ruff: noqa: E501  (the table of hostile cases reads best one case a line)
"""Contracts (issue 23; docs/contracts.md): the cost of checking render variables.

    .venv/bin/python -m bench.contracts            # add --skip-python without `jsonschema`

1. A typical 10-property schema: jsonschema-rs (what promptdeck uses) against the
   reference Python library `jsonschema` (when installed): validation, error listing,
   compiling, the meta-schema check; and promptdeck's whole `check_variables`.
2. Hostile schemas and values at the bounds: each schema within limits.py, each value as
   large as the work bound lets through (weight x size just under CONTRACT_CHECK_WORK_MAX),
   valid (decided in Rust) and invalid (failing paths listed in Python, or summed up past
   CONTRACT_LIST_WORK_MAX). The figure to hold: no case over limits.RENDER_CPU_S of CPU.
"""

from __future__ import annotations

import argparse
import contextlib
import time
from collections.abc import Callable
from typing import Any

from promptdeck import limits
from promptdeck.domain.contracts import check_contract, check_variables
from promptdeck.domain.contracts.check import _size, compiled
from promptdeck.errors import PromptdeckError

TYPICAL: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 100},
        "age": {"type": "integer", "minimum": 0, "maximum": 150},
        "email": {"type": "string", "pattern": "^[^@]+@[^@]+$"},
        "tier": {"enum": ["free", "pro", "enterprise"]},
        "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 20},
        "score": {"type": "number", "exclusiveMinimum": 0},
        "active": {"type": "boolean"},
        "notes": {"type": ["string", "null"]},
        "address": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "zip": {"type": "string", "pattern": "^[0-9]{5}$"},
            },
            "required": ["city"],
        },
        "lang": {"const": "en"},
    },
    "required": ["name", "age", "email", "tier"],
    "additionalProperties": False,
}
GOOD = {
    "name": "Ada",
    "age": 36,
    "email": "ada@example.com",
    "tier": "pro",
    "tags": ["a", "b", "c"],
    "score": 0.9,
    "active": True,
    "notes": None,
    "address": {"city": "London", "zip": "12345"},
    "lang": "en",
}
BAD = {**GOOD, "age": "36", "tier": "gold", "address": {"zip": "1"}, "extra": 1}


def per_call_us(f: Callable[[], object], n: int) -> float:
    f()
    t0 = time.perf_counter()
    for _ in range(n):
        f()
    return (time.perf_counter() - t0) / n * 1e6


def typical(skip_python: bool) -> None:
    import jsonschema_rs

    rows: list[tuple[str, float]] = []
    rs = jsonschema_rs.validator_for(TYPICAL, pattern_options=jsonschema_rs.RegexOptions())
    rows.append(("jsonschema-rs is_valid (valid)", per_call_us(lambda: rs.is_valid(GOOD), 20000)))
    rows.append(
        (
            "jsonschema-rs iter_errors (4 errors)",
            per_call_us(lambda: list(rs.iter_errors(BAD)), 20000),
        )
    )
    rows.append(
        ("jsonschema-rs compile", per_call_us(lambda: jsonschema_rs.validator_for(TYPICAL), 2000))
    )
    rows.append(
        (
            "jsonschema-rs meta-schema check",
            per_call_us(lambda: jsonschema_rs.meta.validate(TYPICAL), 5000),
        )
    )
    if not skip_python:
        import jsonschema

        py = jsonschema.Draft202012Validator(TYPICAL)
        rows.append(("jsonschema is_valid (valid)", per_call_us(lambda: py.is_valid(GOOD), 2000)))
        rows.append(
            (
                "jsonschema iter_errors (4 errors)",
                per_call_us(lambda: list(py.iter_errors(BAD)), 2000),
            )
        )
        rows.append(
            (
                "jsonschema compile",
                per_call_us(lambda: jsonschema.Draft202012Validator(TYPICAL), 2000),
            )
        )
        rows.append(
            (
                "jsonschema meta-schema check",
                per_call_us(lambda: jsonschema.Draft202012Validator.check_schema(TYPICAL), 300),
            )
        )
    contract = check_contract({"variables": TYPICAL})
    rows.append(
        (
            "promptdeck check_contract",
            per_call_us(lambda: check_contract({"variables": TYPICAL}), 2000),
        )
    )
    rows.append(
        (
            "promptdeck check_variables (valid, cached)",
            per_call_us(lambda: check_variables(contract, GOOD), 20000),
        )
    )

    def refused() -> None:
        with contextlib.suppress(PromptdeckError):
            check_variables(contract, BAD)

    rows.append(("promptdeck check_variables (4 failing paths)", per_call_us(refused, 5000)))
    print("| typical 10-property schema | µs per call |\n|---|---|")
    for name, us in rows:
        print(f"| {name} | {us:.1f} |")


def _cpu(f: Callable[[], object]) -> tuple[float, str]:
    t0 = time.process_time()
    try:
        f()
        outcome = "valid"
    except PromptdeckError as exc:
        errors = exc.extra.get("errors") or []
        outcome = f"{exc.code} ({len(errors)} lines)" if errors else exc.code
    return time.process_time() - t0, outcome


def _fit(weight: int, make: Callable[[int], Any]) -> tuple[Any, int]:
    """The largest ``{"v": make(n)}`` whose work (weight x compact JSON length) is within
    CONTRACT_CHECK_WORK_MAX."""
    budget = min(limits.VARIABLES_SIZE_MAX, limits.CONTRACT_CHECK_WORK_MAX // weight)
    per = _units({"v": make(1000)}) / 1000
    n = int(budget / per * 0.98)
    while _units({"v": make(n)}) > budget:
        n = int(n * 0.95)
    return {"v": make(n)}, n


def _units(value: Any) -> int:
    return _size(value, 10**12)[0]


def _contract(schema: dict[str, Any]) -> Any:
    return check_contract({"variables": {"type": "object", "properties": {"v": schema}}})


def hostile() -> None:
    nested: dict[str, Any] = {"type": "array", "uniqueItems": True}
    inner = nested
    for _ in range(12):
        inner["items"] = {"type": "array", "uniqueItems": True}
        inner = inner["items"]

    def deep(n: int) -> Any:
        out: Any = list(range(n))
        for _ in range(12):
            out = [out]
        return out

    # One case a row: name, schema, a valid value of n items, an invalid one.
    cases: list[tuple[str, dict[str, Any], Callable[[int], Any], Callable[[int], Any]]] = [
        ("enum of 1,000 ints on every item", {"type": "array", "items": {"enum": list(range(1000))}},
         lambda n: [999] * n, lambda n: [5000] * n),
        ("anyOf of 200 objects on every item",
         {"type": "array", "items": {"anyOf": [{"type": "object", "properties": {"k": {"const": i}}, "required": ["k"]} for i in range(200)]}},
         lambda n: [{"k": 199}] * n, lambda n: [{"k": -1}] * n),
        ("enum of 200 objects on every item", {"type": "array", "items": {"enum": [{"a": i} for i in range(200)]}},
         lambda n: [{"a": 199}] * n, lambda n: [{"a": -1}] * n),
        ("100 not-consts on one large object", {"allOf": [{"not": {"const": i}} for i in range(100)]},
         lambda n: {f"k{i}": [i] for i in range(n)}, lambda n: 5),
        ("oneOf of 500 on every item", {"type": "array", "items": {"oneOf": [{"minimum": i} for i in range(500)]}},
         lambda n: [0] * n, lambda n: [600] * n),
        ("uniqueItems on objects", {"type": "array", "uniqueItems": True},
         lambda n: [{"a": i} for i in range(n)], lambda n: [{"a": 1}] * n),
        ("uniqueItems at 13 levels", nested, deep, lambda n: [deep(n), deep(n)]),
        ("pattern ^(a+)+$ (backtracking elsewhere)", {"type": "string", "pattern": "^(a+)+$"},
         lambda n: "a" * n, lambda n: "a" * (n - 1) + "b"),
        ("pattern of 1,000 states", {"type": "string", "pattern": "^[a-z0-9]*(?:x[a-z]{1,9}[0-9]?){0,90}$"},
         lambda n: "ab1" * n, lambda n: "ab1" * n + "!"),
        ("1,000 required, all missing", {"type": "object", "required": [f"r{i}" for i in range(1000)]},
         lambda n: {f"r{i}": 1 for i in range(1000)}, lambda n: {f"k{i}": 1 for i in range(n)}),
        ("allOf of 1,000 type checks", {"allOf": [{"type": "array"}] * 1000},
         lambda n: [0] * n, lambda n: {f"k{i}": 1 for i in range(n)}),
        ("5 patterns on every string", {"type": "array", "items": {"allOf": [{"pattern": f"^x{i}|y$"} for i in range(5)]}},
         lambda n: ["y" * 30] * n, lambda n: ["z" * 30] * n),
    ]  # fmt: skip
    print(
        "\n| hostile case (value at the work bound) | weight | size | valid: CPU | invalid: CPU, answer |"
    )
    print("|---|---|---|---|---|")
    for name, schema, good, bad in cases:
        contract = _contract(schema)
        weight = compiled(contract.variables_key).weight
        good_value, _ = _fit(weight, good)
        bad_value, _ = _fit(weight, bad)
        size = _units(bad_value)
        t_good, good_outcome = _cpu(lambda v=good_value, c=contract: check_variables(c, v))
        t_bad, bad_outcome = _cpu(lambda v=bad_value, c=contract: check_variables(c, v))
        print(
            f"| {name} | {weight} | {size:,} | {t_good:.3f} s ({good_outcome}) "
            f"| {t_bad:.3f} s, {bad_outcome} |",
            flush=True,
        )
    listing(cases)


def listing(cases: list[Any]) -> None:
    """The same cases at the listing bound: the failing paths listed in Python."""
    print("\n| hostile case (value at the listing bound) | weight | size | CPU, answer |")
    print("|---|---|---|---|")
    for name, schema, _good, bad in cases:
        contract = _contract(schema)
        weight = compiled(contract.variables_key).weight
        budget = limits.CONTRACT_LIST_WORK_MAX // weight
        n = 1
        while _units({"v": bad(n * 2)}) <= budget and n < 10**7:
            n *= 2
        value = {"v": bad(n)}
        t, outcome = _cpu(lambda v=value, c=contract: check_variables(c, v))
        print(f"| {name} | {weight} | {_units(value):,} | {t:.3f} s, {outcome} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--skip-python", action="store_true", help="without the jsonschema package")
    args = parser.parse_args()
    typical(args.skip_python)
    hostile()


if __name__ == "__main__":
    main()

"""Evaluators: what makes a model's answer to a test case pass. Pure and deterministic; each
is built from a checked configuration (``domain/evaluator_config.py``) and judges one
``Observation`` into a ``Result``: pass or fail, an optional score in [0, 1], a short reason.
An evaluator that cannot judge (a judge's answer that is not JSON) gives an error result,
never an exception.

Regular expressions run on RE2 (``google-re2``): linear in the text whatever the pattern,
so no time bound is needed at match time (measured: ``(a|aa)+$`` on 41 characters took
0.16 ms with RE2 and ran past a 0.5 s timeout, stopping after 1.6 s, with the ``regex``
module; docs/evaluations.md). Backreferences and lookarounds are refused when configured.

The model-graded evaluator's pure parts are here: the variables its rubric prompt is
rendered with, and the reading of the judge's answer (``parse_judgement``).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from promptdeck.domain.completions import ToolCall

PATTERN_MAX = 1000
VALUE_MAX = 10_000
VALUES_MAX = 100
REASON_KEEP = 300
RE2_MAX_MEM = 8 << 20  # bytes a compiled pattern may use
TYPES = (
    "equals",
    "contains",
    "regex",
    "valid_json",
    "json_schema",
    "tool_called",
    "length",
    "latency",
    "judge",
    "reported",
)


@dataclass(frozen=True, slots=True)
class Observation:
    """One run of one case: what the model answered, and what the case expected."""

    output: str
    tool_calls: tuple[ToolCall, ...] = ()
    latency_ms: float | None = None
    expected: Any = None


@dataclass(frozen=True, slots=True)
class Result:
    passed: bool
    score: float | None = None
    reason: str = ""
    error: bool = False  # could not judge: counted as not passed, left out of comparisons


def _error(reason: str) -> Result:
    return Result(False, None, reason[:REASON_KEEP], error=True)


def _judged(passed: bool, reason: str, score: float | None = None) -> Result:
    return Result(passed, (1.0 if passed else 0.0) if score is None else score, reason)


class SchemaValidator(Protocol):
    """What the caller hands in to check JSON Schemas (the contracts module): ``check``
    refuses a schema that is not one (InvalidInput), ``errors`` lists why an instance does
    not match (empty: it matches)."""

    def check(self, schema: Mapping[str, Any], field: str) -> None: ...

    def errors(self, schema: Mapping[str, Any], instance: Any) -> Sequence[str]: ...


def _fold(text: str, ignore_case: bool, ignore_whitespace: bool) -> str:
    if ignore_whitespace:
        text = " ".join(text.split())
    return text.casefold() if ignore_case else text


# --- the evaluators ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Equals:
    """The output is the value (or the case's ``expected``); JSON values compare as JSON."""

    name: str
    value: Any = None
    ignore_case: bool = False
    ignore_whitespace: bool = False

    def evaluate(self, o: Observation) -> Result:
        want = self.value if self.value is not None else o.expected
        if want is None:
            return _error("nothing to compare with: no value and no expected")
        if not isinstance(want, str):
            try:
                got = json.loads(o.output)
            except ValueError:
                return _judged(False, "the output is not JSON")
            return _judged(got == want, "equal as JSON" if got == want else "differs as JSON")
        same = _fold(o.output, self.ignore_case, self.ignore_whitespace) == _fold(
            want, self.ignore_case, self.ignore_whitespace
        )
        return _judged(same, "equal" if same else "differs")


@dataclass(frozen=True, slots=True)
class Contains:
    """The output contains any (or all) of the values; the score is the share found."""

    name: str
    values: tuple[str, ...]
    all: bool = False
    ignore_case: bool = False

    def evaluate(self, o: Observation) -> Result:
        text = _fold(o.output, self.ignore_case, False)
        found = [v for v in self.values if _fold(v, self.ignore_case, False) in text]
        missing = [v for v in self.values if v not in found]
        passed = not missing if self.all else bool(found)
        if passed:
            reason = f"found {found[0][:60]!r}" if not self.all else "found every value"
        else:
            reason = f"missing {missing[0][:60]!r}" if self.all else "found none of the values"
        return Result(passed, len(found) / len(self.values), reason)


@dataclass(frozen=True, slots=True)
class Regex:
    name: str
    pattern: str
    compiled: Any = field(repr=False, compare=False)
    full: bool = False

    def evaluate(self, o: Observation) -> Result:
        match = (self.compiled.fullmatch if self.full else self.compiled.search)(o.output)
        return _judged(match is not None, "matches" if match else "does not match")


@dataclass(frozen=True, slots=True)
class ValidJson:
    name: str
    fenced_ok: bool = False  # accept JSON inside a ``` fence

    def evaluate(self, o: Observation) -> Result:
        found = json_in(o.output, self.fenced_ok)
        return _judged(found is not _NONE, "valid JSON" if found is not _NONE else "not JSON")


@dataclass(frozen=True, slots=True)
class JsonSchema:
    name: str
    schema: Mapping[str, Any]
    validator: SchemaValidator = field(repr=False, compare=False)
    fenced_ok: bool = False

    def evaluate(self, o: Observation) -> Result:
        found = json_in(o.output, self.fenced_ok)
        if found is _NONE:
            return _judged(False, "not JSON")
        problems = list(self.validator.errors(self.schema, found))
        reason = "matches the schema" if not problems else problems[0][:REASON_KEEP]
        return _judged(not problems, reason)


@dataclass(frozen=True, slots=True)
class ToolCalled:
    """A tool of that name was called, with arguments that hold ``arguments`` (a partial
    object: the keys given, with these values; nested objects likewise) or match ``schema``."""

    name: str
    tool: str
    arguments: Mapping[str, Any] | None = None
    schema: Mapping[str, Any] | None = None
    validator: SchemaValidator | None = field(default=None, repr=False, compare=False)

    def evaluate(self, o: Observation) -> Result:
        calls = [c for c in o.tool_calls if c.name == self.tool]
        if not calls:
            called = ", ".join(c.name for c in o.tool_calls[:5]) or "no tool"
            return _judged(False, f"{self.tool} was not called ({called} was)")
        for call in calls:
            args = call.parsed()
            if self.arguments is not None and not holds(args, self.arguments):
                continue
            schema, validator = self.schema, self.validator
            if schema is not None and validator is not None and validator.errors(schema, args):
                continue
            return _judged(True, f"{self.tool} was called with matching arguments")
        return _judged(False, f"{self.tool} was called, never with matching arguments")


@dataclass(frozen=True, slots=True)
class Length:
    name: str
    min: int | None = None
    max: int | None = None

    def evaluate(self, o: Observation) -> Result:
        n = len(o.output)
        if self.min is not None and n < self.min:
            return _judged(False, f"{n} characters, fewer than {self.min}")
        if self.max is not None and n > self.max:
            return _judged(False, f"{n} characters, more than {self.max}")
        return _judged(True, f"{n} characters")


@dataclass(frozen=True, slots=True)
class Latency:
    name: str
    max_ms: float

    def evaluate(self, o: Observation) -> Result:
        if o.latency_ms is None:
            return _error("no latency was measured")
        ok = o.latency_ms <= self.max_ms
        return _judged(ok, f"{o.latency_ms:.0f} ms {'within' if ok else 'over'} {self.max_ms:g}")


@dataclass(frozen=True, slots=True)
class Judge:
    """Model-graded: the rubric prompt (a promptdeck prompt, at a version or label) rendered
    with ``judge_variables``, sent to ``model`` on ``provider``, its answer read by
    ``parse_judgement``. The runner does the calls; this is its configuration."""

    name: str
    prompt: str
    version: int | None = None
    label: str | None = None
    provider: str | None = None  # None: the evaluation's provider
    model: str | None = None
    threshold: float = 0.5

    def evaluate(self, o: Observation) -> Result:
        return _error("a judge is evaluated by the runner, with a model")


@dataclass(frozen=True, slots=True)
class Reported:
    """Judged outside the server: the application's own function, run by the Python client
    (``client.evaluate``), reports each result (``POST /evaluations/{id}/results``)."""

    name: str

    def evaluate(self, o: Observation) -> Result:
        return _error("a reported evaluator's results come from the caller")


Evaluator = (
    Equals
    | Contains
    | Regex
    | ValidJson
    | JsonSchema
    | ToolCalled
    | Length
    | Latency
    | Judge
    | Reported
)


# --- shared readings ---------------------------------------------------------------------

_NONE: Any = object()
_FENCE = re.compile(r"^\s*```[A-Za-z0-9_-]*\s*\n(?P<body>.*?)\n?\s*```\s*$", re.DOTALL)


def json_in(text: str, fenced_ok: bool = True) -> Any:
    """The JSON value ``text`` is (or holds in one ``` fence, when ``fenced_ok``), or _NONE."""
    try:
        return json.loads(text)
    except ValueError:
        pass
    if fenced_ok:
        match = _FENCE.match(text)
        if match:
            try:
                return json.loads(match.group("body"))
            except ValueError:
                pass
    return _NONE


def holds(value: Any, part: Any) -> bool:
    """Whether ``value`` holds ``part``: an object holds the keys of ``part`` with values
    that hold theirs; anything else must be the same (lists item by item, in order; true is
    not 1)."""
    if isinstance(part, Mapping):
        return isinstance(value, Mapping) and all(
            k in value and holds(value[k], v) for k, v in part.items()
        )
    if isinstance(part, list):
        return (
            isinstance(value, list)
            and len(value) == len(part)
            and all(holds(v, p) for v, p in zip(value, part, strict=True))
        )
    if isinstance(part, bool) or isinstance(value, bool):
        return value is part
    return bool(value == part)


# --- the model-graded evaluator's pure parts ----------------------------------------------


def judge_variables(
    *, input_text: str, output: str, expected: Any, metadata: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """What a rubric prompt is rendered with: ``{{input}}`` (the prompt as the model got it),
    ``{{output}}``, ``{{expected}}`` (text, or JSON for other values), ``{{metadata}}``."""
    return {
        "input": input_text,
        "output": output,
        "expected": expected
        if isinstance(expected, str)
        else json.dumps(expected, ensure_ascii=False),
        "metadata": json.dumps(dict(metadata or {}), ensure_ascii=False),
    }


def parse_judgement(text: str, threshold: float = 0.5) -> Result:
    """A judge's answer, ``{"score": 0..1, "pass": bool, "reason": "..."}`` (in a ``` fence
    or not). ``pass`` missing: the score against ``threshold``. Anything else: an error."""
    found = json_in(text.strip(), fenced_ok=True)
    if found is _NONE:
        return _error(f"the judge's answer is not JSON: {text.strip()[:80]!r}")
    if not isinstance(found, Mapping):
        return _error("the judge's answer is not a JSON object")
    score, passed, reason = found.get("score"), found.get("pass"), found.get("reason", "")
    if score is not None and (
        isinstance(score, bool)
        or not isinstance(score, int | float)
        or not math.isfinite(score)
        or not 0 <= score <= 1
    ):
        return _error("the judge's score is not a number from 0 to 1")
    if passed is not None and not isinstance(passed, bool):
        return _error("the judge's pass is not true or false")
    if score is None and passed is None:
        return _error("the judge gave neither a score nor a pass")
    if passed is None:
        passed = score is not None and float(score) >= threshold
    return Result(
        passed,
        None if score is None else float(score),
        (reason if isinstance(reason, str) else json.dumps(reason))[:REASON_KEEP],
    )

"""A rollout plan: which version, by which shares, judged by which guard, stepping when.

``parse_plan`` takes the JSON body as decoded (or the stored plan) and returns a
``RolloutPlan`` or raises ``InvalidInput`` naming the field (``guard.max_drop``,
``steps.2``): whatever the value, nothing else escapes it. ``RolloutPlan.to_json`` gives
the normal form back, and ``parse_plan(plan.to_json()) == plan``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from promptdeck import limits
from promptdeck.domain import values
from promptdeck.domain.labels import check_reason
from promptdeck.domain.rollouts import assign
from promptdeck.errors import InvalidInput

Measure = Literal["success_rate", "mean_score", "latency_p95"]
Advance = Literal["auto", "manual"]
MEASURES: tuple[Measure, ...] = ("success_rate", "mean_score", "latency_p95")
DROP_MEASURES: tuple[Measure, ...] = ("success_rate", "mean_score")  # margin: max_drop
STICKY_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
DEFAULT_STICKY = "user_id"
DEFAULT_MIN_OUTCOMES = 200
DEFAULT_CONFIDENCE = 0.95
DEFAULT_STEP_MINUTES = 30
FIELDS = frozenset(
    ("version_id", "steps", "sticky", "guard", "step_after", "advance", "reason", "salt")
)
GUARD_FIELDS = frozenset(("measure", "max_drop", "max_increase_ms", "min_outcomes", "confidence"))
STEP_AFTER_FIELDS = frozenset(("minutes", "outcomes"))


@dataclass(frozen=True, slots=True)
class Margin:
    """How much worse a measure may be: an absolute drop (success rate, mean score) or, for
    latency p95, milliseconds of increase."""

    measure: Measure
    value: float


@dataclass(frozen=True, slots=True)
class Guard:
    margins: tuple[Margin, ...]  # one per measure, in the order given
    min_outcomes: int  # per arm and measure, before that measure is judged
    confidence: float  # the chance that a candidate within its margins is never rolled back

    @property
    def measures(self) -> tuple[Measure, ...]:
        return tuple(m.measure for m in self.margins)

    def margin(self, measure: Measure) -> float:
        return next(m.value for m in self.margins if m.measure == measure)


@dataclass(frozen=True, slots=True)
class StepAfter:
    """A step lasts at least ``minutes`` and until the candidate has ``outcomes`` in it."""

    minutes: int
    outcomes: int


@dataclass(frozen=True, slots=True)
class RolloutPlan:
    version_id: int  # the candidate
    steps: tuple[int, ...]  # the candidate's shares in basis points; the last is 10,000
    sticky: str  # the attribute whose value is the key (a client reads it from a context)
    guard: Guard
    step_after: StepAfter
    advance: Advance
    reason: str
    salt: str | None = None  # None: the rollout draws its own (assign.new_salt)

    def to_json(self) -> dict[str, Any]:
        drops = [m for m in self.guard.margins if m.measure in DROP_MEASURES]
        guard: dict[str, Any] = {
            "measure": self.guard.measures[0]
            if len(self.guard.margins) == 1
            else list(self.guard.measures)
        }
        if len(drops) == 1:
            guard["max_drop"] = drops[0].value
        elif drops:
            guard["max_drop"] = {m.measure: m.value for m in drops}
        if "latency_p95" in self.guard.measures:
            guard["max_increase_ms"] = self.guard.margin("latency_p95")
        guard["min_outcomes"] = self.guard.min_outcomes
        guard["confidence"] = self.guard.confidence
        found: dict[str, Any] = {
            "version_id": self.version_id,
            "steps": [assign.percent(s) for s in self.steps],
            "sticky": self.sticky,
            "guard": guard,
            "step_after": {
                "minutes": self.step_after.minutes,
                "outcomes": self.step_after.outcomes,
            },
            "advance": self.advance,
            "reason": self.reason,
        }
        if self.salt is not None:
            found["salt"] = self.salt
        return found


def _refuse(field: str, message: str) -> InvalidInput:
    return InvalidInput(f"{field}: {message}", field=field)


def _object(value: object, field: str, allowed: frozenset[str]) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise _refuse(field or "body", "must be an object")
    for key in value:
        if not isinstance(key, str) or key not in allowed:
            name = f"{field}.{key}" if field else str(key)
            known = ", ".join(sorted(allowed))
            raise _refuse(name[:200] or "body", f"unknown field {key!r:.80} (known: {known})")
    return value


def _integer(value: object, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _refuse(field, "must be an integer")
    if not low <= value <= high:
        raise _refuse(field, f"must be between {low} and {high}")
    return value


def _number(
    value: object, field: str, low: float, high: float, *, open_high: bool = False
) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _refuse(field, "must be a number")
    if isinstance(value, int) and abs(value) > limits.JSON_INT_MAX:
        raise _refuse(field, f"must be between {low} and {high}")
    number = float(value)
    inside = low <= number < high if open_high else low <= number <= high
    if not math.isfinite(number) or not inside:
        bound = f"below {high}" if open_high else f"at most {high}"
        raise _refuse(field, f"must be at least {low} and {bound}")
    return number


def _text(value: object, field: str) -> str:
    if not isinstance(value, str):
        raise _refuse(field, "must be a string")
    try:
        return values.check_text(value)
    except ValueError as exc:
        raise _refuse(field, str(exc)) from None


def _steps(value: object) -> tuple[int, ...]:
    if not isinstance(value, list):
        raise _refuse("steps", "must be a list of percentages")
    if not 2 <= len(value) <= limits.ROLLOUT_STEPS_MAX:
        raise _refuse(
            "steps",
            f"must hold 2 to {limits.ROLLOUT_STEPS_MAX} percentages: at least one share below "
            "100, then 100",
        )
    found: list[int] = []
    for i, item in enumerate(value):
        field = f"steps.{i}"
        share = _number(item, field, 0, 100)
        try:
            points = assign.basis_points(share)
        except ValueError:
            raise _refuse(field, "has more than two decimals (shares are basis points)") from None
        if points == 0:
            raise _refuse(field, "must be above 0")
        if found and points <= found[-1]:
            raise _refuse(field, "must be above the step before it (steps only go up)")
        found.append(points)
    if found[-1] != limits.ROLLOUT_BUCKETS:
        raise _refuse(f"steps.{len(found) - 1}", "the last step must be 100")
    return tuple(found)


def _measures(value: object) -> tuple[Measure, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        raise _refuse("guard.measure", f"must be one of {', '.join(MEASURES)}, or a list of them")
    found: list[Measure] = []
    for i, item in enumerate(items):
        field = "guard.measure" if isinstance(value, str) else f"guard.measure.{i}"
        measure = next((m for m in MEASURES if m == item), None)
        if measure is None:
            raise _refuse(field, f"must be one of {', '.join(MEASURES)}")
        if measure in found:
            raise _refuse(field, f"{measure} is named twice")
        found.append(measure)
    return tuple(found)


def _drop(value: object, field: str) -> float:
    """A drop of a success rate or of a mean score: both live in 0..1 (outcomes' scores do)."""
    return _number(value, field, 0, 1, open_high=True)


def _guard(value: object) -> Guard:
    raw = _object(value, "guard", GUARD_FIELDS)
    if "measure" not in raw:
        raise _refuse("guard.measure", "is required")
    measures = _measures(raw["measure"])
    drops = [m for m in measures if m in DROP_MEASURES]
    margins: dict[Measure, float] = {}
    if drops:
        if "max_drop" not in raw:
            raise _refuse("guard.max_drop", f"is required to judge {' and '.join(drops)}")
        given = raw["max_drop"]
        if isinstance(given, Mapping):
            given = _object(given, "guard.max_drop", frozenset(drops))
            for measure in drops:
                if measure not in given:
                    raise _refuse(f"guard.max_drop.{measure}", "is required")
                margins[measure] = _drop(given[measure], f"guard.max_drop.{measure}")
        else:
            for measure in drops:
                margins[measure] = _drop(given, "guard.max_drop")
    elif "max_drop" in raw:
        raise _refuse("guard.max_drop", "applies to success_rate or mean_score, not measured")
    if "latency_p95" in measures:
        if "max_increase_ms" not in raw:
            raise _refuse("guard.max_increase_ms", "is required to judge latency_p95")
        margins["latency_p95"] = _number(
            raw["max_increase_ms"], "guard.max_increase_ms", 0, limits.OUTCOME_LATENCY_MS_MAX
        )
    elif "max_increase_ms" in raw:
        raise _refuse("guard.max_increase_ms", "applies to latency_p95, not measured")
    min_outcomes = _integer(
        raw.get("min_outcomes", DEFAULT_MIN_OUTCOMES),
        "guard.min_outcomes",
        limits.ROLLOUT_MIN_OUTCOMES_MIN,
        limits.ROLLOUT_MIN_OUTCOMES_MAX,
    )
    confidence = _number(
        raw.get("confidence", DEFAULT_CONFIDENCE),
        "guard.confidence",
        limits.ROLLOUT_CONFIDENCE_MIN,
        limits.ROLLOUT_CONFIDENCE_MAX,
    )
    return Guard(tuple(Margin(m, margins[m]) for m in measures), min_outcomes, confidence)


def _step_after(value: object) -> StepAfter:
    raw = _object(value, "step_after", STEP_AFTER_FIELDS)
    return StepAfter(
        minutes=_integer(
            raw.get("minutes", DEFAULT_STEP_MINUTES),
            "step_after.minutes",
            0,
            limits.ROLLOUT_STEP_MINUTES_MAX,
        ),
        outcomes=_integer(
            raw.get("outcomes", 0), "step_after.outcomes", 0, limits.ROLLOUT_STEP_OUTCOMES_MAX
        ),
    )


def _sticky(value: object) -> str:
    sticky = _text(value, "sticky")
    if len(sticky) > limits.ROLLOUT_STICKY_MAX or not STICKY_PATTERN.fullmatch(sticky):
        raise _refuse(
            "sticky",
            f"must be an attribute name ([A-Za-z_][A-Za-z0-9_.-]*) of at most "
            f"{limits.ROLLOUT_STICKY_MAX} characters",
        )
    return sticky


def parse_plan(value: object) -> RolloutPlan:
    """The plan a request (or a stored row) gives, checked whole; defaults filled in."""
    raw = _object(value, "", FIELDS)
    if "version_id" not in raw:
        raise _refuse("version_id", "is required")
    if "steps" not in raw:
        raise _refuse("steps", "is required")
    if "guard" not in raw:
        raise _refuse("guard", "is required: a rollout is judged by at least one measure")
    version_id = _integer(raw["version_id"], "version_id", 1, limits.ID_MAX)
    steps = _steps(raw["steps"])
    sticky = _sticky(raw.get("sticky", DEFAULT_STICKY))
    guard = _guard(raw["guard"])
    step_after = _step_after(raw.get("step_after", {}))
    advance = raw.get("advance", "auto")
    if advance not in ("auto", "manual"):
        raise _refuse("advance", "must be auto or manual")
    reason_text = _text(raw.get("reason", ""), "reason")
    try:
        reason = check_reason(reason_text)
    except InvalidInput as exc:
        raise _refuse("reason", exc.detail) from None
    salt = raw.get("salt")
    if salt is not None:
        assign.check_salt(_text(salt, "salt"))
    return RolloutPlan(
        version_id=version_id,
        steps=steps,
        sticky=sticky,
        guard=guard,
        step_after=step_after,
        advance="manual" if advance == "manual" else "auto",
        reason=reason,
        salt=salt if isinstance(salt, str) else None,
    )

"""Rollout plans (domain/rollouts/plan.py): the issue's example is accepted as written,
anything else is accepted in its normal form or refused naming its field, never an
unexpected exception."""

from __future__ import annotations

import copy
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from promptdeck import limits
from promptdeck.domain.rollouts.plan import Margin, RolloutPlan, parse_plan
from promptdeck.errors import InvalidInput

# Pure functions: the database plays no part, so the SQLite pass alone runs them.
pytestmark = pytest.mark.sqlite_only

EXAMPLE: dict[str, Any] = {
    "version_id": 9,
    "steps": [5, 25, 50, 100],
    "sticky": "user_id",
    "guard": {
        "measure": "success_rate",
        "max_drop": 0.02,
        "min_outcomes": 200,
        "confidence": 0.95,
    },
    "step_after": {"minutes": 30, "outcomes": 500},
    "reason": "shorter answers",
}
TOP = {"version_id", "steps", "sticky", "guard", "step_after", "advance", "reason", "salt"}


def _with(path: str, value: object) -> dict[str, Any]:
    plan = copy.deepcopy(EXAMPLE)
    *parents, last = path.split(".")
    target: Any = plan
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    if value is _DELETE:
        del target[last]
    elif isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return plan


_DELETE = object()


def test_the_issues_example_is_accepted_with_its_shares_in_basis_points() -> None:
    plan = parse_plan(EXAMPLE)
    assert plan.version_id == 9
    assert plan.steps == (500, 2500, 5000, 10_000)
    assert plan.guard.margins == (Margin("success_rate", 0.02),)
    assert (plan.step_after.minutes, plan.step_after.outcomes) == (30, 500)
    assert plan.advance == "auto"
    assert plan.salt is None


def test_a_plan_comes_back_from_its_json_unchanged() -> None:
    plan = parse_plan(EXAMPLE)
    assert plan.to_json() == {**EXAMPLE, "advance": "auto"}
    assert parse_plan(plan.to_json()) == plan


def test_omitted_fields_take_their_documented_defaults() -> None:
    plan = parse_plan(
        {"version_id": 3, "steps": [10, 100], "guard": {"measure": "mean_score", "max_drop": 0.1}}
    )
    assert plan.sticky == "user_id"
    assert (plan.guard.min_outcomes, plan.guard.confidence) == (200, 0.95)
    assert (plan.step_after.minutes, plan.step_after.outcomes) == (30, 0)
    assert (plan.advance, plan.reason) == ("auto", "")


def test_several_measures_take_a_margin_each() -> None:
    plan = parse_plan(
        _with(
            "guard",
            {
                "measure": ["success_rate", "mean_score", "latency_p95"],
                "max_drop": {"success_rate": 0.01, "mean_score": 0.5},
                "max_increase_ms": 250,
            },
        )
    )
    assert plan.guard.margins == (
        Margin("success_rate", 0.01),
        Margin("mean_score", 0.5),
        Margin("latency_p95", 250.0),
    )
    assert parse_plan(plan.to_json()) == plan
    one_drop = parse_plan(
        _with("guard", {"measure": ["success_rate", "mean_score"], "max_drop": 0.03})
    )
    assert one_drop.guard.margin("mean_score") == 0.03


def test_shares_with_two_decimals_are_accepted() -> None:
    assert parse_plan(_with("steps", [0.5, 12.25, 100])).steps == (50, 1225, 10_000)


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        ("version_id", _DELETE, "version_id"),
        ("version_id", "9", "version_id"),
        ("version_id", True, "version_id"),
        ("version_id", 0, "version_id"),
        ("version_id", 2**31, "version_id"),
        ("steps", _DELETE, "steps"),
        ("steps", [100], "steps"),
        ("steps", [*range(1, 21), 100], "steps"),
        ("steps", "5,100", "steps"),
        ("steps", [5, 50], "steps.1"),
        ("steps", [50, 25, 100], "steps.1"),
        ("steps", [5, 5, 100], "steps.1"),
        ("steps", [0, 100], "steps.0"),
        ("steps", [-5, 100], "steps.0"),
        ("steps", [5, 101], "steps.1"),
        ("steps", [0.125, 100], "steps.0"),
        ("steps", [math.nan, 100], "steps.0"),
        ("steps", [False, 100], "steps.0"),
        ("steps", ["5", 100], "steps.0"),
        ("sticky", "", "sticky"),
        ("sticky", "user id", "sticky"),
        ("sticky", "1user", "sticky"),
        ("sticky", "x" * 65, "sticky"),
        ("sticky", 7, "sticky"),
        ("guard", _DELETE, "guard"),
        ("guard", [], "guard"),
        ("guard.measure", _DELETE, "guard.measure"),
        ("guard.measure", "p95", "guard.measure"),
        ("guard.measure", [], "guard.measure"),
        ("guard.measure", ["success_rate", "success_rate"], "guard.measure.1"),
        ("guard.measure", ["success_rate", 3], "guard.measure.1"),
        ("guard.max_drop", _DELETE, "guard.max_drop"),
        ("guard.max_drop", 1, "guard.max_drop"),
        ("guard.max_drop", -0.01, "guard.max_drop"),
        ("guard.max_drop", math.inf, "guard.max_drop"),
        ("guard.max_drop", "0.02", "guard.max_drop"),
        ("guard.max_drop", {"mean_score": 0.1}, "guard.max_drop.mean_score"),
        ("guard.max_drop", {}, "guard.max_drop.success_rate"),
        ("guard.max_increase_ms", 100, "guard.max_increase_ms"),
        ("guard.min_outcomes", 29, "guard.min_outcomes"),
        ("guard.min_outcomes", 200.0, "guard.min_outcomes"),
        ("guard.min_outcomes", 10**7, "guard.min_outcomes"),
        ("guard.confidence", 0.4, "guard.confidence"),
        ("guard.confidence", 1, "guard.confidence"),
        ("guard.confidence", 0.9991, "guard.confidence"),
        ("guard.maxdrop", 0.02, "guard.maxdrop"),
        ("step_after", 30, "step_after"),
        ("step_after.minutes", -1, "step_after.minutes"),
        ("step_after.minutes", 30 * 24 * 60 + 1, "step_after.minutes"),
        ("step_after.outcomes", 1.5, "step_after.outcomes"),
        ("step_after.hours", 1, "step_after.hours"),
        ("advance", "automatic", "advance"),
        ("advance", ["auto"], "advance"),
        ("reason", "x" * 1001, "reason"),
        ("reason", "a\x00b", "reason"),
        ("reason", "\ud800", "reason"),
        ("reason", None, "reason"),
        ("salt", "a:b", "salt"),
        ("salt", 5, "salt"),
        ("percent", 5, "percent"),
    ],
)
def test_a_bad_plan_is_refused_naming_its_field(path: str, value: object, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_plan(_with(path, value))
    assert caught.value.field == field
    assert caught.value.detail


def test_latency_needs_its_own_margin_in_milliseconds() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_plan(_with("guard", {"measure": "latency_p95", "max_drop": 0.1}))
    assert caught.value.field == "guard.max_drop"
    assert "latency" not in caught.value.detail.split(":")[0]
    with pytest.raises(InvalidInput) as caught:
        parse_plan(_with("guard", {"measure": "latency_p95"}))
    assert caught.value.field == "guard.max_increase_ms"
    plan = parse_plan(_with("guard", {"measure": "latency_p95", "max_increase_ms": 0}))
    assert plan.guard.margins == (Margin("latency_p95", 0.0),)


def test_a_body_that_is_not_an_object_is_refused() -> None:
    for body in (None, [], "plan", 3):
        with pytest.raises(InvalidInput) as caught:
            parse_plan(body)
        assert caught.value.field == "body"


# --- generated plans -----------------------------------------------------------------------

json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
)
json_value = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=8,
)
measures = st.sampled_from(["success_rate", "mean_score", "latency_p95"])


@st.composite
def valid_plans(draw: st.DrawFn) -> dict[str, Any]:
    points = draw(st.lists(st.integers(1, 9_999), min_size=1, max_size=19, unique=True))
    chosen = draw(st.lists(measures, min_size=1, max_size=3, unique=True))
    guard: dict[str, Any] = {"measure": chosen[0] if len(chosen) == 1 else chosen}
    drops = [m for m in chosen if m != "latency_p95"]
    if drops:
        guard["max_drop"] = draw(
            st.floats(0, 0.99) | st.fixed_dictionaries({m: st.floats(0, 0.99) for m in drops})
        )
    if "latency_p95" in chosen:
        guard["max_increase_ms"] = draw(st.floats(0, 1e6))
    guard["min_outcomes"] = draw(st.integers(30, 1_000_000))
    guard["confidence"] = draw(st.floats(0.5, 0.999))
    return {
        "version_id": draw(st.integers(1, limits.ID_MAX)),
        "steps": [p / 100 for p in sorted(points)] + [100],
        "sticky": draw(st.sampled_from(["user_id", "session.id", "org-id", "_k"])),
        "guard": guard,
        "step_after": {
            "minutes": draw(st.integers(0, 43_200)),
            "outcomes": draw(st.integers(0, 10**7)),
        },
        "advance": draw(st.sampled_from(["auto", "manual"])),
        "reason": draw(
            st.text(
                st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=20
            )
        ),
    }


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON value, as the keys and indexes that lead to it."""
    found: list[tuple[Any, ...]] = []
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else []
    )
    for key, inner in items:
        found.append((*prefix, key))
        found += _paths(inner, (*prefix, key))
    return found


@st.composite
def mutated_plans(draw: st.DrawFn) -> dict[str, Any]:
    """A valid plan with none, one or a few of its values replaced by any JSON (or removed),
    and sometimes a field it does not know."""
    plan = draw(valid_plans())
    for _ in range(draw(st.integers(0, 3))):
        places = _paths(plan)
        if not places:
            break
        *parents, last = draw(st.sampled_from(places))
        target: Any = plan
        for part in parents:
            target = target[part]
        if isinstance(target, dict) and draw(st.booleans()):
            del target[last]
        else:
            target[last] = draw(json_value)
    if draw(st.integers(0, 9)) == 7:
        plan[draw(st.sampled_from(["extra", "percent", "Steps"]))] = draw(json_value)
    return plan


@settings(max_examples=1000, deadline=None)
@given(body=mutated_plans())
def test_any_generated_plan_is_accepted_in_normal_form_or_refused_naming_a_field(
    body: dict[str, Any],
) -> None:
    try:
        plan = parse_plan(body)
    except InvalidInput as exc:
        assert exc.field is not None
        assert exc.field.split(".")[0] in TOP | {"extra", "percent", "Steps"}
        assert exc.detail
        return
    assert isinstance(plan, RolloutPlan)
    assert parse_plan(plan.to_json()) == plan
    assert 2 <= len(plan.steps) <= limits.ROLLOUT_STEPS_MAX
    assert list(plan.steps) == sorted(set(plan.steps))
    assert plan.steps[0] > 0 and plan.steps[-1] == limits.ROLLOUT_BUCKETS
    assert plan.guard.margins and all(m.value >= 0 for m in plan.guard.margins)


@settings(max_examples=300, deadline=None)
@given(body=valid_plans())
def test_every_plan_within_the_bounds_is_accepted_and_comes_back_unchanged(
    body: dict[str, Any],
) -> None:
    plan = parse_plan(body)
    assert [p / 100 for p in plan.steps] == body["steps"]
    assert parse_plan(plan.to_json()) == plan


@settings(max_examples=300, deadline=None)
@given(body=json_value)
def test_any_json_value_as_a_plan_is_refused_naming_a_field(body: object) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_plan(body)
    assert caught.value.field

"""What a rollout does next (domain/rollouts/decide.py): roll back a worse candidate first,
paused or not; advance only when the step's time, its outcomes and the guard's minimum have
all passed; wait for a person when the plan says manual."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from promptdeck.domain.rollouts import state as sm
from promptdeck.domain.rollouts.decide import apply, decide
from promptdeck.domain.rollouts.guard import ArmSums, StepArms
from promptdeck.domain.rollouts.plan import parse_plan
from promptdeck.domain.rollouts.state import RolloutState
from promptdeck.errors import RolloutStateConflict

# Pure functions: the database plays no part, so the SQLite pass alone runs them.
pytestmark = pytest.mark.sqlite_only

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
EQUAL = StepArms(ArmSums(9_500, 9_500, 8_550), ArmSums(500, 500, 450))
WORSE = StepArms(ArmSums(9_500, 9_500, 8_550), ArmSums(500, 500, 400))
FEW = StepArms(ArmSums(1_900, 1_900, 1_710), ArmSums(100, 100, 90))


def rollout(**changes: object) -> RolloutState:
    body: dict[str, object] = {
        "version_id": 9,
        "steps": [5, 25, 50, 100],
        "guard": {"measure": "success_rate", "max_drop": 0.02, "min_outcomes": 200},
        "step_after": {"minutes": 30, "outcomes": 400},
    }
    body.update(changes)
    return sm.start(parse_plan(body), 4, T0, "salt").state


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_a_step_whose_time_outcomes_and_guard_have_passed_advances() -> None:
    state = rollout()
    decision = decide(state, [EQUAL], at(31))
    assert (decision.action, decision.ready) == ("advance", True)
    assert "5% → 25%" in decision.why and "within bounds" in decision.why
    change = apply(state, decision, at(31))
    assert change is not None and change.kind == "advanced"
    assert (change.state.percent, change.state.step_started_at) == (25, at(31))


def test_a_step_waits_for_its_minutes() -> None:
    decision = decide(rollout(), [EQUAL], at(12))
    assert (decision.action, decision.ready) == ("wait", False)
    assert "12 of 30 minutes" in decision.why
    assert apply(rollout(), decision, at(12)) is None


def test_a_step_waits_for_its_candidate_outcomes() -> None:
    decision = decide(rollout(step_after={"minutes": 0, "outcomes": 600}), [EQUAL], at(0))
    assert decision.action == "wait"
    assert "500 of 600 candidate outcomes" in decision.why


def test_a_step_waits_until_the_guard_has_judged_even_when_time_and_outcomes_passed() -> None:
    decision = decide(rollout(step_after={"minutes": 0, "outcomes": 0}), [FEW], at(60))
    assert decision.action == "wait"
    assert "success rate: not judged yet" in decision.why
    assert decision.judgements[0].verdict == "pending"


def test_the_outcomes_of_a_step_are_counted_in_that_step_only() -> None:
    state = sm.advance(rollout(), at(31)).state  # at 25%, with step 0's outcomes behind it
    decision = decide(state, [EQUAL, StepArms(ArmSums(), ArmSums(100, 100, 90))], at(70))
    assert decision.action == "wait"
    assert "100 of 400 candidate outcomes" in decision.why


def test_a_worse_candidate_is_rolled_back_with_the_figures() -> None:
    state = rollout()
    decision = decide(state, [WORSE], at(1))
    assert decision.action == "rollback"
    assert decision.why.startswith("rolled back at 5%: success rate: the candidate is worse")
    assert "80.0% against 90.0%" in decision.why
    change = apply(state, decision, at(1))
    assert change is not None
    assert (change.kind, change.state.status, change.state.percent) == (
        "rolled_back",
        "rolled_back",
        0,
    )
    assert change.why == decision.why


def test_a_paused_rollout_waits_but_is_still_rolled_back_when_worse() -> None:
    paused = sm.pause(rollout(), at(0)).state
    assert decide(paused, [EQUAL], at(90)).action == "wait"
    assert decide(paused, [EQUAL], at(90)).why == "paused at 5%"
    assert decide(paused, [WORSE], at(90)).action == "rollback"


def test_a_manual_rollout_waits_for_a_person_when_ready() -> None:
    decision = decide(rollout(advance="manual"), [EQUAL], at(31))
    assert (decision.action, decision.ready) == ("wait", True)
    assert "ready to go to 25%: waiting for a person" in decision.why


def test_passing_the_last_share_below_100_completes_the_rollout() -> None:
    state = rollout()
    for _ in range(2):
        state = sm.advance(state, at(0)).state
    decision = decide(state, [EQUAL, EQUAL, EQUAL], at(31))
    assert decision.action == "complete"
    assert "50% → 100%" in decision.why
    change = apply(state, decision, at(31))
    assert change is not None
    assert (change.kind, change.state.status, change.state.percent) == (
        "completed",
        "completed",
        100,
    )


@pytest.mark.parametrize("end", ["abort", "complete"])
def test_an_ended_rollout_decides_nothing(end: str) -> None:
    state = rollout(steps=[50, 100])
    state = sm.abort(state, at(0)).state if end == "abort" else sm.advance(state, at(0)).state
    with pytest.raises(RolloutStateConflict):
        decide(state, [EQUAL], at(60))


def test_more_steps_of_sums_than_the_plan_has_is_a_bug_not_a_decision() -> None:
    with pytest.raises(ValueError):
        decide(rollout(steps=[50, 100]), [EQUAL, EQUAL, EQUAL], at(60))

"""The rollout state machine (domain/rollouts/state.py): each control moves the status it
allows and refuses the others with a 409 error; the share follows the status."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from promptdeck.domain.rollouts import state as sm
from promptdeck.domain.rollouts.plan import RolloutPlan, parse_plan
from promptdeck.domain.rollouts.state import Change, LatencyCutoffs, RolloutState
from promptdeck.errors import InvalidInput, RolloutStateConflict

# Pure functions: the database plays no part, so the SQLite pass alone runs them.
pytestmark = pytest.mark.sqlite_only

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
SALT = "0123456789abcdef"


def plan(**changes: object) -> RolloutPlan:
    body: dict[str, object] = {
        "version_id": 9,
        "steps": [5, 25, 50, 100],
        "guard": {"measure": "success_rate", "max_drop": 0.02},
    }
    body.update(changes)
    return parse_plan(body)


def running(**changes: object) -> RolloutState:
    return sm.start(plan(**changes), 4, T0, SALT).state


def test_a_rollout_starts_running_at_its_first_share_with_the_label_as_baseline() -> None:
    change = sm.start(plan(reason="shorter answers"), 4, T0, SALT)
    assert change.kind == "started"
    assert "shorter answers" in change.why
    state = change.state
    assert (state.status, state.step, state.basis_points, state.percent) == ("running", 0, 500, 5)
    assert (state.baseline_id, state.candidate_id, state.salt) == (4, 9, SALT)
    assert state.started_at == state.step_started_at == T0


def test_the_plans_salt_wins_over_a_drawn_one() -> None:
    assert sm.start(plan(salt="cohort-a"), 4, T0, SALT).state.salt == "cohort-a"


def test_a_rollout_to_the_version_the_label_already_serves_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        sm.start(plan(), 9, T0, SALT)
    assert caught.value.field == "version_id"


def test_a_rollout_on_a_label_that_points_nowhere_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        sm.start(plan(), None, T0, SALT)
    assert caught.value.field == "label"


def test_advancing_takes_each_share_in_turn_then_completes_at_100() -> None:
    state = running()
    seen = []
    for minute in (30, 60):
        change = sm.advance(state, T0 + timedelta(minutes=minute))
        assert change.kind == "advanced"
        state = change.state
        seen.append((state.percent, state.step_started_at))
    assert seen == [(25, T0 + timedelta(minutes=30)), (50, T0 + timedelta(minutes=60))]
    assert state.last_step
    done = sm.advance(state, T0 + timedelta(minutes=90))
    assert done.kind == "completed"
    assert (done.state.status, done.state.percent) == ("completed", 100)
    assert done.state.ended_at == T0 + timedelta(minutes=90)
    assert done.state.version_for("anyone") == 9


def test_pausing_holds_the_share_and_resuming_keeps_the_steps_clock() -> None:
    paused = sm.pause(running(), T0 + timedelta(minutes=5)).state
    assert (paused.status, paused.percent) == ("paused", 5)
    resumed = sm.resume(paused, T0 + timedelta(minutes=9))
    assert resumed.kind == "resumed"
    assert (resumed.state.status, resumed.state.step_started_at) == ("running", T0)


def test_a_paused_rollout_can_still_be_advanced_by_a_person_and_stays_paused() -> None:
    paused = sm.pause(running(), T0).state
    moved = sm.advance(paused, T0 + timedelta(minutes=1)).state
    assert (moved.status, moved.percent) == ("paused", 25)


@pytest.mark.parametrize("end", [sm.abort, lambda s, now: sm.roll_back(s, now, "worse")])
def test_abort_and_rollback_send_every_key_back_to_the_baseline(
    end: Callable[[RolloutState, datetime], Change],
) -> None:
    state = running()
    keys = [f"user-{i}" for i in range(300)]
    assert 9 in {state.version_for(k) for k in keys}
    ended = end(state, T0 + timedelta(hours=1)).state
    assert ended.status in ("aborted", "rolled_back")
    assert ended.basis_points == 0
    assert {ended.version_for(k) for k in keys} == {4}
    assert {ended.version_for(None) for _ in range(50)} == {4}


def _controls() -> dict[str, Callable[[RolloutState], Change]]:
    return {
        "advance": lambda s: sm.advance(s, T0),
        "pause": lambda s: sm.pause(s, T0),
        "resume": lambda s: sm.resume(s, T0),
        "abort": lambda s: sm.abort(s, T0),
        "roll back": lambda s: sm.roll_back(s, T0, "worse"),
    }


def _in(status: str) -> RolloutState:
    state = running()
    if status == "paused":
        return sm.pause(state, T0).state
    if status == "completed":
        for _ in range(3):
            state = sm.advance(state, T0).state
        return state
    if status == "aborted":
        return sm.abort(state, T0).state
    if status == "rolled_back":
        return sm.roll_back(state, T0, "worse").state
    return state


ALLOWED = {
    "running": {"advance", "pause", "abort", "roll back"},
    "paused": {"advance", "resume", "abort", "roll back"},
    "completed": set(),
    "aborted": set(),
    "rolled_back": set(),
}


@pytest.mark.parametrize("status", list(ALLOWED))
@pytest.mark.parametrize("control", list(_controls()))
def test_each_status_allows_its_controls_and_refuses_the_others_with_a_conflict(
    status: str, control: str
) -> None:
    state = _in(status)
    assert state.status == status
    act = _controls()[control]
    if control in ALLOWED[status]:
        assert act(state).state != state
    else:
        with pytest.raises(RolloutStateConflict, match=status):
            act(state)


def test_the_latency_thresholds_freeze_once() -> None:
    cutoffs = LatencyCutoffs(100, 120, 412.0, T0)
    frozen = sm.freeze_cutoffs(running(), cutoffs)
    assert frozen.cutoffs == cutoffs
    with pytest.raises(RolloutStateConflict):
        sm.freeze_cutoffs(frozen, cutoffs)
    with pytest.raises(RolloutStateConflict):
        sm.freeze_cutoffs(sm.abort(running(), T0).state, cutoffs)


def test_a_key_keeps_its_version_as_the_share_grows() -> None:
    state = running()
    keys = [f"user-{i}" for i in range(2_000)]
    before = {k for k in keys if state.version_for(k) == 9}
    for _ in range(2):
        state = sm.advance(state, T0).state
        now = {k for k in keys if state.version_for(k) == 9}
        assert before <= now
        before = now
    assert 800 < len(before) < 1_200  # about half at 50%

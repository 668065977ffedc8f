"""Rollouts on the core (core/rollouts.py, core/rollout_guard.py) over a real database: the
controls and their refusals, the guard at ingest and on the periodic check, completion as a
recorded move, and what a rollout forbids meanwhile."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import timedelta

import pytest

from promptdeck.core import Registry
from promptdeck.errors import (
    LabelProtected,
    RolloutInProgress,
    RolloutNotFound,
    RolloutStateConflict,
)
from promptdeck.store import migrate
from promptdeck.store.engine import create_engine
from tests.rollouts.helpers import Clock, outcomes, plan, two_versions

TICK = timedelta(seconds=5)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def reg(database_url: str, clock: Clock) -> Iterator[Registry]:
    engine = create_engine(database_url)
    migrate.upgrade(engine)
    yield Registry(engine, clock=clock)
    engine.dispose()


def kinds(reg: Registry, name: str) -> list[str]:
    return [e.kind for e in reversed(reg.list_events(name, limit=200).items)]


def test_a_rollout_starts_from_the_labels_version_and_is_recorded_three_ways(
    reg: Registry, name: str
) -> None:
    baseline, candidate = two_versions(reg, name)
    started = reg.start_rollout(name, "production", plan(candidate), actor="ana")
    assert (started.status, started.percent, started.state.step) == ("running", 5, 0)
    assert (started.baseline.version_id, started.candidate.version_id) == (baseline, candidate)
    assert (started.baseline.number, started.candidate.number) == (1, 2)
    assert started.started_by == "ana" and len(started.state.salt) == 32
    assert kinds(reg, name)[-1] == "rollout.started"
    history = reg.label_history(name, "production").items
    assert (history[0].kind, history[0].actor) == ("rollout.started", "ana")
    assert "started at 5%: shorter answers" in history[0].reason
    label = reg.get_label(name, "production")
    assert label.version_id == baseline and label.rollout.id == started.id


def test_a_second_rollout_on_a_label_is_refused_while_one_is_live(reg: Registry, name: str) -> None:
    _, candidate = two_versions(reg, name)
    reg.start_rollout(name, "production", plan(candidate))
    with pytest.raises(RolloutInProgress):
        reg.start_rollout(name, "production", plan(candidate))
    reg.control_rollout(name, "production", "pause")
    with pytest.raises(RolloutInProgress):
        reg.start_rollout(name, "production", plan(candidate))
    reg.control_rollout(name, "production", "abort")
    assert reg.start_rollout(name, "production", plan(candidate)).status == "running"


def test_every_control_follows_the_status_table(reg: Registry, name: str) -> None:
    _, candidate = two_versions(reg, name)
    with pytest.raises(RolloutNotFound):
        reg.control_rollout(name, "production", "pause")
    reg.start_rollout(name, "production", plan(candidate))
    with pytest.raises(RolloutStateConflict):
        reg.control_rollout(name, "production", "resume")
    assert reg.control_rollout(name, "production", "pause").status == "paused"
    with pytest.raises(RolloutStateConflict):
        reg.control_rollout(name, "production", "pause")
    paused = reg.control_rollout(name, "production", "advance")
    assert (paused.status, paused.percent) == ("paused", 25)
    assert reg.control_rollout(name, "production", "resume").status == "running"
    aborted = reg.control_rollout(name, "production", "abort", reason="not today")
    assert (aborted.status, aborted.percent) == ("aborted", 0)
    for action in ("pause", "resume", "advance", "abort"):
        with pytest.raises(RolloutStateConflict):
            reg.control_rollout(name, "production", action)  # type: ignore[arg-type]
    assert kinds(reg, name)[-5:] == [
        "rollout.started",
        "rollout.paused",
        "rollout.advanced",
        "rollout.resumed",
        "rollout.aborted",
    ]


def test_advancing_past_the_last_share_moves_the_label_as_a_recorded_move(
    reg: Registry, name: str
) -> None:
    baseline, candidate = two_versions(reg, name)
    reg.start_rollout(name, "production", plan(candidate))
    for _ in range(2):
        reg.control_rollout(name, "production", "advance")
    done = reg.control_rollout(name, "production", "advance")
    assert (done.status, done.percent) == ("completed", 100)
    assert reg.get_label(name, "production").version_id == candidate
    moves = reg.label_history(name, "production").items
    assert [m.kind for m in moves[:2]] == ["rollout.completed", None]
    assert (moves[1].from_version_id, moves[1].to_version_id) == (baseline, candidate)
    assert kinds(reg, name)[-2:] == ["label.moved", "rollout.completed"]


def test_a_rollout_of_the_active_label_completes_as_a_rollback_of_the_active_version(
    reg: Registry, name: str
) -> None:
    _, candidate = two_versions(reg, name, label="active")
    reg.start_rollout(name, "active", plan(candidate, steps=[50, 100]))
    assert reg.control_rollout(name, "active", "advance").status == "completed"
    assert reg.get_prompt(name).active_version_id == candidate
    assert kinds(reg, name)[-2:] == ["version.rolled_back", "rollout.completed"]


def test_the_label_cannot_be_moved_by_hand_nor_the_candidate_archived_during_a_rollout(
    reg: Registry, name: str
) -> None:
    baseline, candidate = two_versions(reg, name)
    reg.start_rollout(name, "production", plan(candidate))
    with pytest.raises(RolloutInProgress):
        reg.move_label(name, "production", candidate)
    with pytest.raises(RolloutInProgress):
        reg.remove_label(name, "production")
    with pytest.raises(RolloutInProgress):
        reg.archive_version(name, candidate)
    with pytest.raises(RolloutInProgress):
        reg.purge_version(name, candidate, reason="a leaked secret")
    reg.control_rollout(name, "production", "abort")
    reg.archive_version(name, candidate)
    assert reg.get_label(name, "production").version_id == baseline


def test_the_active_version_cannot_change_by_hand_during_a_rollout_of_active(
    reg: Registry, name: str
) -> None:
    _, candidate = two_versions(reg, name, label="active")
    reg.start_rollout(name, "active", plan(candidate))
    with pytest.raises(RolloutInProgress):
        reg.rollback(name, candidate)
    with pytest.raises(RolloutInProgress):
        reg.create_version(name, content="third", activate=True)
    assert reg.create_version(name, content="third").version.number == 3


def test_a_protected_label_needs_the_admin_role_to_start_a_rollout(
    reg: Registry, name: str
) -> None:
    _, candidate = two_versions(reg, name)
    reg.protect_label(name, "production", True)
    with pytest.raises(LabelProtected, match="deploy request"):
        reg.start_rollout(name, "production", plan(candidate), may_move_protected=False)
    assert reg.start_rollout(name, "production", plan(candidate)).status == "running"
    # The steps it then takes need no approval.
    assert reg.control_rollout(name, "production", "advance").percent == 25


def test_an_approved_deploy_request_with_a_plan_starts_the_rollout(
    reg: Registry, name: str
) -> None:
    baseline, candidate = two_versions(reg, name)
    reg.protect_label(name, "production", True)
    body = plan(candidate)
    del body["version_id"]  # the request's version
    request = reg.propose_deploy(
        name, "production", candidate, reason="roll it out", plan=body, actor="wes"
    )
    assert request.plan is not None and request.plan["steps"] == [5, 25, 50, 100]
    approved = reg.decide_deploy(name, request.id, approve=True, actor="ada")
    assert approved.status == "approved"
    rollout = reg.get_rollout(name, "production")
    assert (rollout.status, rollout.candidate.version_id) == ("running", candidate)
    assert reg.get_label(name, "production").version_id == baseline


def test_a_candidate_ten_points_worse_is_rolled_back_at_ingest_before_step_two(
    reg: Registry, name: str
) -> None:
    baseline, candidate = two_versions(reg, name)
    reg.start_rollout(name, "production", plan(candidate))
    rng = random.Random(24)
    for _ in range(60):
        batch = [
            *outcomes(name, baseline, 190, 0.9, rng),
            *outcomes(name, candidate, 10, 0.8, rng),
        ]
        reg.report_outcomes(batch)
        if reg.get_rollout(name, "production").status != "running":
            break
    ended = reg.get_rollout(name, "production")
    assert (ended.status, ended.state.step, ended.percent) == ("rolled_back", 0, 0)
    assert ended.decision is not None and ended.decision.action == "rollback"
    assert "success rate: the candidate is worse" in ended.decision.why
    assert reg.get_label(name, "production").version_id == baseline
    events = reg.list_events(name, limit=5).items
    alert = next(e for e in events if e.kind == "rollout.rolled_back")
    assert alert.actor == "rollout-guard"
    assert alert.detail["judgements"][0]["verdict"] == "worse"
    assert alert.detail["rollout"]["basis_points"] == 0


def test_an_equal_candidate_advances_on_the_periodic_check_once_time_has_passed(
    reg: Registry, clock: Clock, name: str
) -> None:
    baseline, candidate = two_versions(reg, name)
    reg.start_rollout(name, "production", plan(candidate))
    rng = random.Random(7)
    for _ in range(60):
        reg.report_outcomes(
            [*outcomes(name, baseline, 95, 0.9, rng), *outcomes(name, candidate, 10, 0.9, rng)]
        )
    waiting = reg.get_rollout(name, "production")
    assert (waiting.status, waiting.percent) == ("running", 5)
    assert waiting.decision is not None and "minutes" in waiting.decision.why
    assert reg.check_rollouts(TICK) == 0  # not yet: 0 of 30 minutes
    clock.advance(minutes=31)
    assert reg.check_rollouts(TICK) == 1
    assert reg.get_rollout(name, "production").percent == 25
    assert reg.check_rollouts(TICK) == 0  # claimed for a period: the next tick skips it

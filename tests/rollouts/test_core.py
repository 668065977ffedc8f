"""Rollouts on the core (core/rollouts.py, core/rollout_guard.py) over a real database: the
controls and their refusals, the guard at ingest and on the periodic check, completion as a
recorded move, and what a rollout forbids meanwhile."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import timedelta

import pytest

from promptdeck.core import Registry
from promptdeck.domain.access import Role
from promptdeck.domain.caller import SYSTEM, Caller
from promptdeck.domain.commands import (
    ArchiveVersion,
    ControlRollout,
    CreateVersion,
    DecideDeploy,
    MoveLabel,
    ProposeDeploy,
    ProtectLabel,
    PurgeVersion,
    RemoveLabel,
    ReportOutcomes,
    Rollback,
    StartRollout,
)
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
    return [e.kind for e in reversed(reg.list_events(name, SYSTEM, limit=200).items)]


def test_a_rollout_starts_from_the_labels_version_and_is_recorded_three_ways(
    reg: Registry, name: str
) -> None:
    baseline, candidate = two_versions(reg, name)
    started = reg.start_rollout(
        StartRollout(name, "production", plan(candidate)), Caller.local("ana")
    )
    assert (started.status, started.percent, started.state.step) == ("running", 5, 0)
    assert (started.baseline.version_id, started.candidate.version_id) == (baseline, candidate)
    assert (started.baseline.number, started.candidate.number) == (1, 2)
    assert started.started_by == "ana" and len(started.state.salt) == 32
    assert kinds(reg, name)[-1] == "rollout.started"
    history = reg.label_history(name, "production", SYSTEM).items
    assert (history[0].kind, history[0].actor) == ("rollout.started", "ana")
    assert "started at 5%: shorter answers" in history[0].reason
    label = reg.get_label(name, "production", SYSTEM)
    assert label.version_id == baseline and label.rollout.id == started.id


def test_a_second_rollout_on_a_label_is_refused_while_one_is_live(reg: Registry, name: str) -> None:
    _, candidate = two_versions(reg, name)
    reg.start_rollout(StartRollout(name, "production", plan(candidate)), SYSTEM)
    with pytest.raises(RolloutInProgress):
        reg.start_rollout(StartRollout(name, "production", plan(candidate)), SYSTEM)
    reg.control_rollout(ControlRollout(name, "production", "pause"), SYSTEM)
    with pytest.raises(RolloutInProgress):
        reg.start_rollout(StartRollout(name, "production", plan(candidate)), SYSTEM)
    reg.control_rollout(ControlRollout(name, "production", "abort"), SYSTEM)
    assert (
        reg.start_rollout(StartRollout(name, "production", plan(candidate)), SYSTEM).status
        == "running"
    )


def test_every_control_follows_the_status_table(reg: Registry, name: str) -> None:
    _, candidate = two_versions(reg, name)
    with pytest.raises(RolloutNotFound):
        reg.control_rollout(ControlRollout(name, "production", "pause"), SYSTEM)
    reg.start_rollout(StartRollout(name, "production", plan(candidate)), SYSTEM)
    with pytest.raises(RolloutStateConflict):
        reg.control_rollout(ControlRollout(name, "production", "resume"), SYSTEM)
    assert (
        reg.control_rollout(ControlRollout(name, "production", "pause"), SYSTEM).status == "paused"
    )
    with pytest.raises(RolloutStateConflict):
        reg.control_rollout(ControlRollout(name, "production", "pause"), SYSTEM)
    paused = reg.control_rollout(ControlRollout(name, "production", "advance"), SYSTEM)
    assert (paused.status, paused.percent) == ("paused", 25)
    assert (
        reg.control_rollout(ControlRollout(name, "production", "resume"), SYSTEM).status
        == "running"
    )
    aborted = reg.control_rollout(
        ControlRollout(name, "production", "abort", reason="not today"), SYSTEM
    )
    assert (aborted.status, aborted.percent) == ("aborted", 0)
    for action in ("pause", "resume", "advance", "abort"):
        with pytest.raises(RolloutStateConflict):
            reg.control_rollout(ControlRollout(name, "production", action), SYSTEM)  # type: ignore[arg-type]
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
    reg.start_rollout(StartRollout(name, "production", plan(candidate)), SYSTEM)
    for _ in range(2):
        reg.control_rollout(ControlRollout(name, "production", "advance"), SYSTEM)
    done = reg.control_rollout(ControlRollout(name, "production", "advance"), SYSTEM)
    assert (done.status, done.percent) == ("completed", 100)
    assert reg.get_label(name, "production", SYSTEM).version_id == candidate
    moves = reg.label_history(name, "production", SYSTEM).items
    assert [m.kind for m in moves[:2]] == ["rollout.completed", None]
    assert (moves[1].from_version_id, moves[1].to_version_id) == (baseline, candidate)
    assert kinds(reg, name)[-2:] == ["label.moved", "rollout.completed"]


def test_a_rollout_of_the_active_label_completes_as_a_rollback_of_the_active_version(
    reg: Registry, name: str
) -> None:
    _, candidate = two_versions(reg, name, label="active")
    reg.start_rollout(StartRollout(name, "active", plan(candidate, steps=[50, 100])), SYSTEM)
    assert (
        reg.control_rollout(ControlRollout(name, "active", "advance"), SYSTEM).status == "completed"
    )
    assert reg.get_prompt(name, SYSTEM).active_version_id == candidate
    assert kinds(reg, name)[-2:] == ["version.rolled_back", "rollout.completed"]


def test_the_label_cannot_be_moved_by_hand_nor_the_candidate_archived_during_a_rollout(
    reg: Registry, name: str
) -> None:
    baseline, candidate = two_versions(reg, name)
    reg.start_rollout(StartRollout(name, "production", plan(candidate)), SYSTEM)
    with pytest.raises(RolloutInProgress):
        reg.move_label(MoveLabel(name, "production", candidate), SYSTEM)
    with pytest.raises(RolloutInProgress):
        reg.remove_label(RemoveLabel(name, "production"), SYSTEM)
    with pytest.raises(RolloutInProgress):
        reg.archive_version(ArchiveVersion(name, candidate), SYSTEM)
    with pytest.raises(RolloutInProgress):
        reg.purge_version(PurgeVersion(name, candidate, reason="a leaked secret"), SYSTEM)
    reg.control_rollout(ControlRollout(name, "production", "abort"), SYSTEM)
    reg.archive_version(ArchiveVersion(name, candidate), SYSTEM)
    assert reg.get_label(name, "production", SYSTEM).version_id == baseline


def test_the_active_version_cannot_change_by_hand_during_a_rollout_of_active(
    reg: Registry, name: str
) -> None:
    _, candidate = two_versions(reg, name, label="active")
    reg.start_rollout(StartRollout(name, "active", plan(candidate)), SYSTEM)
    with pytest.raises(RolloutInProgress):
        reg.rollback(Rollback(name, candidate), SYSTEM)
    with pytest.raises(RolloutInProgress):
        reg.create_version(CreateVersion(name, content="third", activate=True), SYSTEM)
    assert reg.create_version(CreateVersion(name, content="third"), SYSTEM).version.number == 3


def test_a_protected_label_needs_the_admin_role_to_start_a_rollout(
    reg: Registry, name: str
) -> None:
    _, candidate = two_versions(reg, name)
    reg.protect_label(ProtectLabel(name, "production", True), SYSTEM)
    with pytest.raises(LabelProtected, match="deploy request"):
        reg.start_rollout(
            StartRollout(name, "production", plan(candidate)), Caller.local("anonymous", Role.write)
        )
    assert (
        reg.start_rollout(StartRollout(name, "production", plan(candidate)), SYSTEM).status
        == "running"
    )
    # The steps it then takes need no approval.
    assert reg.control_rollout(ControlRollout(name, "production", "advance"), SYSTEM).percent == 25


def test_an_approved_deploy_request_with_a_plan_starts_the_rollout(
    reg: Registry, name: str
) -> None:
    baseline, candidate = two_versions(reg, name)
    reg.protect_label(ProtectLabel(name, "production", True), SYSTEM)
    body = plan(candidate)
    del body["version_id"]  # the request's version
    request = reg.propose_deploy(
        ProposeDeploy(name, "production", candidate, reason="roll it out", plan=body),
        Caller.local("wes"),
    )
    assert request.plan is not None and request.plan["steps"] == [5, 25, 50, 100]
    approved = reg.decide_deploy(DecideDeploy(name, request.id, approve=True), Caller.local("ada"))
    assert approved.status == "approved"
    rollout = reg.get_rollout(name, "production", SYSTEM)
    assert (rollout.status, rollout.candidate.version_id) == ("running", candidate)
    assert reg.get_label(name, "production", SYSTEM).version_id == baseline


def test_a_candidate_ten_points_worse_is_rolled_back_at_ingest_before_step_two(
    reg: Registry, name: str
) -> None:
    baseline, candidate = two_versions(reg, name)
    reg.start_rollout(StartRollout(name, "production", plan(candidate)), SYSTEM)
    rng = random.Random(24)
    for _ in range(60):
        batch = [
            *outcomes(name, baseline, 190, 0.9, rng),
            *outcomes(name, candidate, 10, 0.8, rng),
        ]
        reg.report_outcomes(ReportOutcomes(batch), SYSTEM)
        if reg.get_rollout(name, "production", SYSTEM).status != "running":
            break
    ended = reg.get_rollout(name, "production", SYSTEM)
    assert (ended.status, ended.state.step, ended.percent) == ("rolled_back", 0, 0)
    assert ended.decision is not None and ended.decision.action == "rollback"
    assert "success rate: the candidate is worse" in ended.decision.why
    assert reg.get_label(name, "production", SYSTEM).version_id == baseline
    events = reg.list_events(name, SYSTEM, limit=5).items
    alert = next(e for e in events if e.kind == "rollout.rolled_back")
    assert alert.actor == "rollout-guard"
    assert alert.detail["judgements"][0]["verdict"] == "worse"
    assert alert.detail["rollout"]["basis_points"] == 0


def test_an_equal_candidate_advances_on_the_periodic_check_once_time_has_passed(
    reg: Registry, clock: Clock, name: str
) -> None:
    baseline, candidate = two_versions(reg, name)
    reg.start_rollout(StartRollout(name, "production", plan(candidate)), SYSTEM)
    rng = random.Random(7)
    for _ in range(60):
        reg.report_outcomes(
            ReportOutcomes(
                [*outcomes(name, baseline, 95, 0.9, rng), *outcomes(name, candidate, 10, 0.9, rng)]
            ),
            SYSTEM,
        )
    waiting = reg.get_rollout(name, "production", SYSTEM)
    assert (waiting.status, waiting.percent) == ("running", 5)
    assert waiting.decision is not None and "minutes" in waiting.decision.why
    assert reg.check_rollouts(TICK) == 0  # not yet: 0 of 30 minutes
    clock.advance(minutes=31)
    assert reg.check_rollouts(TICK) == 1
    assert reg.get_rollout(name, "production", SYSTEM).percent == 25
    assert reg.check_rollouts(TICK) == 0  # claimed for a period: the next tick skips it

"""Rollout changes on GET /changes (long-polled here; the stream is the same feed): every
change of a rollout's state is pushed with its label and its split, so a client following
the feed learns the new share or status."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from promptdeck.core import Registry
from promptdeck.domain.caller import SYSTEM
from promptdeck.domain.commands import ControlRollout, StartRollout
from tests.rollouts.helpers import plan, two_versions


def pushed(api: TestClient, after: int, count: int = 1) -> tuple[list[dict[str, Any]], int]:
    """The next ``count`` events after ``after`` (a long poll answers with those it has)."""
    events: list[dict[str, Any]] = []
    for _ in range(count):
        body = api.get(f"/changes?after={after}&wait=5").json()
        events += body["events"]
        after = body["last_event_id"]
        if len(events) >= count:
            break
    return events, after


def test_each_change_of_a_rollout_is_pushed_with_its_label_and_split(
    api: TestClient, registry: Registry, name: str
) -> None:
    baseline, candidate = two_versions(registry, name)
    cursor = api.get("/changes?wait=0").json()["last_event_id"]
    rollout = registry.start_rollout(StartRollout(name, "production", plan(candidate)), SYSTEM)
    events, cursor = pushed(api, cursor)
    (started,) = events
    assert (started["kind"], started["label"], started["version_id"]) == (
        "rollout.started",
        "production",
        baseline,
    )
    assert started["rollout"] == {
        "id": rollout.id,
        "status": "running",
        "step": 0,
        "percent": 5,
        "basis_points": 500,
        "baseline_id": baseline,
        "candidate_id": candidate,
        "salt": rollout.state.salt,
    }
    registry.control_rollout(ControlRollout(name, "production", "advance"), SYSTEM)
    registry.control_rollout(ControlRollout(name, "production", "pause"), SYSTEM)
    registry.control_rollout(ControlRollout(name, "production", "abort"), SYSTEM)
    events, cursor = pushed(api, cursor, 3)
    assert [(e["kind"], e["rollout"]["basis_points"]) for e in events] == [
        ("rollout.advanced", 2500),
        ("rollout.paused", 2500),
        ("rollout.aborted", 0),
    ]


def test_a_completion_pushes_the_label_move_and_then_the_rollouts_end(
    api: TestClient, registry: Registry, name: str
) -> None:
    _, candidate = two_versions(registry, name)
    registry.start_rollout(
        StartRollout(name, "production", plan(candidate, steps=[50, 100])), SYSTEM
    )
    cursor = api.get("/changes?wait=0").json()["last_event_id"]
    registry.control_rollout(ControlRollout(name, "production", "advance"), SYSTEM)
    events, _ = pushed(api, cursor, 2)
    assert [(e["kind"], e["version_id"], e["rollout"] is None) for e in events] == [
        ("label.moved", candidate, True),
        ("rollout.completed", candidate, False),
    ]

"""A rollout's status and the moves between them. Each transition is a pure function from a
state to a ``Change`` (the new state, what happened, why); one the status does not allow
raises ``RolloutStateConflict`` (409).

    start ──► running ⇄ paused          (pause, resume)
              running/paused ──► running/paused, next step    (advance)
              running/paused ──► completed   (advance past the last share below 100%)
              running/paused ──► rolled_back (the guard found the candidate worse)
              running/paused ──► aborted     (a person stopped it)

The candidate's share is the current step's while running or paused, 100% once completed
(the label has moved to the candidate: a normal recorded move) and 0 once rolled back or
aborted (the label stays on the baseline).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from promptdeck.domain.rollouts import assign
from promptdeck.domain.rollouts.plan import RolloutPlan
from promptdeck.errors import InvalidInput, RolloutStateConflict

Status = Literal["running", "paused", "completed", "rolled_back", "aborted"]
# What a change is: its event is ``rollout.<kind>`` (and a webhook of the same name).
Kind = Literal["started", "advanced", "paused", "resumed", "completed", "rolled_back", "aborted"]
LIVE: tuple[Status, ...] = ("running", "paused")
ENDED: tuple[Status, ...] = ("completed", "rolled_back", "aborted")


@dataclass(frozen=True, slots=True)
class LatencyCutoffs:
    """The latency guard's thresholds, frozen once the baseline has enough latencies: the
    sketch bucket of the baseline's p95, and that value plus ``max_increase_ms`` as a
    bucket for the candidate. Outcomes after ``frozen_at`` count above them per arm."""

    baseline_bucket: int
    candidate_bucket: int
    baseline_p95_ms: float
    frozen_at: datetime


@dataclass(frozen=True, slots=True)
class RolloutState:
    plan: RolloutPlan
    baseline_id: int  # the label's version when the rollout started
    salt: str
    status: Status
    step: int  # index in plan.steps of the share being served
    started_at: datetime
    step_started_at: datetime
    ended_at: datetime | None = None
    cutoffs: LatencyCutoffs | None = None

    @property
    def candidate_id(self) -> int:
        return self.plan.version_id

    @property
    def basis_points(self) -> int:
        """The candidate's share now, in basis points."""
        if self.status in LIVE:
            return self.plan.steps[self.step]
        return assign.BUCKETS if self.status == "completed" else 0

    @property
    def percent(self) -> float | int:
        return assign.percent(self.basis_points)

    @property
    def last_step(self) -> bool:
        """Whether advancing completes it (the next share is 100%)."""
        return self.step + 2 >= len(self.plan.steps)

    def version_for(self, key: str | None) -> int:
        """The version a caller with ``key`` gets (None: a random arm per call)."""
        arm = assign.assign(self.salt, key, self.basis_points)
        return self.candidate_id if arm == "candidate" else self.baseline_id


@dataclass(frozen=True, slots=True)
class Change:
    state: RolloutState
    kind: Kind
    why: str


def start(plan: RolloutPlan, baseline_id: int | None, now: datetime, salt: str) -> Change:
    """A rollout from the label's current version (``baseline_id``) to ``plan.version_id``.
    The salt is the plan's, else ``salt`` (the caller draws ``assign.new_salt()``)."""
    if baseline_id is None:
        raise InvalidInput(
            "the label points at no version: there is no baseline to roll out from; move it",
            field="label",
        )
    if baseline_id == plan.version_id:
        raise InvalidInput(
            f"version_id: the label already serves version {baseline_id}", field="version_id"
        )
    state = RolloutState(
        plan=plan,
        baseline_id=baseline_id,
        salt=assign.check_salt(plan.salt or salt),
        status="running",
        step=0,
        started_at=now,
        step_started_at=now,
    )
    why = f"rollout of version {plan.version_id} started at {state.percent}%"
    return Change(state, "started", why + (f": {plan.reason}" if plan.reason else ""))


def _refuse(state: RolloutState, action: str) -> RolloutStateConflict:
    return RolloutStateConflict(f"cannot {action} a rollout that is {state.status}")


def _live(state: RolloutState, action: str) -> None:
    if state.status not in LIVE:
        raise _refuse(state, action)


def advance(state: RolloutState, now: datetime, why: str = "") -> Change:
    """The next share (the status stays running or paused); past the last share below
    100%, completed: the label is to move to the candidate."""
    _live(state, "advance")
    if state.last_step:
        done = replace(state, status="completed", step=len(state.plan.steps) - 1, ended_at=now)
        return Change(done, "completed", why or "the last step passed: the candidate takes 100%")
    moved = replace(state, step=state.step + 1, step_started_at=now)
    return Change(moved, "advanced", why or f"advanced to {moved.percent}%")


def pause(state: RolloutState, now: datetime, why: str = "") -> Change:
    """Holds the share where it is: no step is taken until resumed (the guard still rolls
    back a worse candidate: pausing never turns safety off)."""
    if state.status != "running":
        raise _refuse(state, "pause")
    return Change(replace(state, status="paused"), "paused", why or f"paused at {state.percent}%")


def resume(state: RolloutState, now: datetime, why: str = "") -> Change:
    if state.status != "paused":
        raise _refuse(state, "resume")
    return Change(
        replace(state, status="running"), "resumed", why or f"resumed at {state.percent}%"
    )


def abort(state: RolloutState, now: datetime, why: str = "") -> Change:
    """A person stops it: every caller back on the baseline."""
    _live(state, "abort")
    ended = replace(state, status="aborted", ended_at=now)
    return Change(ended, "aborted", why or "aborted: every caller is back on the baseline")


def roll_back(state: RolloutState, now: datetime, why: str) -> Change:
    """The guard found the candidate worse: every caller back on the baseline."""
    _live(state, "roll back")
    return Change(replace(state, status="rolled_back", ended_at=now), "rolled_back", why)


def freeze_cutoffs(state: RolloutState, cutoffs: LatencyCutoffs) -> RolloutState:
    """The latency thresholds, set once (``guard.latency_cutoffs`` computes them)."""
    _live(state, "freeze the latency threshold of")
    if state.cutoffs is not None:
        raise RolloutStateConflict("the latency threshold is already frozen")
    return replace(state, cutoffs=cutoffs)

"""What a running rollout does next, given the arms' outcomes so far: keep waiting, advance,
complete or roll back, with the guard's figures and a sentence why. Pure: the caller holds
the only copy of the state that may act on it (the prompt row's lock) and applies the
decision with ``apply``.

Order: a worse candidate rolls back first (paused or not: pausing never turns the guard
off); a paused rollout then waits; otherwise the step advances once its time and its
candidate outcomes have passed *and* every measure of the guard has had its minimum
outcomes per arm (a guard that never judged never lets a rollout through), unless the plan
says ``advance: manual``, when it waits for a person with ``ready`` set.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from promptdeck.domain.rollouts import assign, guard
from promptdeck.domain.rollouts.guard import ArmSums, Judgement, StepArms
from promptdeck.domain.rollouts.state import Change, RolloutState, advance, roll_back
from promptdeck.errors import RolloutStateConflict

Action = Literal["wait", "advance", "complete", "rollback"]


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    why: str
    judgements: tuple[Judgement, ...]
    ready: bool = False  # the step's conditions are met (a manual rollout waits for a person)


def _minutes(delta: timedelta) -> float:
    return delta.total_seconds() / 60


def decide(state: RolloutState, steps: Sequence[StepArms], now: datetime) -> Decision:
    """``steps[k]``: the arms' sums while step k was served (since the rollout started; a
    missing step counts as empty). Raises ``RolloutStateConflict`` on an ended rollout."""
    if state.status not in ("running", "paused"):
        raise RolloutStateConflict(f"a rollout that is {state.status} decides nothing")
    plan = state.plan
    if len(steps) > len(plan.steps):
        raise ValueError(f"{len(steps)} steps of sums for a plan of {len(plan.steps)}")
    judgements = guard.judge_all(plan, steps)
    min_n, confidence = plan.guard.min_outcomes, plan.guard.confidence
    worse = [j for j in judgements if j.verdict == "worse"]
    if worse:
        why = "; ".join(guard.describe(j, min_n, confidence) for j in worse)
        return Decision("rollback", f"rolled back at {state.percent}%: {why}", judgements)
    if state.status == "paused":
        return Decision("wait", f"paused at {state.percent}%", judgements)

    current = steps[state.step].candidate if state.step < len(steps) else ArmSums()
    missing: list[str] = []
    elapsed = _minutes(now - state.step_started_at)
    if elapsed < plan.step_after.minutes:
        missing.append(f"{int(elapsed)} of {plan.step_after.minutes} minutes")
    if current.count < plan.step_after.outcomes:
        missing.append(f"{current.count:,} of {plan.step_after.outcomes:,} candidate outcomes")
    missing += [guard.describe(j, min_n, confidence) for j in judgements if j.verdict == "pending"]
    if missing:
        return Decision("wait", f"at {state.percent}%, waiting: {'; '.join(missing)}", judgements)

    within = "; ".join(guard.describe(j, min_n, confidence) for j in judgements)
    next_share = assign.percent(plan.steps[state.step + 1])
    if plan.advance == "manual":
        why = f"ready to go to {next_share}%: waiting for a person (advance: manual); {within}"
        return Decision("wait", why, judgements, ready=True)
    action: Action = "complete" if state.last_step else "advance"
    return Decision(action, f"{state.percent}% → {next_share}%: {within}", judgements, ready=True)


def apply(state: RolloutState, decision: Decision, now: datetime) -> Change | None:
    """The transition a decision calls for (None: keep waiting)."""
    if decision.action == "rollback":
        return roll_back(state, now, decision.why)
    if decision.action in ("advance", "complete"):
        return advance(state, now, decision.why)
    return None

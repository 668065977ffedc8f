"""Rollouts (docs/rollouts.md): the plan a start takes, a control's body, a rollout's state.

The ``of`` constructors take the core's records (the server builds its answers with them);
the client only parses.

The plan is checked here for its shapes (types, unknown fields) and then whole by the one
parser, ``domain/rollouts/plan.py`` ``parse_plan`` (bounds, order, which fields go with
which measures), each refusal naming its field."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, StrictBool, StrictFloat, StrictInt, StrictStr

from promptdeck.domain.commands import ControlRollout, RolloutAction, StartRollout
from promptdeck.limits import ID_MAX
from promptdeck.schemas.common import _In, _Out

if TYPE_CHECKING:  # the guard needs scipy, which a client installed alone has not
    from promptdeck.domain.rollouts.guard import ArmSums, Judgement
    from promptdeck.domain.rollouts.record import Arm, Rollout

Number = StrictInt | StrictFloat


class GuardIn(_In):
    measure: StrictStr | list[StrictStr] = Field(
        description="success_rate, mean_score, latency_p95, or a list of several."
    )
    max_drop: Number | dict[StrictStr, Number] | None = Field(
        None,
        description="The largest acceptable drop of the success rate or mean score (0..1, "
        "absolute: 0.02 is 2 points); one number, or one per measure.",
    )
    max_increase_ms: Number | None = Field(
        None, description="The largest acceptable increase of the p95 latency (latency_p95)."
    )
    min_outcomes: StrictInt | None = Field(
        None, description="Outcomes per arm before the guard judges (default 200; 30 at least)."
    )
    confidence: Number | None = Field(
        None,
        description="The chance that a candidate within its margins is never rolled back "
        "(default 0.95).",
    )


class StepAfterIn(_In):
    minutes: StrictInt | None = Field(
        None, description="A step's least duration (default 30; 0: outcomes alone decide)."
    )
    outcomes: StrictInt | None = Field(
        None, description="The candidate's least outcomes within a step (default 0)."
    )


class RolloutCreate(_In):
    """A rollout plan: ``POST …/labels/{label}/rollout``, or a deploy request's ``plan``."""

    version_id: StrictInt | None = Field(
        None, description="The candidate (required, except in a deploy request: its version)."
    )
    steps: list[Number] = Field(
        description="The candidate's shares in percent, strictly increasing, the last 100."
    )
    sticky: StrictStr | None = Field(
        None, description="The attribute whose value is a caller's key (default user_id)."
    )
    guard: GuardIn
    step_after: StepAfterIn | None = None
    advance: Literal["auto", "manual"] | None = Field(
        None, description="auto (default), or manual: wait for a person at each step."
    )
    reason: StrictStr | None = Field(None, description="Why, kept with its events.")
    salt: StrictStr | None = Field(
        None, description="Reuse an earlier rollout's salt to keep its population."
    )

    def plan(self) -> dict[str, Any]:
        """The plan as decoded JSON, for ``parse_plan`` (what was not given stays out)."""
        return self.model_dump(exclude_unset=True)

    def to_command(self, prompt: str, label: str, *, accept_breaking: bool = False) -> StartRollout:
        return StartRollout(prompt, label, self.plan(), accept_breaking)


class RolloutStart(RolloutCreate):
    """``POST …/labels/{label}/rollout``: a plan naming its candidate."""

    # int, not StrictInt: JSON's 3.0 is an integer too (as every other version_id takes it)
    version_id: int = Field(ge=1, le=ID_MAX, description="The candidate: a version of this prompt.")
    override_gate: StrictBool = Field(
        False,
        description="Start although the label's gate is not passed (admin; needs the plan's "
        "reason, recorded as a gate.overridden event).",
    )

    def plan(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True, exclude={"override_gate"})

    def to_command(self, prompt: str, label: str, *, accept_breaking: bool = False) -> StartRollout:
        return StartRollout(prompt, label, self.plan(), accept_breaking, self.override_gate)


class RolloutControl(_In):
    reason: str | None = Field(None, max_length=1000, description="Why (kept with the event).")

    def to_command(self, prompt: str, label: str, action: RolloutAction) -> ControlRollout:
        return ControlRollout(prompt, label, action, self.reason)


class ArmSumsOut(_Out):
    """One arm's outcomes (in a step, or since the start)."""

    count: int
    success_n: int = Field(description="Outcomes that said whether they succeeded.")
    success_true: int
    success_rate: float | None
    score_n: int
    mean_score: float | None
    tail_n: int = Field(description="Latencies counted against the frozen p95 threshold.")
    tail_over: int = Field(description="Of those, above this arm's threshold.")

    @classmethod
    def of(cls, s: ArmSums) -> ArmSumsOut:
        return cls(
            count=s.count,
            success_n=s.success_n,
            success_true=s.success_true,
            success_rate=s.success_true / s.success_n if s.success_n else None,
            score_n=s.score_n,
            mean_score=s.score_sum / s.score_n if s.score_n else None,
            tail_n=s.tail_n,
            tail_over=s.tail_over,
        )


class RolloutArmOut(_Out):
    version_id: int
    number: int | None
    version_name: str | None
    outcomes: ArmSumsOut = Field(description="Its outcomes since the rollout started.")

    @classmethod
    def of(cls, arm: Arm) -> RolloutArmOut:
        return cls(
            version_id=arm.version_id,
            number=arm.number,
            version_name=arm.version_name,
            outcomes=ArmSumsOut.of(arm.sums),
        )


class RolloutStepOut(_Out):
    step: int
    percent: float = Field(description="The candidate's share in this step.")
    baseline: ArmSumsOut
    candidate: ArmSumsOut


class JudgementOut(_Out):
    """The guard on one measure, on the outcomes so far."""

    measure: str
    margin: float = Field(description="max_drop, or max_increase_ms for latency_p95.")
    verdict: Literal["pending", "within", "worse"]
    baseline_n: int
    candidate_n: int
    baseline: float | None = Field(description="The baseline's rate or mean score.")
    candidate: float | None
    difference: float | None = Field(description="candidate - baseline, steps combined.")
    low: float | None = Field(description="The confidence sequence's lower end.")
    high: float | None = Field(description="Its upper end.")

    @classmethod
    def of(cls, j: Judgement) -> JudgementOut:
        return cls.model_validate(j, from_attributes=True)


class DecisionOut(_Out):
    action: Literal["wait", "advance", "complete", "rollback"]
    why: str = Field(description="The guard's sentence, with its figures.")
    ready: bool = Field(description="The step's conditions are met (manual: waiting for you).")
    at: datetime


class RolloutOut(_Out):
    id: int
    prompt_id: int
    prompt: str
    label: str
    status: Literal["running", "paused", "completed", "rolled_back", "aborted"]
    percent: float = Field(description="The candidate's share now.")
    basis_points: int = Field(description="The same share in basis points (of 10,000).")
    step: int = Field(description="Index in steps of the share served (or last served).")
    steps: list[float]
    baseline: RolloutArmOut
    candidate: RolloutArmOut
    per_step: list[RolloutStepOut] = Field(description="Each step's outcomes, per arm.")
    judgements: list[JudgementOut] = Field(description="The guard on the outcomes so far.")
    decision: DecisionOut | None = Field(description="What the guard last decided, and why.")
    plan: dict[str, Any] = Field(description="The plan, in its normal form.")
    salt: str
    started_at: datetime
    started_by: str
    step_started_at: datetime
    ended_at: datetime | None

    @classmethod
    def of(cls, r: Rollout) -> RolloutOut:
        state = r.state
        steps = [s / 100 for s in state.plan.steps]
        return cls(
            id=r.id,
            prompt_id=r.prompt_id,
            prompt=r.prompt_name,
            label=r.label,
            status=state.status,
            percent=state.percent,
            basis_points=state.basis_points,
            step=state.step,
            steps=steps,
            baseline=RolloutArmOut.of(r.baseline),
            candidate=RolloutArmOut.of(r.candidate),
            per_step=[
                RolloutStepOut(
                    step=k,
                    percent=steps[k],
                    baseline=ArmSumsOut.of(s.baseline),
                    candidate=ArmSumsOut.of(s.candidate),
                )
                for k, s in enumerate(r.steps)
            ],
            judgements=[JudgementOut.of(j) for j in r.judgements],
            decision=None
            if r.decision is None
            else DecisionOut.model_validate(r.decision, from_attributes=True),
            plan=state.plan.to_json(),
            salt=state.salt,
            started_at=state.started_at,
            started_by=r.started_by,
            step_started_at=state.step_started_at,
            ended_at=state.ended_at,
        )

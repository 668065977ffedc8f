"""A rollout as the core answers it (``GET …/labels/{label}/rollout``, the label's answer,
the UI): its state, the two versions, the outcomes per arm since it started (per step and in
all), the guard's judgements on those outcomes now, and its latest decision."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from promptdeck.domain.rollouts.guard import ArmSums, Judgement, StepArms
from promptdeck.domain.rollouts.state import RolloutState


@dataclass(frozen=True, slots=True)
class Arm:
    version_id: int
    number: int | None
    version_name: str | None
    sums: ArmSums  # every step's outcomes since the start

    @property
    def success_rate(self) -> float | None:
        s = self.sums
        return s.success_true / s.success_n if s.success_n else None

    @property
    def mean_score(self) -> float | None:
        s = self.sums
        return s.score_sum / s.score_n if s.score_n else None


@dataclass(frozen=True, slots=True)
class LastDecision:
    """What the guard last decided (at ingest or on the periodic check)."""

    action: str  # wait, advance, complete, rollback
    why: str
    ready: bool
    at: datetime

    @classmethod
    def of(cls, stored: dict[str, Any] | None) -> LastDecision | None:
        if not stored:
            return None
        return cls(
            str(stored.get("action", "wait")),
            str(stored.get("why", "")),
            bool(stored.get("ready", False)),
            datetime.fromisoformat(str(stored["at"])),
        )


@dataclass(frozen=True, slots=True)
class Rollout:
    id: int
    prompt_id: int
    prompt_name: str
    label: str
    state: RolloutState
    started_by: str
    baseline: Arm
    candidate: Arm
    steps: tuple[StepArms, ...]  # per step served so far
    judgements: tuple[Judgement, ...]  # the guard on the outcomes so far, per measure
    decision: LastDecision | None

    @property
    def status(self) -> str:
        return self.state.status

    @property
    def percent(self) -> float | int:
        return self.state.percent


def total(arms: tuple[ArmSums, ...]) -> ArmSums:
    """Several steps' sums of one arm as one."""
    return ArmSums(
        count=sum(a.count for a in arms),
        success_n=sum(a.success_n for a in arms),
        success_true=sum(a.success_true for a in arms),
        score_n=sum(a.score_n for a in arms),
        score_sum=sum(a.score_sum for a in arms),
        score_sq=sum(a.score_sq for a in arms),
        tail_n=sum(a.tail_n for a in arms),
        tail_over=sum(a.tail_over for a in arms),
    )

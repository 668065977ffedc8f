"""What the rollout tests share: a registry on a clock that moves when told, a prompt with a
baseline and a candidate on a label, plans, and seeded outcomes."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from promptdeck.core import Registry
from promptdeck.domain.caller import SYSTEM
from promptdeck.domain.commands import CreatePrompt, CreateVersion, MoveLabel, Outcome

T0 = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)


class Clock:
    """Aware UTC times that move only when told."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def plan(version_id: int, **changes: Any) -> dict[str, Any]:
    """The issue's plan for ``version_id``, with ``changes``."""
    body: dict[str, Any] = {
        "version_id": version_id,
        "steps": [5, 25, 50, 100],
        "sticky": "user_id",
        "guard": {"measure": "success_rate", "max_drop": 0.02, "min_outcomes": 200},
        "step_after": {"minutes": 30, "outcomes": 500},
        "reason": "shorter answers",
    }
    body.update(changes)
    return body


def two_versions(registry: Registry, name: str, label: str = "production") -> tuple[int, int]:
    """A prompt whose ``label`` serves a baseline; (baseline id, candidate id)."""
    baseline = registry.create_prompt(
        CreatePrompt(name, content="Answer fully."), SYSTEM
    ).prompt.active_version_id
    assert baseline is not None
    candidate = registry.create_version(
        CreateVersion(name, content="Answer briefly."), SYSTEM
    ).version.id
    if label != "active":
        registry.move_label(MoveLabel(name, label, baseline), SYSTEM)
    return baseline, candidate


def outcomes(
    name: str, version_id: int, n: int, rate: float, rng: random.Random, **extra: Any
) -> Iterator[Outcome]:
    for _ in range(n):
        yield Outcome(prompt=name, version_id=version_id, success=rng.random() < rate, **extra)

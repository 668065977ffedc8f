"""``check`` runs in one place at a time: eight transactions call it on one rollout at the
same moment (a barrier), each of which would advance it; they take their turns on the
rollout's row, so each advances from the step the one before left, none fails and none
repeats a step. (Over HTTP with two server processes: tests/rollouts/test_two_processes.py.)"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator

import pytest

from promptdeck.core import Registry, rollout_guard
from promptdeck.domain.caller import SYSTEM, Caller
from promptdeck.domain.commands import ReportOutcomes, StartRollout
from promptdeck.domain.rollouts.state import Change
from promptdeck.store import migrate
from promptdeck.store.engine import create_engine
from tests.rollouts.helpers import outcomes, plan, two_versions

THREADS = 8


@pytest.fixture
def reg(database_url: str) -> Iterator[Registry]:
    engine = create_engine(database_url)
    migrate.upgrade(engine)
    yield Registry(engine)
    engine.dispose()


def test_checks_racing_on_one_rollout_each_take_one_step_from_where_the_last_left(
    reg: Registry, name: str
) -> None:
    baseline, candidate = two_versions(reg, name)
    steps = [5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 100]
    every_check_advances = {
        "steps": steps,
        "guard": {"measure": "success_rate", "max_drop": 0.5, "min_outcomes": 30},
        "step_after": {"minutes": 0, "outcomes": 0},
    }
    rollout_id = reg.start_rollout(
        StartRollout(name, "production", plan(candidate, **every_check_advances)), SYSTEM
    ).id
    rng = random.Random(3)
    reg.report_outcomes(
        ReportOutcomes(
            [*outcomes(name, baseline, 60, 0.9, rng), *outcomes(name, candidate, 60, 0.9, rng)]
        ),
        SYSTEM,
    )
    assert reg.get_rollout(name, "production", SYSTEM).state.step == 1
    barrier = threading.Barrier(THREADS)
    done: list[Change | None] = []
    failed: list[BaseException] = []

    def check() -> None:
        try:
            barrier.wait()
            with reg.db.writing(Caller.local("racer")) as tx:
                done.append(rollout_guard.check(tx, rollout_id))
        except BaseException as exc:  # collected: the assertion below names it
            failed.append(exc)

    threads = [threading.Thread(target=check) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failed == []
    assert sorted(c.state.step for c in done if c is not None) == list(range(2, 2 + THREADS))
    events = [
        e for e in reversed(reg.list_events(name, SYSTEM, limit=50).items) if "rollout" in e.kind
    ]
    advanced = [e.detail["rollout"]["step"] for e in events if e.kind == "rollout.advanced"]
    assert advanced == list(range(1, 2 + THREADS))

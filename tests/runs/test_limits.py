"""Each caller's runs: at most so many in flight, so many a minute past a burst; per caller."""

from __future__ import annotations

import pytest

from promptdeck.core.runs import RunLimit
from promptdeck.domain.caller import Caller
from promptdeck.errors import RateLimited

ADA, BOB = Caller.local("ada"), Caller.local("bob")


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_caller_past_its_runs_in_flight_is_refused_until_one_ends() -> None:
    limit = RunLimit(in_flight=2)
    with limit.admit(ADA), limit.admit(ADA):
        with pytest.raises(RateLimited, match="2 runs in flight"), limit.admit(ADA):
            pass
        with limit.admit(BOB):  # another caller's slots are its own
            pass
    with limit.admit(ADA):  # the slots came back when the runs ended
        pass


def test_a_run_that_raises_gives_its_slot_back() -> None:
    limit = RunLimit(in_flight=1)
    with pytest.raises(ZeroDivisionError), limit.admit(ADA):
        _ = 1 / 0
    with limit.admit(ADA):
        pass


def test_the_rate_allows_a_burst_then_one_run_per_interval_and_says_when() -> None:
    clock = Clock()
    limit = RunLimit(per_minute=6, burst=2, clock=clock)  # one run every 10 s
    for _ in range(2):
        with limit.admit(ADA):
            pass
    with pytest.raises(RateLimited) as refused, limit.admit(ADA):
        pass
    assert refused.value.extra["retry_after"] == pytest.approx(10.0)
    clock.now = 10.0
    with limit.admit(ADA):
        pass


def test_zero_turns_both_bounds_off() -> None:
    limit = RunLimit(in_flight=0, per_minute=0)
    for _ in range(100):
        limit.take("local:ada")

"""A clock that moves only when told: the client cache's TTLs without waiting on real time."""

from __future__ import annotations


class FakeClock:
    """Seconds from an arbitrary start, like `time.monotonic`; `advance` moves it."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

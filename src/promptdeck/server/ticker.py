"""The rollouts' periodic check: one asyncio task in every server process (started by the
app's lifespan) that asks the core, every ``rollout_check_s`` seconds, to check the live
rollouts that are due (core/rollout_guard.py ``tick``: each is claimed for a period, so one
process checks it; the guard's row lock makes two checks harmless anyway). Outcomes trigger
the guard at ingest; this is for the steps that wait on time alone."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

import anyio

from promptdeck.core import Registry
from promptdeck.errors import DatabaseUnavailable

log = logging.getLogger("promptdeck.rollouts")


class RolloutTicker:
    def __init__(self, registry: Registry, period_s: float) -> None:
        self.registry = registry
        self.period_s = period_s
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self.period_s > 0:
            loop = asyncio.get_running_loop()
            self._task = loop.create_task(self._run(), name="rollout-checks")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        period = timedelta(seconds=self.period_s)
        while True:
            try:
                await anyio.to_thread.run_sync(self.registry.check_rollouts, period)
            except DatabaseUnavailable:
                log.warning("rollout checks: database unavailable; retrying next period")
            except Exception:  # never let the task die: rollouts would stop stepping
                log.exception("rollout checks failed; retrying next period")
            await asyncio.sleep(self.period_s)

"""Outcomes and impact: ``report`` queues what a call of a version did and `AsyncReporter`
sends it in batches from the background; impact, alert rules and the kept raw outcomes."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from promptdeck.client import impact as ops
from promptdeck.client._async.base import AsyncSender
from promptdeck.client._background import AsyncBackground
from promptdeck.client._outcomes import OutcomeQueue, OutcomeStats
from promptdeck.schemas import AlertOut, ImpactOut, RawOutcomeOut, RawOutcomesOut

log = logging.getLogger("promptdeck.client")


class AsyncReporter:
    """Sends what ``prompt.report`` queued, in batches, from the background: one POST
    /outcomes per batch, a pause of ``interval`` when the queue is empty. Never raises into
    the caller: a batch that fails is counted (``failed``) and logged. ``aclose`` lets the
    loop drain the queue and end (at most ``timeout`` s), then sends what is left."""

    def __init__(
        self, client: AsyncSender, queue: OutcomeQueue, interval: float, timeout: float
    ) -> None:
        self.client = client
        self.queue = queue
        self.interval = interval
        self.timeout = timeout
        self.worker = AsyncBackground("promptdeck-outcomes")
        self.started = False

    def start(self) -> None:
        if self.started:
            return
        try:
            self.worker.start(self._run)
        except RuntimeError:  # no running event loop here: the next call from one starts it
            return
        self.started = True
        self.worker.on_exit(self.aclose)

    async def _run(self) -> None:
        while True:
            if not await self.send_one():
                if self.worker.stopping:
                    return
                await self.worker.sleep(self.interval)

    async def send_one(self) -> bool:
        """Send one batch; False when the queue was empty."""
        batch = self.queue.take()
        if not batch:
            return False
        try:
            await self.client._send(ops.report_outcomes(batch, timeout=self.timeout))
        except Exception as exc:  # the caller must never see it: counted and logged
            self.queue.done(batch, ok=False)
            log.warning("promptdeck: %d outcomes not reported: %s", len(batch), exc)
        else:
            self.queue.done(batch, ok=True)
        return True

    async def aclose(self) -> None:
        await self.worker.finish(self.timeout)
        while await self.send_one():
            pass


class AsyncOutcomeMethods(AsyncSender):
    outcomes: OutcomeQueue
    reporter: AsyncReporter

    def _report(self, prompt: str | int, version_id: int, measures: dict[str, Any]) -> bool:
        queued = self.outcomes.put(prompt, version_id, measures)
        if queued:
            self.reporter.start()
        return queued

    def report(self, prompt: str | int, version_id: int, **measures: Any) -> bool:
        """Report a call of a version (as ``prompt.report`` does for what `get_active`
        returned): ``success``, ``score`` (0..1), ``latency_ms``, ``input_tokens``,
        ``output_tokens``, ``cost``, ``feedback`` (+1/-1), ``tags``, ``at``. Queued and sent
        in the background; never blocks or raises; False when not queued."""
        return self._report(prompt, version_id, dict(measures))

    @property
    def outcome_stats(self) -> OutcomeStats:
        """Outcomes queued, sent, dropped (queue full), invalid and failed."""
        return self.outcomes.stats

    async def flush_outcomes(self) -> None:
        """Send every queued outcome now, and wait (at most ``timeout``) for a batch the
        background sender is sending: afterwards the server has counted every outcome reported
        before the call (or ``outcome_stats`` counts it failed)."""
        while await self.reporter.send_one():
            pass
        deadline = time.monotonic() + self.reporter.timeout
        while self.outcomes.in_flight and time.monotonic() < deadline:
            await asyncio.sleep(0.005)

    async def impact(
        self,
        prompt: str | int,
        *,
        since: str | None = None,
        until: str | None = None,
        label: str | None = None,
        compare: tuple[int, int] | None = None,
    ) -> ImpactOut:
        """Per version and label period: count, success rate and mean score with 95%
        intervals, latency, tokens, cost; ``compare=(a, b)``: is B better than A?"""
        return await self._send(
            ops.impact(prompt, since=since, until=until, label=label, compare=compare)
        )

    async def set_alert(
        self,
        prompt: str | int,
        label: str,
        *,
        min_success: float,
        window_minutes: int = 15,
        min_count: int = 20,
    ) -> AlertOut:
        """Raise an ``impact.alert`` event when success after a move of ``label`` falls
        below ``min_success`` within ``window_minutes`` (once ``min_count`` outcomes say)."""
        return await self._send(
            ops.set_alert(
                prompt,
                label,
                min_success=min_success,
                window_minutes=window_minutes,
                min_count=min_count,
            )
        )

    async def list_outcomes(
        self,
        prompt: str | int,
        *,
        version_id: int | None = None,
        since: str | None = None,
        until: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> RawOutcomesOut:
        """A page of the prompt's kept raw outcomes, newest first (``since`` inclusive,
        ``until`` exclusive, ISO 8601); ``kept`` and ``days`` say whether the server keeps
        them and for how long."""
        return await self._send(
            ops.list_outcomes(
                prompt,
                version_id=version_id,
                since=since,
                until=until,
                limit=limit,
                cursor=cursor,
            )
        )

    def iter_outcomes(
        self,
        prompt: str | int,
        *,
        version_id: int | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> AsyncIterator[RawOutcomeOut]:
        """Every kept raw outcome of the prompt (and filter), newest first, page after page."""
        return self._items(
            lambda cursor: ops.outcome_pages(
                prompt, version_id=version_id, since=since, until=until, cursor=cursor
            )
        )

    async def list_alerts(self, prompt: str | int) -> list[AlertOut]:
        return await self._send(ops.list_alerts(prompt))

    async def remove_alert(self, prompt: str | int, label: str) -> None:
        await self._send(ops.remove_alert(prompt, label))

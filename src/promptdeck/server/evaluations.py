"""The evaluation runner: one asyncio task in every server process (started by the app's
lifespan), shaped like the webhook deliverer (server/webhooks.py).

It claims pending cases with a lease (core/evaluation_work.py; ``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, the write lock on SQLite), a round ahead: ``concurrency`` model calls in flight
(16 by default) and up to as many more claimed and rendered, waiting for a free slot, so that
a claim is one transaction for a round of cases, not one for each. It renders each version
with the case's variables, calls the provider through ``promptdeck.outgoing`` with no
transaction open, runs the evaluators (a judge is one more call in the same slot), and hands
the result to a recorder task that writes what has finished within ``RECORD_WAIT_S`` in one
transaction, only while each lease is still its own. Whoever records an evaluation's last
item concludes it. Cancel is a status the claim reads (nothing more is claimed) and the
runner reads before it starts what it claimed ahead (at most ``LIVE_CHECK_S`` old: what
waits for a slot is dropped). A process that dies loses its leases when they end, and
whichever process claims next works those cases again: that is how an evaluation resumes
after a restart."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import deque
from datetime import timedelta

import anyio
import httpcore

from promptdeck.config import Settings
from promptdeck.core.evaluation_work import (
    EvaluationWork,
    Prepared,
    failure,
    worked,
)
from promptdeck.domain.completions import Completion
from promptdeck.domain.evaluations import Work, Worked, judge_locally, observe
from promptdeck.domain.evaluators import Judge, Result, parse_judgement
from promptdeck.domain.sealing import NO_KEYS, Keyring
from promptdeck.errors import PromptdeckError, ProviderError
from promptdeck.outgoing.guard import Resolver, system_resolver
from promptdeck.outgoing.provider import ProviderClients

log = logging.getLogger("promptdeck.evaluations")

RECORD_BATCH_MAX = 64  # worked items written in one transaction
RECORD_WAIT_S = 0.1  # what finishes this soon after the first is written with it
LIVE_CHECK_S = 0.2  # how long a "still live" read lets items claimed ahead start
SWEEP_EVERY_S = 30.0  # complete evaluations left without a conclusion (a process died)


class Runner:
    """Claims, works and records evaluation items until ``stop``."""

    def __init__(
        self,
        work: EvaluationWork,
        settings: Settings,
        *,
        resolver: Resolver = system_resolver,
        backend: httpcore.AsyncNetworkBackend | None = None,
        keyring: Keyring = NO_KEYS,
    ) -> None:
        self.work = work
        self.concurrency = settings.evaluation_concurrency
        self.lease = timedelta(seconds=settings.evaluation_lease_s)
        self.poll = settings.evaluation_poll_s
        allowance = settings.outgoing_allowance()
        self.clients = ProviderClients(allowance, keyring, resolver=resolver, backend=backend)
        self._task: asyncio.Task[None] | None = None
        self._failing = False
        self._finished: asyncio.Queue[Worked] = asyncio.Queue()
        self._wake = asyncio.Event()  # an item finished: a slot is free

    def start(self) -> None:
        # A queue belongs to the loop that first used it: an app started again (each
        # TestClient has a loop of its own) needs a new one.
        self._finished = asyncio.Queue()
        self._wake = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._run(), name="evaluations")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.clients.aclose()

    async def _run(self) -> None:
        # Cancelling the loop (stop) cancels the calls out; what they did is not recorded,
        # and their cases are claimed again when the leases end.
        async with asyncio.TaskGroup() as group:
            group.create_task(self._recorder(), name="evaluations-recorder")
            await self._loop(group)

    async def _loop(self, group: asyncio.TaskGroup) -> None:
        out: set[asyncio.Task[None]] = set()
        waiting: deque[tuple[Prepared | Worked, float]] = deque()  # claimed, and its deadline

        def finished(task: asyncio.Task[None]) -> None:
            out.discard(task)
            self._wake.set()

        swept = time.monotonic()
        checked_until = 0.0  # the evaluations waiting items belong to were live until then
        dry_until = 0.0  # a claim found less than it had room for: the next one after a poll
        while True:
            self._wake.clear()
            if waiting and len(out) < self.concurrency and time.monotonic() >= checked_until:
                # A cancel since the claim: what waits for a slot is not worked.
                checked_until = time.monotonic() + LIVE_CHECK_S
                live = await self._live({_evaluation(item) for item, _ in waiting})
                kept = [w for w in waiting if _evaluation(w[0]) in live]
                waiting.clear()
                waiting.extend(kept)
            while waiting and len(out) < self.concurrency:
                item, deadline = waiting.popleft()
                task = group.create_task(self._item(item, deadline))
                out.add(task)
                task.add_done_callback(finished)
            held = len(out) + len(waiting)
            if held <= self.concurrency and time.monotonic() >= dry_until:
                room = 2 * self.concurrency - held  # down to the last round: claim the next
                claimed = await self._claim(room)
                if len(claimed) < room:
                    dry_until = time.monotonic() + self.poll
                if claimed:
                    deadline = time.monotonic() + self.lease.total_seconds()
                    waiting.extend((item, deadline) for item in await self._prepare(claimed))
                    continue
            if time.monotonic() - swept > SWEEP_EVERY_S:
                swept = time.monotonic()
                await self._sweep()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll):
                    await self._wake.wait()

    # --- the database's steps (in the thread pool) -------------------------------------------

    async def _claim(self, room: int) -> list[Work]:
        token = str(uuid.uuid4())
        try:
            claimed = await anyio.to_thread.run_sync(
                lambda: self.work.claim(token, lease=self.lease, limit=room)
            )
        except Exception as exc:  # the database is down: try again at the next poll
            self._pause(exc)
            return []
        self._failing = False
        return claimed

    async def _live(self, evaluation_ids: set[int]) -> set[int]:
        try:
            return await anyio.to_thread.run_sync(self.work.live, evaluation_ids)
        except Exception as exc:  # the database is down: taken as live (what is worked is
            self._pause(exc)  # recorded, or left for the next claim, as ever)
            return evaluation_ids

    async def _prepare(self, claimed: list[Work]) -> list[Prepared | Worked]:
        try:
            return await anyio.to_thread.run_sync(self.work.prepare, claimed)
        except Exception as exc:  # not recorded: claimed again when the leases end
            self._pause(exc)
            return []

    def _pause(self, exc: Exception) -> None:
        if not self._failing:  # once, not at every poll until it is back
            log.warning("evaluations paused: %s", type(exc).__name__)
        self._failing = True

    async def _recorder(self) -> None:
        """Write what has finished, a batch a transaction: whatever finishes within
        ``RECORD_WAIT_S`` of the first (a few transactions a second, not one an item)."""
        while True:
            batch = [await self._finished.get()]
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(RECORD_WAIT_S):
                    while len(batch) < RECORD_BATCH_MAX:
                        batch.append(await self._finished.get())
            try:
                whole = await anyio.to_thread.run_sync(self.work.record, batch)
            except Exception as exc:  # not recorded: worked again when the leases end
                self._pause(exc)
                continue
            for evaluation_id in whole:
                await self._conclude(evaluation_id)

    async def _conclude(self, evaluation_id: int) -> None:
        try:
            await anyio.to_thread.run_sync(self.work.conclude, evaluation_id)
        except Exception as exc:  # the sweep concludes it later
            self._pause(exc)

    async def _sweep(self) -> None:
        try:
            ready = await anyio.to_thread.run_sync(self.work.ready)
        except Exception as exc:
            self._pause(exc)
            return
        for evaluation_id in ready:
            await self._conclude(evaluation_id)

    # --- one item --------------------------------------------------------------------------

    async def _item(self, item: Prepared | Worked, deadline: float) -> None:
        """Work one item and queue what to record. Past the lease's end (less a margin) the
        item is dropped, not recorded: another process may have claimed it by then."""
        if isinstance(item, Worked):
            await self._finished.put(item)
            return
        left = deadline - time.monotonic() - 1.0
        try:
            async with asyncio.timeout(left):
                found = await self._answer(item)
        except TimeoutError:
            log.warning(
                "evaluation item %s ran past its lease; left to the next claim", item.work.item_id
            )
            return
        await self._finished.put(found)

    async def _answer(self, item: Prepared) -> Worked:
        try:
            provider = self.clients.get(item.provider)
        except ProviderError as exc:  # no key (unset, unusable): nothing of it can run
            await anyio.to_thread.run_sync(self.work.fail, item.work.evaluation_id, exc.detail)
            return failure(item.work, exc.detail)
        try:
            answer = await provider.complete(item.request)
        except PromptdeckError as exc:  # ProviderError, a bad model_config (InvalidInput)
            return failure(item.work, exc.detail)
        results: dict[str, Result] = judge_locally(
            item.evaluators, observe(answer, item.work.expected)
        )
        for judge in item.evaluators:
            if isinstance(judge, Judge):
                results[judge.name] = await self._judge(item, judge, answer)
        return worked(item, answer, results)

    async def _judge(self, item: Prepared, judge: Judge, answer: Completion) -> Result:
        """The rubric's answer read as a judgement; a judge that fails is an error result."""
        try:
            stored, request = await anyio.to_thread.run_sync(
                self.work.judge_request, item, judge, answer
            )
            said = await self.clients.get(stored).complete(request)
        except PromptdeckError as exc:
            return Result(False, None, f"the judge gave no answer: {exc.detail}"[:300], error=True)
        return parse_judgement(said.output, judge.threshold)


def _evaluation(item: Prepared | Worked) -> int:
    return item.evaluation_id if isinstance(item, Worked) else item.work.evaluation_id

"""The evaluation runner: one asyncio task in every server process (started by the app's
lifespan), shaped like the webhook deliverer (server/webhooks.py).

It claims pending cases with a lease (core/evaluation_work.py; ``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, the write lock on SQLite), as many as it has room for (``concurrency`` model
calls in flight, 16 by default), renders each version with the case's variables, calls the
provider through ``promptdeck.outgoing`` with no transaction open, runs the evaluators (a
judge is one more call in the same slot), and hands the result to a recorder task that
writes whatever has finished in one transaction, only while each lease is still its own.
Whoever records an evaluation's last item concludes it. Cancel is a status the claim reads:
nothing more is claimed. A process that dies loses its leases when they end, and whichever
process claims next works those cases again: that is how an evaluation resumes after a
restart."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
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
from promptdeck.domain.providers import StoredProvider
from promptdeck.domain.sealing import NO_KEYS, Keyring
from promptdeck.errors import PromptdeckError, ProviderError
from promptdeck.outgoing.guard import Resolver, system_resolver
from promptdeck.outgoing.provider import Provider, ProviderClients

log = logging.getLogger("promptdeck.evaluations")

RECORD_BATCH_MAX = 64  # worked items written in one transaction
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

    def start(self) -> None:
        # A queue belongs to the loop that first used it: an app started again (each
        # TestClient has a loop of its own) needs a new one.
        self._finished = asyncio.Queue()
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
        done = asyncio.Event()  # an item finished: room to claim another

        def finished(task: asyncio.Task[None]) -> None:
            out.discard(task)
            done.set()

        swept = time.monotonic()
        while True:
            done.clear()
            room = self.concurrency - len(out)
            claimed = await self._claim(room) if room > 0 else []
            if claimed:
                deadline = time.monotonic() + self.lease.total_seconds()
                for item in await self._prepare(claimed):
                    task = group.create_task(self._item(item, deadline))
                    out.add(task)
                    task.add_done_callback(finished)
            if claimed and len(claimed) == room:
                continue  # more may be pending: claim again once a slot is free
            if time.monotonic() - swept > SWEEP_EVERY_S:
                swept = time.monotonic()
                await self._sweep()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll):
                    await done.wait()

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
        """Write what has finished, a batch a transaction (whatever finished meanwhile)."""
        while True:
            batch = [await self._finished.get()]
            while len(batch) < RECORD_BATCH_MAX and not self._finished.empty():
                batch.append(self._finished.get_nowait())
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
            provider = self._provider(item.provider)
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
            said = await self._provider(stored).complete(request)
        except PromptdeckError as exc:
            return Result(False, None, f"the judge gave no answer: {exc.detail}"[:300], error=True)
        return parse_judgement(said.output, judge.threshold)

    def _provider(self, stored: StoredProvider) -> Provider:
        return self.clients.get(stored)

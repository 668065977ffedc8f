"""The delivery worker: one asyncio task in every server process (started by the app's
lifespan) that claims due deliveries from the database with a lease, signs and sends them
with httpx, and records each attempt (2xx: delivered; anything else or no answer in time:
tried again later, with backoff, until the retry window closes)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from datetime import timedelta

import anyio
import httpx

from promptdeck.config import Settings
from promptdeck.core.webhooks import Webhooks
from promptdeck.domain import webhooks as rules
from promptdeck.domain.webhooks import Attempt, Outgoing, Retry
from promptdeck.version import __version__

log = logging.getLogger("promptdeck.webhooks")

BATCH = 20  # deliveries claimed at once; sent concurrently
PRUNE_EVERY_S = 3600.0


class Deliverer:
    """Claims, sends and records deliveries until ``stop``."""

    def __init__(self, hooks: Webhooks, settings: Settings) -> None:
        self.hooks = hooks
        self.timeout = settings.webhook_timeout_s
        self.poll = settings.webhook_poll_s
        self.lease = timedelta(seconds=max(settings.webhook_lease_s, 2 * self.timeout))
        self.retry = Retry(
            base=timedelta(seconds=settings.webhook_retry_base_s),
            cap=timedelta(seconds=settings.webhook_retry_max_s),
            give_up_after=timedelta(seconds=settings.webhook_retry_for_s),
        )
        self.keep = timedelta(days=settings.webhook_keep_days)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="webhooks")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        pruned, failing = 0.0, False
        async with httpx.AsyncClient(
            timeout=self.timeout,
            follow_redirects=False,
            headers={"User-Agent": f"promptdeck-webhooks/{__version__}"},
        ) as http:
            while True:
                try:
                    batch = await anyio.to_thread.run_sync(self._claim)
                    claimed = time.monotonic()
                    if batch:
                        done = await asyncio.gather(
                            *(self._deliver(http, out, claimed) for out in batch),
                            return_exceptions=True,
                        )
                        # An attempt not recorded (the database went away) is sent again
                        # when its lease ends.
                        lost = next((e for e in done if isinstance(e, Exception)), None)
                        if lost is not None:
                            raise lost
                        failing = False
                        continue  # more may be due
                    failing = False
                    if time.monotonic() - pruned > PRUNE_EVERY_S:
                        pruned = time.monotonic()
                        await anyio.to_thread.run_sync(self.hooks.prune, self.keep)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # the database is down: try again at the next poll
                    if not failing:  # once, not at every poll until it is back
                        log.warning("webhook deliveries paused: %s", type(exc).__name__)
                    failing = True
                await asyncio.sleep(self.poll)

    def _claim(self) -> list[Outgoing]:
        return self.hooks.claim(str(uuid.uuid4()), lease=self.lease, limit=BATCH)

    async def _deliver(self, http: httpx.AsyncClient, out: Outgoing, claimed: float) -> None:
        # Send only while the whole exchange fits in what is left of the lease: a process
        # slowed past it (a busy machine) leaves the delivery to whoever claims it next,
        # rather than sending it while another process may be sending it too.
        if time.monotonic() - claimed > self.lease.total_seconds() - self.timeout:
            return
        attempt = await send(http, out, self.timeout)
        status = await anyio.to_thread.run_sync(self.hooks.record, out, attempt, self.retry)
        if status == "failed":
            log.warning(
                "webhook delivery %s (%s) failed for good after %d attempts",
                out.uid,
                out.kind,
                out.attempts + 1,
            )


async def send(http: httpx.AsyncClient, out: Outgoing, timeout: float) -> Attempt:
    """One signed POST; at most RESPONSE_KEEP characters of the answer are read."""
    headers = {
        "Content-Type": "application/json",
        rules.EVENT_HEADER: out.kind,
        rules.DELIVERY_HEADER: out.uid,
        rules.SIGNATURE_HEADER: rules.signature(out.secret, int(time.time()), out.body),
    }
    started = time.perf_counter()
    try:
        async with asyncio.timeout(timeout):  # the whole exchange, not each read
            async with http.stream("POST", out.url, content=out.body, headers=headers) as r:
                kept = bytearray()
                async for chunk in r.aiter_bytes():
                    kept += chunk
                    if len(kept) >= rules.RESPONSE_KEEP:
                        break
                text = bytes(kept[: rules.RESPONSE_KEEP]).decode("utf-8", "replace")
                return Attempt(r.status_code, text, None, _ms(started))
    except (TimeoutError, httpx.TimeoutException):
        return Attempt(None, None, f"no answer within {timeout:g} s", _ms(started))
    except httpx.HTTPError as exc:
        return Attempt(None, None, f"{type(exc).__name__}: {exc}", _ms(started))


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)

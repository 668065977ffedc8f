"""The delivery worker: one asyncio task in every server process (started by the app's
lifespan) that claims due deliveries from the database with a lease, signs and sends each
in a task of its own through the guarded client (outgoing/guard.py: only addresses rule 10
allows, checked after resolution), and records each attempt (2xx: delivered; anything else
or no answer in time: tried again later, with backoff, until the retry window closes).

Each delivery goes out on its own: the claim gives at most one delivery a hook (its oldest
due one) and none of a hook that has one out, so a receiver that hangs holds one task until
its timeout and every other hook's deliveries keep going (a batch that waited for its
slowest held them all for the whole timeout)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
import uuid
from datetime import timedelta
from ipaddress import ip_address

import anyio
import httpx

from promptdeck import limits
from promptdeck.config import Settings
from promptdeck.core.webhooks import Destinations, Webhooks
from promptdeck.domain import webhooks as rules
from promptdeck.domain.outgoing import Address, Allowance
from promptdeck.domain.webhooks import Attempt, Outgoing, Retry
from promptdeck.errors import OutgoingRefused
from promptdeck.outgoing.guard import Resolver, guarded_client, system_resolver
from promptdeck.version import __version__

log = logging.getLogger("promptdeck.webhooks")

# Deliveries out at once in a process. The claim gives one a hook and there are at most
# WEBHOOKS_MAX hooks, so this bounds nothing in practice; it is the ceiling should either
# ever change.
IN_FLIGHT_MAX = limits.WEBHOOKS_MAX
PRUNE_EVERY_S = 3600.0


def resolve_now(host: str, port: int) -> list[Address]:
    """What ``host`` resolves to, from the system's resolver (a webhook's URL checked at
    creation; the delivery resolves again, on the event loop)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    return [ip_address(info[4][0]) for info in infos]


def destinations(settings: Settings) -> Destinations:
    """Where the server's hooks may point: the operator's allowance, names resolved."""
    return Destinations(settings.outgoing_allowance(), resolve_now)


class Deliverer:
    """Claims, sends and records deliveries until ``stop``."""

    def __init__(
        self, hooks: Webhooks, settings: Settings, *, resolver: Resolver = system_resolver
    ) -> None:
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
        self.allowance: Allowance = settings.outgoing_allowance()
        self.resolver = resolver
        self._task: asyncio.Task[None] | None = None
        self._failing = False

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="webhooks")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        client = guarded_client(
            self.allowance,
            timeout=httpx.Timeout(self.timeout),
            resolver=self.resolver,
            limits=httpx.Limits(max_connections=IN_FLIGHT_MAX, max_keepalive_connections=0),
            headers={"User-Agent": f"promptdeck-webhooks/{__version__}"},
        )
        # Cancelling the loop (stop) cancels the deliveries out and waits for them.
        async with client as http, asyncio.TaskGroup() as group:
            await self._loop(http, group)

    async def _loop(self, http: httpx.AsyncClient, group: asyncio.TaskGroup) -> None:
        out: set[asyncio.Task[None]] = set()
        done = asyncio.Event()  # a delivery finished: its hook's next one may be claimed

        def finished(task: asyncio.Task[None]) -> None:
            out.discard(task)
            done.set()

        pruned = time.monotonic()
        while True:
            done.clear()
            room = IN_FLIGHT_MAX - len(out)
            claimed = await self._claim(room) if room > 0 else []
            at = time.monotonic()
            for delivery in claimed:
                task = group.create_task(self._deliver(http, delivery, at))
                out.add(task)
                task.add_done_callback(finished)
            if claimed and len(claimed) == room:
                continue  # more may be due: claim again once a slot is free
            if time.monotonic() - pruned > PRUNE_EVERY_S:
                pruned = time.monotonic()
                with contextlib.suppress(Exception):  # the next hour's prune tries again
                    await anyio.to_thread.run_sync(self.hooks.prune, self.keep)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll):
                    await done.wait()

    async def _claim(self, room: int) -> list[Outgoing]:
        token = str(uuid.uuid4())
        try:
            claimed = await anyio.to_thread.run_sync(
                lambda: self.hooks.claim(token, lease=self.lease, limit=room)
            )
        except Exception as exc:  # the database is down: try again at the next poll
            self._pause(exc)
            return []
        self._failing = False
        return claimed

    def _pause(self, exc: Exception) -> None:
        if not self._failing:  # once, not at every poll until it is back
            log.warning("webhook deliveries paused: %s", type(exc).__name__)
        self._failing = True

    async def _deliver(self, http: httpx.AsyncClient, out: Outgoing, claimed: float) -> None:
        """Send ``out``, then the hook's next due deliveries one after another (each claimed
        in the transaction that records the one before), until the hook has none due."""
        following: Outgoing | None = out
        while following is not None:
            out, following = following, None
            # Send only while the whole exchange fits in what is left of the lease: a
            # process slowed past it (a busy machine) leaves the delivery to whoever claims
            # it next, rather than sending it while another process may be sending it too.
            if time.monotonic() - claimed > self.lease.total_seconds() - self.timeout:
                return
            try:
                attempt = await send(http, out, self.timeout)
                claimed = time.monotonic()  # no later than the next one's claim
                status, following = await anyio.to_thread.run_sync(self._record, out, attempt)
            except Exception as exc:  # not recorded: sent again when its lease ends
                self._pause(exc)
                return
            if status == "failed":
                log.warning(
                    "webhook delivery %s (%s) failed for good after %d attempts",
                    out.uid,
                    out.kind,
                    out.attempts + 1,
                )

    def _record(self, out: Outgoing, attempt: Attempt) -> tuple[str, Outgoing | None]:
        return self.hooks.record_and_next(out, attempt, self.retry, lease=self.lease)


async def send(http: httpx.AsyncClient, out: Outgoing, timeout: float) -> Attempt:
    """One signed POST. Only the status code is kept: the answer's body is never read."""
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
                return Attempt(r.status_code, None, _ms(started))
    except (TimeoutError, httpx.TimeoutException):
        return Attempt(None, f"no answer within {timeout:g} s", _ms(started))
    except OutgoingRefused as exc:  # the address it resolves to now may not be reached
        return Attempt(None, f"refused: {exc.detail}", _ms(started))
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        return Attempt(None, f"{type(exc).__name__}: {exc}", _ms(started))


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)

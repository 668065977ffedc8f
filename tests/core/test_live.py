"""core/live.py over the real database: the change feed of one process."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from promptdeck.core import Registry
from promptdeck.core.live import ActiveCache, ChangeFeed, PointerReads
from promptdeck.domain.caller import SYSTEM
from promptdeck.domain.commands import CreatePrompt, CreateVersion, Rollback
from promptdeck.store.changes import Pointer
from tests.support.aio import run as run_async


def test_subscribers_that_start_the_feed_together_are_all_woken_by_the_next_move(
    registry: Registry, database_url: str
) -> None:
    first = registry.create_prompt(CreatePrompt("p", content="one"), SYSTEM).prompt.active_version
    assert first is not None
    registry.create_version(CreateVersion("p", content="two", activate=True), SYSTEM)

    async def main() -> list[int | None]:
        feed = ChangeFeed(registry.engine, database_url)

        async def subscriber() -> int | None:
            await feed.start()
            moves, _ = await feed.after(None, frozenset({"p"}), timeout=5)
            return moves[0].version_id if moves else None

        try:
            waiting = [asyncio.create_task(subscriber()) for _ in range(20)]
            await asyncio.sleep(0.3)  # all are waiting
            await asyncio.to_thread(registry.rollback, Rollback("p", first.id), SYSTEM)
            return await asyncio.gather(*waiting)
        finally:
            await feed.close()

    # Before: each of the first subscribers started a feed of its own, and the waiters of
    # all but the last were never woken (they got the move at the next heartbeat).
    assert run_async(main()) == [first.id] * 20


def test_a_pointer_request_arriving_during_a_read_waits_for_the_next_read_which_it_shares() -> None:
    """The coalescing rule, with the read function injected (the real one is covered over
    PostgreSQL by tests/concurrency/test_never_stale.py): a read in flight when a request
    arrives may predate a rollback the request has seen, so the request waits for the next
    read; all the requests waiting for that one share it."""
    started: list[list[str]] = []

    async def main() -> tuple[list[int | None], int]:
        first_read_may_end = asyncio.Event()

        async def read(
            names: Sequence[str], ids: Sequence[int], labels: Sequence[str]
        ) -> tuple[int, list[Pointer]]:
            started.append(list(names))
            number = len(started)
            if number == 1:
                await first_read_may_end.wait()
            return 0, [(1, "p", 100 + number, None, None, None, None)]

        reads = PointerReads(read)
        first = asyncio.create_task(reads.get("p"))
        while not started:  # the first read is in flight
            await asyncio.sleep(0)
        later = [asyncio.create_task(reads.get("p")) for _ in range(3)]
        await asyncio.sleep(0)
        first_read_may_end.set()
        answers = await asyncio.gather(first, *later)
        return [a["active"] if a else None for a in answers], reads.reads

    answers, reads = run_async(main())
    assert answers == [101, 102, 102, 102]
    assert reads == 2


def test_the_body_cache_stays_under_its_byte_bound_dropping_the_oldest_bodies_first(
    registry: Registry, database_url: str
) -> None:
    for n in range(6):
        registry.create_prompt(CreatePrompt(f"big{n}", content=str(n) * 1000), SYSTEM)
    cache: ActiveCache[bytes] = ActiveCache(
        database_url,
        lambda ref, label: registry.serving(ref, label, SYSTEM),
        lambda _prompt, version: (version.content or "").encode(),
        size_of=len,
        max_bytes=3500,
        version=lambda ref, version_id: registry.serving_version(ref, version_id, SYSTEM),
    )

    async def fetch_all() -> list[bytes]:
        try:
            return [(await cache.get(f"big{n}"))[0] for n in range(6)]
        finally:
            await cache.close()

    bodies = run_async(fetch_all())
    assert [len(b) for b in bodies] == [1000] * 6  # every answer whole
    assert cache.body_bytes <= 3500  # but only three bodies kept
    assert cache.body_bytes == 3000

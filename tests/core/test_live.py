"""core/live.py over the real database: the change feed of one process."""

from __future__ import annotations

import asyncio

from promptdeck.core import Registry
from promptdeck.core.live import ChangeFeed


def test_subscribers_that_start_the_feed_together_are_all_woken_by_the_next_move(
    registry: Registry, database_url: str
) -> None:
    first = registry.create_prompt("p", content="one").prompt.active_version
    assert first is not None
    registry.create_version("p", content="two", activate=True)

    async def main() -> list[int | None]:
        feed = ChangeFeed(registry.engine, database_url)

        async def subscriber() -> int | None:
            await feed.start()
            moves, _ = await feed.after(None, frozenset({"p"}), timeout=5)
            return moves[0].version_id if moves else None

        try:
            waiting = [asyncio.create_task(subscriber()) for _ in range(20)]
            await asyncio.sleep(0.3)  # all are waiting
            await asyncio.to_thread(registry.rollback, "p", first.id)
            return await asyncio.gather(*waiting)
        finally:
            await feed.close()

    # Before: each of the first subscribers started a feed of its own, and the waiters of
    # all but the last were never woken (they got the move at the next heartbeat).
    assert asyncio.run(main()) == [first.id] * 20

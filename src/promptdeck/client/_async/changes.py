"""`AsyncChanges`: follows GET /changes and expires the cache entries that moved."""

from __future__ import annotations

import httpx

from promptdeck.client._background import AsyncBackground
from promptdeck.client._changes import READ_TIMEOUT_S, ChangesState, SseParser


class AsyncChanges:
    """Follows GET /changes in the background and expires the cache entries that moved.

    Reconnects after ``retry`` (1 s) with ``Last-Event-ID`` when the stream drops, so no move
    is missed; never raises (failures are logged on the ``promptdeck.client`` logger).
    """

    def __init__(self, http: httpx.AsyncClient, state: ChangesState, timeout: float) -> None:
        self.http = http
        self.state = state
        self.timeout = httpx.Timeout(timeout, read=READ_TIMEOUT_S)
        self.worker = AsyncBackground()

    def start(self) -> None:
        self.worker.start(self._run)

    async def stop(self) -> None:
        await self.worker.stop()

    async def _run(self) -> None:
        while not self.worker.stopping:
            error: BaseException | None = None
            try:
                await self._follow()
            except Exception as exc:  # the caller must never see it: logged, then retried
                error = exc
            finally:
                self.worker.reading(None)
            if self.worker.stopping:
                return
            await self.worker.sleep(self.state.dropped(error))

    async def _follow(self) -> None:
        params, headers = self.state.request()
        async with self.http.stream(
            "GET", "/changes", params=params, headers=headers, timeout=self.timeout
        ) as response:
            self.worker.reading(response)
            if not self.state.opened(response):
                return
            parser = SseParser()
            async for line in response.aiter_lines():
                for event in parser.feed(line):
                    self.state.on(event)
                if parser.retry_s is not None:
                    self.state.retry_s = parser.retry_s

"""One request per key in flight: the part of `get_active` that threads and tasks do differently.

`AsyncClient` uses `AsyncSingleFlight`; `Client` (generated from it) uses `SingleFlight`. The
first caller for a key runs the fetch; the others meanwhile get ``busy()`` (the stale copy)
when it has one, else wait for the first caller's result.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from typing import Generic, TypeVar

T = TypeVar("T")


class SingleFlight(Generic[T]):
    """For threads: many may call `run` at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._inflight: dict[str, Future[T]] = {}

    def run(self, key: str, fetch: Callable[[], T], busy: Callable[[], T | None]) -> T:
        with self._lock:
            future = self._inflight.get(key)
            leader = future is None
            if future is None:
                future = self._inflight[key] = Future()
        if not leader:
            waiting = busy()
            return waiting if waiting is not None else future.result()
        try:
            value = fetch()
            future.set_result(value)
            return value
        except BaseException as exc:
            future.set_exception(exc)
            raise
        finally:
            with self._lock:
                del self._inflight[key]


class AsyncSingleFlight(Generic[T]):
    """For the tasks of one event loop."""

    def __init__(self) -> None:
        self._inflight: dict[str, asyncio.Future[T]] = {}

    async def run(
        self, key: str, fetch: Callable[[], Awaitable[T]], busy: Callable[[], T | None]
    ) -> T:
        future = self._inflight.get(key)
        if future is not None:
            waiting = busy()
            return waiting if waiting is not None else await asyncio.shield(future)
        future = self._inflight[key] = asyncio.get_running_loop().create_future()
        try:
            value = await fetch()
            future.set_result(value)
            return value
        except asyncio.CancelledError:
            future.cancel()
            raise
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark it retrieved: nobody may be waiting
            raise
        finally:
            del self._inflight[key]

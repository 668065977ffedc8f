"""The subscriber's worker: the part of `subscribe=` that threads and tasks do differently.

`AsyncClient` follows GET /changes in an asyncio task (`AsyncBackground`); `Client`
(generated from it) in a daemon thread (`Background`). Both give the reading loop, written
once in aio.py, the same three things: ``stopping``, ``sleep`` (cut short by ``stop``) and
``reading`` (the response being read, so ``stop`` can end a read that is waiting).

The outcome sender (``prompt.report``) runs on the same two, with ``finish`` (let the loop
drain and end, rather than cut it off) and ``on_exit`` (the thread's owner is flushed at
interpreter exit; an asyncio client is flushed by ``aclose``).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import socket
import threading
from collections.abc import Awaitable, Callable

import httpx

NAME = "promptdeck-changes"


class Background:
    """For threads: one daemon thread, which never keeps the process alive."""

    def __init__(self, name: str = NAME) -> None:
        self.name = name
        self._at_exit: Callable[[], object] | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._response: httpx.Response | None = None

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def start(self, run: Callable[[], None]) -> None:
        if self._thread is not None:  # every get_active calls this: no lock once started
            return
        with self._lock:
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(target=run, name=self.name, daemon=True)
                self._thread.start()

    def sleep(self, seconds: float) -> None:
        self._stop.wait(seconds)

    def reading(self, response: httpx.Response | None) -> None:
        with self._lock:
            self._response = response
        if response is not None and self._stop.is_set():
            self._interrupt()

    def stop(self) -> None:
        self._stop.set()
        self._interrupt()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5.0)

    def on_exit(self, callback: Callable[[], object]) -> None:
        """Call ``callback`` at interpreter exit (once; `finish` cancels it)."""
        with self._lock:
            if self._at_exit is None:
                self._at_exit = callback
                atexit.register(callback)

    def finish(self, timeout: float) -> None:
        """Ask the loop to end (it drains first) and wait for it, at most ``timeout`` s."""
        self._stop.set()
        with self._lock:
            callback, self._at_exit = self._at_exit, None
        if callback is not None:
            atexit.unregister(callback)
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=timeout)

    def _interrupt(self) -> None:
        """Wake the thread blocked reading the stream: shut its socket down (closing it from
        another thread would not wake a blocked read)."""
        with self._lock:
            response = self._response
        if response is None:
            return
        stream = response.extensions.get("network_stream")
        sock = stream.get_extra_info("socket") if stream is not None else None
        if isinstance(sock, socket.socket):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class AsyncBackground:
    """For the tasks of one event loop: one task, cancelled by ``stop``."""

    def __init__(self, name: str = NAME) -> None:
        self.name = name
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def start(self, run: Callable[[], Awaitable[None]]) -> None:
        if self._task is None and not self._stop.is_set():
            self._task = asyncio.get_running_loop().create_task(_awaited(run), name=self.name)

    async def sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), seconds)

    def reading(self, response: httpx.Response | None) -> None:
        """Nothing to do: cancelling the task ends its read."""

    async def stop(self) -> None:
        self._stop.set()
        task = self._task
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            await asyncio.wait({task}, timeout=5.0)

    def on_exit(self, callback: Callable[[], object]) -> None:
        """Nothing: an event loop cannot run at interpreter exit; ``aclose`` flushes."""

    async def finish(self, timeout: float) -> None:
        """Ask the loop to end (it drains first) and wait for it; cancelled after ``timeout``."""
        self._stop.set()
        task = self._task
        if task is not None and task is not asyncio.current_task():
            done, _ = await asyncio.wait({task}, timeout=timeout)
            if not done:
                task.cancel()
                await asyncio.wait({task}, timeout=1.0)


async def _awaited(run: Callable[[], Awaitable[None]]) -> None:
    await run()

"""What one render may spend: output characters, steps, characters built and CPU time.

One ``Budget`` per render. Compiled Jinja templates are shared by every render of the same
text, so the sandbox's checks reach the render's budget through a context variable (each
thread, and each task, renders in its own context)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from promptdeck import limits
from promptdeck.errors import RenderTooLarge


class NoBudget(RuntimeError):
    """A check ran outside a render: Jinja folding a constant while it compiles. Refused, so
    the work is done (and counted) when the template renders."""


class Budget:
    """Counters checked *before* each thing they count is built or run."""

    def __init__(self) -> None:
        self.size = 0  # characters of output
        self.includes = 0
        self.steps = 0
        self.built = 0  # characters built: written anywhere, joined, made by an operation
        self._wall_start = time.perf_counter()
        self._cpu_start = time.thread_time()
        # This thread's CPU time cannot pass the bound before the wall clock does, so the
        # CPU clock (a system call, 3.5 µs here, against 0.3 µs for the wall clock) is read
        # only once that much wall time has gone by, and then at most every 5 ms.
        self._next_cpu_check = self._wall_start + limits.RENDER_CPU_S

    def spend(self, n: int) -> None:
        """``n`` more characters of output."""
        self.size += n
        if self.size > limits.RENDER_MAX:
            raise RenderTooLarge(f"the rendered output is over {limits.RENDER_MAX} characters")

    def step(self, n: int = 1) -> bool:
        """Work that may write nothing: a loop iteration or test, a macro call, ``range()``
        items, items of a list built or walked item by item. True, so a loop's ``if`` test
        can call it first."""
        self.steps += n
        if self.steps > limits.RENDER_STEPS_MAX:
            raise RenderTooLarge(
                f"the template runs more than {limits.RENDER_STEPS_MAX} steps in one render "
                "(loop iterations, loop tests, macro calls, range() items, list items)"
            )
        self.tick()
        return True

    def build(self, n: int, what: str = "one value") -> None:
        """A value of ``n`` characters (an upper bound) is about to be built."""
        if n > limits.RENDER_MAX:
            raise RenderTooLarge(f"{what} would be over {limits.RENDER_MAX} characters")
        self.built += n
        if self.built > limits.RENDER_BUILD_MAX:
            raise RenderTooLarge(
                f"the template builds more than {limits.RENDER_BUILD_MAX} characters in one render"
            )
        self.tick()

    def tick(self) -> None:
        """Stop the render once it has used RENDER_CPU_S of this thread's CPU."""
        now = time.perf_counter()
        if now < self._next_cpu_check:
            return
        used = time.thread_time() - self._cpu_start
        if used > limits.RENDER_CPU_S:
            raise RenderTooLarge(
                f"the template took more than {limits.RENDER_CPU_S} s of CPU to render"
            )
        self._next_cpu_check = now + max(limits.RENDER_CPU_S - used, 0.005)


_CURRENT: ContextVar[Budget | None] = ContextVar("promptdeck_render_budget", default=None)


def current() -> Budget:
    budget = _CURRENT.get()
    if budget is None:
        raise NoBudget("no render in progress")
    return budget


@contextmanager
def active(budget: Budget) -> Iterator[Budget]:
    token = _CURRENT.set(budget)
    try:
        yield budget
    finally:
        _CURRENT.reset(token)

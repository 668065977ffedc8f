"""The factory uvicorn calls in each worker process (settings come from PROMPTDECK_*)."""

from __future__ import annotations

import gc
from typing import Any

from promptdeck.config import Settings
from promptdeck.server.app import create_app
from promptdeck.server.security import default_allowed_hosts

# Young-generation threshold of a served process (CPython's default: 700 allocations).
GC_GEN0_THRESHOLD = 10_000


def settle_heap() -> None:
    """Move everything alive after start-up (modules, FastAPI, pydantic, SQLAlchemy: several
    hundred thousand objects) out of the collector's reach, and collect the young generation
    less often. Measured (docs/performance.md): without it, a full collection every second or
    so under load scanned that whole heap, stopping the event loop 55-140 ms, which was the
    p99 of the PostgreSQL hot path at 64 connections."""
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GC_GEN0_THRESHOLD, gen1, gen2)


def make_app() -> Any:
    settings = Settings()
    if settings.allowed_hosts is None:  # served on a socket: refuse foreign Host headers
        settings.allowed_hosts = ",".join(default_allowed_hosts(settings.host))
    app = create_app(settings)
    settle_heap()
    return app

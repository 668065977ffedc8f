"""The factory uvicorn calls in each worker process (settings come from PROMPTDECK_*)."""

from __future__ import annotations

from typing import Any

from promptdeck.config import Settings
from promptdeck.server.app import create_app


def make_app() -> Any:
    return create_app(Settings())

"""The factory uvicorn calls in each worker process (settings come from PROMPTDECK_*)."""

from __future__ import annotations

from typing import Any

from promptdeck.config import Settings
from promptdeck.server.app import create_app
from promptdeck.server.security import default_allowed_hosts


def make_app() -> Any:
    settings = Settings()
    if settings.allowed_hosts is None:  # served on a socket: refuse foreign Host headers
        settings.allowed_hosts = ",".join(default_allowed_hosts(settings.host))
    return create_app(settings)

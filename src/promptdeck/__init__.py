"""promptdeck: a self-hosted prompt registry.

>>> import promptdeck
>>> client = promptdeck.Client("http://127.0.0.1:8000")
>>> client.get_active("support-reply", fallback="You are a helpful agent.").content
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from promptdeck import errors
from promptdeck.errors import (
    ApiError,
    Conflict,
    ConnectionFailed,
    NotFound,
    PreconditionFailed,
    PromptdeckError,
    ServerError,
)
from promptdeck.version import __version__ as __version__

if TYPE_CHECKING:
    from promptdeck.client import ActivePrompt, AsyncClient, Client

__all__ = [
    "ActivePrompt",
    "ApiError",
    "AsyncClient",
    "Client",
    "Conflict",
    "ConnectionFailed",
    "NotFound",
    "PreconditionFailed",
    "PromptdeckError",
    "ServerError",
    "errors",
]


def __getattr__(name: str) -> Any:
    # The client (and httpx) load on first use, so the server never pays for them.
    if name in ("Client", "AsyncClient", "ActivePrompt"):
        from promptdeck import client

        return getattr(client, name)
    raise AttributeError(f"module 'promptdeck' has no attribute {name!r}")

"""The Python client: `Client` (blocking, thread-safe) and `AsyncClient` (asyncio).

Both speak the HTTP API, return the wire models of `promptdeck.schemas`, and raise the
classes of `promptdeck.errors`. Neither imports the server.
"""

from promptdeck.client.aio import AsyncClient
from promptdeck.client.cache import ActivePrompt, CacheStats
from promptdeck.client.sync import Client

__all__ = ["ActivePrompt", "AsyncClient", "CacheStats", "Client"]

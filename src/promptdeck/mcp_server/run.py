"""`promptdeck mcp`: the handlers through the Python client to a server, over stdio (standard
output carries the protocol and nothing else; logs go to standard error) or, with
``--http``, over the streamable HTTP transport at ``/mcp`` on a loopback port.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from mcp.server.stdio import stdio_server

from promptdeck.client import AsyncClient
from promptdeck.mcp_server.handlers import Handlers
from promptdeck.schemas import MoveOut


@asynccontextmanager
async def connected(
    url: str, api_key: str | None, actor: str | None, label: str
) -> AsyncIterator[Handlers]:
    """Handlers over a client that follows GET /changes; each burst of moves becomes one
    list-changed notification."""
    moves: asyncio.Queue[MoveOut] = asyncio.Queue(maxsize=1000)

    def on_move(move: MoveOut) -> None:
        if not moves.full():
            moves.put_nowait(move)

    async with AsyncClient(url, api_key, actor=actor, subscribe=True, on_move=on_move) as client:
        handlers = Handlers(client, label=label)
        client.follow_changes()

        async def announce() -> None:
            while True:
                await moves.get()
                while not moves.empty():  # coalesce what arrived together
                    moves.get_nowait()
                await handlers.moved()

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(announce)
            yield handlers
            tasks.cancel_scope.cancel()


async def serve(url: str, api_key: str | None, actor: str | None, label: str) -> None:
    async with connected(url, api_key, actor, label) as handlers, stdio_server() as (r, w):
        await handlers.server.run(r, w, handlers.options())


async def serve_http(
    url: str, api_key: str | None, actor: str | None, label: str, host: str, port: int
) -> None:
    """Every caller of this port acts with this process's key: keep it on loopback (the
    SDK refuses other Host and Origin headers there)."""
    import uvicorn

    async with connected(url, api_key, actor, label) as handlers:
        app = handlers.server.streamable_http_app(streamable_http_path="/mcp", host=host)
        config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on")
        await uvicorn.Server(config).serve()

"""`promptdeck mcp`: the handlers over stdio, through the Python client to a server.

Standard output carries the protocol and nothing else; logs go to standard error.
"""

from __future__ import annotations

import asyncio

import anyio
from mcp.server.stdio import stdio_server

from promptdeck.client import AsyncClient
from promptdeck.mcp_server.handlers import Handlers
from promptdeck.schemas import MoveOut


async def serve(url: str, api_key: str | None, actor: str | None, label: str) -> None:
    moves: asyncio.Queue[MoveOut] = asyncio.Queue(maxsize=1000)

    def on_move(move: MoveOut) -> None:
        if not moves.full():  # a burst of moves needs one notification, not a thousand
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

        async with anyio.create_task_group() as tasks, stdio_server() as (read, write):
            tasks.start_soon(announce)
            await handlers.server.run(read, write, handlers.options())
            tasks.cancel_scope.cancel()

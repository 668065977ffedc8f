"""`promptdeck mcp --http PORT`: the same handlers over the streamable HTTP transport, with
the MCP SDK's client, against a real server."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from typing import Any

import anyio
import httpx
import pytest
from mcp import Client as McpClient

from promptdeck.client import Client
from tests.mcp_server.test_mcp_stdio import PROMPTDECK, fill
from tests.support.server import ServerProcess, free_port


@pytest.fixture
def gateway(shared_server: ServerProcess) -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [PROMPTDECK, "mcp", "--http", str(port), "--url", shared_server.url],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}/mcp"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(url, timeout=1)
                break
            except httpx.HTTPError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def test_prompts_are_listed_rendered_and_changes_announced_over_http(
    shared_server: ServerProcess, gateway: str, name: str
) -> None:
    staged = fill(shared_server.url, name)

    async def scenario() -> Any:
        async with McpClient(gateway, read_timeout_seconds=30) as client:
            with anyio.fail_after(60):
                listed = {p.name for p in (await client.list_prompts()).prompts}
                got = await client.get_prompt(name, {"customer": "Ada"})
                async with client.listen(prompts_list_changed=True) as sub:
                    await anyio.sleep(0.5)
                    with Client(shared_server.url) as c:
                        await anyio.to_thread.run_sync(lambda: c.move_label(name, "qa", staged))
                    event = await sub.__anext__()
        return listed, got, event

    listed, got, event = anyio.run(scenario)
    assert {name, f"{name}-chat"} <= listed
    assert [m.content.text for m in got.messages] == ["Dear Ada"]
    assert type(event).__name__ == "PromptsListChanged"

"""/mcp in the server itself (server/mcp.py): MCP's streamable HTTP transport behind the
same keys and roles, driven by the MCP SDK's own client against a real server process."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
import httpx
from mcp import Client as McpClient
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from promptdeck.client import Client
from promptdeck.core import Registry
from promptdeck.core.access import Access
from tests.access.conftest import bearer
from tests.mcp_server.test_mcp_stdio import fill
from tests.support.server import ServerProcess


def over_http(url: str, key: str | None, scenario: Callable[[McpClient], Any]) -> Any:
    async def main() -> Any:
        headers = bearer(key) if key else None
        async with (
            create_mcp_http_client(headers=headers) as http,
            McpClient(streamable_http_client(f"{url}/mcp", http_client=http)) as client,
        ):
            with anyio.fail_after(60):
                return await scenario(client)

    return anyio.run(main)


def test_an_open_server_lists_renders_and_announces_a_label_move_at_slash_mcp(
    shared_server: ServerProcess, name: str
) -> None:
    staged = fill(shared_server.url, name)

    async def scenario(client: McpClient) -> Any:
        listed = {p.name: p for p in (await client.list_prompts()).prompts}
        got = await client.get_prompt(name, {"customer": "Ada"})
        async with client.listen(prompts_list_changed=True) as sub:
            await anyio.sleep(0.5)
            with Client(shared_server.url) as c:
                await anyio.to_thread.run_sync(lambda: c.move_label(name, "qa", staged))
            event = await sub.__anext__()
        return listed, got, event

    listed, got, event = over_http(shared_server.url, None, scenario)
    assert {name, f"{name}-chat"} <= set(listed)
    assert [a.name for a in listed[name].arguments or []] == ["customer"]
    assert [m.content.text for m in got.messages] == ["Dear Ada"]
    assert "served by production" in (got.description or "")
    assert type(event).__name__ == "PromptsListChanged"


def test_slash_mcp_needs_a_key_a_read_key_lists_and_cannot_propose_a_write_key_can(
    start_server: Callable[..., ServerProcess], registry: Registry
) -> None:
    access = Access(registry.engine)
    admin = access.create_key("admin", "admin").secret
    reader = access.create_key("reader", "read").secret
    writer = access.create_key("writer", "write").secret
    team = access.create_key("team", "read", prefixes=["team-"]).secret
    server = start_server()
    with Client(server.url, admin) as c:
        c.create_prompt("team-greeting", "Hello {{who}}")
        c.create_prompt("secret-plan", "Top secret")
        second = c.create_version("team-greeting", "Hi {{who}}")
    # No key: the route's 401 problem, before the SDK sees anything.
    refused = httpx.post(f"{server.url}/mcp", json={}, timeout=30)
    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"

    def session(key: str) -> Any:
        async def scenario(client: McpClient) -> Any:
            listed = [p.name for p in (await client.list_prompts()).prompts]
            tools = [t.name for t in (await client.list_tools()).tools]
            proposed = await client.call_tool(
                "propose_deploy",
                {
                    "prompt": "team-greeting",
                    "label": "production",
                    "version": str(second.id),
                    "reason": "from an assistant",
                },
            )
            return listed, tools, proposed

        return over_http(server.url, key, scenario)

    listed, tools, proposed = session(reader)
    assert {"team-greeting", "secret-plan"} <= set(listed)
    assert "propose_deploy" not in tools and "prompt_history" in tools
    assert proposed.is_error and "needs write" in proposed.content[0].text
    listed, _, _ = session(team)
    assert listed == ["team-greeting"]  # the key's prefixes apply over MCP too
    _, tools, proposed = session(writer)
    assert "propose_deploy" in tools
    assert not proposed.is_error, proposed.content[0].text
    with Client(server.url, admin) as c:
        label = c.get_active("team-greeting", label="active")
        assert label.version_id != second.id  # a proposal moves nothing
        requests = c.list_deploys("team-greeting").items
        assert [(r.label, r.version_id, r.status) for r in requests] == [
            ("production", second.id, "open")
        ]

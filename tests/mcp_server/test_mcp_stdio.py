"""`promptdeck mcp` spawned over stdio by the MCP SDK's own client, against a real server."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
from mcp import Client as McpClient
from mcp.client.stdio import StdioServerParameters

from promptdeck.client import Client
from tests.support.server import ServerProcess

PROMPTDECK = str(Path(sys.executable).with_name("promptdeck"))


def over_stdio(url: str, scenario: Callable[[McpClient], Awaitable[Any]], *extra: str) -> Any:
    params = StdioServerParameters(command=PROMPTDECK, args=["mcp", "--url", url, *extra])

    async def main() -> Any:
        async with McpClient(params, read_timeout_seconds=30) as client:
            with anyio.fail_after(60):
                return await scenario(client)

    return anyio.run(main)


def fill(url: str, name: str) -> int:
    with Client(url) as c:
        c.create_prompt(name, "Hello {{customer}}, about {{topic}}", description="greets")
        staged = c.create_version(name, "Dear {{customer}}")
        c.move_label(name, "production", staged.id)  # open mode: an admin
        c.create_prompt(
            f"{name}-chat",
            messages=[
                {"role": "system", "content": "You are {{persona}}."},
                {"role": "placeholder", "name": "history"},
                {"role": "user", "content": "{{question}}"},
            ],
        )
        return staged.id


def test_prompts_are_listed_with_their_variables_and_rendered_by_label(
    shared_server: ServerProcess, name: str
) -> None:
    fill(shared_server.url, name)

    async def scenario(client: McpClient) -> Any:
        listed = {p.name: p for p in (await client.list_prompts()).prompts}
        text = await client.get_prompt(name, {"customer": "Ada"})
        chat = await client.get_prompt(
            f"{name}-chat",
            {
                "persona": "kind",
                "question": "Hi?",
                "history": '[{"role": "assistant", "content": "Yes?"}]',
            },
        )
        return listed, text, chat

    listed, text, chat = over_stdio(shared_server.url, scenario)
    # production serves version 2 (one variable); the chat prompt has no production: active.
    assert [(a.name, a.required) for a in listed[name].arguments] == [("customer", True)]
    assert listed[name].description == "greets"
    chat_args = {a.name: a.description for a in listed[f"{name}-chat"].arguments}
    assert chat_args == {"persona": None, "history": "a JSON list of messages", "question": None}
    assert [(m.role, m.content.text) for m in text.messages] == [("user", "Dear Ada")]
    assert "served by production" in (text.description or "")
    assert [(m.role, m.content.text) for m in chat.messages] == [
        ("user", "You are kind."),
        ("assistant", "Yes?"),
        ("user", "Hi?"),
    ]
    assert "served by active" in (chat.description or "")


def test_a_label_move_sends_a_prompts_list_changed_notification(
    shared_server: ServerProcess, name: str
) -> None:
    staged = fill(shared_server.url, name)

    async def scenario(client: McpClient) -> Any:
        await client.list_prompts()
        async with client.listen(prompts_list_changed=True) as sub:
            await anyio.sleep(0.5)  # the server follows GET /changes from its start
            with Client(shared_server.url) as c:
                await anyio.to_thread.run_sync(lambda: c.move_label(name, "staging", staged))
            event = await sub.__anext__()
        return event, await client.list_prompts()

    event, again = over_stdio(shared_server.url, scenario)
    assert type(event).__name__ == "PromptsListChanged"
    assert name in {p.name for p in again.prompts}


def test_the_tools_read_history_and_diffs_and_propose_a_deploy_without_moving_the_label(
    shared_server: ServerProcess, name: str
) -> None:
    staged = fill(shared_server.url, name)
    with Client(shared_server.url) as c:
        newest = c.create_version(name, "Dear {{customer}}, thanks", description="warmer")

    async def scenario(client: McpClient) -> Any:
        tools = {t.name for t in (await client.list_tools()).tools}
        history = await client.call_tool("prompt_history", {"prompt": name})
        diff = await client.call_tool(
            "prompt_diff",
            {"prompt": name, "from_version": str(staged), "to_version": str(newest.id)},
        )
        proposed = await client.call_tool(
            "propose_deploy",
            {"prompt": name, "label": "production", "version": str(newest.id), "reason": "warmer"},
        )
        missing = await client.call_tool("prompt_history", {"prompt": f"{name}-nope"})
        return tools, history, diff, proposed, missing

    tools, history, diff, proposed, missing = over_stdio(shared_server.url, scenario)
    assert tools == {"prompt_history", "prompt_diff", "propose_deploy"}
    assert history.content[0].text.splitlines()[0].startswith(f"#3 id={newest.id}")
    assert "-Dear {{customer}}\n+Dear {{customer}}, thanks" in diff.content[0].text
    assert not proposed.is_error and "deploy request" in proposed.content[0].text
    assert missing.is_error and "not found" in missing.content[0].text.lower()
    with Client(shared_server.url) as c:
        assert c.get_label(name, "production").version_id == staged  # not moved
        (request,) = c.list_deploys(name).items
        assert (request.status, request.version_id) == ("open", newest.id)

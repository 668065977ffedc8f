"""`promptdeck render NAME --var k=v` against a real server."""

from __future__ import annotations

import json

from promptdeck.client import Client
from tests.cli.helpers import ok, run
from tests.support.server import ServerProcess


def test_render_prints_the_filled_text_and_names_a_missing_variable(
    shared_server: ServerProcess, name: str
) -> None:
    ok(shared_server.url, "prompts", "create", name, input="Hi {{who}}, {{what}}")
    out = ok(shared_server.url, "render", name, "--var", "who={{what}}", "-v", "what=ok")
    assert out == "Hi {{what}}, ok\n"
    missing = run(shared_server.url, "render", name, "--var", "who=Ada")
    assert missing.exit_code == 1 and "what" in missing.stderr


def test_render_prints_a_chat_prompts_messages_as_json(
    shared_server: ServerProcess, name: str
) -> None:
    with Client(shared_server.url) as client:
        client.create_prompt(name, "x")
        client.create_version(
            name,
            messages=[
                {"role": "system", "content": "Be {{tone}}"},
                {"role": "placeholder", "name": "history"},
            ],
            activate=True,
        )
    history = '[{"role": "user", "content": "hi"}]'
    out = ok(
        shared_server.url, "render", name, "-v", "tone=brief", "--json-var", f"history={history}"
    )
    assert json.loads(out) == [
        {"role": "system", "content": "Be brief"},
        {"role": "user", "content": "hi"},
    ]

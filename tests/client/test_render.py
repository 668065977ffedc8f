"""Rendering where the application runs: from the cached active version with no request
(also with the server down), in the shapes the OpenAI and Anthropic SDKs take."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from promptdeck import errors
from promptdeck.client import Client
from tests.support.clock import FakeClock
from tests.support.server import ServerProcess

MESSAGES = [
    {"role": "system", "content": "You answer for {{company}}."},
    {"role": "user", "content": "{{question}}"},
]


def test_the_cached_active_version_renders_with_the_server_down(
    start_server: Callable[..., ServerProcess],
) -> None:
    server = start_server()
    sent: list[str] = []
    hooks = {"request": [lambda request: sent.append(str(request.url))]}
    with Client(server.url, cache_ttl=60, clock=FakeClock(), event_hooks=hooks) as client:
        client.create_prompt("support-reply", "Hello {{name}}, about {{topic}}.")
        prompt = client.get_active("support-reply")
        server.stop()
        before = len(sent)
        assert client.get_active("support-reply").render(name="Ada", topic="{{name}}") == (
            "Hello Ada, about {{name}}."
        )
        with pytest.raises(errors.MissingVariables, match="topic"):
            prompt.render(name="Ada")
        assert len(sent) == before  # no request at all


def test_a_chat_version_renders_locally_to_openai_messages_and_anthropic_arguments(
    server: ServerProcess,
) -> None:
    with Client(server.url) as client:
        client.create_prompt("support-reply", "x")
        created = client.create_version("support-reply", messages=MESSAGES, activate=True)
        version = client.get_version("support-reply", created.id)
        values = {"company": "ACME", "question": "Where is my parcel?"}
        assert version.render(**values) == [
            {"role": "system", "content": "You answer for ACME."},
            {"role": "user", "content": "Where is my parcel?"},
        ]
        assert version.render_anthropic(**values) == {
            "system": "You answer for ACME.",
            "messages": [{"role": "user", "content": "Where is my parcel?"}],
        }
        served = client.render("support-reply", values)
        assert served.messages == version.render(**values)
        assert (
            client.create_version("support-reply", messages=MESSAGES, if_changed=True).id
            == created.id
        )


def test_includes_render_from_the_cache_too_and_a_pinned_one_needs_the_server(
    start_server: Callable[..., ServerProcess],
) -> None:
    server = start_server()
    sent: list[str] = []
    hooks = {"request": [lambda request: sent.append(str(request.url))]}
    with Client(server.url, cache_ttl=60, clock=FakeClock(), event_hooks=hooks) as client:
        client.create_prompt("tone", "Be {{mood}}.")
        client.create_prompt("reply", "{{> tone}} Answer {{q}}.")
        client.create_prompt("pinned", "{{> tone@1}}")
        first = client.render_active("reply", {"mood": "kind", "q": "{{mood}}"})
        with pytest.raises(errors.TemplateInvalid, match="pinned"):
            client.render_active("pinned", {"mood": "kind"})
        server.stop()
        before = len(sent)
        assert client.render_active("reply", {"mood": "kind", "q": "{{mood}}"}) == first
        assert first == "Be kind. Answer {{mood}}."
        assert len(sent) == before
        with pytest.raises(errors.TemplateInvalid, match="needs the server"):
            client.get_active("reply").render(mood="kind", q="?")  # no includes without the client

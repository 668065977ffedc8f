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


def test_get_active_renders_includes_from_the_cache_with_the_server_down_pinned_ones_too(
    start_server: Callable[..., ServerProcess],
) -> None:
    server = start_server()
    sent: list[str] = []
    hooks = {"request": [lambda request: sent.append(str(request.url))]}
    clock = FakeClock()
    with Client(server.url, cache_ttl=60, clock=clock, event_hooks=hooks) as client:
        client.create_prompt("tone", "Be {{mood}}.")
        client.create_version("tone", content="Be very {{mood}}.", version_name="tone-v2")
        client.create_prompt("sign", "-- {{team}}")
        client.create_version("sign", content="Regards, {{team}}", activate=True)
        second_sign = client.get_active("sign")
        client.move_label("sign", "staging", second_sign.version_id)
        client.create_prompt(
            "reply",
            "{{> tone@1}} {{> tone@tone-v2}} {{> tone}} Answer {{q}}. {{> sign@staging}}",
        )
        client.create_prompt("outer", "[{{> reply}}]")
        values = {"mood": "kind", "q": "{{mood}}", "team": "Ops"}
        first = client.get_active("outer").render(**values)
        assert first == "[Be kind. Be very kind. Be kind. Answer {{mood}}. Regards, Ops]"
        assert client.render_active("outer", values) == first
        server.stop()
        before = len(sent)
        # Fresh copies: rendered here, includes too, with no request at all.
        assert client.get_active("outer").render(**values) == first
        assert len(sent) == before
        # Past the TTL with the server down: the last good copies (stale-if-error) for the
        # includes by label; the pinned ones are immutable and were kept.
        clock.advance(120)
        stale = client.get_active("outer")
        assert stale.source == "stale" and stale.render(**values) == first
        assert client.pinned.versions  # tone@1 and tone@tone-v2, kept for good


def test_a_copy_whose_include_cannot_be_resolved_is_still_served_and_says_why_on_render(
    start_server: Callable[..., ServerProcess],
) -> None:
    server = start_server()
    with Client(server.url, cache_ttl=60, clock=FakeClock()) as client:
        client.create_prompt("tone", "Be {{mood}}.")
        client.move_label("tone", "staging", client.get_active("tone").version_id)
        client.create_prompt("reply", "{{> tone@staging}} {{q}}")
        client.remove_label("tone", "staging")
        served = client.get_active("reply")  # the fetch itself does not fail
        assert served.content == "{{> tone@staging}} {{q}}"
        with pytest.raises(errors.TemplateInvalid, match=r"tone@staging.*could not be resolved"):
            served.render(mood="kind", q="?")

"""The client names the prompt on the current OpenTelemetry span (docs/opentelemetry.md),
with the real SDK and an in-memory exporter, against a real server."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Tracer

from promptdeck.client import AsyncClient, Client
from promptdeck.schemas import PromptOut, RenderOut, VersionOut
from tests.support.server import ServerProcess


@pytest.fixture
def spans() -> Iterator[tuple[Tracer, InMemorySpanExporter]]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield provider.get_tracer("test"), exporter
    provider.shutdown()


def attributes(exporter: InMemorySpanExporter) -> list[dict[str, Any]]:
    return [dict(span.attributes or {}) for span in exporter.get_finished_spans()]


def test_get_active_names_the_prompt_version_and_label_on_the_current_span(
    shared_server: ServerProcess, name: str, spans: tuple[Tracer, InMemorySpanExporter]
) -> None:
    tracer, exporter = spans
    with Client(shared_server.url) as c:
        c.create_prompt(name, "Hello {{who}}")
        staged = c.create_version(name, "Hi {{who}}")
        c.move_label(name, "staging", staged.id)
        with tracer.start_as_current_span("call"):
            active = c.get_active(name)
        with tracer.start_as_current_span("call"):
            c.get_active(name, label="staging")  # from the server
        with tracer.start_as_current_span("call"):
            c.get_active(name, label="staging")  # from the cache: the same attributes
    assert attributes(exporter) == [
        {
            "gen_ai.prompt.name": name,
            "gen_ai.prompt.version": str(active.version_id),
            "promptdeck.label": "active",
        },
        *[
            {
                "gen_ai.prompt.name": name,
                "gen_ai.prompt.version": str(staged.id),
                "promptdeck.label": "staging",
            }
        ]
        * 2,
    ]


def test_rendering_a_fetched_copy_names_it_on_the_span_of_the_render(
    shared_server: ServerProcess, name: str, spans: tuple[Tracer, InMemorySpanExporter]
) -> None:
    tracer, exporter = spans
    with Client(shared_server.url) as c:
        c.create_prompt(name, "Hello {{who}}")
        prompt = c.get_active(name)  # outside any span
        prompt._arm = "candidate"  # as a rollout's assignment will set it (issue 24)
        with tracer.start_as_current_span("llm"):
            assert prompt.render(who="Ada") == "Hello Ada"
    (found,) = attributes(exporter)
    assert found == {
        "gen_ai.prompt.name": name,
        "gen_ai.prompt.version": str(prompt.version_id),
        "promptdeck.label": "active",
        "promptdeck.rollout.arm": "candidate",
    }


def test_the_async_clients_server_render_names_the_version_it_rendered(
    shared_server: ServerProcess, name: str, spans: tuple[Tracer, InMemorySpanExporter]
) -> None:
    tracer, exporter = spans

    async def scenario() -> tuple[PromptOut, VersionOut, RenderOut]:
        async with AsyncClient(shared_server.url) as c:
            first = await c.create_prompt(name, "Hello {{who}}")
            second = await c.create_version(name, "Hi {{who}}")
            with tracer.start_as_current_span("render"):
                out = await c.render(name, {"who": "Ada"})
            with tracer.start_as_current_span("render"):
                await c.render(name, {"who": "Ada"}, version="2")  # its number
        return first, second, out

    first, second, out = asyncio.run(scenario())
    assert first.active_version is not None
    assert out.text == "Hello Ada"
    assert attributes(exporter) == [
        {
            "gen_ai.prompt.name": name,
            "gen_ai.prompt.version": str(first.active_version.id),
            "promptdeck.label": "active",
        },
        {"gen_ai.prompt.name": name, "gen_ai.prompt.version": str(second.id)},
    ]


def test_a_fallback_names_the_prompt_but_claims_no_version(
    spans: tuple[Tracer, InMemorySpanExporter],
) -> None:
    tracer, exporter = spans
    down = Client("http://127.0.0.1:9", retries=0, active_timeout=0.5)
    with down as c, tracer.start_as_current_span("call"):
        prompt = c.get_active("support-reply", fallback="You are helpful.")
    assert prompt.source == "fallback"
    assert attributes(exporter) == [
        {"gen_ai.prompt.name": "support-reply", "promptdeck.label": "active"}
    ]


def test_without_a_recording_span_nothing_is_set_and_nothing_fails(
    shared_server: ServerProcess, name: str, spans: tuple[Tracer, InMemorySpanExporter]
) -> None:
    _, exporter = spans
    with Client(shared_server.url) as c:
        c.create_prompt(name, "Hello {{who}}")
        assert c.get_active(name).render(who="x") == "Hello x"
    assert exporter.get_finished_spans() == ()

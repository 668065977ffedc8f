"""client.run, sync and async, against a real server: a version by name, a draft, the active
version, and a provider's failure raised as the same error class the server answered."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from promptdeck import errors
from promptdeck.client import AsyncClient, Client
from promptdeck.core import Registry
from promptdeck.domain.providers import RetryPolicy
from tests.evaluations.helpers import LOOPBACK
from tests.runs.conftest import add_provider
from tests.support.fake_llm import Answer, FakeLLM
from tests.support.server import ServerProcess


def test_the_sync_and_async_clients_run_versions_and_drafts(
    start_server: Callable[..., ServerProcess], registry: Registry, llm: FakeLLM, name: str
) -> None:
    add_provider(registry, llm, retry=RetryPolicy(attempts=1))
    server = start_server(env={"PROMPTDECK_ALLOW_OUTGOING": LOOPBACK})
    with Client(server.url) as client:
        client.create_prompt(name, "Hello {{who}}")
        client.create_version(name, "Bye {{who}}", version_name="bye")
        out = client.run(name, {"who": "Ada"}, provider="local", version="bye")
        assert out.output == "Bye Ada" and out.version_id is not None
        draft = {"content": "Hi {{who}}"}
        drafted = client.run(name, {"who": "Bo"}, provider="local", draft=draft)
        assert drafted.output == "Hi Bo" and drafted.version_id is None

    async def scenario() -> str:
        async with AsyncClient(server.url) as client:
            return (await client.run(name, {"who": "Cy"}, provider="local", model="m")).output

    assert asyncio.run(scenario()) == "Hello Cy"  # the active version
    llm.script(Answer(status=503))
    with Client(server.url) as client, pytest.raises(errors.ProviderUnavailable):
        client.run(name, {"who": "x"}, provider="local")
    assert len(llm.received()) == 4  # a failed run is never sent twice by the client

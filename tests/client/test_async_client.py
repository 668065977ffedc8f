"""AsyncClient: the same operations and the same cache, awaited."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest

from promptdeck import errors
from promptdeck.client import AsyncClient
from tests.support import aio
from tests.support.clock import FakeClock
from tests.support.server import ServerProcess, free_port


def test_async_client_covers_prompts_versions_and_rollback(
    shared_server: ServerProcess, name: str
) -> None:
    async def scenario() -> None:
        async with AsyncClient(shared_server.url, actor="bot") as client:
            await client.create_prompt(name, "one", version_name="v1")
            v2 = await client.create_version(name, "two", version_name="v2", activate=True)
            assert (await client.get_prompt(name)).active_version.id == v2.id  # type: ignore[union-attr]
            assert [v.version_name async for v in client.iter_versions(name)] == ["v2", "v1"]
            assert (await client.rollback(name, "v1")).changed
            assert (await client.get_version(name, "v2")).content == "two"
            assert (await client.update_prompt(name, description="d")).description == "d"
            events = [e async for e in client.iter_events(name)]
            assert [e.kind for e in events[:2]] == ["prompt.updated", "version.rolled_back"]
            assert events[1].actor == "bot"
            record = await client.export_prompt(name)
            assert (await client.import_prompt(record)).created is False
            with pytest.raises(errors.VersionNameTaken):
                await client.create_version(name, "x", version_name="v1")
            await client.delete_prompt(name)
            with pytest.raises(errors.PromptNotFound):
                await client.get_prompt(name)
            deleted = await client.list_prompts(q=name, deleted=True)
            assert [p.name for p in deleted.items] == [name] and deleted.items[0].deleted_at
            assert [p.name async for p in client.iter_prompts(q=name, deleted=True)] == [name]
            assert [p.name async for p in client.iter_prompts(q=name)] == []

    aio.run(scenario())


def test_async_get_active_caches_revalidates_and_sends_one_request_for_many_tasks(
    shared_server: ServerProcess, name: str
) -> None:
    statuses: list[int] = []
    clock = FakeClock()

    async def hook(response: httpx.Response) -> None:
        statuses.append(response.status_code)

    async def scenario() -> None:
        async with AsyncClient(
            shared_server.url, cache_ttl=10, event_hooks={"response": [hook]}, clock=clock
        ) as client:
            await client.create_prompt(name, "hello")
            statuses.clear()
            got = await asyncio.gather(*(client.get_active(name) for _ in range(20)))
            assert {g.content for g in got} == {"hello"}
            assert statuses == [200]
            clock.advance(10)
            assert (await client.get_active(name)).source == "revalidated"
            assert statuses == [200, 304]

    aio.run(scenario())


def test_async_stale_if_error_and_fallback(start_server: Callable[..., ServerProcess]) -> None:
    server, clock = start_server(), FakeClock()

    async def scenario() -> None:
        async with AsyncClient(
            server.url, cache_ttl=10, retries=1, backoff=0.01, clock=clock
        ) as client:
            await client.create_prompt("greeting", "hi")
            await client.get_active("greeting")
            server.stop()
            clock.advance(10)
            assert (await client.get_active("greeting")).source == "stale"
        async with AsyncClient(f"http://127.0.0.1:{free_port()}", retries=0) as cold:
            got = await cold.get_active("greeting", fallback="hello")
            assert (got.source, got.content) == ("fallback", "hello")
            with pytest.raises(errors.ConnectionFailed):
                await cold.get_active("greeting")

    aio.run(scenario())


def test_async_client_archives_restores_purges_and_reports_storage(
    shared_server: ServerProcess, name: str
) -> None:
    async def scenario() -> None:
        async with AsyncClient(shared_server.url, actor="bot") as client:
            created = await client.create_prompt(name, "one", version_name="v1", max_versions=5)
            assert created.max_versions == 5
            await client.create_version(name, "two", version_name="v2", activate=True)
            await client.create_version(name, "three", version_name="v3")
            assert (await client.archive_version(name, "v1")).archived
            only = [v.version_name async for v in client.iter_versions(name, archived=True)]
            assert only == ["v1"]
            page = await client.list_versions(name, archived=False)
            assert [v.version_name for v in page.items] == ["v3", "v2"]
            assert not (await client.restore_version(name, "v1")).archived
            tomb = await client.purge_version(name, "v3", reason="leak")
            assert (tomb.purged, tomb.purged_by, tomb.content) == (True, "bot", None)
            with pytest.raises(errors.ActiveVersionProtected):
                await client.purge_version(name, "v2", reason="no")
            storage = await client.get_storage(name)
            assert (storage.versions, storage.purged) == (3, 1)
            assert (await client.update_prompt(name, max_versions=None)).max_versions is None

    aio.run(scenario())

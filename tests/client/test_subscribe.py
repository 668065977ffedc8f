"""subscribe=: pushed moves expire the cache at once, across processes, through restarts and
dropped connections, missing no move. Real servers; the TTL is an hour, so only the push can
explain a fresh version."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

import httpx

from promptdeck.client import AsyncClient, Client
from tests.support import aio
from tests.support.proxy import Proxy
from tests.support.server import ServerProcess

HOUR = 3600.0
WAIT_S = 10.0


def _prompt(url: str, name: str, versions: int = 3) -> list[int]:
    """A prompt with ``versions`` versions; their ids, oldest first (the newest active)."""
    with httpx.Client(base_url=url, timeout=30) as http:
        ids = [http.post("/prompts", json={"name": name}).json()["active_version"]["id"]]
        for i in range(versions - 1):
            r = http.post(f"/prompts/{name}/versions", json={"content": f"v{i}", "activate": True})
            ids.append(r.json()["id"])
    return ids


def _rollback(url: str, name: str, version_id: int) -> None:
    r = httpx.post(f"{url}/prompts/{name}/versions/{version_id}/rollback", timeout=30)
    assert r.status_code == 200, r.text


def _until(check: Callable[[], bool], what: str) -> float:
    """Poll ``check`` until true; the seconds it took."""
    start = time.monotonic()
    while not check():
        assert time.monotonic() - start < WAIT_S, f"not within {WAIT_S} s: {what}"
        time.sleep(0.01)
    return time.monotonic() - start


async def _until_async(check: Callable[[], object], what: str) -> float:
    start = time.monotonic()
    while not await check():  # type: ignore[misc]
        assert time.monotonic() - start < WAIT_S, f"not within {WAIT_S} s: {what}"
        await asyncio.sleep(0.01)
    return time.monotonic() - start


def _threads() -> int:
    return sum(t.name == "promptdeck-changes" for t in threading.enumerate())


def test_a_subscribed_client_sees_a_rollback_made_through_another_process(
    start_server: Callable[..., ServerProcess], name: str
) -> None:
    a, b = start_server(), start_server()
    ids = _prompt(a.url, name)
    before = _threads()
    with Client(b.url, cache_ttl=HOUR, subscribe=True) as client:
        assert client.get_active(name).version_id == ids[2]
        assert client.changes is not None
        state = client.changes.state
        _until(lambda: state.connected, "the stream is up")
        assert _threads() == before + 1
        # The first "ready" expires what was cached before the stream: one revalidation.
        client.get_active(name)
        assert client.get_active(name).source == "cache"
        pushed = client.stats.pushed
        _rollback(a.url, name, ids[0])
        took = _until(lambda: client.get_active(name).version_id == ids[0], "the rollback")
        assert client.get_active(name).source == "cache"  # fresh again after one fetch
        assert client.stats.pushed == pushed + 1 and state.moves == 1
        print(f"rollback on process A seen by a client of process B after {took * 1000:.0f} ms")
    assert _threads() == before  # close() stopped the thread


def test_a_subscribed_client_recovers_after_its_server_restarts_missing_no_move(
    start_server: Callable[..., ServerProcess], name: str
) -> None:
    a, b = start_server(), start_server()
    ids = _prompt(a.url, name)
    with Client(b.url, cache_ttl=HOUR, subscribe=[name]) as client:
        client.get_active(name)
        assert client.changes is not None
        state = client.changes.state
        _until(lambda: state.connected, "the stream is up")
        b.kill()  # a crash: the stream ends
        _until(lambda: not state.connected, "the drop is noticed")
        assert client.get_active(name).version_id == ids[2]  # down: the cached copy
        for version_id in (ids[0], ids[1]):  # while no one streams to the client
            _rollback(a.url, name, version_id)
        b.start()  # same port: the client reconnects with Last-Event-ID
        _until(lambda: state.moves == 2, "both moves made while it was down")
        assert client.get_active(name).version_id == ids[1]


def test_a_dropped_connection_is_resumed_by_last_event_id_missing_no_move(
    server: ServerProcess, name: str
) -> None:
    ids = _prompt(server.url, name)
    with (
        Proxy(server.port) as proxy,
        Client(proxy.url, cache_ttl=HOUR, subscribe=[name]) as client,
    ):
        assert client.get_active(name).version_id == ids[2]
        assert client.changes is not None
        state = client.changes.state
        _until(lambda: state.connected, "the stream is up")
        last = state.last_event_id
        proxy.down()  # the link drops; reconnects are refused until up()
        _until(lambda: not state.connected, "the drop is noticed")
        for version_id in (ids[0], ids[1], ids[2], ids[0]):
            _rollback(server.url, name, version_id)
        proxy.up()
        _until(lambda: state.moves == 4, "the four moves made while it was cut off")
        assert state.last_event_id is not None and last is not None
        assert state.last_event_id == last + 4
        assert client.get_active(name).version_id == ids[0]


def test_an_async_client_sees_a_rollback_made_through_another_process(
    start_server: Callable[..., ServerProcess], name: str
) -> None:
    a, b = start_server(), start_server()
    ids = _prompt(a.url, name)

    async def scenario() -> None:
        async with AsyncClient(b.url, cache_ttl=HOUR, subscribe=[name]) as client:
            assert (await client.get_active(name)).version_id == ids[2]
            assert client.changes is not None
            state = client.changes.state

            async def connected() -> bool:
                return state.connected

            async def rolled_back() -> bool:
                return (await client.get_active(name)).version_id == ids[0]

            await _until_async(connected, "the stream is up")
            await client.get_active(name)  # the revalidation the first "ready" asked for
            assert (await client.get_active(name)).source == "cache"
            pushed = client.stats.pushed
            await asyncio.to_thread(_rollback, a.url, name, ids[0])
            await _until_async(rolled_back, "the rollback")
            assert client.stats.pushed == pushed + 1 and state.moves == 1
            task = client.changes.worker._task
        assert task is not None and task.done()  # aclose() stopped the task

    aio.run(scenario())


def test_an_async_client_recovers_after_a_restart_and_a_dropped_connection(
    start_server: Callable[..., ServerProcess], name: str
) -> None:
    a, b = start_server(), start_server()
    ids = _prompt(a.url, name)

    async def scenario() -> None:
        with Proxy(b.port) as proxy:
            async with AsyncClient(proxy.url, cache_ttl=HOUR, subscribe=[name]) as client:
                await client.get_active(name)
                assert client.changes is not None
                state = client.changes.state

                async def connected() -> bool:
                    return state.connected

                async def disconnected() -> bool:
                    return not state.connected

                def moves(n: int) -> Callable[[], object]:
                    async def check() -> bool:
                        return state.moves == n

                    return check

                await _until_async(connected, "the stream is up")
                await asyncio.to_thread(b.kill)
                await _until_async(disconnected, "the crash is noticed")
                await asyncio.to_thread(_rollback, a.url, name, ids[0])
                await asyncio.to_thread(b.start)
                await _until_async(moves(1), "the move made during the restart")
                proxy.down()
                await _until_async(disconnected, "the drop is noticed")
                await asyncio.to_thread(_rollback, a.url, name, ids[1])
                proxy.up()
                await _until_async(moves(2), "the move made while cut off")
                assert (await client.get_active(name)).version_id == ids[1]

    aio.run(scenario())

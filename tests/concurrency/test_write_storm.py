"""Tests 2 and 3 of the reliability plan: a write storm from 8 concurrent writers on one hot
prompt plus 8 spread over many prompts, through two real server processes.

On SQLite the two processes are the workers of one ``promptdeck serve --workers 2`` on one
file; on PostgreSQL they are two separate ``promptdeck serve`` processes on one database.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.support import aio
from tests.support.databases import BACKEND
from tests.support.load import (
    Tally,
    check_history,
    client,
    figure,
    locked_errors_in_logs,
    run_concurrently,
    scale,
)
from tests.support.server import ServerProcess


def two_processes(start_server: Callable[..., ServerProcess]) -> list[ServerProcess]:
    """Two server processes on the test database, the way each backend is deployed."""
    if BACKEND == "sqlite":
        return [start_server(workers=2)]
    return [start_server(), start_server()]


def test_eight_writers_on_one_hot_prompt_and_many_prompts_lose_nothing(
    start_server: Callable[..., ServerProcess], database_url: str, tmp_path: Path
) -> None:
    writers = 8
    # reliability.md section 7: test 2 (SQLite) is 8 x 250, test 3 (PostgreSQL) 8 x 500.
    per_writer = scale("storm", 250 if BACKEND == "sqlite" else 500)
    spread_prompts = scale("spread_prompts", 50)
    servers = two_processes(start_server)
    urls = [s.url for s in servers]
    with client(urls[0]) as http:
        assert http.post("/prompts", json={"name": "hot", "content": "v0"}).status_code == 201
        for p in range(spread_prompts):
            assert http.post("/prompts", json={"name": f"p{p}"}).status_code == 201

    tally = Tally()

    def hot_writer(i: int) -> None:
        with client(urls[i % len(urls)]) as http:
            for n in range(per_writer):
                body = {"content": f"w{i}-{n}", "description": f"writer {i} #{n}"}
                response = tally.timed(http.post, "/prompts/hot/versions", json=body)
                assert response.status_code == 201, response.text

    def spread_writer(i: int) -> None:
        with client(urls[(i + 1) % len(urls)]) as http:
            for n in range(per_writer):
                prompt = f"p{(i * per_writer + n) % spread_prompts}"
                body = {"content": f"s{i}-{n}"}
                response = tally.timed(http.post, f"/prompts/{prompt}/versions", json=body)
                assert response.status_code == 201, response.text

    started = time.monotonic()
    run_concurrently(
        2 * writers, lambda i: hot_writer(i) if i < writers else spread_writer(i - writers)
    )
    elapsed = time.monotonic() - started

    with client(urls[-1]) as http:
        hot = check_history(http, "hot")
        spread = [check_history(http, f"p{p}") for p in range(spread_prompts)]
    spread_versions = sum(h["count"] for h in spread)
    logs = [s.log_path for s in servers if s.log_path is not None]
    locked = locked_errors_in_logs(logs)
    wal = ""
    if BACKEND == "sqlite":
        wal_path = Path(database_url.removeprefix("sqlite:///") + "-wal")
        size = os.path.getsize(wal_path) if wal_path.exists() else 0
        wal = f", WAL {size / 1e6:.1f} MB at end"
    figure(
        "write storm",
        f"{writers} writers x {per_writer} on one hot prompt + {writers} x {per_writer} over "
        f"{spread_prompts} prompts, 2 server processes: {tally.summary()}; hot prompt "
        f"{hot['count']} versions, contiguous={hot['contiguous']}, "
        f"{hot['duplicate_numbers']} duplicate numbers, {hot['duplicate_names']} duplicate "
        f"names; spread {spread_versions} versions; creation events ok="
        f"{hot['creation_events_ok'] and all(h['creation_events_ok'] for h in spread)}; "
        f"{tally.server_errors} 5xx; {locked} 'database is locked'; "
        f"p99 {tally.p99_ms():.0f} ms; {elapsed:.1f} s{wal}",
    )

    assert tally.statuses == {201: 2 * writers * per_writer}
    assert hot["count"] == writers * per_writer + 1
    assert hot["contiguous"] and hot["duplicate_numbers"] == 0 and hot["duplicate_names"] == 0
    assert hot["creation_events_ok"]
    assert spread_versions == writers * per_writer + spread_prompts
    for history in spread:
        assert history["contiguous"], history["versions"][:3]
        assert history["duplicate_numbers"] == 0 and history["duplicate_names"] == 0
        assert history["creation_events_ok"]
    assert locked == 0
    # Default names are timestamps, suffixed -2, -3… when two land in one millisecond.
    names = [v["version_name"] for v in hot["versions"]]
    assert all(n.endswith("Z") or n.rsplit("-", 1)[1].isdigit() for n in names)


def test_server_processes_answer_writes_on_both_sides(
    start_server: Callable[..., ServerProcess],
) -> None:
    """A sanity check of the setup above: both processes really serve the database."""
    servers = two_processes(start_server)
    with httpx.Client(timeout=30) as http:
        r = http.post(servers[0].url + "/prompts", json={"name": "both"})
        assert r.status_code == 201
        r = http.post(servers[-1].url + "/prompts/both/versions", json={"content": "x"})
        assert r.status_code == 201
        assert http.get(servers[0].url + "/prompts/both/active").json()["number"] == 1


@pytest.mark.sqlite_only
def test_one_sqlite_process_takes_a_storm_of_named_and_default_versions_on_one_prompt(
    start_server: Callable[..., ServerProcess],
) -> None:
    """Test 1 of the plan: one process, 8 asyncio clients, half the versions named."""
    clients = 8
    per_client = scale("storm_async", 250)
    server = start_server()
    with client(server.url) as http:
        assert http.post("/prompts", json={"name": "one"}).status_code == 201
    tally = Tally()

    async def writer(i: int) -> None:
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
            for n in range(per_client):
                body: dict[str, object] = {"content": f"{i}-{n}"}
                if n % 2:
                    body["version_name"] = f"c{i}-n{n}"
                started = time.perf_counter()
                r = await http.post("/prompts/one/versions", json=body)
                tally.record(r, time.perf_counter() - started)
                assert r.status_code == 201, r.text

    async def storm() -> None:
        await asyncio.gather(*(writer(i) for i in range(clients)))

    started = time.monotonic()
    aio.run(storm())
    elapsed = time.monotonic() - started
    with client(server.url) as http:
        history = check_history(http, "one")
    locked = locked_errors_in_logs([server.log_path] if server.log_path else [])
    figure(
        "write storm, one process",
        f"{clients} async clients x {per_client} on one prompt (half named): {tally.summary()}; "
        f"{history['count']} versions, contiguous={history['contiguous']}, "
        f"{history['duplicate_numbers']} duplicate numbers, {history['duplicate_names']} "
        f"duplicate names, {tally.server_errors} 5xx, {locked} 'database is locked', p99 "
        f"{tally.p99_ms():.0f} ms, {elapsed:.1f} s",
    )
    assert tally.statuses == {201: clients * per_client}
    assert history["count"] == clients * per_client + 1 and history["contiguous"]
    assert history["duplicate_numbers"] == 0 and history["duplicate_names"] == 0
    assert history["creation_events_ok"] and locked == 0

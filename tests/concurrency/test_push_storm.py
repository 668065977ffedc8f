"""GET /changes under concurrent writers: a subscriber gets every pointer move of every
prompt, once each, in event-id order, while rollbacks on several prompts commit at once
through two processes (on PostgreSQL ids come from a sequence before commit; moves take a
lock so that they commit in id order, or a reader could pass a move still in flight)."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.support.load import figure, run_concurrently, scale
from tests.support.server import ServerProcess
from tests.support.sse import Subscription


def test_a_subscriber_gets_every_move_of_concurrent_writers_once_in_order(
    start_server: Callable[..., ServerProcess], name: str
) -> None:
    # a heartbeat after 1 quiet second ends the reading: a missed move fails, not hangs
    quick = {"PROMPTDECK_CHANGES_HEARTBEAT_S": "1"}
    servers = [start_server(env=quick), start_server(env=quick)]
    writers = 6
    per_writer = scale("push_storm_rollbacks", 40)
    prompts = [f"{name}-{i}" for i in range(writers)]
    ids: dict[str, list[int]] = {}
    with httpx.Client(base_url=servers[0].url, timeout=30) as http:
        for p in prompts:
            first = http.post("/prompts", json={"name": p}).json()["active_version"]["id"]
            second = http.post(f"/prompts/{p}/versions", json={"content": "two"}).json()["id"]
            ids[p] = [first, second]
    with Subscription(servers[1].url, timeout=30) as sub:
        start = int(sub.next().id or 0)

        def write(i: int) -> int:
            p = prompts[i]
            with httpx.Client(base_url=servers[i % 2].url, timeout=30) as http:
                for n in range(per_writer):
                    r = http.post(f"/prompts/{p}/versions/{ids[p][(n + 1) % 2]}/rollback")
                    assert r.status_code == 200, r.text
            return per_writer

        made = sum(run_concurrently(writers, write))
        got = []
        for event in sub.events(comments=True):
            if event.comment == "heartbeat":
                break
            got.append(event.json())
    with httpx.Client(base_url=servers[0].url, timeout=30) as http:
        expected = sorted(
            e["id"]
            for p in prompts
            for e in http.get(f"/prompts/{p}/events", params={"limit": 200}).json()["items"]
            if e["kind"] == "version.rolled_back" and e["id"] > start
        )
    received = [e["id"] for e in got]
    figure(
        "push storm",
        f"{writers} writers x {per_writer} rollbacks through 2 processes, one subscriber on "
        f"the second: {len(received)} moves received of {len(expected)}, "
        f"in order {received == sorted(received)}, duplicates {len(received) - len(set(received))}",
    )
    assert len(expected) == made
    assert received == expected

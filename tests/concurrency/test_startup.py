"""Several `promptdeck serve` processes started at once on one empty database (a fresh
deployment of N processes, or N replicas rolling onto a new release) all come up: the
migrations run exactly once and no process dies racing another one to create the tables."""

from __future__ import annotations

import threading
from collections.abc import Callable

from tests.support.load import client, figure
from tests.support.server import ServerProcess


def test_processes_started_together_on_an_empty_database_all_come_up(
    start_server: Callable[..., ServerProcess],
) -> None:
    count = 3
    barrier = threading.Barrier(count, timeout=120)
    started: list[ServerProcess] = []
    failures: list[str] = []

    def start() -> None:
        barrier.wait()
        try:
            started.append(start_server())
        except RuntimeError as exc:
            failures.append(str(exc))

    threads = [threading.Thread(target=start) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    logs = [s.log_path.read_text(errors="replace") for s in started if s.log_path]
    figure(
        "concurrent startup",
        f"{count} serve processes started at once on an empty database: {len(started)} up, "
        f"{len(failures)} failed",
    )
    assert failures == [], (failures, logs)
    with client(started[0].url) as http:
        assert http.post("/prompts", json={"name": "first"}).status_code == 201
    for server in started:
        with client(server.url) as http:
            assert http.get("/prompts/first/active").status_code == 200

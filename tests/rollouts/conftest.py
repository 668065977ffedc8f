"""Real servers for the rollout tests, given longer to start: these tests start several,
and on a shared 2-core machine an import of the server takes 20 s of wall time at times."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.server import ServerProcess

START_S = 180.0


@pytest.fixture
def start_servers(database_url: str, tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    started: list[ServerProcess] = []

    def start(**kwargs: object) -> ServerProcess:
        kwargs.setdefault("log_path", tmp_path / f"server-{len(started)}.log")
        server = ServerProcess(database_url, **kwargs)  # type: ignore[arg-type]
        started.append(server)
        return server.start(timeout=START_S)

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def server(start_servers: Callable[..., ServerProcess]) -> ServerProcess:
    return start_servers()

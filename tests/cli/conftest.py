"""A real server shared by this package's tests (each test uses its own prompt names)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.support.databases import fresh_database_url
from tests.support.server import ServerProcess


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    tmp = tmp_path_factory.mktemp("server")
    with fresh_database_url(tmp) as url:
        server = ServerProcess(url, log_path=tmp / "server.log").start()
        yield server
        server.stop()


@pytest.fixture
def name() -> str:
    """A prompt name no other test uses."""
    return f"p-{uuid.uuid4().hex[:10]}"

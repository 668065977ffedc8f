"""Fixtures: a real database of the run's backend, the registry over it, the app, servers."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from promptdeck.config import Settings
from promptdeck.core import Registry
from promptdeck.server import create_app
from promptdeck.store import migrate
from promptdeck.store.engine import create_engine
from tests.support import secrets_sweep
from tests.support.databases import BACKEND, fresh_database_url
from tests.support.load import figure
from tests.support.server import ServerProcess


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only: runs only in the SQLite pass")
    config.addinivalue_line("markers", "postgresql_only: runs only in the PostgreSQL pass")


OTHER_BACKEND_MARK = {"sqlite": "postgresql_only", "postgresql": "sqlite_only"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run each backend-specific test only in its own pass (scripts/test.sh runs both)."""
    other = OTHER_BACKEND_MARK.get(BACKEND)
    keep = [item for item in items if not (other and item.get_closest_marker(other))]
    if len(keep) != len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in keep])
        items[:] = keep


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The secrets sweep over every database file and server log the suite left (issue 11):
    any raw key or password fails the run."""
    if session.config.option.collectonly or not hasattr(session.config, "_tmp_path_factory"):
        return
    root = session.config._tmp_path_factory.getbasetemp()
    read, leaks = secrets_sweep.sweep(root)
    figure(
        "secrets at rest, whole suite",
        f"{len(leaks)} raw keys, passwords or webhook secrets in {read} database files "
        "and server logs",
    )
    if leaks:
        print("\n".join(leaks[:20]))
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_report_header() -> str:
    return f"promptdeck test backend: {BACKEND}"


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    with fresh_database_url(tmp_path) as url:
        yield url


@pytest.fixture
def registry(database_url: str) -> Iterator[Registry]:
    engine = create_engine(database_url)
    migrate.upgrade(engine)
    yield Registry(engine)
    engine.dispose()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    # The secret key that seals provider keys in a file of the test's own, on PostgreSQL too
    # (on SQLite the default is beside the database: tests/evaluations/test_provider_keys.py).
    secret = str(tmp_path / "secret.key")
    return Settings(database_url=database_url, max_body_bytes=64 * 1024, secret_key_file=secret)


@pytest.fixture
def api(settings: Settings, registry: Registry) -> Iterator[TestClient]:
    """The real app in-process over the real database (no server socket)."""
    with TestClient(create_app(settings, registry), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def start_server(database_url: str, tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    """Start real `promptdeck serve` processes on the test database; all stopped at the end."""
    started: list[ServerProcess] = []
    numbers = (
        itertools.count()
    )  # thread-safe in CPython: servers started together get their own log

    def start(**kwargs: object) -> ServerProcess:
        kwargs.setdefault("log_path", tmp_path / f"server-{next(numbers)}.log")
        server = ServerProcess(database_url, **kwargs)  # type: ignore[arg-type]
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def server(start_server: Callable[..., ServerProcess]) -> ServerProcess:
    return start_server()


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A real server shared by one test module's tests (each uses its own prompt names)."""
    tmp = tmp_path_factory.mktemp("server")
    with fresh_database_url(tmp) as url:
        server = ServerProcess(url, log_path=tmp / "server.log").start()
        yield server
        server.stop()


@pytest.fixture
def name() -> str:
    """A prompt name no other test uses."""
    return f"p-{uuid.uuid4().hex[:10]}"

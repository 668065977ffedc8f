"""A database that cannot be reached is a 503 problem with Retry-After, never a bare 500."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from promptdeck.config import Settings
from promptdeck.core import Registry
from promptdeck.domain.caller import SYSTEM
from promptdeck.errors import DatabaseUnavailable, ServerError
from promptdeck.server import create_app
from promptdeck.store.engine import create_engine
from tests.api.helpers import assert_problem


@pytest.mark.sqlite_only
def test_an_unreachable_database_is_503_with_retry_after_everywhere(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'no-such-dir' / 'x.db'}"  # SQLite cannot open it
    registry = Registry(create_engine(url))
    with pytest.raises(DatabaseUnavailable):
        registry.get_prompt("p", SYSTEM)
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'probe.db'}")
    with TestClient(create_app(settings, registry), raise_server_exceptions=False) as api:
        for response in (
            api.get("/prompts/p"),
            api.post("/prompts", json={"name": "p"}),
            api.get("/prompts/p/active"),  # the fast path, outside FastAPI
        ):
            body = assert_problem(response, 503, "database-unavailable")
            assert response.headers["retry-after"] == "1"
            assert "sqlite" not in body["detail"].lower()


def test_database_unavailable_is_a_server_error_for_clients() -> None:
    # the client's retries and stale-if-error treat every ServerError as an outage
    assert issubclass(DatabaseUnavailable, ServerError)

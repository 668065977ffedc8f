"""Fixtures for servers with keys: the real app over the real database, and the keys."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from promptdeck.config import Settings
from promptdeck.core import Registry
from promptdeck.core.access import Access, utcnow
from promptdeck.server import create_app


@dataclass
class Keys:
    admin: str
    write: str
    read: str
    limited: str  # write, only prompts named team-…
    revoked: str
    expired: str


@pytest.fixture
def access(registry: Registry) -> Access:
    return Access(registry.engine)


@pytest.fixture
def keys(access: Access, registry: Registry) -> Keys:
    past = Access(registry.engine, clock=lambda: utcnow() - timedelta(hours=2))
    made = Keys(
        admin=access.create_key("admin", "admin").secret,
        write=access.create_key("ci", "write").secret,
        read=access.create_key("reader", "read").secret,
        limited=access.create_key("team-bot", "write", prefixes=["team-"]).secret,
        revoked=access.create_key("old", "admin").secret,
        expired=past.create_key("temp", "admin", expires_in="1h").secret,
    )
    access.revoke("old", "key")
    return made


@pytest.fixture
def keyed(settings: Settings, registry: Registry, keys: Keys) -> Iterator[TestClient]:
    """The app over a database that has keys: every route but /healthz needs one."""
    with TestClient(create_app(settings, registry), raise_server_exceptions=False) as client:
        yield client


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def snapshot(registry: Registry) -> tuple[object, ...]:
    """Everything a refused request must leave as it was (content included)."""
    with registry.engine.connect() as conn:
        return tuple(
            tuple(tuple(row) for row in conn.execute(sa.text(f"SELECT * FROM {table} ORDER BY 1")))
            for table in ("prompts", "versions", "events", "blobs", "principals", "sessions")
        )

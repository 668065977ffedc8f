"""Fixtures for servers with keys: the real app over the real database, and the keys."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from promptdeck.config import Settings
from promptdeck.core import Registry
from promptdeck.core.access import Access
from promptdeck.core.tx import utcnow
from promptdeck.server import create_app
from promptdeck.store.engine import create_engine
from tests.support.load import figure


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
    """The app over a database that has keys: every route but /healthz needs one. Its
    webhooks may point at 127.0.0.1 (the matrix creates some; none is ever enabled)."""
    allowed = settings.model_copy(update={"allow_outgoing": "127.0.0.1"})
    with TestClient(create_app(allowed, registry), raise_server_exceptions=False) as client:
        yield client


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


SNAPSHOT_TABLES = (
    *("prompts", "versions", "events", "blobs", "principals", "sessions"),
    *("labels", "protected_labels", "label_moves", "deploy_requests"),
    *("webhooks", "webhook_deliveries"),
    *("test_sets", "test_set_versions", "test_cases", "label_gates"),
    *("evaluations", "evaluation_items", "evaluation_results", "providers"),
)


def snapshot(registry: Registry) -> tuple[object, ...]:
    """Everything a refused request must leave as it was (content included). PostgreSQL
    digests each table's rows where they are (every column's text, in a total order), so a
    test that snapshots a growing database a thousand times does not ship every row to
    Python each time; SQLite, in process, reads them."""
    with registry.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            digest = "SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), ''))"
            return tuple(
                tuple(conn.execute(sa.text(f"{digest} FROM {table} t")).one())
                for table in SNAPSHOT_TABLES
            )
        return tuple(
            tuple(tuple(row) for row in conn.execute(sa.text(f"SELECT * FROM {table} ORDER BY 1")))
            for table in SNAPSHOT_TABLES
        )


# --- no secret at rest: after every test here, its database and its logs ---------------------

RAW_KEY = re.compile(r"pdk_[0-9a-f]{8}_[A-Za-z0-9_-]{20,}")
PASSWORDS = ("a long password", "a long enough password", "correct horse battery staple")
PROVIDER_KEY = re.compile(r"sk-pdtest-[A-Za-z0-9_-]{8,}")  # tests/support/secrets_sweep.py
SCANNED = {"databases": 0, "logs": 0, "characters": 0, "found": 0}


@pytest.fixture(scope="session", autouse=True)
def secrets_at_rest_figure() -> Iterator[None]:
    yield
    if SCANNED["databases"]:
        figure(
            "secrets at rest, every access test",
            f"{SCANNED['found']} raw keys, passwords or provider keys in "
            f"{SCANNED['databases']} database dumps and {SCANNED['logs']} server logs "
            f"({SCANNED['characters']:,} characters)",
        )


@pytest.fixture(autouse=True)
def no_secret_at_rest(database_url: str, tmp_path: Path) -> Iterator[None]:
    """Any raw key (by its shape), test password or test provider key in the test's database
    or server logs fails the test that left it there."""
    yield
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            text = "\n".join(
                repr(tuple(row))
                for table in sa.inspect(conn).get_table_names()
                for row in conn.execute(sa.text(f'SELECT * FROM "{table}"'))
            )
    finally:
        engine.dispose()
    logs = list(tmp_path.rglob("*.log"))
    text += "".join(log.read_text(errors="replace") for log in logs)
    found = len(RAW_KEY.findall(text)) + sum(text.count(p) for p in PASSWORDS)
    found += len(PROVIDER_KEY.findall(text))
    SCANNED["databases"] += 1
    SCANNED["logs"] += len(logs)
    SCANNED["characters"] += len(text)
    SCANNED["found"] += found
    assert found == 0, "a raw key or password was left in the database or a log"

"""Migration 0004 (keys, people, sessions) goes up and down on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from promptdeck.core import Registry
from promptdeck.core.access import Access
from promptdeck.domain.caller import Caller
from promptdeck.domain.commands import CreatePrompt
from promptdeck.store import migrate
from promptdeck.store.engine import create_engine
from promptdeck.store.types import JSONType, UTCDateTime

BEFORE_0004 = "0003"


def test_0004_adds_the_access_tables_and_takes_them_away_again(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        migrate.upgrade(engine)
        Registry(engine).create_prompt(CreatePrompt("kept", content="one"), Caller.local("ana"))
        migrate.downgrade(engine, BEFORE_0004)
        migrate.upgrade(engine)
        access = Access(engine)
        assert access.state() == (0, False)
        key = access.create_key("ci", "write").secret
        access.create_user("ana", "read", "a long password")
        access.sign_in("ana", "a long password")
        assert access.check_key(key) is not None
        assert access.state() == (2, True)

        migrate.downgrade(engine, BEFORE_0004)
        tables = set(sa.inspect(engine).get_table_names())
        assert not tables & {"principals", "sessions", "access_state"}
        with engine.connect() as conn:  # the Registry of today needs today's schema
            assert conn.execute(sa.text("SELECT name FROM prompts")).scalars().all() == ["kept"]

        migrate.upgrade(engine)
        assert Access(engine).state() == (0, False)  # a fresh start: no key survived
    finally:
        engine.dispose()


def test_0014_counts_failures_in_a_table_and_its_downgrade_keeps_the_mark_of_past_keys(
    database_url: str,
) -> None:
    engine = create_engine(database_url)
    try:
        migrate.upgrade(engine, "0012")
        principals = sa.table(
            "principals",
            *(sa.column(c) for c in ("name", "kind", "role", "key_id", "secret_hash")),
            sa.column("prefixes", JSONType),
            sa.column("created_at", UTCDateTime),
            sa.column("created_by"),
        )
        with engine.begin() as conn:  # a key made before 0014: the mark is filled from it
            conn.execute(
                sa.insert(principals).values(
                    name="old",
                    kind="key",
                    role="admin",
                    key_id="pdk_0000000a",
                    secret_hash="x",
                    prefixes=[],
                    created_at=datetime(2026, 1, 2, tzinfo=UTC),
                    created_by="cli",
                )
            )
        migrate.upgrade(engine)
        access = Access(engine)
        assert access.had_access() == datetime(2026, 1, 2, tzinfo=UTC)
        columns = {c["name"] for c in sa.inspect(engine).get_columns("principals")}
        assert not columns & {"failed_sign_ins", "locked_until"}

        migrate.downgrade(engine, BEFORE_0004)  # every key gone...
        tables = set(sa.inspect(engine).get_table_names())
        assert "auth_failures" not in tables and "access_marks" in tables
        migrate.upgrade(engine)
        assert Access(engine).state() == (0, False)
        assert Access(engine).had_access() is not None  # ...but not the mark

        migrate.downgrade(engine, "base")
        assert set(sa.inspect(engine).get_table_names()) <= {"access_marks", "alembic_version"}
    finally:
        engine.dispose()


def test_a_new_database_has_no_mark_until_its_first_key(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        migrate.upgrade(engine)
        access = Access(engine)
        assert access.had_access() is None
        access.create_user("ana", "admin", "a long password")
        assert access.had_access() is not None
    finally:
        engine.dispose()

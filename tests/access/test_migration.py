"""Migration 0004 (keys, people, sessions) goes up and down on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa

from promptdeck.core import Registry
from promptdeck.core.access import Access
from promptdeck.domain.caller import Caller
from promptdeck.domain.commands import CreatePrompt
from promptdeck.store import migrate
from promptdeck.store.engine import create_engine

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

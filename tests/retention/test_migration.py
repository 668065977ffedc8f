"""Migration 0002 moves contents into blobs and back, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from promptdeck.core import Registry
from promptdeck.domain.caller import SYSTEM
from promptdeck.domain.commands import ArchiveVersion, CreateVersion, PurgeVersion
from promptdeck.store import migrate
from promptdeck.store.engine import create_engine

NOW = datetime(2026, 11, 24, 10, 0, 0, 123456, tzinfo=UTC)
NOW_TEXT = "2026-11-24 10:00:00.123456"  # as revision 0001 stored it on SQLite
HASH = "sha256:" + "ab" * 32
LONG = "Translate the user's message into French, keeping the tone. " * 40


def test_0002_upgrades_existing_contents_and_downgrades_them_back(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        migrate.upgrade(engine, "0001")
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO prompts (name, description, tags, content, model_config, "
                    "next_version_number, version_count, max_versions, revision, created_at, "
                    "updated_at) VALUES ('p', '', '[]', 'wc', '{}', 3, 3, NULL, 1, :t, :t)"
                ),
                {"t": NOW_TEXT},
            )
            for number, content in ((1, LONG), (2, "short \u00e9 \U0001f600"), (3, LONG)):
                conn.execute(
                    sa.text(
                        "INSERT INTO versions (prompt_id, number, version_name, description, "
                        "content, model_config, content_hash, created_by, created_at) VALUES "
                        "(1, :n, :name, '', :c, '{}', :h, 'a', :t)"
                    ),
                    {"n": number, "name": f"v{number}", "c": content, "t": NOW_TEXT, "h": HASH},
                )
            conn.execute(sa.text("UPDATE prompts SET active_version_id = 3"))

        migrate.upgrade(engine)
        assert migrate.current(engine) == migrate.head(engine)
        registry = Registry(engine)
        assert registry.get_version("p", 1, SYSTEM).created_at == NOW
        assert registry.get_version("p", 1, SYSTEM).content_hash == HASH
        assert registry.get_prompt("p", SYSTEM).updated_at == NOW
        assert [registry.get_version("p", n, SYSTEM).content for n in (1, 2, 3)] == [
            LONG,
            "short \u00e9 \U0001f600",
            LONG,
        ]
        assert registry.storage("p", SYSTEM).blobs == 2  # v1 and v3 share one blob
        v4 = registry.create_version(CreateVersion("p", content=LONG + " more"), SYSTEM).version
        v5 = registry.create_version(CreateVersion("p", content="gone"), SYSTEM).version
        registry.purge_version(PurgeVersion("p", v5.id, reason="test"), SYSTEM)
        registry.archive_version(ArchiveVersion("p", 1), SYSTEM)

        migrate.downgrade(engine, "0001")
        with engine.connect() as conn:
            rows = dict(conn.execute(sa.text("SELECT id, content FROM versions")).all())
            stamp = conn.execute(sa.text("SELECT created_at FROM versions WHERE id = 1")).scalar()
            hashes = {r[0] for r in conn.execute(sa.text("SELECT content_hash FROM versions"))}
            tables = sa.inspect(conn).get_table_names()
        assert rows == {
            1: LONG,
            2: "short \u00e9 \U0001f600",
            3: LONG,
            v4.id: LONG + " more",
            v5.id: None,
        }
        assert "blobs" not in tables
        assert str(stamp).startswith("2026-11-24 10:00:00.123456")
        assert HASH in hashes
        assert all(isinstance(h, str) and h.startswith("sha256:") for h in hashes)

        migrate.upgrade(engine)
        assert Registry(engine).get_version("p", v4.id, SYSTEM).content == LONG + " more"
    finally:
        engine.dispose()

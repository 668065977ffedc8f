"""Migration 0006 (labels) goes up and down, and an existing prompt's active version is
its `active` label after the upgrade."""

from __future__ import annotations

import sqlalchemy as sa

from promptdeck.core import Registry
from promptdeck.store import migrate
from promptdeck.store.engine import create_engine

LABEL_TABLES = {"labels", "protected_labels", "label_moves", "deploy_requests"}


def test_0006_downgrades_to_0004_keeping_active_and_upgrades_with_active_as_the_label(
    database_url: str,
) -> None:
    engine = create_engine(database_url)
    try:
        migrate.upgrade(engine)
        registry = Registry(engine)
        registry.create_prompt("p", content="one")
        v2 = registry.create_version("p", content="two").version
        registry.rollback("p", v2.id)
        registry.move_label("p", "production", v2.id, reason="ship")
        registry.protect_label("p", "production", True)
        registry.propose_deploy("p", "production", v2.id, reason="again", actor="ana")

        migrate.downgrade(engine, "0004")  # the revision before 0006
        assert migrate.current(engine) == "0004"
        with engine.connect() as conn:
            assert not LABEL_TABLES & set(sa.inspect(conn).get_table_names())
            active = conn.execute(sa.text("SELECT active_version_id FROM prompts")).scalar()
        assert active == v2.id

        migrate.upgrade(engine)
        assert set(sa.inspect(engine).get_table_names()) >= LABEL_TABLES
        labels = Registry(engine).list_labels("p")
        assert [(x.name, x.version_id) for x in labels] == [("active", v2.id)]
        assert Registry(engine).get_active("p", "active")[1].content == "two"
    finally:
        engine.dispose()

"""Migration 0006 (labels) goes up and down, and an existing prompt's active version is
its `active` label after the upgrade."""

from __future__ import annotations

import sqlalchemy as sa

from promptdeck.core import Registry
from promptdeck.domain.caller import SYSTEM, Caller
from promptdeck.domain.commands import (
    CreatePrompt,
    CreateVersion,
    MoveLabel,
    ProposeDeploy,
    ProtectLabel,
    Rollback,
)
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
        registry.create_prompt(CreatePrompt("p", content="one"), SYSTEM)
        v2 = registry.create_version(CreateVersion("p", content="two"), SYSTEM).version
        registry.rollback(Rollback("p", v2.id), SYSTEM)
        registry.move_label(MoveLabel("p", "production", v2.id, reason="ship"), SYSTEM)
        registry.protect_label(ProtectLabel("p", "production", True), SYSTEM)
        registry.propose_deploy(
            ProposeDeploy("p", "production", v2.id, reason="again"), Caller.local("ana")
        )

        migrate.downgrade(engine, "0004")  # the revision before 0006
        assert migrate.current(engine) == "0004"
        with engine.connect() as conn:
            assert not LABEL_TABLES & set(sa.inspect(conn).get_table_names())
            active = conn.execute(sa.text("SELECT active_version_id FROM prompts")).scalar()
        assert active == v2.id

        migrate.upgrade(engine)
        assert set(sa.inspect(engine).get_table_names()) >= LABEL_TABLES
        labels = Registry(engine).list_labels("p", SYSTEM)
        assert [(x.name, x.version_id) for x in labels] == [("active", v2.id)]
        assert Registry(engine).get_active("p", SYSTEM, "active")[1].content == "two"
    finally:
        engine.dispose()

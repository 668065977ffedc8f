"""Migrations go up and down on the run's database, and foreign keys are enforced."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy.exc import IntegrityError

from promptdeck.core import Registry
from promptdeck.domain.caller import SYSTEM
from promptdeck.domain.commands import CreatePrompt, CreateVersion
from promptdeck.store import migrate
from promptdeck.store.engine import create_engine, writer
from promptdeck.store.types import JSONType, UTCDateTime


def test_upgrade_downgrade_upgrade_round_trips(database_url: str) -> None:
    engine = create_engine(database_url)
    migrate.upgrade(engine)
    assert migrate.current(engine) == migrate.head(engine)
    migrate.downgrade(engine, "base")
    assert migrate.current(engine) is None
    assert "versions" not in sa.inspect(engine).get_table_names()
    migrate.upgrade(engine)
    assert {"prompts", "versions", "events"} <= set(sa.inspect(engine).get_table_names())
    engine.dispose()


def test_active_pointer_cannot_name_another_prompts_version(registry: Registry) -> None:
    a = registry.create_prompt(CreatePrompt("a"), SYSTEM).prompt
    b = registry.create_prompt(CreatePrompt("b"), SYSTEM).prompt
    with (
        pytest.raises(IntegrityError),
        writer(registry.engine).begin() as conn,
    ):
        conn.execute(
            sa.text("UPDATE prompts SET active_version_id = :v WHERE id = :p"),
            {"v": b.active_version_id, "p": a.id},
        )


def test_duplicate_numbers_are_refused_by_the_database(registry: Registry) -> None:
    p = registry.create_prompt(CreatePrompt("a"), SYSTEM).prompt
    with (
        pytest.raises(IntegrityError),
        writer(registry.engine).begin() as conn,
    ):
        conn.execute(
            sa.text(
                "INSERT INTO versions (prompt_id, number, version_name, description,"
                " model_config, content_hash, created_by, created_at)"
                " VALUES (:p, 1, 'other', '', '{}', 'h', 'x', CURRENT_TIMESTAMP)"
            ),
            {"p": p.id},
        )


def test_0012_adds_the_outcomes_by_prompt_index_and_its_downgrade_drops_it(
    database_url: str,
) -> None:
    engine = create_engine(database_url)

    def indexes() -> set[str]:
        return {str(i["name"]) for i in sa.inspect(engine).get_indexes("outcomes")}

    migrate.upgrade(engine)
    assert "ix_outcomes_prompt_id_at_id" in indexes()
    migrate.downgrade(engine, "0009")
    assert migrate.current(engine) == "0009"
    assert "ix_outcomes_prompt_id_at_id" not in indexes()
    assert {"ix_outcomes_at", "ix_outcomes_version_id_at"} <= indexes()
    migrate.upgrade(engine)
    assert (
        migrate.current(engine) == migrate.head(engine)
        and "ix_outcomes_prompt_id_at_id" in indexes()
    )
    engine.dispose()


def _scripts() -> ScriptDirectory:
    cfg = Config()
    cfg.set_main_option("script_location", "promptdeck.store:migrations")
    return ScriptDirectory.from_config(cfg)


BEFORE_0021 = str(_scripts().get_revision("0021").down_revision)
EVALUATION_TABLES = {
    "providers",
    "test_sets",
    "test_set_versions",
    "test_cases",
    "evaluations",
    "evaluation_items",
    "evaluation_results",
    "label_gates",
}


def test_0021_adds_the_evaluation_tables_and_its_downgrade_drops_them(database_url: str) -> None:
    engine = create_engine(database_url)
    migrate.upgrade(engine)
    assert set(sa.inspect(engine).get_table_names()) >= EVALUATION_TABLES
    pending = {str(i["name"]) for i in sa.inspect(engine).get_indexes("evaluation_items")}
    assert "ix_evaluation_items_pending" in pending
    before = BEFORE_0021  # whatever 0021 revises (0020)
    migrate.downgrade(engine, before)
    assert migrate.current(engine) == before
    assert not EVALUATION_TABLES & set(sa.inspect(engine).get_table_names())
    assert "prompts" in sa.inspect(engine).get_table_names()
    migrate.upgrade(engine)
    assert migrate.current(engine) == migrate.head(engine)
    assert set(sa.inspect(engine).get_table_names()) >= EVALUATION_TABLES
    engine.dispose()


def test_0015_adds_the_versions_contract_column_and_its_downgrade_drops_it(
    database_url: str,
) -> None:
    engine = create_engine(database_url)

    def columns() -> set[str]:
        return {str(c["name"]) for c in sa.inspect(engine).get_columns("versions")}

    migrate.upgrade(engine, "0014")
    assert "contract" not in columns()
    migrate.upgrade(engine)
    assert "contract" in columns()
    migrate.downgrade(engine, "0014")
    assert "contract" not in columns() and migrate.current(engine) == "0014"
    migrate.upgrade(engine)
    assert "contract" in columns() and migrate.current(engine) == migrate.head(engine)
    engine.dispose()


def test_0020_adds_the_rollout_tables_and_columns_and_its_downgrade_drops_them(
    database_url: str,
) -> None:
    engine = create_engine(database_url)

    def tables() -> set[str]:
        return set(sa.inspect(engine).get_table_names())

    def columns(table: str) -> set[str]:
        return {str(c["name"]) for c in sa.inspect(engine).get_columns(table)}

    migrate.upgrade(engine)
    assert {"rollouts", "rollout_arms"} <= tables()
    assert "kind" in columns("label_moves") and "plan" in columns("deploy_requests")
    indexes = {str(i["name"]): i for i in sa.inspect(engine).get_indexes("rollouts")}
    assert indexes["uq_rollouts_live"]["unique"]
    migrate.downgrade(engine, "0015")  # what 0020 revises (0021 goes first)
    assert migrate.current(engine) == "0015"
    assert not {"rollouts", "rollout_arms"} & tables()
    assert "kind" not in columns("label_moves") and "plan" not in columns("deploy_requests")
    migrate.upgrade(engine)
    assert migrate.current(engine) == migrate.head(engine) and "rollouts" in tables()
    engine.dispose()


def test_one_live_rollout_per_label_is_the_databases_rule(registry: Registry) -> None:
    created = registry.create_prompt(CreatePrompt("a", content="one"), SYSTEM).prompt
    second = registry.create_version(CreateVersion("a", content="two"), SYSTEM).version.id
    row = {
        "p": created.id,
        "b": created.active_version_id,
        "c": second,
        "now": registry.clock(),
    }
    insert = sa.text(
        "INSERT INTO rollouts (prompt_id, label, baseline_version_id, candidate_version_id,"
        " salt, plan, status, step, basis_points, started_at, started_by, step_started_at)"
        " VALUES (:p, 'active', :b, :c, 's', '{}', :status, 0, 500, :now, 'x', :now)"
    ).bindparams(sa.bindparam("now", type_=UTCDateTime))
    with writer(registry.engine).begin() as conn:
        conn.execute(insert, {**row, "status": "aborted"})
        conn.execute(insert, {**row, "status": "running"})  # an ended one does not count
    with pytest.raises(IntegrityError), writer(registry.engine).begin() as conn:
        conn.execute(insert, {**row, "status": "paused"})


def test_0022_adds_the_sealed_provider_key_column_and_its_downgrade_keeps_the_providers(
    database_url: str,
) -> None:
    engine = create_engine(database_url)

    def columns() -> set[str]:
        return {str(c["name"]) for c in sa.inspect(engine).get_columns("providers")}

    when = datetime(2026, 12, 7, tzinfo=UTC)
    row = {"name": "local", "base_url": "http://127.0.0.1:9/v1", "models": ["m"], "prices": {},
           "timeouts": {}, "retry_attempts": 3, "created_at": when, "created_by": "t",
           "updated_at": when}  # fmt: skip
    before = sa.table(  # the table as 0021 made it
        "providers",
        *(sa.column(k) for k in ("name", "base_url", "retry_attempts", "created_by")),
        *(sa.column(k, JSONType) for k in ("models", "prices", "timeouts")),
        *(sa.column(k, UTCDateTime) for k in ("created_at", "updated_at")),
    )
    insert = sa.insert(before).values(**row)
    migrate.upgrade(engine, "0021")
    assert "api_key_sealed" not in columns()
    with engine.begin() as conn:
        conn.execute(insert)
    migrate.upgrade(engine, "0022")
    with engine.connect() as conn:
        sealed = conn.execute(sa.text("SELECT api_key_sealed FROM providers")).scalar_one()
    assert sealed is None  # a provider from before: its key, if any, is a variable
    migrate.downgrade(engine, "0021")
    assert "api_key_sealed" not in columns() and migrate.current(engine) == "0021"
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT name FROM providers")).scalar_one() == "local"
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(insert)  # the name is still unique after the table was rebuilt
    migrate.upgrade(engine)
    assert "api_key_sealed" in columns()
    engine.dispose()

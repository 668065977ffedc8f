"""Prompts, versions, events and idempotency keys.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from promptdeck.store.types import JSONType, UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _active_fk() -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["id", "active_version_id"],
        ["versions.prompt_id", "versions.id"],
        name="fk_prompts_active_version",
    )


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.create_table(
        "prompts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("tags", JSONType, nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("model_config", JSONType, nullable=False),
        sa.Column("active_version_id", sa.Integer, nullable=True),
        sa.Column("next_version_number", sa.Integer, nullable=False),
        sa.Column("version_count", sa.Integer, nullable=False),
        sa.Column("max_versions", sa.Integer, nullable=True),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("deleted_at", UTCDateTime, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_prompts"),
        sa.UniqueConstraint("name", name="uq_prompts_name"),
        # SQLite checks a foreign key's target only when rows change, so it can be declared
        # before the versions table exists; PostgreSQL gets it once both tables are there.
        *([_active_fk()] if sqlite else []),
    )
    op.create_table(
        "versions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("prompt_id", sa.Integer, nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("version_name", sa.String(128), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("content", sa.Text, nullable=True),
        sa.Column("model_config", JSONType, nullable=True),
        sa.Column("content_hash", sa.String(80), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_versions"),
        sa.ForeignKeyConstraint(["prompt_id"], ["prompts.id"], name="fk_versions_prompt_id"),
        sa.UniqueConstraint("prompt_id", "number", name="uq_versions_prompt_id_number"),
        sa.UniqueConstraint("prompt_id", "version_name", name="uq_versions_prompt_id_version_name"),
        sa.UniqueConstraint("prompt_id", "id", name="uq_versions_prompt_id_id"),
    )
    if not sqlite:
        op.create_foreign_key(
            "fk_prompts_active_version",
            "prompts",
            "versions",
            ["id", "active_version_id"],
            ["prompt_id", "id"],
        )
    op.create_table(
        "events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("prompt_id", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("version_id", sa.Integer, nullable=True),
        sa.Column("from_version_id", sa.Integer, nullable=True),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("detail", JSONType, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
        sa.ForeignKeyConstraint(["prompt_id"], ["prompts.id"], name="fk_events_prompt_id"),
    )
    op.create_index("ix_events_prompt_id_id", "events", ["prompt_id", "id"])
    op.create_table(
        "idempotency_keys",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("scope", sa.String(64), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("request_hash", sa.String(80), nullable=False),
        sa.Column("result_id", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_idempotency_keys"),
        sa.UniqueConstraint("scope", "key", name="uq_idempotency_keys_scope_key"),
    )


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.drop_table("idempotency_keys")
    op.drop_index("ix_events_prompt_id_id", table_name="events")
    op.drop_table("events")
    if not sqlite:
        op.drop_constraint("fk_prompts_active_version", "prompts", type_="foreignkey")
    op.drop_table("versions")
    op.drop_table("prompts")

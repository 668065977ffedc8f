"""Access: API keys and people (``principals``), web sessions, the access generation, and an
index for the history across prompts by actor.

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from promptdeck.store.types import JSONType, UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "principals",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("role", sa.String(8), nullable=False),
        sa.Column("prefixes", JSONType, nullable=False),
        sa.Column("key_id", sa.String(16), nullable=True),
        sa.Column("secret_hash", sa.String(255), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=True),
        sa.Column("revoked_at", UTCDateTime, nullable=True),
        sa.Column("failed_sign_ins", sa.Integer, nullable=False, server_default="0"),
        sa.Column("locked_until", UTCDateTime, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_principals"),
        sa.UniqueConstraint("name", name="uq_principals_name"),
        sa.UniqueConstraint("key_id", name="uq_principals_key_id"),
    )
    op.create_table(
        "sessions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("principal_id", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sessions"),
        sa.UniqueConstraint("token_hash", name="uq_sessions_token_hash"),
        sa.ForeignKeyConstraint(
            ["principal_id"],
            ["principals.id"],
            name="fk_sessions_principal_id",
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "access_state",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("generation", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_access_state"),
    )
    op.execute("INSERT INTO access_state (id, generation) VALUES (1, 0)")
    op.create_index("ix_events_actor_id", "events", ["actor", "id"])


def downgrade() -> None:
    op.drop_index("ix_events_actor_id", table_name="events")
    op.drop_table("access_state")
    op.drop_table("sessions")
    op.drop_table("principals")

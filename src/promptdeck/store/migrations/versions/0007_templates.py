"""Templates: a version's kind (text or chat) and template format (plain or jinja), and the
include graph (version_includes).

Existing versions become text / plain (server defaults). The downgrade drops the graph and
the two columns; a chat version's content (its messages as JSON) then reads as text.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("versions") as batch:
        batch.add_column(sa.Column("kind", sa.String(8), nullable=False, server_default="text"))
        batch.add_column(
            sa.Column("template_format", sa.String(8), nullable=False, server_default="plain")
        )
    op.create_table(
        "version_includes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "version_id",
            sa.Integer,
            sa.ForeignKey("versions.id", name="fk_version_includes_version_id"),
            nullable=False,
        ),
        sa.Column(
            "prompt_id",
            sa.Integer,
            sa.ForeignKey("prompts.id", name="fk_version_includes_prompt_id"),
            nullable=False,
        ),
        sa.Column(
            "target_prompt_id",
            sa.Integer,
            sa.ForeignKey("prompts.id", name="fk_version_includes_target_prompt_id"),
            nullable=False,
        ),
        sa.Column("at", sa.String(128), nullable=True),
        sa.Column(
            "target_version_id",
            sa.Integer,
            sa.ForeignKey("versions.id", name="fk_version_includes_target_version_id"),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("id", name="pk_version_includes"),
    )
    op.create_index("ix_version_includes_version_id", "version_includes", ["version_id"])
    op.create_index(
        "ix_version_includes_target_prompt_id", "version_includes", ["target_prompt_id"]
    )
    op.create_index(
        "ix_version_includes_target_version_id", "version_includes", ["target_version_id"]
    )


def downgrade() -> None:
    op.drop_table("version_includes")
    op.execute("ALTER TABLE versions DROP COLUMN template_format")
    op.execute("ALTER TABLE versions DROP COLUMN kind")

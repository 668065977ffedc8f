"""Labels, their moves (the deploy history), protected labels and deploy requests.

The `active` label stays ``prompts.active_version_id``: the hot path and its composite
foreign key are unchanged, and every existing prompt's active version is its `active`
label with no migration of data. Other labels are rows of ``labels`` with the same kind of
composite foreign key. Moves before this revision are in ``events`` only (the timeline);
``label_moves`` starts empty, so a label's history begins at its first move after upgrade.

Revision ID: 0006
Revises: 0004
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from promptdeck.store.types import UTCDateTime

revision = "0006"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "labels",
        sa.Column("prompt_id", sa.Integer, nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("version_id", sa.Integer, nullable=False),
        sa.Column("moved_at", UTCDateTime, nullable=False),
        sa.Column("moved_by", sa.String(128), nullable=False),
        sa.PrimaryKeyConstraint("prompt_id", "name", name="pk_labels"),
        sa.ForeignKeyConstraint(
            ["prompt_id", "version_id"],
            ["versions.prompt_id", "versions.id"],
            name="fk_labels_version",
        ),
    )
    op.create_table(
        "protected_labels",
        sa.Column("prompt_id", sa.Integer, nullable=False),
        sa.Column("label", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("prompt_id", "label", name="pk_protected_labels"),
        sa.ForeignKeyConstraint(
            ["prompt_id"], ["prompts.id"], name="fk_protected_labels_prompt_id"
        ),
    )
    op.create_table(
        "label_moves",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("prompt_id", sa.Integer, nullable=False),
        sa.Column("label", sa.String(64), nullable=False),
        sa.Column("from_version_id", sa.Integer, nullable=True),
        sa.Column("to_version_id", sa.Integer, nullable=True),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_label_moves"),
        sa.ForeignKeyConstraint(["prompt_id"], ["prompts.id"], name="fk_label_moves_prompt_id"),
    )
    op.create_index(
        "ix_label_moves_prompt_id_label_id", "label_moves", ["prompt_id", "label", "id"]
    )
    op.create_table(
        "deploy_requests",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("prompt_id", sa.Integer, nullable=False),
        sa.Column("label", sa.String(64), nullable=False),
        sa.Column("version_id", sa.Integer, nullable=False),
        sa.Column("from_version_id", sa.Integer, nullable=True),
        sa.Column("base_move_id", sa.Integer, nullable=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("proposed_by", sa.String(128), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("decided_by", sa.String(128), nullable=True),
        sa.Column("decided_at", UTCDateTime, nullable=True),
        sa.Column("decision_reason", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_deploy_requests"),
        sa.ForeignKeyConstraint(["prompt_id"], ["prompts.id"], name="fk_deploy_requests_prompt_id"),
    )
    op.create_index("ix_deploy_requests_prompt_id_id", "deploy_requests", ["prompt_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_deploy_requests_prompt_id_id", table_name="deploy_requests")
    op.drop_table("deploy_requests")
    op.drop_index("ix_label_moves_prompt_id_label_id", table_name="label_moves")
    op.drop_table("label_moves")
    op.drop_table("protected_labels")
    op.drop_table("labels")

"""Guarded rollouts (issue 24; docs/rollouts.md): ``rollouts``, ``rollout_arms``, a kind on
label history rows, a plan on deploy requests.

- ``rollouts``: one row per rollout of a label, with the composite foreign keys labels have
  (baseline and candidate are versions of the same prompt). The partial unique index
  ``uq_rollouts_live`` on (prompt_id, label) WHERE the status is running or paused makes
  "one live rollout per label" the database's rule.
- ``rollout_arms``: per rollout, step and arm, the sums the guard judges; added to at
  ingest. Deleted with their rollout.
- ``label_moves.kind``: NULL for a move of the pointer (every existing row); a rollout's
  state changes are history rows of their label with their event's kind.
- ``deploy_requests.plan``: a request may carry a rollout plan; approving it starts the
  rollout (a protected label's way to start one without the admin role).

The downgrade drops them all (rollouts and their history rows go with it).

Revision ID: 0020
Revises: 0015
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from promptdeck.store.types import JSONType, UTCDateTime

revision = "0020"
down_revision = "0015"
branch_labels = None
depends_on = None

LIVE = sa.text("status IN ('running', 'paused')")


def upgrade() -> None:
    op.create_table(
        "rollouts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("prompt_id", sa.Integer, nullable=False),
        sa.Column("label", sa.String(64), nullable=False),
        sa.Column("baseline_version_id", sa.Integer, nullable=False),
        sa.Column("candidate_version_id", sa.Integer, nullable=False),
        sa.Column("salt", sa.String(64), nullable=False),
        sa.Column("plan", JSONType, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("step", sa.SmallInteger, nullable=False),
        sa.Column("basis_points", sa.Integer, nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("started_by", sa.String(128), nullable=False),
        sa.Column("step_started_at", UTCDateTime, nullable=False),
        sa.Column("ended_at", UTCDateTime, nullable=True),
        sa.Column("cutoffs", JSONType, nullable=True),
        sa.Column("decision", JSONType, nullable=True),
        sa.Column("check_after", UTCDateTime, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_rollouts"),
        sa.ForeignKeyConstraint(["prompt_id"], ["prompts.id"], name="fk_rollouts_prompt_id"),
        sa.ForeignKeyConstraint(
            ["prompt_id", "baseline_version_id"],
            ["versions.prompt_id", "versions.id"],
            name="fk_rollouts_baseline_version",
        ),
        sa.ForeignKeyConstraint(
            ["prompt_id", "candidate_version_id"],
            ["versions.prompt_id", "versions.id"],
            name="fk_rollouts_candidate_version",
        ),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_rollouts_prompt_id_label_id", "rollouts", ["prompt_id", "label", "id"])
    op.create_index(
        "uq_rollouts_live",
        "rollouts",
        ["prompt_id", "label"],
        unique=True,
        sqlite_where=LIVE,
        postgresql_where=LIVE,
    )
    op.create_table(
        "rollout_arms",
        sa.Column("rollout_id", sa.Integer, nullable=False),
        sa.Column("step", sa.SmallInteger, nullable=False),
        sa.Column("arm", sa.String(9), nullable=False),
        sa.Column("count", sa.BigInteger, nullable=False),
        sa.Column("success_n", sa.BigInteger, nullable=False),
        sa.Column("success_true", sa.BigInteger, nullable=False),
        sa.Column("score_n", sa.BigInteger, nullable=False),
        sa.Column("score_sum", sa.Double, nullable=False),
        sa.Column("score_sq", sa.Double, nullable=False),
        sa.Column("latency_n", sa.BigInteger, nullable=False),
        sa.Column("tail_n", sa.BigInteger, nullable=False),
        sa.Column("tail_over", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("rollout_id", "step", "arm", name="pk_rollout_arms"),
        sa.ForeignKeyConstraint(
            ["rollout_id"],
            ["rollouts.id"],
            name="fk_rollout_arms_rollout_id",
            ondelete="CASCADE",
        ),
    )
    op.add_column("label_moves", sa.Column("kind", sa.String(32), nullable=True))
    op.add_column("deploy_requests", sa.Column("plan", JSONType, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deploy_requests") as batch:
        batch.drop_column("plan")
    op.execute("DELETE FROM label_moves WHERE kind IS NOT NULL")
    with op.batch_alter_table("label_moves") as batch:
        batch.drop_column("kind")
    op.drop_table("rollout_arms")
    op.drop_index("uq_rollouts_live", table_name="rollouts")
    op.drop_index("ix_rollouts_prompt_id_label_id", table_name="rollouts")
    op.drop_table("rollouts")

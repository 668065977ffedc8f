"""Outcomes and impact: per-version aggregates by minute, hour and day, the latency sketch,
raw outcomes (optional) and per-label alert thresholds.

The aggregates start empty; the downgrade drops the four tables (the outcomes go with them).

Revision ID: 0009
Revises: 0011
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from promptdeck.store.types import JSONType, UTCDateTime

revision = "0009"
down_revision = "0011"  # written beside 0008 and 0011, chained after them at merge
branch_labels = None
depends_on = None

SUMS = [
    ("count", sa.BigInteger),
    ("success_n", sa.BigInteger),
    ("success_true", sa.BigInteger),
    ("score_n", sa.BigInteger),
    ("score_sum", sa.Double),
    ("score_sq", sa.Double),
    ("latency_n", sa.BigInteger),
    ("latency_sum", sa.Double),
    ("latency_sq", sa.Double),
    ("input_tokens", sa.BigInteger),
    ("output_tokens", sa.BigInteger),
    ("cost", sa.Double),
    ("feedback_up", sa.BigInteger),
    ("feedback_down", sa.BigInteger),
]


def upgrade() -> None:
    op.create_table(
        "outcome_minutes",
        sa.Column("version_id", sa.Integer, nullable=False),
        sa.Column("span", sa.SmallInteger, nullable=False),
        sa.Column("minute", sa.Integer, nullable=False),
        sa.Column("prompt_id", sa.Integer, nullable=False),
        *[sa.Column(name, kind, nullable=False) for name, kind in SUMS],
        sa.PrimaryKeyConstraint("version_id", "span", "minute", name="pk_outcome_minutes"),
    )
    op.create_index(
        "ix_outcome_minutes_prompt_id_span_minute",
        "outcome_minutes",
        ["prompt_id", "span", "minute"],
    )
    op.create_table(
        "outcome_latency",
        sa.Column("version_id", sa.Integer, nullable=False),
        sa.Column("span", sa.SmallInteger, nullable=False),
        sa.Column("minute", sa.Integer, nullable=False),
        sa.Column("bucket", sa.Integer, nullable=False),
        sa.Column("count", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint(
            "version_id", "span", "minute", "bucket", name="pk_outcome_latency"
        ),
    )
    op.create_table(
        "outcomes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("prompt_id", sa.Integer, nullable=False),
        sa.Column("version_id", sa.Integer, nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("success", sa.Boolean, nullable=True),
        sa.Column("score", sa.Double, nullable=True),
        sa.Column("latency_ms", sa.Double, nullable=True),
        sa.Column("input_tokens", sa.BigInteger, nullable=True),
        sa.Column("output_tokens", sa.BigInteger, nullable=True),
        sa.Column("cost", sa.Double, nullable=True),
        sa.Column("feedback", sa.SmallInteger, nullable=True),
        sa.Column("tags", JSONType, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_outcomes"),
    )
    op.create_index("ix_outcomes_at", "outcomes", ["at"])
    op.create_index("ix_outcomes_version_id_at", "outcomes", ["version_id", "at"])
    op.create_table(
        "impact_alerts",
        sa.Column("prompt_id", sa.Integer, nullable=False),
        sa.Column("label", sa.String(64), nullable=False),
        sa.Column("min_success", sa.Double, nullable=False),
        sa.Column("window_minutes", sa.Integer, nullable=False),
        sa.Column("min_count", sa.Integer, nullable=False),
        sa.Column("fired_move_id", sa.Integer, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.PrimaryKeyConstraint("prompt_id", "label", name="pk_impact_alerts"),
        sa.ForeignKeyConstraint(["prompt_id"], ["prompts.id"], name="fk_impact_alerts_prompt_id"),
    )


def downgrade() -> None:
    op.drop_table("impact_alerts")
    op.drop_table("outcomes")
    op.drop_table("outcome_latency")
    op.drop_table("outcome_minutes")

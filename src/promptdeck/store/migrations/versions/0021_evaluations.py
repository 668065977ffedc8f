"""Evaluations (issue 25; docs/evaluations.md): model providers, test sets with their versions
and cases, evaluations with their items (claimed with a lease) and results, the gates of
labels.

- ``providers``: OpenAI-compatible endpoints; the key is an environment variable's name.
- ``test_sets``, ``test_set_versions``, ``test_cases``: version N of a set holds the cases
  added in versions 1 to N (a case row says which version added it; none is copied).
- ``evaluations``, ``evaluation_items`` (unique per evaluation, version and case; a partial
  index of the pending ones for the claim), ``evaluation_results`` (per item and evaluator).
- ``label_gates``: a label that requires a candidate to pass a test set.

The downgrade drops them all (evaluations, their results and the test sets go with them).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from promptdeck.store.types import JSONType, UTCDateTime

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "providers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("base_url", sa.String(2048), nullable=False),
        sa.Column("models", JSONType, nullable=False),
        sa.Column("prices", JSONType, nullable=False),
        sa.Column("timeouts", JSONType, nullable=False),
        sa.Column("retry_attempts", sa.Integer, nullable=False),
        sa.Column("api_key_env", sa.String(128), nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_providers"),
        sa.UniqueConstraint("name", name="uq_providers_name"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "test_sets",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column(
            "prompt_id",
            sa.Integer,
            sa.ForeignKey("prompts.id", name="fk_test_sets_prompt_id"),
            nullable=False,
        ),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("case_count", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_test_sets"),
        sa.UniqueConstraint("name", name="uq_test_sets_name"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_test_sets_prompt_id", "test_sets", ["prompt_id"])
    op.create_table(
        "test_set_versions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "test_set_id",
            sa.Integer,
            sa.ForeignKey("test_sets.id", name="fk_test_set_versions_test_set_id"),
            nullable=False,
        ),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("case_count", sa.Integer, nullable=False),
        sa.Column("added", sa.Integer, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_test_set_versions"),
        sa.UniqueConstraint(
            "test_set_id", "number", name="uq_test_set_versions_test_set_id_number"
        ),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "test_cases",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "test_set_id",
            sa.Integer,
            sa.ForeignKey("test_sets.id", name="fk_test_cases_test_set_id"),
            nullable=False,
        ),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("added_in", sa.Integer, nullable=False),
        sa.Column("variables", JSONType, nullable=False),
        sa.Column("expected", JSONType, nullable=True),
        sa.Column("metadata", JSONType, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_test_cases"),
        sa.UniqueConstraint("test_set_id", "position", name="uq_test_cases_test_set_id_position"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "evaluations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "prompt_id",
            sa.Integer,
            sa.ForeignKey("prompts.id", name="fk_evaluations_prompt_id"),
            nullable=False,
        ),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("version_ids", JSONType, nullable=False),
        sa.Column(
            "test_set_id",
            sa.Integer,
            sa.ForeignKey("test_sets.id", name="fk_evaluations_test_set_id"),
            nullable=False,
        ),
        sa.Column(
            "test_set_version_id",
            sa.Integer,
            sa.ForeignKey("test_set_versions.id", name="fk_evaluations_test_set_version_id"),
            nullable=False,
        ),
        sa.Column("evaluators", JSONType, nullable=False),
        sa.Column(
            "provider_id",
            sa.Integer,
            sa.ForeignKey("providers.id", name="fk_evaluations_provider_id"),
            nullable=True,
        ),
        sa.Column("provider_name", sa.String(64), nullable=True),
        sa.Column("model", sa.String(200), nullable=True),
        sa.Column("items_total", sa.Integer, nullable=False),
        sa.Column("items_done", sa.Integer, nullable=False),
        sa.Column("items_failed", sa.Integer, nullable=False),
        sa.Column("reports_total", sa.Integer, nullable=False),
        sa.Column("reports_done", sa.Integer, nullable=False),
        sa.Column("summaries", JSONType, nullable=True),
        sa.Column("comparison", JSONType, nullable=True),
        sa.Column("verdict", sa.String(16), nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=True),
        sa.Column("finished_at", UTCDateTime, nullable=True),
        sa.Column("cancelled_by", sa.String(128), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_evaluations"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_evaluations_prompt_id_id", "evaluations", ["prompt_id", "id"])
    op.create_index("ix_evaluations_status", "evaluations", ["status"])
    op.create_table(
        "evaluation_items",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "evaluation_id",
            sa.Integer,
            sa.ForeignKey(
                "evaluations.id", name="fk_evaluation_items_evaluation_id", ondelete="CASCADE"
            ),
            nullable=False,
        ),
        sa.Column("version_id", sa.Integer, nullable=False),
        sa.Column(
            "case_id",
            sa.Integer,
            sa.ForeignKey("test_cases.id", name="fk_evaluation_items_case_id"),
            nullable=False,
        ),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("lease_owner", sa.String(36), nullable=True),
        sa.Column("lease_until", UTCDateTime, nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("output", sa.Text, nullable=True),
        sa.Column("tool_calls", JSONType, nullable=True),
        sa.Column("latency_ms", sa.Float, nullable=True),
        sa.Column("prompt_tokens", sa.Integer, nullable=True),
        sa.Column("completion_tokens", sa.Integer, nullable=True),
        sa.Column("cost", sa.Float, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("finished_at", UTCDateTime, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_evaluation_items"),
        sa.UniqueConstraint(
            "evaluation_id",
            "version_id",
            "case_id",
            name="uq_evaluation_items_evaluation_id_version_id_case_id",
        ),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_evaluation_items_pending",
        "evaluation_items",
        ["evaluation_id", "id"],
        sqlite_where=sa.text("status = 'pending'"),
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_table(
        "evaluation_results",
        sa.Column(
            "item_id",
            sa.Integer,
            sa.ForeignKey(
                "evaluation_items.id", name="fk_evaluation_results_item_id", ondelete="CASCADE"
            ),
            nullable=False,
        ),
        sa.Column("evaluator", sa.String(64), nullable=False),
        sa.Column("passed", sa.Boolean, nullable=False),
        sa.Column("score", sa.Float, nullable=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("error", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("item_id", "evaluator", name="pk_evaluation_results"),
    )
    op.create_table(
        "label_gates",
        sa.Column(
            "prompt_id",
            sa.Integer,
            sa.ForeignKey("prompts.id", name="fk_label_gates_prompt_id"),
            nullable=False,
        ),
        sa.Column("label", sa.String(64), nullable=False),
        sa.Column(
            "test_set_id",
            sa.Integer,
            sa.ForeignKey("test_sets.id", name="fk_label_gates_test_set_id"),
            nullable=False,
        ),
        sa.Column("thresholds", JSONType, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.PrimaryKeyConstraint("prompt_id", "label", name="pk_label_gates"),
    )


def downgrade() -> None:
    op.drop_table("label_gates")
    op.drop_table("evaluation_results")
    op.drop_table("evaluation_items")
    op.drop_table("evaluations")
    op.drop_table("test_cases")
    op.drop_table("test_set_versions")
    op.drop_table("test_sets")
    op.drop_table("providers")

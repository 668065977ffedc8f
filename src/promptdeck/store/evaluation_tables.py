"""The tables of evaluations (issue 25, migration 0021; docs/evaluations.md): model providers,
test sets with their versions and cases, evaluations with their items and results, and the
gates of labels. On the same ``metadata`` as ``store/tables.py``."""

from __future__ import annotations

import sqlalchemy as sa

from promptdeck.store.tables import metadata
from promptdeck.store.types import JSONType, UTCDateTime

# An OpenAI-compatible endpoint. Its key is never here as it is: ``api_key_env`` names the
# server's environment variable that holds it (domain/providers.py check_key_env), or
# ``api_key_sealed`` holds it sealed under the server's secret key (domain/sealing.py).
providers = sa.Table(
    "providers",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(64), nullable=False, unique=True),
    sa.Column("base_url", sa.String(2048), nullable=False),
    sa.Column("models", JSONType, nullable=False),
    sa.Column("prices", JSONType, nullable=False),  # {model: {"input": n, "output": n}}
    sa.Column("timeouts", JSONType, nullable=False),  # {"connect_s", "read_s", "total_s"}
    sa.Column("retry_attempts", sa.Integer, nullable=False),
    sa.Column("api_key_env", sa.String(128), nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("created_by", sa.String(128), nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("api_key_sealed", sa.Text, nullable=True),  # migration 0022
    sqlite_autoincrement=True,
)

# A named, versioned collection of cases for one prompt. ``version``: its newest version's
# number (the counter; the row is locked to add one).
test_sets = sa.Table(
    "test_sets",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(64), nullable=False, unique=True),
    sa.Column("prompt_id", sa.Integer, sa.ForeignKey("prompts.id"), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("case_count", sa.Integer, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("created_by", sa.String(128), nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Index("ix_test_sets_prompt_id", "prompt_id"),
    sqlite_autoincrement=True,
)

# Version N of a set holds the cases added in versions 1 to N: cases are never copied.
test_set_versions = sa.Table(
    "test_set_versions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("test_set_id", sa.Integer, sa.ForeignKey("test_sets.id"), nullable=False),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("case_count", sa.Integer, nullable=False),  # cases in this version, in all
    sa.Column("added", sa.Integer, nullable=False),  # cases this version added
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("created_by", sa.String(128), nullable=False),
    sa.UniqueConstraint("test_set_id", "number"),
    sqlite_autoincrement=True,
)

test_cases = sa.Table(
    "test_cases",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("test_set_id", sa.Integer, sa.ForeignKey("test_sets.id"), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),  # 1, 2, 3… in the set, never reused
    sa.Column("added_in", sa.Integer, nullable=False),  # the set's version that added it
    sa.Column("variables", JSONType, nullable=False),
    sa.Column("expected", JSONType, nullable=True),
    sa.Column("metadata", JSONType, nullable=False),
    sa.UniqueConstraint("test_set_id", "position"),
    sqlite_autoincrement=True,
)

# One evaluation: versions of a prompt run on one version of a test set. ``items_*`` and
# ``reports_*`` are counters moved by the transactions that record items and reported
# results (their row lock serializes them), so whoever records the last one knows it.
evaluations = sa.Table(
    "evaluations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("prompt_id", sa.Integer, sa.ForeignKey("prompts.id"), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # queued running completed cancelled failed
    sa.Column("version_ids", JSONType, nullable=False),  # baseline first, candidate second
    sa.Column("test_set_id", sa.Integer, sa.ForeignKey("test_sets.id"), nullable=False),
    sa.Column(
        "test_set_version_id", sa.Integer, sa.ForeignKey("test_set_versions.id"), nullable=False
    ),
    sa.Column("evaluators", JSONType, nullable=False),  # configurations, judges' versions fixed
    # None: the caller runs the versions itself and reports outputs (client.evaluate).
    sa.Column("provider_id", sa.Integer, sa.ForeignKey("providers.id"), nullable=True),
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
    sa.Index("ix_evaluations_prompt_id_id", "prompt_id", "id"),
    sa.Index("ix_evaluations_status", "status"),
    sqlite_autoincrement=True,
)

# One version on one case. Claimed with a lease (``lease_owner`` until ``lease_until``) by
# one server process at a time; recorded only while the lease is still the claimer's.
evaluation_items = sa.Table(
    "evaluation_items",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "evaluation_id",
        sa.Integer,
        sa.ForeignKey("evaluations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("version_id", sa.Integer, nullable=False),
    sa.Column("case_id", sa.Integer, sa.ForeignKey("test_cases.id"), nullable=False),
    sa.Column("status", sa.String(8), nullable=False),  # pending, done, failed
    sa.Column("lease_owner", sa.String(36), nullable=True),
    sa.Column("lease_until", UTCDateTime, nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False),  # claims (a second: a lease ran out)
    sa.Column("output", sa.Text, nullable=True),
    sa.Column("tool_calls", JSONType, nullable=True),
    sa.Column("latency_ms", sa.Float, nullable=True),
    sa.Column("prompt_tokens", sa.Integer, nullable=True),
    sa.Column("completion_tokens", sa.Integer, nullable=True),
    sa.Column("cost", sa.Float, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("finished_at", UTCDateTime, nullable=True),
    sa.UniqueConstraint("evaluation_id", "version_id", "case_id"),
    # The claim looks at pending items only: done ones cost the index nothing.
    sa.Index(
        "ix_evaluation_items_pending",
        "evaluation_id",
        "id",
        sqlite_where=sa.text("status = 'pending'"),
        postgresql_where=sa.text("status = 'pending'"),
    ),
    sqlite_autoincrement=True,
)

# One evaluator's judgement of one item.
evaluation_results = sa.Table(
    "evaluation_results",
    metadata,
    sa.Column(
        "item_id",
        sa.Integer,
        sa.ForeignKey("evaluation_items.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("evaluator", sa.String(64), nullable=False),
    sa.Column("passed", sa.Boolean, nullable=False),
    sa.Column("score", sa.Float, nullable=True),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("error", sa.Boolean, nullable=False),
    sa.PrimaryKeyConstraint("item_id", "evaluator"),
)

# A label that requires a candidate to pass a test set before a deploy request moves it or a
# rollout starts (core/gates.py check_gate).
label_gates = sa.Table(
    "label_gates",
    metadata,
    sa.Column("prompt_id", sa.Integer, sa.ForeignKey("prompts.id"), nullable=False),
    sa.Column("label", sa.String(64), nullable=False),
    sa.Column("test_set_id", sa.Integer, sa.ForeignKey("test_sets.id"), nullable=False),
    sa.Column("thresholds", JSONType, nullable=False),  # {evaluator name: least pass rate}
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("created_by", sa.String(128), nullable=False),
    sa.PrimaryKeyConstraint("prompt_id", "label"),
)

"""The tables. Invariants live here: unique names and numbers, the active pointer as a
composite foreign key that can only name a version of the same prompt."""

from __future__ import annotations

import sqlalchemy as sa

from promptdeck.store.types import BlobId, ContentHash, JSONType, UTCDateTime

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)

prompts = sa.Table(
    "prompts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(128), nullable=False, unique=True),
    sa.Column("description", sa.Text, nullable=False, default=""),
    sa.Column("tags", JSONType, nullable=False),
    sa.Column("content", sa.Text, nullable=False),
    sa.Column("model_config", JSONType, nullable=False),
    sa.Column("active_version_id", sa.Integer, nullable=True),
    sa.Column("next_version_number", sa.Integer, nullable=False, default=0),
    sa.Column("version_count", sa.Integer, nullable=False, default=0),
    # Unarchived versions: the retention sweep compares it with max_versions, no counting.
    sa.Column("live_count", sa.Integer, nullable=False, default=0, server_default="0"),
    sa.Column("max_versions", sa.Integer, nullable=True),
    sa.Column("revision", sa.Integer, nullable=False, default=1),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("deleted_at", UTCDateTime, nullable=True),
    sa.ForeignKeyConstraint(
        ["id", "active_version_id"],
        ["versions.prompt_id", "versions.id"],
        name="fk_prompts_active_version",
        use_alter=True,
    ),
    sqlite_autoincrement=True,  # ids never reused after a purge (migration 0003)
)

versions = sa.Table(
    "versions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("prompt_id", sa.Integer, sa.ForeignKey("prompts.id"), nullable=False),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("version_name", sa.String(128), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("model_config", JSONType, nullable=True),
    sa.Column("content_hash", ContentHash, nullable=False),
    sa.Column("created_by", sa.String(128), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    # The content, in blobs; NULL once purged.
    sa.Column("blob_id", BlobId, sa.ForeignKey("blobs.id"), nullable=True),
    sa.Column("archived", sa.Boolean, nullable=False, default=False, server_default=sa.false()),
    sa.Column("archived_at", UTCDateTime, nullable=True),
    sa.Column("purged_at", UTCDateTime, nullable=True),
    sa.Column("purged_by", sa.String(128), nullable=True),
    sa.Column("purge_reason", sa.Text, nullable=True),
    # Templates (domain/templates.py): "text" or "chat" (content: the messages as JSON);
    # "plain" ({{variables}} only) or "jinja" (sandboxed sections, opted into).
    sa.Column("kind", sa.String(8), nullable=False, default="text", server_default="text"),
    sa.Column(
        "template_format", sa.String(8), nullable=False, default="plain", server_default="plain"
    ),
    # Contracts (issue 23; migration 0015): check_contract(raw).to_json(), NULL without one.
    sa.Column("contract", JSONType, nullable=True),
    sa.UniqueConstraint("prompt_id", "number"),
    sa.UniqueConstraint("prompt_id", "version_name"),
    sa.UniqueConstraint("prompt_id", "id"),
    # The retention sweep (oldest unarchived) and ?archived=false pages: unarchived versions
    # only (migration 0011), so an archived version costs no entry. Queries must say
    # `archived = false` as a literal (sa.false()) for SQLite to use a partial index.
    sa.Index(
        "ix_versions_live",
        "prompt_id",
        "number",
        sqlite_where=sa.text("archived = 0"),
        postgresql_where=sa.text("archived = false"),
    ),
    sqlite_autoincrement=True,
)

blobs = sa.Table(
    "blobs",
    metadata,
    # The content's name: the first 64 bits of its SHA-256 (domain.storage.blob_id), so the
    # primary key is the hash index and no separate one is needed.
    sa.Column("id", BlobId, primary_key=True, autoincrement=False),
    sa.Column("codec", sa.SmallInteger, nullable=False),  # domain.storage RAW, ZSTD, DELTA…
    sa.Column("base_id", BlobId, sa.ForeignKey("blobs.id"), nullable=True),
    sa.Column("depth", sa.SmallInteger, nullable=False),
    sa.Column("raw_size", sa.Integer, nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
)

events = sa.Table(
    "events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("prompt_id", sa.Integer, sa.ForeignKey("prompts.id"), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("version_id", sa.Integer, nullable=True),
    sa.Column("from_version_id", sa.Integer, nullable=True),
    sa.Column("actor", sa.String(128), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("detail", JSONType, nullable=False),
    sa.Index("ix_events_prompt_id_id", "prompt_id", "id"),
    sqlite_autoincrement=True,
)

idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("scope", sa.String(64), nullable=False),
    sa.Column("key", sa.String(255), nullable=False),
    sa.Column("request_hash", sa.String(80), nullable=False),
    sa.Column("result_id", sa.Integer, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("scope", "key"),
    sqlite_autoincrement=True,
)

# --- access (migration 0004) --------------------------------------------------------------

# API keys and people share one table, so one name never means two actors in the history.
# A revoked key keeps its row (events still name it); no row is ever reused.
principals = sa.Table(
    "principals",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(64), nullable=False, unique=True),
    sa.Column("kind", sa.String(8), nullable=False),  # "key" or "user"
    sa.Column("role", sa.String(8), nullable=False),
    sa.Column("prefixes", JSONType, nullable=False),
    # Keys: the visible "pdk_XXXXXXXX" and the SHA-256 of the whole key (keys are random,
    # 256 bits: a slow hash adds nothing). People: an argon2id hash of the password.
    sa.Column("key_id", sa.String(16), nullable=True, unique=True),
    sa.Column("secret_hash", sa.String(255), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("created_by", sa.String(128), nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=True),
    sa.Column("revoked_at", UTCDateTime, nullable=True),
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    # SHA-256 of the cookie's random token: a database dump holds no usable session.
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column(
        "principal_id",
        sa.Integer,
        sa.ForeignKey("principals.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
)

# One row. ``generation`` goes up whenever a key, person or session is revoked, changed or
# ended: every process compares it on each request, so a revocation takes effect everywhere
# at the next request while an unchanged generation lets a process trust its cache.
access_state = sa.Table(
    "access_state",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("generation", sa.BigInteger, nullable=False),
)

# Failed sign-ins and wrong API keys (migration 0014), one row per (scope, subject): a
# sign-in name or a client address, kept as a SHA-256 (a name field sometimes holds a
# password). Counted in the transaction that checks, so parallel attempts on any number of
# processes are all counted; rows past ``expires_at`` are deleted as new ones come.
auth_failures = sa.Table(
    "auth_failures",
    metadata,
    sa.Column("scope", sa.String(16), nullable=False),
    sa.Column("subject", sa.String(64), nullable=False),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("locked_until", UTCDateTime, nullable=True),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    sa.PrimaryKeyConstraint("scope", "subject"),
    sa.Index("ix_auth_failures_expires_at", "expires_at"),
)

# What must outlive a downgrade (migration 0014 creates it and its downgrade leaves it):
# "had-access" once a key or person was created, so that a database whose keys are gone
# (a downgrade past 0004, rows lost) is not served open without --allow-open.
access_marks = sa.Table(
    "access_marks",
    metadata,
    sa.Column("name", sa.String(32), primary_key=True),
    sa.Column("at", UTCDateTime, nullable=False),
)

# GET /events across prompts, newest first, and ?actor= on it.
events_by_actor = sa.Index("ix_events_actor_id", events.c.actor, events.c.id)

# One row per include tag of a version ({{> target@at}}): the graph that refuses cycles at
# creation, protects what is included from purge and delete, and answers dependencies.
version_includes = sa.Table(
    "version_includes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("version_id", sa.Integer, sa.ForeignKey("versions.id"), nullable=False),
    sa.Column("prompt_id", sa.Integer, sa.ForeignKey("prompts.id"), nullable=False),
    sa.Column("target_prompt_id", sa.Integer, sa.ForeignKey("prompts.id"), nullable=False),
    # As written after the @ (None: the active version); a number or version name is also
    # resolved to target_version_id, which purge protection reads.
    sa.Column("at", sa.String(128), nullable=True),
    sa.Column("target_version_id", sa.Integer, sa.ForeignKey("versions.id"), nullable=True),
    sa.Index("ix_version_includes_version_id", "version_id"),
    sa.Index("ix_version_includes_target_prompt_id", "target_prompt_id"),
    sa.Index("ix_version_includes_target_version_id", "target_version_id"),
)

# --- labels (revision 0006) ------------------------------------------------------------------
# The `active` label is prompts.active_version_id (the hot path and its foreign key stay as
# they were); every other label is a row here, with the same composite foreign key, so a
# label can only name a version of its own prompt.
labels = sa.Table(
    "labels",
    metadata,
    sa.Column("prompt_id", sa.Integer, nullable=False),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("version_id", sa.Integer, nullable=False),
    sa.Column("moved_at", UTCDateTime, nullable=False),
    sa.Column("moved_by", sa.String(128), nullable=False),
    sa.PrimaryKeyConstraint("prompt_id", "name"),
    sa.ForeignKeyConstraint(
        ["prompt_id", "version_id"],
        ["versions.prompt_id", "versions.id"],
        name="fk_labels_version",
    ),
)

# Labels a prompt protects (the `active` one included): moving one needs the right to move
# protected labels, or an approved deploy request. A label may be protected before it is set.
protected_labels = sa.Table(
    "protected_labels",
    metadata,
    sa.Column("prompt_id", sa.Integer, sa.ForeignKey("prompts.id"), nullable=False),
    sa.Column("label", sa.String(64), nullable=False),
    sa.PrimaryKeyConstraint("prompt_id", "label"),
)

# Every move of every label, `active` included: the deploy history, indexed per label. The
# last move's id is the label's revision (its ETag), so a compare-and-swap is one lookup.
label_moves = sa.Table(
    "label_moves",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("prompt_id", sa.Integer, sa.ForeignKey("prompts.id"), nullable=False),
    sa.Column("label", sa.String(64), nullable=False),
    sa.Column("from_version_id", sa.Integer, nullable=True),
    sa.Column("to_version_id", sa.Integer, nullable=True),  # NULL: the label was removed
    sa.Column("actor", sa.String(128), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    # NULL: the pointer moved. Otherwise what happened to the label's rollout (migration
    # 0020: "rollout.started", "rollout.advanced"…): a history row that moves nothing.
    sa.Column("kind", sa.String(32), nullable=True),
    sa.Index("ix_label_moves_prompt_id_label_id", "prompt_id", "label", "id"),
)

deploy_requests = sa.Table(
    "deploy_requests",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("prompt_id", sa.Integer, sa.ForeignKey("prompts.id"), nullable=False),
    sa.Column("label", sa.String(64), nullable=False),
    sa.Column("version_id", sa.Integer, nullable=False),
    # What the label served and its last move when proposed: moved since, the request is stale.
    sa.Column("from_version_id", sa.Integer, nullable=True),
    sa.Column("base_move_id", sa.Integer, nullable=True),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("proposed_by", sa.String(128), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # open, approved, rejected
    sa.Column("decided_by", sa.String(128), nullable=True),
    sa.Column("decided_at", UTCDateTime, nullable=True),
    sa.Column("decision_reason", sa.Text, nullable=True),
    # A rollout plan (domain/rollouts/plan.py, normal form): approving starts that rollout
    # instead of moving the label (migration 0020). NULL: a plain move.
    sa.Column("plan", JSONType, nullable=True),
    sa.Index("ix_deploy_requests_prompt_id_id", "prompt_id", "id"),
)

# --- webhooks (revision 0008) ----------------------------------------------------------------
# A hook is global (prompt_id NULL) or one prompt's; ``events`` is a JSON list of kinds or
# ["*"]. The secret is kept as it is: signing needs it (docs/webhooks.md, "Secrets").
webhooks = sa.Table(
    "webhooks",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("prompt_id", sa.Integer, sa.ForeignKey("prompts.id"), nullable=True),
    sa.Column("url", sa.String(2048), nullable=False),
    sa.Column("events", JSONType, nullable=False),
    sa.Column("secret", sa.String(255), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("created_by", sa.String(128), nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sqlite_autoincrement=True,
)

# One event on its way to one hook: written in the event's transaction, claimed by one
# process at a time (``claimed_until``: a lease), its last attempt kept (the delivery log).
webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("uid", sa.String(36), nullable=False, unique=True),
    sa.Column(
        "hook_id", sa.Integer, sa.ForeignKey("webhooks.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("event_id", sa.Integer, nullable=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("status", sa.String(12), nullable=False),  # pending, delivered, failed
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("next_attempt_at", UTCDateTime, nullable=True),
    sa.Column("claimed_until", UTCDateTime, nullable=True),
    sa.Column("claimed_by", sa.String(36), nullable=True),
    sa.Column("finished_at", UTCDateTime, nullable=True),
    sa.Column("last_attempt_at", UTCDateTime, nullable=True),
    sa.Column("last_status_code", sa.Integer, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("last_duration_ms", sa.Integer, nullable=True),
    sa.Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
    sa.Index("ix_webhook_deliveries_hook_id_id", "hook_id", "id"),
    sqlite_autoincrement=True,
)

# --- outcomes and impact (revision 0009) ---------------------------------------------------
# Outcomes are folded at ingest into rows of counts and sums (domain/impact.py ``Sums``) per
# version and time block, and a latency sketch of (bucket, count) rows per the same blocks.
# Each outcome adds to three blocks: its minute, its hour and its day (``span`` 1, 60 or
# 1440 minutes; ``minute``: the block's first minute since the epoch, UTC), so a question
# over a month reads about 30 day rows, not 43,200 minute rows (domain/impact.py
# ``segments``). Rows are only ever added to, with INSERT ... ON CONFLICT DO UPDATE SET x =
# x + excluded.x, so processes merge in SQL without reading first.
outcome_minutes = sa.Table(
    "outcome_minutes",
    metadata,
    sa.Column("version_id", sa.Integer, nullable=False),
    sa.Column("span", sa.SmallInteger, nullable=False),
    sa.Column("minute", sa.Integer, nullable=False),
    sa.Column("prompt_id", sa.Integer, nullable=False),
    sa.Column("count", sa.BigInteger, nullable=False),
    sa.Column("success_n", sa.BigInteger, nullable=False),
    sa.Column("success_true", sa.BigInteger, nullable=False),
    sa.Column("score_n", sa.BigInteger, nullable=False),
    sa.Column("score_sum", sa.Double, nullable=False),
    sa.Column("score_sq", sa.Double, nullable=False),
    sa.Column("latency_n", sa.BigInteger, nullable=False),
    sa.Column("latency_sum", sa.Double, nullable=False),
    sa.Column("latency_sq", sa.Double, nullable=False),
    sa.Column("input_tokens", sa.BigInteger, nullable=False),
    sa.Column("output_tokens", sa.BigInteger, nullable=False),
    sa.Column("cost", sa.Double, nullable=False),
    sa.Column("feedback_up", sa.BigInteger, nullable=False),
    sa.Column("feedback_down", sa.BigInteger, nullable=False),
    sa.PrimaryKeyConstraint("version_id", "span", "minute"),
    sa.Index("ix_outcome_minutes_prompt_id_span_minute", "prompt_id", "span", "minute"),
)

outcome_latency = sa.Table(
    "outcome_latency",
    metadata,
    sa.Column("version_id", sa.Integer, nullable=False),
    sa.Column("span", sa.SmallInteger, nullable=False),
    sa.Column("minute", sa.Integer, nullable=False),
    sa.Column("bucket", sa.Integer, nullable=False),  # domain/impact.py latency_bucket
    sa.Column("count", sa.BigInteger, nullable=False),
    sa.PrimaryKeyConstraint("version_id", "span", "minute", "bucket"),
)

# Raw outcomes: only with PROMPTDECK_OUTCOMES_RAW, kept PROMPTDECK_OUTCOMES_RAW_DAYS.
outcomes = sa.Table(
    "outcomes",
    metadata,
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
    sa.Index("ix_outcomes_at", "at"),
    sa.Index("ix_outcomes_version_id_at", "version_id", "at"),
    # GET /prompts/{id}/outcomes, newest first by (at, id): one range (migration 0012).
    sa.Index("ix_outcomes_prompt_id_at_id", "prompt_id", "at", "id"),
)

# "success below min_success over window_minutes after a move of label": checked at ingest.
# ``fired_move_id``: the move it last fired for, claimed with a conditional UPDATE so one
# move raises one alert however many processes see the breach.
impact_alerts = sa.Table(
    "impact_alerts",
    metadata,
    sa.Column("prompt_id", sa.Integer, sa.ForeignKey("prompts.id"), nullable=False),
    sa.Column("label", sa.String(64), nullable=False),
    sa.Column("min_success", sa.Double, nullable=False),
    sa.Column("window_minutes", sa.Integer, nullable=False),
    sa.Column("min_count", sa.Integer, nullable=False),
    sa.Column("fired_move_id", sa.Integer, nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("created_by", sa.String(128), nullable=False),
    sa.PrimaryKeyConstraint("prompt_id", "label"),
)

# --- rollouts (revision 0020; docs/rollouts.md) -----------------------------------------------
# A label moving by steps from its baseline to a candidate. Both versions are named with the
# composite foreign key labels have (only the prompt's own versions). ``basis_points`` is
# the candidate's share now (the hot path reads it with the label's pointer, no plan to
# parse); ``plan`` is ``RolloutPlan.to_json()``. One live rollout per label is the partial
# unique index: a second start is refused by the database whatever the processes.
LIVE_ROLLOUT = "status IN ('running', 'paused')"
rollouts = sa.Table(
    "rollouts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("prompt_id", sa.Integer, sa.ForeignKey("prompts.id"), nullable=False),
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
    # The latency guard's frozen thresholds (state.LatencyCutoffs as JSON), once frozen.
    sa.Column("cutoffs", JSONType, nullable=True),
    # The guard's latest judgement: action, why, ready, per-measure figures, when.
    sa.Column("decision", JSONType, nullable=True),
    # The periodic check's lease: due when NULL or past (server/ticker.py claims it).
    sa.Column("check_after", UTCDateTime, nullable=True),
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
    sa.Index("ix_rollouts_prompt_id_label_id", "prompt_id", "label", "id"),
    sa.Index(
        "uq_rollouts_live",
        "prompt_id",
        "label",
        unique=True,
        sqlite_where=sa.text(LIVE_ROLLOUT),
        postgresql_where=sa.text(LIVE_ROLLOUT),
    ),
    sqlite_autoincrement=True,
)

# Per step and arm, the sums the guard judges (domain/rollouts/guard.py ArmSums, plus the
# latencies counted toward freezing the latency thresholds), added to at ingest with
# INSERT … ON CONFLICT DO UPDATE SET x = x + excluded.x, as the impact aggregates.
rollout_arms = sa.Table(
    "rollout_arms",
    metadata,
    sa.Column(
        "rollout_id",
        sa.Integer,
        sa.ForeignKey("rollouts.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("step", sa.SmallInteger, nullable=False),
    sa.Column("arm", sa.String(9), nullable=False),  # baseline, candidate
    sa.Column("count", sa.BigInteger, nullable=False),
    sa.Column("success_n", sa.BigInteger, nullable=False),
    sa.Column("success_true", sa.BigInteger, nullable=False),
    sa.Column("score_n", sa.BigInteger, nullable=False),
    sa.Column("score_sum", sa.Double, nullable=False),
    sa.Column("score_sq", sa.Double, nullable=False),
    sa.Column("latency_n", sa.BigInteger, nullable=False),
    sa.Column("tail_n", sa.BigInteger, nullable=False),
    sa.Column("tail_over", sa.BigInteger, nullable=False),
    sa.PrimaryKeyConstraint("rollout_id", "step", "arm"),
)

"""Throttling in the database, and a mark that outlives downgrades.

``auth_failures`` counts failed sign-ins (per name and per client address) and wrong API
keys (per address) in the transaction that checks them, so parallel attempts on any number
of processes are all counted; it replaces ``principals.failed_sign_ins`` and
``locked_until`` (a read-then-write per known name, which lost counts under concurrency and
told known names from unknown ones).

``access_marks`` holds ``had-access`` once a key or person exists (filled here from
``principals``). Its downgrade leaves it in place on purpose: a database whose keys are
gone (a downgrade past 0004, rows deleted) must not be served open by accident, and
``promptdeck serve`` reads the mark (``--allow-open`` overrides it).

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-27
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from promptdeck.store.types import UTCDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "auth_failures",
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("subject", sa.String(64), nullable=False),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("locked_until", UTCDateTime, nullable=True),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("scope", "subject", name="pk_auth_failures"),
    )
    op.create_index("ix_auth_failures_expires_at", "auth_failures", ["expires_at"])
    bind = op.get_bind()
    if "access_marks" not in sa.inspect(bind).get_table_names():  # kept by a downgrade
        op.create_table(
            "access_marks",
            sa.Column("name", sa.String(32), nullable=False),
            sa.Column("at", UTCDateTime, nullable=False),
            sa.PrimaryKeyConstraint("name", name="pk_access_marks"),
        )
    _mark(bind)
    op.execute("ALTER TABLE principals DROP COLUMN failed_sign_ins")
    op.execute("ALTER TABLE principals DROP COLUMN locked_until")


def _mark(bind: sa.Connection) -> None:
    """``had-access`` when a key or person exists or ever did (the generation moved)."""
    principals = sa.table("principals", sa.column("created_at", UTCDateTime))
    state = sa.table("access_state", sa.column("generation", sa.BigInteger))
    marks = sa.table("access_marks", sa.column("name", sa.String), sa.column("at", UTCDateTime))
    if bind.execute(sa.select(marks.c.name).where(marks.c.name == "had-access")).first():
        return
    first = bind.execute(sa.select(sa.func.min(principals.c.created_at))).scalar()
    generation = bind.execute(sa.select(sa.func.max(state.c.generation))).scalar() or 0
    if first is not None or generation > 0:
        at = first or datetime.now(UTC)
        bind.execute(sa.insert(marks).values(name="had-access", at=at))


def downgrade() -> None:
    # access_marks stays: see the module's docstring.
    op.add_column(
        "principals",
        sa.Column("failed_sign_ins", sa.Integer, nullable=False, server_default="0"),
    )
    op.add_column("principals", sa.Column("locked_until", UTCDateTime, nullable=True))
    op.drop_index("ix_auth_failures_expires_at", table_name="auth_failures")
    op.drop_table("auth_failures")

"""The delivery log keeps no receiver's answer: ``webhook_deliveries.last_response`` goes.

It held the first kilobyte of what a receiver answered, shown in the log; since a hook may
point at an internal service, an admin's webhook could read it (issue 22). The log keeps
each attempt's status code, error and duration. The upgrade clears the stored answers first
(PostgreSQL's DROP COLUMN only hides a column: the rows keep its bytes until rewritten),
then drops the column (SQLite 3.35+ drops a plain column in place: the table, and its
AUTOINCREMENT, stay). The downgrade adds the column back, empty.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE webhook_deliveries SET last_response = NULL")
    op.execute("ALTER TABLE webhook_deliveries DROP COLUMN last_response")


def downgrade() -> None:
    op.add_column("webhook_deliveries", sa.Column("last_response", sa.Text, nullable=True))

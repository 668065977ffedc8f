"""Retention's index holds unarchived versions only: a partial index on (prompt_id, number)
WHERE NOT archived replaces the full (prompt_id, archived, number) one.

The sweep (oldest unarchived) and `?archived=false` pages read only unarchived versions, so
an archived version needs no entry: about 14 bytes a version archived by `max_versions`
(docs/performance.md, "Archiving saves space"). `?archived=true` pages walk the
(prompt_id, number) unique index instead. The downgrade restores the full index.

Revision ID: 0011
Revises: 0008
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0008"
branch_labels = None
depends_on = None

# As SQLAlchemy writes `archived == sa.false()` on each database (the planner matches text)
LIVE_SQLITE = sa.text("archived = 0")
LIVE_PG = sa.text("archived = false")


def upgrade() -> None:
    op.drop_index("ix_versions_prompt_id_archived_number", table_name="versions")
    op.create_index(
        "ix_versions_live",
        "versions",
        ["prompt_id", "number"],
        sqlite_where=LIVE_SQLITE,
        postgresql_where=LIVE_PG,
    )


def downgrade() -> None:
    op.drop_index("ix_versions_live", table_name="versions")
    op.create_index(
        "ix_versions_prompt_id_archived_number", "versions", ["prompt_id", "archived", "number"]
    )

"""Raw outcomes read back by prompt: an index on (prompt_id, at, id).

``GET /prompts/{prompt_id}/outcomes`` pages a prompt's raw outcomes newest first by (at,
id); without this index it walked ``ix_outcomes_at`` through every prompt's outcomes (or
sorted them all). With it, a page is one index range whatever the other prompts hold. A
version's outcomes (``?version_id=``) use ``ix_outcomes_version_id_at``. The downgrade drops
the index.

Revision ID: 0012
Revises: 0009
Create Date: 2026-11-26
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_outcomes_prompt_id_at_id", "outcomes", ["prompt_id", "at", "id"])


def downgrade() -> None:
    op.drop_index("ix_outcomes_prompt_id_at_id", table_name="outcomes")

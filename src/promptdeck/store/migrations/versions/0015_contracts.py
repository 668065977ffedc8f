"""Contracts (issue 23): a version's contract, ``versions.contract``.

What a version promises its callers (docs/contracts.md): its variables' JSON Schema, its
tools, its answer's format, stored as ``domain.contracts.check_contract(raw).to_json()``
(JSON; JSONB on PostgreSQL). NULL for every version made before (and for one made without
a contract): its variables are inferred from its template when read. The downgrade drops
the column, and with it every contract.

Revision ID: 0015
Revises: 0014 (0020 is made alongside: whichever merges later revises the other)
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    json_type = sa.JSON().with_variant(JSONB(), "postgresql")
    op.add_column("versions", sa.Column("contract", json_type, nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE versions DROP COLUMN contract")

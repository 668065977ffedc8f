"""Provider keys stored sealed (issue 25; docs/evaluations.md "Model providers"):
``providers.api_key_sealed``, a provider's key sealed with Fernet under the server's secret
key (domain/sealing.py); null when the key is an environment variable or there is none.

The downgrade drops the column: the stored keys go with it (store them again, or name an
environment variable, after upgrading back).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("providers", sa.Column("api_key_sealed", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("providers") as batch:
        batch.drop_column("api_key_sealed")

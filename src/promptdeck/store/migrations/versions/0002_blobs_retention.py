"""Content-addressed blobs, archiving and purge tombstones.

Moves every version's content into ``blobs`` (one row per distinct content, stored whole:
new versions are stored as deltas from then on), adds the archive and purge columns and the
prompts' unarchived-version counter. The downgrade decodes the blobs back into
``versions.content`` (NULL for purged versions, whose content is gone).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from promptdeck.domain import storage
from promptdeck.store.types import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BATCH = 500

_versions = sa.table(
    "versions",
    sa.column("id", sa.Integer),
    sa.column("content", sa.Text),
    sa.column("blob_id", sa.Integer),
)
_blobs = sa.table(
    "blobs",
    sa.column("id", sa.Integer),
    sa.column("hash", sa.LargeBinary),
    sa.column("codec", sa.SmallInteger),
    sa.column("base_id", sa.Integer),
    sa.column("depth", sa.SmallInteger),
    sa.column("raw_size", sa.Integer),
    sa.column("data", sa.LargeBinary),
)


def upgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    op.create_table(
        "blobs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
        sa.Column("codec", sa.SmallInteger, nullable=False),
        sa.Column("base_id", sa.Integer, nullable=True),
        sa.Column("depth", sa.SmallInteger, nullable=False),
        sa.Column("raw_size", sa.Integer, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_blobs"),
        sa.UniqueConstraint("hash", name="uq_blobs_hash"),
        sa.ForeignKeyConstraint(["base_id"], ["blobs.id"], name="fk_blobs_base_id"),
    )
    if sqlite:
        # ALTER TABLE ADD COLUMN keeps the table (no batch copy, which the active-version
        # foreign key from prompts would refuse); SQLite takes the REFERENCES inline.
        op.execute("ALTER TABLE versions ADD COLUMN blob_id INTEGER REFERENCES blobs (id)")
    else:
        op.add_column("versions", sa.Column("blob_id", sa.Integer, nullable=True))
        op.create_foreign_key("fk_versions_blob_id", "versions", "blobs", ["blob_id"], ["id"])
    op.add_column(
        "versions",
        sa.Column("archived", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.add_column("versions", sa.Column("archived_at", UTCDateTime, nullable=True))
    op.add_column("versions", sa.Column("purged_at", UTCDateTime, nullable=True))
    op.add_column("versions", sa.Column("purged_by", sa.String(128), nullable=True))
    op.add_column("versions", sa.Column("purge_reason", sa.Text, nullable=True))
    op.create_index(
        "ix_versions_prompt_id_archived_number", "versions", ["prompt_id", "archived", "number"]
    )
    op.add_column(
        "prompts", sa.Column("live_count", sa.Integer, nullable=False, server_default="0")
    )
    op.execute("UPDATE prompts SET live_count = version_count")

    # Move the contents, in batches by id.
    last = 0
    by_hash: dict[bytes, int] = {}
    while True:
        rows = bind.execute(
            sa.select(_versions.c.id, _versions.c.content)
            .where(_versions.c.id > last)
            .order_by(_versions.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        for version_id, content in rows:
            data = (content or "").encode("utf-8")
            key = storage.content_key(data)
            blob_id = by_hash.get(key)
            if blob_id is None:
                enc = storage.encode_full(data)
                blob_id = bind.execute(
                    sa.insert(_blobs)
                    .values(
                        hash=key,
                        codec=enc.codec,
                        base_id=None,
                        depth=0,
                        raw_size=len(data),
                        data=enc.data,
                    )
                    .returning(_blobs.c.id)
                ).scalar_one()
                by_hash[key] = blob_id
            bind.execute(
                sa.update(_versions).where(_versions.c.id == version_id).values(blob_id=blob_id)
            )
        last = rows[-1][0]
    op.execute("ALTER TABLE versions DROP COLUMN content")


def _content(bind: sa.Connection, blob_id: int, cache: dict[int, bytes]) -> bytes:
    if blob_id in cache:
        return cache[blob_id]
    row = bind.execute(sa.select(_blobs).where(_blobs.c.id == blob_id)).one()
    base = _content(bind, row.base_id, cache) if row.base_id is not None else None
    data = storage.decode(row.codec, row.data, row.raw_size, base)
    cache[blob_id] = data
    return data


def downgrade() -> None:
    bind = op.get_bind()
    op.add_column("versions", sa.Column("content", sa.Text, nullable=True))
    last = 0
    cache: dict[int, bytes] = {}
    while True:
        rows = bind.execute(
            sa.select(_versions.c.id, _versions.c.blob_id)
            .where(_versions.c.id > last)
            .order_by(_versions.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        for version_id, blob_id in rows:
            if blob_id is None:
                continue  # purged: its content is gone for good
            text = _content(bind, blob_id, cache).decode("utf-8")
            bind.execute(
                sa.update(_versions).where(_versions.c.id == version_id).values(content=text)
            )
        if len(cache) > 10_000:
            cache.clear()
        last = rows[-1][0]
    op.execute("ALTER TABLE prompts DROP COLUMN live_count")
    op.drop_index("ix_versions_prompt_id_archived_number", table_name="versions")
    for column in ("purge_reason", "purged_by", "purged_at", "archived_at", "archived"):
        op.execute(f"ALTER TABLE versions DROP COLUMN {column}")
    if bind.dialect.name != "sqlite":
        op.drop_constraint("fk_versions_blob_id", "versions", type_="foreignkey")
    op.execute("ALTER TABLE versions DROP COLUMN blob_id")
    op.drop_table("blobs")

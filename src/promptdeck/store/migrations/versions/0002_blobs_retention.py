"""Content-addressed blobs, archiving and purge tombstones.

Moves every version's content into ``blobs`` (one row per distinct content, stored whole:
new versions are stored as deltas from then on), stores ``content_hash`` as its 32 raw bytes,
adds the archive and purge columns and the prompts' unarchived-version counter, and on
SQLite turns timestamps from ISO text (26 bytes) into integer microseconds (8 bytes). The
downgrade decodes the blobs back into ``versions.content`` (NULL for purged versions, whose
content is gone), the hashes back into ``sha256:<hex>`` text and the timestamps into text.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from promptdeck.domain import storage
from promptdeck.store.types import BlobId, ContentHash, UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BATCH = 500

# SQLite timestamp columns of revision 0001 (text "YYYY-MM-DD HH:MM:SS.ffffff").
TIMESTAMPS = {
    "prompts": ("created_at", "updated_at", "deleted_at"),
    "versions": ("created_at",),
    "events": ("created_at",),
    "idempotency_keys": ("created_at",),
}


def _timestamps_to_integers() -> None:
    for table, columns in TIMESTAMPS.items():
        for c in columns:
            op.execute(
                f"UPDATE {table} SET {c} = CAST(strftime('%s', substr({c}, 1, 19)) AS INTEGER) "
                f"* 1000000 + CAST(substr({c}, 21, 6) AS INTEGER) WHERE typeof({c}) = 'text'"
            )


def _timestamps_to_text() -> None:
    for table, columns in TIMESTAMPS.items():
        for c in columns:
            op.execute(
                f"UPDATE {table} SET {c} = strftime('%Y-%m-%d %H:%M:%S', {c} / 1000000, "
                f"'unixepoch') || '.' || printf('%06d', {c} % 1000000) "
                f"WHERE typeof({c}) = 'integer'"
            )


_versions = sa.table(
    "versions",
    sa.column("id", sa.Integer),
    sa.column("content", sa.Text),
    sa.column("content_hash", sa.String),
    sa.column("blob_id", sa.BigInteger),
)
_hashes = sa.table("versions", sa.column("id", sa.Integer), sa.column("content_hash", ContentHash))
_blobs = sa.table(
    "blobs",
    sa.column("id", sa.BigInteger),
    sa.column("codec", sa.SmallInteger),
    sa.column("base_id", sa.BigInteger),
    sa.column("depth", sa.SmallInteger),
    sa.column("raw_size", sa.Integer),
    sa.column("data", sa.LargeBinary),
)


def upgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    op.create_table(
        "blobs",
        sa.Column("id", BlobId, primary_key=True, autoincrement=False),
        sa.Column("codec", sa.SmallInteger, nullable=False),
        sa.Column("base_id", BlobId, nullable=True),
        sa.Column("depth", sa.SmallInteger, nullable=False),
        sa.Column("raw_size", sa.Integer, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_blobs"),
        sa.ForeignKeyConstraint(["base_id"], ["blobs.id"], name="fk_blobs_base_id"),
    )
    if sqlite:
        # ALTER TABLE ADD COLUMN keeps the table (no batch copy, which the active-version
        # foreign key from prompts would refuse); SQLite takes the REFERENCES inline.
        op.execute("ALTER TABLE versions ADD COLUMN blob_id INTEGER REFERENCES blobs (id)")
    else:
        op.add_column("versions", sa.Column("blob_id", sa.BigInteger, nullable=True))
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

    # Move the contents, in batches by id; hashes to raw bytes on SQLite (PostgreSQL below).
    last = 0
    while True:
        rows = bind.execute(
            sa.select(_versions.c.id, _versions.c.content, _versions.c.content_hash)
            .where(_versions.c.id > last)
            .order_by(_versions.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        for version_id, content, content_hash in rows:
            blob_id = _store(bind, (content or "").encode("utf-8"))
            bind.execute(
                sa.update(_versions).where(_versions.c.id == version_id).values(blob_id=blob_id)
            )
            if sqlite:
                bind.execute(
                    sa.update(_hashes)
                    .where(_hashes.c.id == version_id)
                    .values(content_hash=content_hash)
                )
        last = rows[-1][0]
    if not sqlite:
        op.execute(
            "ALTER TABLE versions ALTER COLUMN content_hash TYPE bytea USING CASE "
            "WHEN content_hash ~ '^sha256:[0-9a-f]{64}$' THEN decode(substr(content_hash, 8), "
            "'hex') ELSE convert_to(content_hash, 'UTF8') END"
        )
    op.execute("ALTER TABLE versions DROP COLUMN content")
    if sqlite:
        _timestamps_to_integers()


def _store(bind: sa.Connection, data: bytes) -> int:
    """The id of ``data``'s blob, stored whole (deltas start with the next new version)."""
    for blob_id in storage.probe_ids(storage.blob_id(data)):
        row = bind.execute(sa.select(_blobs).where(_blobs.c.id == blob_id)).first()
        if row is None:
            enc = storage.encode_full(data)
            bind.execute(
                sa.insert(_blobs).values(
                    id=blob_id,
                    codec=enc.codec,
                    base_id=None,
                    depth=0,
                    raw_size=len(data),
                    data=enc.data,
                )
            )
            return blob_id
        if storage.decode(row.codec, row.data, row.raw_size) == data:
            return blob_id
    raise RuntimeError("no free blob id for a content (64-bit hash prefix collisions)")


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
    sqlite = bind.dialect.name == "sqlite"
    op.add_column("versions", sa.Column("content", sa.Text, nullable=True))
    if sqlite:
        _timestamps_to_text()
    else:
        op.execute(
            "ALTER TABLE versions ALTER COLUMN content_hash TYPE VARCHAR(80) USING CASE "
            "WHEN length(content_hash) = 32 THEN 'sha256:' || encode(content_hash, 'hex') "
            "ELSE convert_from(content_hash, 'UTF8') END"
        )
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
            if sqlite:  # raw hash bytes back to text
                content_hash = bind.execute(
                    sa.select(_hashes.c.content_hash).where(_hashes.c.id == version_id)
                ).scalar_one()
                bind.execute(
                    sa.update(_versions)
                    .where(_versions.c.id == version_id)
                    .values(content_hash=content_hash)
                )
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

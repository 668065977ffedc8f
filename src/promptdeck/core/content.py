"""Version contents in content-addressed blobs: store, read, destroy. Runs inside the
caller's transaction (the Registry's); no commits here."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from promptdeck.domain import storage
from promptdeck.store import blobs as b


class ContentStore:
    """Blobs plus a process-local cache of decoded contents (keyed by hash: never stale)."""

    def __init__(self, cache: storage.ContentCache | None = None) -> None:
        self.cache = cache or storage.ContentCache()

    def put(self, conn: Connection, prompt_id: int, number: int, content: str) -> int:
        """The blob id for ``content``: an existing blob with the same hash, or a new one
        stored as a delta against the prompt's previous version when that is smaller.
        O(1) in history: one index lookup for the base, at most K rows to decode it."""
        data = content.encode("utf-8")
        key = storage.content_key(data)
        found = b.blob_by_hash(conn, key)
        if found is not None:
            return int(found.id)
        base_row = b.previous_blob(conn, prompt_id, number)
        base: bytes | None = None
        base_depth = 0
        if base_row is not None and base_row.depth + 1 < storage.CHAIN_MAX:
            base = self.read(conn, int(base_row.id), bytes(base_row.hash))
            base_depth = int(base_row.depth)
        enc = storage.encode(data, base, base_depth)
        blob_id = b.insert_blob(
            conn,
            {
                "hash": key,
                "codec": enc.codec,
                "base_id": base_row.id if enc.codec == storage.DELTA and base_row else None,
                "depth": enc.depth,
                "raw_size": len(data),
                "data": enc.data,
            },
        )
        self.cache.put(key, data)
        return blob_id

    def read(self, conn: Connection, blob_id: int, key: bytes | None = None) -> bytes:
        if key is not None:
            cached = self.cache.get(key)
            if cached is not None:
                return cached
        chain = b.blob_chain(conn, blob_id)
        data = storage.decode_chain(chain)
        self.cache.put(chain[0].hash, data)
        return data

    def text_of(self, conn: Connection, row: Any) -> str | None:
        """The content of a full version row (see queries.version_row); None once purged."""
        m = row._mapping
        if m["blob_id"] is None:
            return None
        codec = m["blob_codec"]
        if codec == storage.DELTA:
            data = self.read(conn, int(m["blob_id"]), bytes(m["blob_hash"]))
        else:
            data = storage.decode(codec, bytes(m["blob_data"]), int(m["blob_raw_size"]))
        return data.decode("utf-8")

    def release(self, conn: Connection, blob_id: int) -> bool:
        """Destroy the blob if no version uses it any more; True when it was destroyed.

        Blobs stored as deltas against it are re-encoded whole first, so no remaining row
        needs (or holds a trace of) the destroyed content."""
        if b.blob_references(conn, blob_id) > 0:
            return False
        for dep in b.dependants(conn, blob_id):
            data = self.read(conn, int(dep.id), bytes(dep.hash))
            enc = storage.encode_full(data)
            b.rewrite_blob(
                conn,
                int(dep.id),
                {"codec": enc.codec, "data": enc.data, "base_id": None, "depth": 0},
            )
        chain = b.blob_chain(conn, blob_id)
        b.delete_blob(conn, blob_id)
        self.cache.discard(chain[0].hash)
        return True

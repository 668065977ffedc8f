"""Version contents in content-addressed blobs: store, read, destroy. Runs inside the
caller's transaction (the Registry's); no commits here."""

from __future__ import annotations

from sqlalchemy import Connection

from promptdeck.domain import storage
from promptdeck.store import blobs as b
from promptdeck.store.records import VersionRow


class ContentStore:
    """Blobs plus a process-local cache of decoded contents (keyed by content-derived id)."""

    def __init__(self, cache: storage.ContentCache | None = None) -> None:
        self.cache = cache or storage.ContentCache()

    def put(self, conn: Connection, prompt_id: int, number: int, content: str) -> int:
        """The blob id for ``content``: the blob already holding it, or a new one stored as a
        delta against the prompt's previous version when that is smaller. O(1) in history:
        a primary-key probe, one index lookup for the base, at most K rows to decode it."""
        data = content.encode("utf-8")
        encoded: storage.Encoded | None = None
        base_id: int | None = None
        for blob_id in storage.probe_ids(storage.blob_id(data)):
            existing = b.blob_row(conn, blob_id)
            if existing is None:
                if encoded is None:
                    encoded, base_id = self._encode(conn, prompt_id, number, data)
                values = {
                    "id": blob_id,
                    "codec": encoded.codec,
                    "base_id": base_id if encoded.depth else None,
                    "depth": encoded.depth,
                    "raw_size": len(data),
                    "data": encoded.data,
                }
                if b.insert_blob(conn, values):
                    self.cache.put(blob_id, data)
                    return blob_id
                existing = b.blob_row(conn, blob_id)  # a concurrent writer took the id
                assert existing is not None
            if existing.raw_size == len(data) and self.read(conn, blob_id) == data:
                return blob_id  # identical content: stored once
        raise RuntimeError("no free blob id for a content (64-bit hash prefix collisions)")

    def _encode(
        self, conn: Connection, prompt_id: int, number: int, data: bytes
    ) -> tuple[storage.Encoded, int | None]:
        base_row = b.previous_blob(conn, prompt_id, number)
        if base_row is None or base_row.depth + 1 >= storage.CHAIN_MAX:
            return storage.encode_full(data), None
        base = self.read(conn, base_row.id)
        return storage.encode(data, base, base_row.depth), base_row.id

    def read(self, conn: Connection, blob_id: int) -> bytes:
        cached = self.cache.get(blob_id)
        if cached is not None:
            return cached
        chain = b.blob_chain(conn, blob_id)
        # Decode from the nearest base already decoded (reading a history in order decodes
        # one delta a version, not the whole chain each time).
        for depth, blob in enumerate(chain[1:], start=1):
            base = self.cache.get(blob.id)
            if base is not None:
                data = base
                for step in reversed(chain[:depth]):
                    data = storage.decode(step.codec, step.data, step.raw_size, data)
                break
        else:
            data = storage.decode_chain(chain)
        self.cache.put(blob_id, data)
        return data

    def text(self, conn: Connection, blob_id: int | None) -> str | None:
        """The content of blob ``blob_id`` as text; None for a purged version's None."""
        return None if blob_id is None else self.read(conn, blob_id).decode("utf-8")

    def text_of(self, conn: Connection, row: VersionRow) -> str | None:
        """The content of a full version row (see queries.version_row); None once purged."""
        stored = row.stored
        if stored is None:
            return None
        if stored.codec in (storage.RAW, storage.ZSTD):
            data = storage.decode(stored.codec, stored.data, stored.raw_size)
        else:
            data = self.read(conn, stored.blob_id)
        return data.decode("utf-8")

    def release(self, conn: Connection, blob_id: int) -> bool:
        """Destroy the blob if no version uses it any more; True when it was destroyed.

        Blobs stored as deltas against it are re-encoded whole first, so no remaining row
        needs (or holds a trace of) the destroyed content."""
        if b.blob_references(conn, blob_id) > 0:
            return False
        for dep in b.dependants(conn, blob_id):
            data = self.read(conn, dep)
            enc = storage.encode_full(data)
            b.rewrite_blob(
                conn,
                dep,
                {"codec": enc.codec, "data": enc.data, "base_id": None, "depth": 0},
            )
        b.delete_blob(conn, blob_id)
        self.cache.discard(blob_id)
        return True

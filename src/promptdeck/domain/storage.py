"""Content-addressed blobs: hashing, zstd full copies and zstd deltas, chain decoding.

A blob is one distinct content (UTF-8 bytes), named by its SHA-256. It is stored as:

- ``RAW``: the bytes as they are (tiny contents, where zstd's frame costs more than it saves);
- ``ZSTD``: a zstd frame of the whole content (a keyframe);
- ``DELTA``: a zstd frame compressed with another blob's content as a raw-content
  dictionary, so the frame holds only what changed (~40 bytes for a sentence edit of 4 KB).

Chains are bounded: a delta's ``depth`` is its base's depth + 1, and a blob is stored whole
once that would reach ``CHAIN_MAX``, so reading any version decodes at most ``CHAIN_MAX - 1``
deltas (~30 us each for 4 KB). Frames are magic-less, with no checksum, content size or
dictionary id: the blob row already holds the size and the hash checks the result.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import zstandard as zstd

RAW = 0
ZSTD = 1
DELTA = 2

CHAIN_MAX = 32  # K: a full copy at least every 32 blobs of a chain (measured in bench/storage)
RAW_BELOW = 64  # bytes: smaller contents are stored as they are
LEVEL = 19  # zstd level: 4 KB compress in ~0.1 ms even at 19; reading does not depend on it


def content_key(data: bytes) -> bytes:
    """The blob's name: the raw 32-byte SHA-256 of its content."""
    return hashlib.sha256(data).digest()


def _params(level: int) -> zstd.ZstdCompressionParameters:
    return zstd.ZstdCompressionParameters.from_level(
        level,
        format=zstd.FORMAT_ZSTD1_MAGICLESS,
        write_content_size=0,
        write_checksum=0,
        write_dict_id=0,
    )


_PARAMS = _params(LEVEL)


def _dictionary(base: bytes) -> zstd.ZstdCompressionDict:
    return zstd.ZstdCompressionDict(base, dict_type=zstd.DICT_TYPE_RAWCONTENT)


@dataclass(frozen=True, slots=True)
class Encoded:
    codec: int
    data: bytes
    depth: int  # 0 for RAW and ZSTD, base depth + 1 for DELTA


def encode_full(data: bytes) -> Encoded:
    if len(data) < RAW_BELOW:
        return Encoded(RAW, data, 0)
    frame = zstd.ZstdCompressor(compression_params=_PARAMS).compress(data)
    if len(frame) >= len(data):
        return Encoded(RAW, data, 0)
    return Encoded(ZSTD, frame, 0)


def encode(data: bytes, base: bytes | None = None, base_depth: int = 0) -> Encoded:
    """The smallest of a full copy and a delta against ``base`` (if the chain has room)."""
    full = encode_full(data)
    if base is None or not base or base_depth + 1 >= CHAIN_MAX or full.codec == RAW:
        return full
    compressor = zstd.ZstdCompressor(dict_data=_dictionary(base), compression_params=_PARAMS)
    frame = compressor.compress(data)
    if len(frame) < len(full.data):
        return Encoded(DELTA, frame, base_depth + 1)
    return full


def decode(codec: int, data: bytes, raw_size: int, base: bytes | None = None) -> bytes:
    """One blob's content from its stored form (``base``: its base's content, for a delta)."""
    if codec == RAW:
        return bytes(data)
    if codec == ZSTD:
        out = zstd.ZstdDecompressor(format=zstd.FORMAT_ZSTD1_MAGICLESS).decompress(
            bytes(data), max_output_size=max(raw_size, 1)
        )
    elif codec == DELTA:
        if base is None:
            raise ValueError("a delta blob needs its base's content")
        out = zstd.ZstdDecompressor(
            dict_data=_dictionary(base), format=zstd.FORMAT_ZSTD1_MAGICLESS
        ).decompress(bytes(data), max_output_size=max(raw_size, 1))
    else:
        raise ValueError(f"unknown blob codec {codec}")
    if len(out) != raw_size:
        raise ValueError("blob decoded to the wrong size")
    return out


@dataclass(frozen=True, slots=True)
class StoredBlob:
    """A blob row as read from the store (the fields decoding needs)."""

    id: int
    hash: bytes
    codec: int
    base_id: int | None
    raw_size: int
    data: bytes


def decode_chain(chain: Sequence[StoredBlob]) -> bytes:
    """The content of ``chain[0]``, given the chain from it down to a full copy."""
    if not chain:
        raise ValueError("empty blob chain")
    content: bytes | None = None
    for blob in reversed(chain):
        content = decode(blob.codec, blob.data, blob.raw_size, content)
    assert content is not None
    if content_key(content) != bytes(chain[0].hash):
        raise ValueError(f"blob {chain[0].id} does not match its hash")
    return content


class ContentCache:
    """Decoded contents by hash, least recently used out, bounded in bytes.

    Safe across processes: a hash names one content forever. Thread-safe for the server's
    thread pool.
    """

    def __init__(self, max_bytes: int = 32 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[bytes, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: bytes) -> bytes | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: bytes, value: bytes) -> None:
        if len(value) > self.max_bytes // 8:
            return
        with self._lock:
            if key in self._items:
                return
            self._items[key] = value
            self._size += len(value)
            while self._size > self.max_bytes:
                _, old = self._items.popitem(last=False)
                self._size -= len(old)

    def discard(self, key: bytes) -> None:
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._size -= len(old)

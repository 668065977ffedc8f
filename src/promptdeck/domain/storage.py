"""Content-addressed blobs: naming, zstd full copies, deltas, chain decoding.

A blob is one distinct content (UTF-8 bytes). Its id is its name: the first 64 bits of its
SHA-256 as a signed integer (the table's primary key, so no separate hash index; a collision
of 64-bit prefixes, ~never, probes the next ids and is told apart by comparing contents).
It is stored as:

- ``RAW``: the bytes as they are (tiny contents, where zstd's frame costs more than it saves);
- ``ZSTD``: a zstd frame of the whole content (a keyframe);
- ``DELTA``: a zstd frame compressed with its base's content as a raw-content dictionary, so
  the frame holds only what changed (~40 bytes for a sentence edit of 4 KB);
- ``SPLICE``: the base with one span replaced: varint prefix length, varint suffix length,
  then the new middle bytes. The common edit (one sentence reworded, inserted or dropped) is
  about as small as a zstd delta and decodes with two slices instead of loading a dictionary.

The encoder keeps the smallest. Chains are bounded: a delta's ``depth`` is its base's depth
+ 1, and a blob is stored whole once that would reach ``CHAIN_MAX``, so reading any version
applies at most ``CHAIN_MAX - 1`` deltas. zstd frames are magic-less, with no checksum,
content size or dictionary id: the blob row holds the size, and the id checks the result.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import zstandard as zstd

RAW = 0
ZSTD = 1
DELTA = 2
SPLICE = 3

CHAIN_MAX = 64  # K: a full copy at least every 64 blobs of a chain (chosen in docs/storage.md)
RAW_BELOW = 64  # bytes: smaller contents are stored as they are
LEVEL = 19  # zstd level: 4 KB compress in ~0.1 ms even at 19; reading does not depend on it


PROBE_MAX = 16  # ids tried after the home id when 64-bit hash prefixes collide


def blob_id(data: bytes) -> int:
    """The blob's home id: the first 8 bytes of the content's SHA-256, as a signed int64."""
    return int.from_bytes(hashlib.sha256(data).digest()[:8], "big", signed=True)


def probe_ids(home: int) -> list[int]:
    """The ids a content may live at, in order (wrapping inside the int64 range)."""
    return [((home + i + 2**63) % 2**64) - 2**63 for i in range(PROBE_MAX)]


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    n = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        n |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return n, pos


def _common(same: Callable[[int], bool], limit: int) -> int:
    """The largest n <= limit with same(n), by bisection (slice compares run in C)."""
    lo, hi = 0, limit
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if same(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo


def splice(base: bytes, data: bytes) -> bytes:
    """``data`` as ``base`` with one span replaced (common prefix and suffix kept)."""
    limit = min(len(base), len(data))
    prefix = _common(lambda n: base[:n] == data[:n], limit)
    rest = limit - prefix
    suffix = _common(lambda n: base[len(base) - n :] == data[len(data) - n :], rest)
    return _varint(prefix) + _varint(suffix) + data[prefix : len(data) - suffix]


def unsplice(base: bytes, payload: bytes) -> bytes:
    prefix, pos = _read_varint(payload, 0)
    suffix, pos = _read_varint(payload, pos)
    if prefix + suffix > len(base):
        raise ValueError("splice does not fit its base")
    return base[:prefix] + payload[pos:] + base[len(base) - suffix :]


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


def zstd_delta(base: bytes, data: bytes) -> bytes:
    """A zstd frame of ``data`` with ``base`` as a raw-content dictionary."""
    compressor = zstd.ZstdCompressor(dict_data=_dictionary(base), compression_params=_PARAMS)
    return compressor.compress(data)


def encode(data: bytes, base: bytes | None = None, base_depth: int = 0) -> Encoded:
    """The smallest of a full copy and a delta against ``base`` (if the chain has room)."""
    full = encode_full(data)
    if base is None or not base or base_depth + 1 >= CHAIN_MAX or full.codec == RAW:
        return full
    best = full
    spliced = splice(base, data)
    if len(spliced) < len(best.data):
        best = Encoded(SPLICE, spliced, base_depth + 1)
    if len(spliced) > 24:  # a zstd delta may beat a splice that carries a long middle
        frame = zstd_delta(base, data)
        if len(frame) < len(best.data):
            best = Encoded(DELTA, frame, base_depth + 1)
    return best


def decode(codec: int, data: bytes, raw_size: int, base: bytes | None = None) -> bytes:
    """One blob's content from its stored form (``base``: its base's content, for a delta)."""
    if codec == RAW:
        return bytes(data)
    if codec == ZSTD:
        out = zstd.ZstdDecompressor(format=zstd.FORMAT_ZSTD1_MAGICLESS).decompress(
            bytes(data), max_output_size=max(raw_size, 1)
        )
    elif codec in (DELTA, SPLICE):
        if base is None:
            raise ValueError("a delta blob needs its base's content")
        if codec == SPLICE:
            out = unsplice(base, bytes(data))
        else:
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
    if chain[0].id not in probe_ids(blob_id(content)):
        raise ValueError(f"blob {chain[0].id} does not match its content's hash")
    return content


class ContentCache:
    """Decoded contents by blob id, least recently used out, bounded in bytes.

    Safe across processes: an id is derived from the content's hash, so it names one
    content forever. Thread-safe for the server's thread pool.
    """

    def __init__(self, max_bytes: int = 32 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[int, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: int) -> bytes | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: int, value: bytes) -> None:
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

    def discard(self, key: int) -> None:
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._size -= len(old)

"""Which arm a key gets: the one hash that the server, the Python client and the TypeScript
client must compute bit for bit (fixtures: ``conformance/assignment.json``).

    bucket(salt, key) = uint32_be(SHA-256(UTF-8(salt + ":" + key))[0:4]) mod 10000
    arm = "candidate" if bucket < basis_points else "baseline"

SHA-256 because it is in every language's standard library (Python's hashlib, Go's
crypto/sha256, Java's MessageDigest, Node's crypto) and a synchronous one is 60 lines of
TypeScript where only Web Crypto's asynchronous digest exists (edge runtimes, browsers).
Four bytes, not eight: an unsigned 32-bit integer is exact in a JavaScript number (no
BigInt), and the modulo's bias is 2**32 mod 10000 = 7296 buckets out of 10,000 holding one
hash value more than the others among 429,496: a share off by 2.3e-6 of itself.
The salt is ASCII without ``:`` (``SALT_PATTERN``), so ``salt + ":"`` ends where the salt
does and no (salt, key) pair can spell another's message.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import Literal

from promptdeck import limits
from promptdeck.errors import InvalidInput

Arm = Literal["baseline", "candidate"]
BUCKETS = limits.ROLLOUT_BUCKETS
SALT_PATTERN = re.compile(rf"[A-Za-z0-9_-]{{1,{limits.ROLLOUT_SALT_MAX}}}")


def check_key(key: str) -> bytes:
    """A key's UTF-8 bytes: any Unicode text (the empty key too) of at most 512 bytes. A lone
    surrogate is not Unicode (JavaScript strings can hold one; ``isWellFormed()`` says so):
    refused rather than replaced, so no two clients can disagree on its bytes."""
    try:
        data = key.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidInput(
            f"key holds a lone surrogate (U+{ord(key[exc.start]):04X} at {exc.start}): "
            "not Unicode text",
            field="key",
        ) from exc
    if len(data) > limits.ROLLOUT_KEY_MAX_BYTES:
        raise InvalidInput(
            f"key is {len(data)} bytes of UTF-8, more than {limits.ROLLOUT_KEY_MAX_BYTES}",
            field="key",
        )
    return data


def check_salt(salt: str) -> str:
    if not SALT_PATTERN.fullmatch(salt):
        raise InvalidInput(
            f"salt must be 1 to {limits.ROLLOUT_SALT_MAX} characters of [A-Za-z0-9_-]",
            field="salt",
        )
    return salt


def new_salt() -> str:
    """A rollout's own salt: 128 random bits, so each rollout draws its own population."""
    return secrets.token_hex(16)


def bucket(salt: str, key: str) -> int:
    """The key's bucket in [0, 10000) under this salt (the module's docstring is the spec)."""
    message = check_salt(salt).encode("ascii") + b":" + check_key(key)
    return int.from_bytes(hashlib.sha256(message).digest()[:4], "big") % BUCKETS


class Salted:
    """``bucket`` for one salt, checked and hashed once: the hot path keeps one per live
    rollout and pays only for the key (a copy of SHA-256's state after ``salt:``)."""

    __slots__ = ("_prefix", "salt")

    def __init__(self, salt: str) -> None:
        self.salt = check_salt(salt)
        self._prefix = hashlib.sha256(salt.encode("ascii") + b":")

    def bucket(self, key: str) -> int:
        digest = self._prefix.copy()
        digest.update(check_key(key))
        return int.from_bytes(digest.digest()[:4], "big") % BUCKETS

    def assign(self, key: str | None, basis_points: int) -> Arm:
        return arm_of(random_bucket() if key is None else self.bucket(key), basis_points)


def random_bucket() -> int:
    """A request without a key: a fresh bucket each time (no stickiness)."""
    return secrets.randbelow(BUCKETS)


def arm_of(bucket_: int, basis_points: int) -> Arm:
    """The candidate takes the buckets below its share: raising the share only adds buckets,
    so no key ever goes back from the candidate to the baseline while it grows."""
    return "candidate" if bucket_ < basis_points else "baseline"


def assign(salt: str, key: str | None, basis_points: int) -> Arm:
    """The arm of ``key`` (None: a random one) when the candidate has ``basis_points`` of
    10,000 (a share of 5% is 500)."""
    return arm_of(random_bucket() if key is None else bucket(salt, key), basis_points)


def basis_points(percent: float) -> int:
    """A share in percent with at most two decimals (12.5, 0.25) as basis points."""
    found = round(percent * 100)
    if abs(percent * 100 - found) > 1e-6:
        raise ValueError(f"{percent} has more than two decimals")
    return found


def percent(basis_points_: int) -> float | int:
    """Basis points as the percent the API shows: 500 → 5, 1250 → 12.5."""
    whole, rest = divmod(basis_points_, 100)
    return whole if rest == 0 else basis_points_ / 100

"""Naming rules, default version names, content hashes and keyset cursors."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from promptdeck.domain import refs, values
from promptdeck.errors import InvalidInput
from promptdeck.limits import PAGE_LIMIT_MAX, PROMPT_NAME_MAX, PROMPT_NAME_PATTERN

_NAME_RE = re.compile(PROMPT_NAME_PATTERN)


def check_prompt_name(name: str) -> str:
    """A prompt name is a slug, at most 128 characters, and not all digits (ids are)."""
    if len(name) > PROMPT_NAME_MAX:
        raise InvalidInput(f"name is longer than {PROMPT_NAME_MAX} characters", field="name")
    if refs.looks_like_id(name):
        raise InvalidInput("name cannot be all digits (that is how ids are written)", field="name")
    if not _NAME_RE.fullmatch(name):
        raise InvalidInput(
            "name must be lowercase letters, digits, '.', '_' or '-', starting with a letter "
            "or digit",
            field="name",
        )
    return name


def default_version_name(now: datetime) -> str:
    """The UTC creation time, ISO 8601 with milliseconds and ``Z``."""
    utc = now.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def next_free_name(base: str, taken: set[str]) -> str:
    """``base`` if free, else ``base-2``, ``base-3``…: the first suffix not taken."""
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(
    content: str, model_config: dict[str, Any], contract: dict[str, Any] | None = None
) -> str:
    """sha256 over the prompt text, its model config and its contract (as stored), so
    equal snapshots hash equal. Without a contract, as before contracts: hashes of earlier
    versions stay valid."""
    h = hashlib.sha256()
    h.update(content.encode("utf-8"))
    h.update(b"\x00")
    h.update(canonical_json(model_config).encode("utf-8"))
    if contract is not None:
        h.update(b"\x00contract\x00")
        h.update(canonical_json(contract).encode("utf-8"))
    return "sha256:" + h.hexdigest()


_MICROSECOND = timedelta(microseconds=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROS_MIN = (datetime.min.replace(tzinfo=UTC) - _EPOCH) // _MICROSECOND
_MICROS_MAX = (datetime.max.replace(tzinfo=UTC) - _EPOCH) // _MICROSECOND
# Cursors are readable keyset positions, each kind one regular expression that is both the
# server's whole check and the OpenAPI document's `pattern` (an empty cursor: the first page).
# k:<id>: the last item's id (or number); t:<micros>:<row id>: a time in microseconds since
# 1970 (one past the years 1 to 9999 is read as their end: every row is inside) and a 64-bit
# row id (raw outcomes may pass 2**31 ids).
_KEY = f"k:({values.ID_REGEX})"
_TIME = "t:(0|-?[1-9][0-9]{0,17}):([1-9][0-9]{0,17})"
CURSOR_PATTERN = f"^(?:{_KEY})?$"
TIME_CURSOR_PATTERN = f"^(?:{_TIME})?$"
_KEY_RE = re.compile(_KEY, re.ASCII)
_TIME_RE = re.compile(_TIME, re.ASCII)


def _issued() -> InvalidInput:
    return InvalidInput("cursor is not one this server issued", field="cursor")


def encode_cursor(value: int) -> str:
    return f"k:{value}"


def decode_cursor(cursor: str) -> int:
    match = _KEY_RE.fullmatch(cursor)
    if match is None:
        raise _issued()
    return int(match.group(1))


def encode_time_cursor(at: datetime, row_id: int) -> str:
    """A cursor for lists ordered by (time, id), newest first: the last item's both."""
    return f"t:{(at - _EPOCH) // _MICROSECOND}:{row_id}"


def decode_time_cursor(cursor: str) -> tuple[datetime, int]:
    match = _TIME_RE.fullmatch(cursor)
    if match is None:
        raise _issued()
    micros = min(max(int(match.group(1)), _MICROS_MIN), _MICROS_MAX)
    return _EPOCH + micros * _MICROSECOND, int(match.group(2))


def check_filters(**filters: str | None) -> None:
    """Text a list is filtered by is text the database can hold: a NUL or a lone surrogate
    (any face may pass one through) is a 422 naming the filter, never a database error."""
    for name, value in filters.items():
        if value is not None:
            try:
                values.check_text(value)
            except ValueError as exc:
                raise InvalidInput(f"{name}: {exc}", field=name) from exc


def check_limit(limit: int) -> int:
    """A page size the server accepts."""
    if not 1 <= limit <= PAGE_LIMIT_MAX:
        raise InvalidInput(f"limit must be between 1 and {PAGE_LIMIT_MAX}", field="limit")
    return limit

"""Naming rules, default version names, content hashes and opaque cursors."""

from __future__ import annotations

import base64
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
    if not _NAME_RE.match(name):
        raise InvalidInput(
            "name must be lowercase letters, digits, '.', '_' or '-', starting with a letter "
            "or digit",
            field="name",
        )
    if refs.looks_like_id(name):
        raise InvalidInput("name cannot be all digits (that is how ids are written)", field="name")
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


def encode_cursor(value: int) -> str:
    return base64.urlsafe_b64encode(f"k:{value}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, value = raw.partition(":")
        if prefix != "k":
            raise ValueError(raw)
        return values.parse_cursor_value(value)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("cursor is not one this server issued", field="cursor") from exc


_MICROSECOND = timedelta(microseconds=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Canonical decimals only (one spelling per cursor); a row id is a 64-bit key (raw outcomes
# may pass 2**31 ids), a time a signed count of microseconds since 1970.
_MICROS = re.compile(r"0|-?[1-9][0-9]{0,17}", re.ASCII)
_ROW_ID = re.compile(r"[1-9][0-9]{0,17}", re.ASCII)


def encode_time_cursor(at: datetime, row_id: int) -> str:
    """A cursor for lists ordered by (time, id), newest first: the last item's both."""
    micros = (at - _EPOCH) // _MICROSECOND
    return base64.urlsafe_b64encode(f"t:{micros}:{row_id}".encode()).decode().rstrip("=")


def decode_time_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, micros, row_id = raw.split(":")
        if prefix != "t" or not _MICROS.fullmatch(micros) or not _ROW_ID.fullmatch(row_id):
            raise ValueError(raw)
        return _EPOCH + int(micros) * _MICROSECOND, int(row_id)
    except (ValueError, UnicodeDecodeError, OverflowError) as exc:
        raise InvalidInput("cursor is not one this server issued", field="cursor") from exc


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

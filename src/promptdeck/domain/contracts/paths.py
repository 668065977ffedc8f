"""Paths and numbers as the contract's messages write them: one spelling, the same in every
client (the TypeScript client reproduces these byte for byte; docs/contracts.md).

- A path is a root name then segments: a key that looks like an identifier (``[A-Za-z_$]``
  then ``[A-Za-z0-9_$]``) as ``.key``, any other key as ``["key"]`` (JSON-quoted), an array
  index as ``[3]``: ``variables.customer.age``, ``contract.tools[2].function.name``.
- Paths sort segment by segment: indices by number, keys by UTF-16 code units (JavaScript's
  own string order), a shorter path before the paths it starts.
- A number is written in plain decimal: an integral value as an integer (``3``, also for
  ``3.0``), any other as its shortest round-trip digits without an exponent (``0.0000001``).
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

Segment = str | int
_SIMPLE = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")


def render_path(root: str, segments: tuple[Segment, ...]) -> str:
    parts = [root]
    for s in segments:
        if isinstance(s, int):
            parts.append(f"[{s}]")
        elif _SIMPLE.fullmatch(s):
            parts.append(f".{s}")
        else:
            parts.append(f"[{quote(s)}]")
    return "".join(parts)


def quote(text: str) -> str:
    """A string as JSON writes it (JavaScript's ``JSON.stringify`` gives the same)."""
    return json.dumps(text, ensure_ascii=False)


def utf16_key(text: str) -> bytes:
    """Sort key: UTF-16 code unit order, as JavaScript compares strings."""
    return text.encode("utf-16-be", "surrogatepass")


def segments_key(segments: tuple[Segment, ...]) -> tuple[tuple[int, int, bytes], ...]:
    return tuple((0, s, b"") if isinstance(s, int) else (1, 0, utf16_key(s)) for s in segments)


def number(value: int | float) -> str:
    if isinstance(value, int):
        return str(value)
    if value.is_integer():
        return str(int(value))
    return format(Decimal(repr(value)), "f")


def scalar(value: Any) -> str:
    """A scalar in a message: JSON for strings, booleans and null, ``number`` for numbers."""
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, int | float):
        return number(value)
    return quote(str(value))


def is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, bool | int | float | str)

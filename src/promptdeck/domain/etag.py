"""ETags: built and matched here only (the server's headers, the core's If-Match check).

A prompt's ETag is ``"<id>-<revision>"`` (its revision moves on every change); the active
version's is ``"a<version id>"`` (versions are immutable, so the id names the body); a
label's is ``"l<prompt id>.<label>.<its last move's id>"``."""

from __future__ import annotations


def prompt_etag(prompt_id: int, revision: int) -> str:
    return f'"{prompt_id}-{revision}"'


def active_etag(version_id: int) -> str:
    return f'"a{version_id}"'


def label_etag(prompt_id: int, label: str, move_id: int) -> str:
    """A label's ETag names its last move (every move of every label has its own id)."""
    return f'"l{prompt_id}.{label}.{move_id}"'


def matches(header: str, etag: str) -> bool:
    """Whether an If-Match or If-None-Match header names ``etag`` (``*`` names any; weak
    tags compare by their opaque part)."""
    if header.strip() == "*":
        return True
    return any(tag.strip().removeprefix("W/") == etag for tag in header.split(","))

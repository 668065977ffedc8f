"""How a version is named by people: an id, or a version name."""

from __future__ import annotations


def version_ref(ref: int | str) -> tuple[int | None, str | None]:
    """(id to try, name to try). An int is an id; an all-digit string is an id first, then a
    name; any other string is a name."""
    if isinstance(ref, int):
        return ref, None
    if ref.isdigit() and len(ref) < 10:
        return int(ref), ref
    return None, ref

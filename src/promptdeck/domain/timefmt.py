"""Times for people: "3 minutes ago" and a UTC stamp. One formatter for the web UI and the
command line."""

from __future__ import annotations

from datetime import UTC, datetime

_UNITS = (
    ("year", 365 * 86_400),
    ("month", 30 * 86_400),
    ("day", 86_400),
    ("hour", 3600),
    ("minute", 60),
)


def ago(value: datetime, now: datetime) -> str:
    """ "3 minutes ago", like git; under a minute (or a clock a little ahead), "just now"."""
    seconds = int((now - value.astimezone(UTC)).total_seconds())
    for unit, size in _UNITS:
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'s' if n > 1 else ''} ago"
    return "just now"


def when(value: datetime | None) -> str:
    """To the minute, in UTC (the UI's tables)."""
    return "" if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def stamp(value: datetime) -> str:
    """To the second, in UTC (the command line's details)."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")

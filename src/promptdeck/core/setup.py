"""Opening a database for the faces: the engine from the settings, the Registry over it,
and the schema migrations (``promptdeck serve`` and ``promptdeck db``). Faces call these
instead of reaching into the store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from promptdeck.config import Settings
from promptdeck.core.access import Access
from promptdeck.core.outcomes import IngestLimit, RawSettings
from promptdeck.core.registry import Registry
from promptdeck.domain.retention import CompactReport
from promptdeck.store import migrate
from promptdeck.store.engine import create_engine, is_sqlite
from promptdeck.store.records import DowngradePlan

__all__ = [
    "DowngradePlan",
    "access_closed",
    "access_state",
    "compact",
    "is_sqlite",
    "migrate_to",
    "open_access",
    "open_registry",
    "plan_undo",
    "revisions",
    "undo_to",
]


def open_registry(settings: Settings) -> Registry:
    """The Registry over the database the settings name (engine tuned by them)."""
    engine = create_engine(
        settings.database_url,
        sqlite_synchronous=settings.sqlite_synchronous,
        busy_timeout_ms=settings.sqlite_busy_timeout_ms,
        pool_size=settings.pool_size,
    )
    return Registry(
        engine,
        default_max_versions=settings.default_max_versions,
        raw_outcomes=RawSettings(settings.outcomes_raw, settings.outcomes_raw_days),
        ingest_limit=IngestLimit(settings.outcomes_rate, settings.outcomes_burst),
    )


def migrate_to(database_url: str, revision: str = "head") -> str:
    """Apply migrations up to ``revision``; the revision the database is at afterwards."""
    engine = create_engine(database_url)
    try:
        migrate.upgrade(engine, revision)
        return str(migrate.current(engine))
    finally:
        engine.dispose()


def undo_to(database_url: str, revision: str) -> str:
    """Undo migrations down to ``revision`` (``base``: empty)."""
    engine = create_engine(database_url)
    try:
        migrate.downgrade(engine, revision)
        return str(migrate.current(engine))
    finally:
        engine.dispose()


def plan_undo(database_url: str, revision: str) -> DowngradePlan:
    """What undoing migrations down to ``revision`` would delete (nothing is changed)."""
    engine = create_engine(database_url)
    try:
        return migrate.downgrade_plan(engine, revision)
    finally:
        engine.dispose()


def revisions(database_url: str) -> tuple[str | None, str | None]:
    """(the database's revision, the newest one)."""
    engine = create_engine(database_url)
    try:
        return migrate.current(engine), migrate.head(engine)
    finally:
        engine.dispose()


def compact(database_url: str) -> CompactReport:
    engine = create_engine(database_url)
    try:
        return Registry(engine).compact()
    finally:
        engine.dispose()


@contextmanager
def open_access(database_url: str) -> Iterator[Access]:
    """Keys and people on the database itself, migrated first (so the first admin key can be
    made before any server runs)."""
    engine = create_engine(database_url)
    try:
        migrate.upgrade(engine)
        yield Access(engine)
    finally:
        engine.dispose()


def access_closed(database_url: str) -> bool:
    """Whether any key or person exists (then every route but /healthz needs one)."""
    return access_state(database_url)[0]


def access_state(database_url: str) -> tuple[bool, datetime | None]:
    """(whether any key or person exists, when the first was ever created: a mark that
    outlives downgrades and lost rows, so an open start can be refused)."""
    engine = create_engine(database_url)
    try:
        access = Access(engine)
        return access.state()[1], access.had_access()
    finally:
        engine.dispose()

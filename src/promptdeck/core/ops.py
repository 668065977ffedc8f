"""Operations questions about the database: is the schema the one this code needs."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from promptdeck.core.tx import unavailable_as_error
from promptdeck.store import migrate


@dataclass(frozen=True, slots=True)
class Readiness:
    current: str | None
    head: str | None

    @property
    def at_head(self) -> bool:
        return self.current == self.head


_HEADS: dict[str, str | None] = {}


def readiness(engine: Engine) -> Readiness:
    """The database's migration revision and the newest one; DatabaseUnavailable when the
    database cannot be reached."""
    key = engine.dialect.name
    if key not in _HEADS:
        _HEADS[key] = migrate.head(engine)
    with unavailable_as_error():
        return Readiness(migrate.current(engine), _HEADS[key])

"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Aware UTC datetimes in and out: ``timestamptz`` on PostgreSQL; on SQLite an integer of
    microseconds since 1970 (8 bytes where ISO text took 26, twice per version; exact, and it
    sorts). Text written before migration 0002 still reads."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.BigInteger())
        return dialect.type_descriptor(sa.DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return (value - EPOCH) // _MICROSECOND
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, int):
            return EPOCH + timedelta(microseconds=value)
        moment: datetime = (
            datetime.fromisoformat(value) if isinstance(value, str) else value
        )  # text: SQLite rows from before migration 0002
        if moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)


JSONType: sa.types.TypeEngine[Any] = sa.JSON().with_variant(JSONB(), "postgresql")


# A 64-bit integer key; on SQLite plain INTEGER, so a primary key is the rowid itself.
BlobId: sa.types.TypeEngine[int] = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class ContentHash(sa.TypeDecorator[str]):
    """``sha256:<hex>`` in and out, stored as the 32 raw bytes (39 bytes less per version)."""

    impl = sa.LargeBinary(32)
    cache_ok = True
    PREFIX = "sha256:"

    def process_bind_param(self, value: str | None, dialect: Dialect) -> bytes | None:
        if value is None:
            return None
        hexa = value.removeprefix(self.PREFIX)
        if value.startswith(self.PREFIX) and len(hexa) == 64:
            try:
                return bytes.fromhex(hexa)
            except ValueError:
                pass
        return value.encode("utf-8")  # not a sha256: kept as it is

    def process_result_value(self, value: bytes | str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if isinstance(value, str):
            return value
        raw = bytes(value)
        return self.PREFIX + raw.hex() if len(raw) == 32 else raw.decode("utf-8")

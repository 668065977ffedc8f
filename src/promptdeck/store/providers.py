"""SQL for model providers: their configuration (never a key as it is: the name of the
environment variable that holds it, or the key sealed under the server's secret key)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, Row

from promptdeck.domain.providers import (
    Price,
    ProviderConfig,
    RetryPolicy,
    StoredProvider,
    Timeouts,
)
from promptdeck.store.evaluation_tables import evaluations, providers


def values_of(config: ProviderConfig) -> dict[str, Any]:
    """The row's columns for a configuration."""
    t = config.timeouts
    return {
        "name": config.name,
        "base_url": config.base_url,
        "models": list(config.models),
        "prices": {
            m: {"input": p.input_per_million, "output": p.output_per_million}
            for m, p in config.prices.items()
        },
        "timeouts": {"connect_s": t.connect_s, "read_s": t.read_s, "total_s": t.total_s},
        "retry_attempts": config.retry.attempts,
        "api_key_env": config.api_key_env,
    }


def _provider(row: Row[Any]) -> StoredProvider:
    m = row._mapping
    timeouts = m["timeouts"] or {}
    config = ProviderConfig(
        name=m["name"],
        base_url=m["base_url"],
        models=tuple(m["models"]),
        api_key_env=m["api_key_env"],
        prices={k: Price(float(v["input"]), float(v["output"])) for k, v in m["prices"].items()},
        timeouts=Timeouts(**{k: float(v) for k, v in timeouts.items()}),
        retry=RetryPolicy(attempts=int(m["retry_attempts"])),
    )
    return StoredProvider(
        id=int(m["id"]),
        config=config,
        created_at=m["created_at"],
        created_by=m["created_by"],
        updated_at=m["updated_at"],
        sealed_key=m["api_key_sealed"],
    )


def find(
    conn: Connection, *, name: str | None = None, provider_id: int | None = None
) -> StoredProvider | None:
    """A provider by name or id, or None."""
    query = sa.select(providers).where(
        providers.c.name == name if name is not None else providers.c.id == provider_id
    )
    row = conn.execute(query).first()
    return None if row is None else _provider(row)


def listing(conn: Connection) -> list[StoredProvider]:
    """Every provider, by name (a handful: an admin configures them)."""
    return [_provider(r) for r in conn.execute(sa.select(providers).order_by(providers.c.name))]


def count(conn: Connection) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(providers)).scalar_one())


def insert(conn: Connection, values: dict[str, Any]) -> int:
    key = conn.execute(sa.insert(providers).values(**values)).inserted_primary_key
    assert key is not None
    return int(key[0])


def update(conn: Connection, provider_id: int, values: dict[str, Any]) -> None:
    conn.execute(sa.update(providers).where(providers.c.id == provider_id).values(**values))


def in_use(conn: Connection, provider_id: int) -> bool:
    """Whether an evaluation names the provider (it is then kept, so results say who ran)."""
    found = conn.execute(
        sa.select(evaluations.c.id).where(evaluations.c.provider_id == provider_id).limit(1)
    ).first()
    return found is not None


def delete(conn: Connection, provider_id: int) -> None:
    conn.execute(sa.delete(providers).where(providers.c.id == provider_id))

"""Model providers (the admin's): OpenAI-compatible endpoints that evaluations (and the
playground's runs) call. Operations over a ``Tx``; the key is never stored: the configuration
names the environment variable that holds it (domain/providers.py), read by the process that
calls (promptdeck/outgoing/provider.py ``api_key``)."""

from __future__ import annotations

from promptdeck.core.tx import Tx
from promptdeck.domain.outgoing import Allowance, check_url
from promptdeck.domain.providers import ProviderConfig, StoredProvider
from promptdeck.errors import ProviderInUse, ProviderNameTaken, ProviderNotFound
from promptdeck.store import providers as store


def check(config: ProviderConfig, allowance: Allowance) -> ProviderConfig:
    """The base URL may be reached by calls out of the server (rule 10), as written; each
    connection is checked again after resolution."""
    check_url(config.base_url, allowance, field="base_url")
    return config


def create(tx: Tx, config: ProviderConfig) -> StoredProvider:
    if store.find(tx.conn, name=config.name) is not None:
        raise ProviderNameTaken(f"a provider is already named {config.name!r}", field="name")
    now = tx.clock()
    provider_id = store.insert(
        tx.conn,
        {**store.values_of(config), "created_at": now, "created_by": tx.actor, "updated_at": now},
    )
    return by_id(tx, provider_id)


def replace(tx: Tx, config: ProviderConfig) -> StoredProvider:
    """The provider of that name, with this configuration (a key variable, models, prices…)."""
    found = get(tx, config.name)
    store.update(tx.conn, found.id, {**store.values_of(config), "updated_at": tx.clock()})
    return by_id(tx, found.id)


def get(tx: Tx, name: str) -> StoredProvider:
    found = store.find(tx.conn, name=name)
    if found is None:
        raise ProviderNotFound(f"no provider {name[:64]!r}", field="provider")
    return found


def by_id(tx: Tx, provider_id: int) -> StoredProvider:
    found = store.find(tx.conn, provider_id=provider_id)
    if found is None:
        raise ProviderNotFound(f"no provider {provider_id}", field="provider")
    return found


def listing(tx: Tx) -> list[StoredProvider]:
    return store.listing(tx.conn)


def delete(tx: Tx, name: str) -> None:
    found = get(tx, name)
    if store.in_use(tx.conn, found.id):
        raise ProviderInUse(
            f"evaluations name provider {name!r}: it is kept so that their results say who "
            "answered; change its configuration instead"
        )
    store.delete(tx.conn, found.id)

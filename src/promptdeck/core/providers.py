"""Model providers (the admin's): OpenAI-compatible endpoints that evaluations (and the
playground's runs) call. Operations over a ``Tx``; the key is never stored as it is: the
configuration names the environment variable that holds it (domain/providers.py), or the key
comes sealed under the server's secret key (domain/sealing.py, sealed before the transaction),
opened by the process that calls (promptdeck/outgoing/provider.py ``provider_key``)."""

from __future__ import annotations

import dataclasses

from promptdeck.core.tx import Tx
from promptdeck.domain.outgoing import Allowance, check_url
from promptdeck.domain.providers import NAME_RE, ProviderConfig, StoredProvider
from promptdeck.errors import InvalidInput, ProviderInUse, ProviderNameTaken, ProviderNotFound
from promptdeck.store import providers as store

PROVIDERS_MAX = 100  # listed whole (GET /providers), so bounded


def check(config: ProviderConfig, allowance: Allowance) -> ProviderConfig:
    """The base URL may be reached by calls out of the server (rule 10), as written; each
    connection is checked again after resolution."""
    check_url(config.base_url, allowance, field="base_url")
    return config


def create(tx: Tx, config: ProviderConfig, sealed: str | None = None) -> StoredProvider:
    """A new provider; ``sealed``: its key, sealed (else ``api_key_env`` or no key)."""
    if store.find(tx.conn, name=config.name) is not None:
        raise ProviderNameTaken(f"a provider is already named {config.name!r}", field="name")
    if store.count(tx.conn) >= PROVIDERS_MAX:
        raise InvalidInput(
            f"a server keeps at most {PROVIDERS_MAX} providers: remove one first", field="name"
        )
    now = tx.clock()
    values = {**store.values_of(config), "api_key_sealed": sealed}
    provider_id = store.insert(
        tx.conn, {**values, "created_at": now, "created_by": tx.actor, "updated_at": now}
    )
    return by_id(tx, provider_id)


def replace(
    tx: Tx, config: ProviderConfig, sealed: str | None = None, *, keep_key: bool = False
) -> StoredProvider:
    """The provider of that name, with this configuration (models, prices…) and key (a new
    one sealed, a variable, none); ``keep_key``: the key it has stays (a stored key is never
    shown, so a change of prices need not send it again)."""
    found = get(tx, config.name)
    if keep_key:
        config = dataclasses.replace(config, api_key_env=found.config.api_key_env)
        sealed = found.sealed_key
    values = {**store.values_of(config), "api_key_sealed": sealed}
    store.update(tx.conn, found.id, {**values, "updated_at": tx.clock()})
    return by_id(tx, found.id)


def get(tx: Tx, name: str) -> StoredProvider:
    # A name no provider could have (a NUL, a space) is missing without asking the database.
    found = store.find(tx.conn, name=name) if NAME_RE.fullmatch(name) else None
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

"""What webhook tests share: hooks that may point at the receivers on 127.0.0.1 (allowed
explicitly, as an operator would with PROMPTDECK_ALLOW_OUTGOING), and a resolver that
answers from a table instead of the network."""

from __future__ import annotations

from ipaddress import ip_address

from promptdeck.core import Registry
from promptdeck.core.webhooks import Destinations, Resolve, Webhooks
from promptdeck.domain.outgoing import Address, parse_allowance

LOOPBACK = "127.0.0.1"
# Fast retries, a short timeout and lease: the settings the docs name, as environment.
FAST = {
    "PROMPTDECK_WEBHOOK_POLL_S": "0.05",
    "PROMPTDECK_WEBHOOK_TIMEOUT_S": "0.4",
    "PROMPTDECK_WEBHOOK_RETRY_BASE_S": "0.05",
    "PROMPTDECK_WEBHOOK_RETRY_MAX_S": "0.3",
    "PROMPTDECK_WEBHOOK_LEASE_S": "3",
    "PROMPTDECK_ALLOW_OUTGOING": LOOPBACK,
}


def hooks_of(registry: Registry, allow: str = LOOPBACK, resolve: Resolve | None = None) -> Webhooks:
    """Webhooks over the registry's database and clock, allowed ``allow``."""
    return Webhooks(registry.db, Destinations(parse_allowance(allow), resolve))


def table_resolver(names: dict[str, str]) -> Resolve:
    """A resolver from a table (name -> address); a name not in it does not resolve."""

    def resolve(host: str, port: int) -> list[Address]:
        if host not in names:
            raise OSError(f"{host} does not resolve")
        return [ip_address(names[host])]

    return resolve

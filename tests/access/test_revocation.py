"""Revocation takes effect on every process at its next request (two real servers over one
database: on PostgreSQL as a deployment runs them, and on SQLite)."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from promptdeck.core import Registry
from promptdeck.core.access import Access
from promptdeck.domain.caller import Caller
from promptdeck.domain.commands import CreatePrompt
from tests.access.conftest import bearer
from tests.support.load import figure
from tests.support.server import ServerProcess

ROUNDS = 20


def test_a_key_revoked_through_one_process_is_refused_by_the_other_at_its_next_request(
    start_server: Callable[..., ServerProcess], registry: Registry
) -> None:
    registry.create_prompt(CreatePrompt("greet", content="Hello"), Caller.local("setup"))
    access = Access(registry.engine)
    admin = bearer(access.create_key("admin", "admin").secret)
    one, two = start_server(), start_server()
    refused = 0
    with httpx.Client() as http:
        for i in range(ROUNDS):
            key = bearer(access.create_key(f"app{i}", "read").secret)
            # Both processes have the key in their caches, hot path and JSON API alike.
            for server in (one, two):
                assert (
                    http.get(f"{server.url}/prompts/greet/active", headers=key).status_code == 200
                )
                assert http.get(f"{server.url}/prompts/greet", headers=key).status_code == 200
            revoking, other = (one, two) if i % 2 else (two, one)
            done = http.delete(f"{revoking.url}/keys/app{i}", headers=admin)
            assert done.status_code == 200 and done.json()["revoked_at"] is not None
            answer = http.get(f"{other.url}/prompts/greet/active", headers=key)
            refused += answer.status_code == 401
            assert answer.headers["content-type"] == "application/problem+json"
    figure(
        "revocation across processes",
        f"{refused}/{ROUNDS} revoked keys refused by the other process at the next request",
    )
    assert refused == ROUNDS

"""The unit of work: events and idempotency records go with the transaction, or not at all."""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from promptdeck.core import Registry
from promptdeck.core.tx import Tx, transient
from promptdeck.domain.caller import SYSTEM, Caller
from promptdeck.domain.commands import CreatePrompt, CreateVersion, Rollback
from promptdeck.domain.refs import EventKind
from promptdeck.errors import DatabaseUnavailable, StaleEtag


def kinds(registry: Registry, ref: str) -> list[str]:
    return [e.kind for e in registry.list_events(ref, SYSTEM).items]


def test_an_operation_writes_its_events_in_the_order_it_recorded_them(registry: Registry) -> None:
    registry.create_prompt(CreatePrompt("p"), Caller.local("ana"))
    assert kinds(registry, "p") == [
        EventKind.VERSION_ACTIVATED,
        EventKind.VERSION_CREATED,
        EventKind.PROMPT_CREATED,
    ]
    assert {e.actor for e in registry.list_events("p", SYSTEM).items} == {"ana"}


def test_an_operation_that_fails_writes_none_of_its_events(registry: Registry) -> None:
    created = registry.create_prompt(CreatePrompt("p"), SYSTEM)
    registry.create_version(CreateVersion("p", version_name="v2"), SYSTEM)
    before = kinds(registry, "p")
    with pytest.raises(StaleEtag):
        registry.create_version(CreateVersion("p", version_name="v3", if_match='"0-0"'), SYSTEM)
    with pytest.raises(StaleEtag):
        registry.rollback(Rollback("p", created.prompt.active_version_id, if_match='"0-0"'), SYSTEM)
    assert kinds(registry, "p") == before


def test_a_replayed_create_writes_no_second_set_of_events(registry: Registry) -> None:
    registry.create_prompt(CreatePrompt("p"), SYSTEM)
    first = registry.create_version(CreateVersion("p", idempotency_key="k1"), SYSTEM)
    before = kinds(registry, "p")
    again = registry.create_version(CreateVersion("p", idempotency_key="k1"), SYSTEM)
    assert again.replayed and again.version.id == first.version.id
    assert kinds(registry, "p") == before


@pytest.mark.postgresql_only
def test_a_write_that_postgresql_picks_as_a_deadlock_victim_runs_again_and_commits(
    registry: Registry,
) -> None:
    """A real deadlock: the operation holds prompt b and waits for a, another connection holds
    a and then asks for b. The operation waited first, so its deadlock check runs first and
    PostgreSQL rolls it back (40P01); ``Database.write`` runs it again, which passes."""
    for name in ("a", "b"):
        registry.create_prompt(CreatePrompt(name), SYSTEM)
    ids = {n: registry.get_prompt(n, SYSTEM).id for n in ("a", "b")}
    lock = "SELECT id FROM prompts WHERE id = :id FOR UPDATE"
    holding_a, waiting = threading.Event(), threading.Event()
    attempts: list[int] = []

    def other() -> None:
        with registry.db.engine.begin() as conn:
            conn.execute(sa.text(lock), {"id": ids["a"]})
            holding_a.set()
            waiting.wait(10)
            time.sleep(0.3)  # the operation's wait began first: its deadlock check runs first
            conn.execute(sa.text(lock), {"id": ids["b"]})

    def operation(tx: Tx, cmd: None) -> int:
        attempts.append(len(attempts) + 1)
        tx.conn.execute(sa.text(lock), {"id": ids["b"]})
        if len(attempts) == 1:
            holding_a.wait(10)
            waiting.set()
        tx.conn.execute(sa.text(lock), {"id": ids["a"]})
        return len(attempts)

    thread = threading.Thread(target=other)
    thread.start()
    assert registry.db.write(SYSTEM, operation, None) == 2
    thread.join(10)
    assert attempts == [1, 2]


def test_only_a_deadlock_or_a_serialization_failure_counts_as_transient() -> None:
    class Orig(Exception):
        def __init__(self, sqlstate: str | None) -> None:
            self.sqlstate = sqlstate

    def unavailable(sqlstate: str | None) -> DatabaseUnavailable:
        error = DatabaseUnavailable("busy")
        error.__cause__ = OperationalError("stmt", {}, Orig(sqlstate))
        return error

    assert transient(unavailable("40P01")) and transient(unavailable("40001"))
    assert not transient(unavailable("57P01")) and not transient(unavailable(None))
    assert not transient(DatabaseUnavailable("down"))

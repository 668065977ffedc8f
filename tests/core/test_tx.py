"""The unit of work: events and idempotency records go with the transaction, or not at all."""

from __future__ import annotations

import pytest

from promptdeck.core import Registry
from promptdeck.domain.caller import SYSTEM, Caller
from promptdeck.domain.commands import CreatePrompt, CreateVersion, Rollback
from promptdeck.domain.refs import EventKind
from promptdeck.errors import StaleEtag


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

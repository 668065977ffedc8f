"""The unit of work: events and idempotency records go with the transaction, or not at all."""

from __future__ import annotations

import pytest

from promptdeck.core import Registry
from promptdeck.domain.refs import EventKind
from promptdeck.errors import StaleEtag


def kinds(registry: Registry, ref: str) -> list[str]:
    return [e.kind for e in registry.list_events(ref).items]


def test_an_operation_writes_its_events_in_the_order_it_recorded_them(registry: Registry) -> None:
    registry.create_prompt("p", actor="ana")
    assert kinds(registry, "p") == [
        EventKind.VERSION_ACTIVATED,
        EventKind.VERSION_CREATED,
        EventKind.PROMPT_CREATED,
    ]
    assert {e.actor for e in registry.list_events("p").items} == {"ana"}


def test_an_operation_that_fails_writes_none_of_its_events(registry: Registry) -> None:
    created = registry.create_prompt("p")
    registry.create_version("p", version_name="v2")
    before = kinds(registry, "p")
    with pytest.raises(StaleEtag):
        registry.create_version("p", version_name="v3", if_match='"0-0"')
    with pytest.raises(StaleEtag):
        registry.rollback("p", created.prompt.active_version_id, if_match='"0-0"')
    assert kinds(registry, "p") == before


def test_a_replayed_create_writes_no_second_set_of_events(registry: Registry) -> None:
    registry.create_prompt("p")
    first = registry.create_version("p", idempotency_key="k1")
    before = kinds(registry, "p")
    again = registry.create_version("p", idempotency_key="k1")
    assert again.replayed and again.version.id == first.version.id
    assert kinds(registry, "p") == before

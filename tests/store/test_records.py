"""The store hands the core typed, frozen records, never SQLAlchemy rows."""

from __future__ import annotations

import dataclasses

import pytest

from promptdeck.core import Registry
from promptdeck.domain.caller import SYSTEM
from promptdeck.domain.commands import CreatePrompt
from promptdeck.domain.refs import PromptRef
from promptdeck.store import queries as q
from promptdeck.store.records import PromptRow, VersionRow


def test_a_prompt_is_found_by_id_or_name_as_the_same_frozen_record(registry: Registry) -> None:
    created = registry.create_prompt(CreatePrompt("p", content="hello", tags=["a"]), SYSTEM).prompt
    with registry.engine.connect() as conn:
        by_name = q.find_prompt_row(conn, PromptRef.parse("p"))
        by_id = q.find_prompt_row(conn, PromptRef.parse(str(created.id)))
    assert isinstance(by_name, PromptRow)
    assert by_name == by_id
    assert by_name.tags == ["a"] and by_name.active_version_id == created.active_version_id
    with pytest.raises(dataclasses.FrozenInstanceError):
        by_name.revision = 9  # type: ignore[misc]


def test_a_full_version_record_carries_its_stored_content(registry: Registry) -> None:
    created = registry.create_prompt(CreatePrompt("p", content="hello"), SYSTEM).prompt
    with registry.engine.connect() as conn:
        full = q.version_row(conn, created.id, created.active_version_id, full=True)
        summary = q.version_row(conn, created.id, created.active_version_id, full=False)
    assert isinstance(full, VersionRow) and isinstance(summary, VersionRow)
    assert full.stored is not None and full.stored.raw_size == len(b"hello")
    assert summary.stored is None and summary.number == full.number == 1

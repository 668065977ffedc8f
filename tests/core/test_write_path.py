"""The write path answers from what it read and wrote, without reading it back: the answers
equal a fresh read, and the statements a write runs are counted (issue 13, "Writes near the
disk's cost"; docs/performance.md)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from promptdeck.core import Registry
from promptdeck.domain.caller import SYSTEM
from promptdeck.domain.commands import (
    ArchiveVersion,
    CreatePrompt,
    CreateVersion,
    PurgeVersion,
    Rollback,
)


@contextmanager
def counted(registry: Registry) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(registry.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(registry.engine, "before_cursor_execute", count)


def statements_of(registry: Registry, write: Callable[[], Any]) -> int:
    with counted(registry) as statements:
        write()
    return len([s for s in statements if not s.startswith("BEGIN")])


def test_a_rollback_answers_what_a_fresh_read_says_changed_or_not(registry: Registry) -> None:
    first = registry.create_prompt(
        CreatePrompt("p", content="one", model_config={"t": 1}), SYSTEM
    ).prompt
    assert first.active_version is not None
    second = registry.create_version(
        CreateVersion("p", content="two", activate=True), SYSTEM
    ).version
    registry.create_version(CreateVersion("p", content="three", activate=False), SYSTEM)
    for target in (first.active_version.id, first.active_version.id, second.id):
        done = registry.rollback(Rollback("p", target), SYSTEM)
        assert done.prompt == registry.get_prompt("p", SYSTEM)
        assert done.version == registry.get_version("p", target, SYSTEM)
        assert done.version.content is not None and done.version.active


def test_a_rollback_to_an_archived_version_answers_what_a_fresh_read_says(
    registry: Registry,
) -> None:
    first = registry.create_prompt(CreatePrompt("p", content="one"), SYSTEM).prompt.active_version
    assert first is not None
    registry.create_version(CreateVersion("p", content="two", activate=True), SYSTEM)
    registry.archive_version(ArchiveVersion("p", first.id), SYSTEM)
    done = registry.rollback(Rollback("p", first.id), SYSTEM)
    assert not done.version.archived
    assert done.prompt == registry.get_prompt("p", SYSTEM)
    assert done.version == registry.get_version("p", first.id, SYSTEM)


def test_a_created_versions_predecessor_matches_a_fresh_read_after_a_purge_too(
    registry: Registry,
) -> None:
    registry.create_prompt(CreatePrompt("p", content="one"), SYSTEM)
    two = registry.create_version(CreateVersion("p", content="two", activate=True), SYSTEM).version
    three = registry.create_version(
        CreateVersion("p", content="three", activate=False), SYSTEM
    ).version
    assert three.previous_version_id == two.id
    registry.purge_version(PurgeVersion("p", three.id, reason="a secret pasted by mistake"), SYSTEM)
    four = registry.create_version(
        CreateVersion("p", content="four", activate=True), SYSTEM
    ).version
    fresh = registry.get_version("p", four.id, SYSTEM)
    assert four.previous_version_id == fresh.previous_version_id is not None
    assert four == fresh


def test_a_create_and_a_rollback_run_a_bounded_number_of_statements(registry: Registry) -> None:
    """Counted, not timed: a create with activation is 11 statements (lock and number, the
    default name, the blob probe and its delta base, the blob, the version, the pointer, the
    label history, the webhooks that may want its events, the events in one; PostgreSQL: the
    move lock instead of BEGIN), a rollback 8 (the prompt, the version, the protected labels
    (the contract check, issue 23), the pointer, the label history, the predecessor, the
    webhooks, the events), plus PostgreSQL's move lock."""
    first = registry.create_prompt(CreatePrompt("p", content="one"), SYSTEM).prompt.active_version
    assert first is not None
    move_lock = 1 if registry.engine.dialect.name == "postgresql" else 0
    create = statements_of(
        registry,
        lambda: registry.create_version(CreateVersion("p", content="two", activate=True), SYSTEM),
    )
    rollback = statements_of(registry, lambda: registry.rollback(Rollback("p", first.id), SYSTEM))
    assert create <= 11 + move_lock
    assert rollback <= 8 + move_lock

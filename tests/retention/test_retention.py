"""Rule 8: max_versions archives the oldest versions, never the active one; restore, rollback."""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from promptdeck.core import Registry
from promptdeck.domain.caller import SYSTEM
from promptdeck.domain.commands import (
    ArchiveVersion,
    CreatePrompt,
    CreateVersion,
    PurgeVersion,
    RestoreVersion,
    Rollback,
    UpdatePrompt,
)
from promptdeck.errors import ActiveVersionProtected, VersionUnavailable
from promptdeck.store.tables import prompts

BASE = "You are a support agent. Answer politely and briefly. " * 60


def unarchived(registry: Registry, ref: str) -> list[int]:
    return [v.id for v in registry.list_versions(ref, SYSTEM, limit=200, archived=False).items]


def test_max_versions_5_and_12_new_versions_keep_13_in_history_5_unarchived_active_untouched(
    registry: Registry,
) -> None:
    prompt = registry.create_prompt(CreatePrompt("p", content=BASE, max_versions=5), SYSTEM).prompt
    for i in range(12):
        registry.create_version(CreateVersion("p", content=f"{BASE} edit {i}"), SYSTEM)
    history = registry.list_versions("p", SYSTEM, limit=200).items
    assert len(history) == 13
    live = [v for v in history if not v.archived]
    assert len(live) == 5
    assert prompt.active_version_id in [v.id for v in live]
    assert [v.number for v in live] == [13, 12, 11, 10, 1]
    assert all(v.archived_at is not None for v in history if v.archived)
    assert registry.get_active("p", SYSTEM)[1].content == BASE


def test_archiving_never_touches_the_active_version_even_when_it_is_the_oldest(
    registry: Registry,
) -> None:
    registry.create_prompt(CreatePrompt("p", content="v1", max_versions=2), SYSTEM)
    for i in range(6):
        registry.create_version(CreateVersion("p", content=f"v{i + 2}", activate=i == 2), SYSTEM)
    active = registry.get_prompt("p", SYSTEM).active_version_id
    versions = {v.id: v for v in registry.list_versions("p", SYSTEM).items}
    assert not versions[active].archived
    assert len(unarchived(registry, "p")) == 2
    with pytest.raises(ActiveVersionProtected):
        registry.archive_version(ArchiveVersion("p", active), SYSTEM)


def test_history_filters_on_archived_and_shows_all_marked_by_default(registry: Registry) -> None:
    registry.create_prompt(CreatePrompt("p", content="v1", max_versions=2), SYSTEM)
    for i in range(4):
        registry.create_version(CreateVersion("p", content=f"v{i + 2}"), SYSTEM)
    everything = registry.list_versions("p", SYSTEM).items
    archived = registry.list_versions("p", SYSTEM, archived=True).items
    live = registry.list_versions("p", SYSTEM, archived=False).items
    assert len(everything) == 5
    assert {v.id for v in archived} | {v.id for v in live} == {v.id for v in everything}
    assert all(v.archived for v in archived) and not any(v.archived for v in live)
    assert [v.number for v in archived] == [4, 3, 2]


def test_a_page_of_archived_versions_continues_with_its_cursor(registry: Registry) -> None:
    registry.create_prompt(CreatePrompt("p", content="v1", max_versions=1), SYSTEM)
    for i in range(6):
        registry.create_version(CreateVersion("p", content=f"v{i + 2}", activate=True), SYSTEM)
    first = registry.list_versions("p", SYSTEM, archived=True, limit=2)
    second = registry.list_versions("p", SYSTEM, archived=True, limit=10, cursor=first.next_cursor)
    numbers = [v.number for v in first.items + second.items]
    assert numbers == [6, 5, 4, 3, 2, 1]


def test_restore_gives_back_the_exact_content_and_keeps_the_limit(registry: Registry) -> None:
    registry.create_prompt(CreatePrompt("p", content="v1", max_versions=3), SYSTEM)
    contents = {}
    for i in range(6):
        v = registry.create_version(
            CreateVersion("p", content=f"{BASE}\n\u00e9dit {i} \U0001f600"), SYSTEM
        ).version
        contents[v.id] = v.content
    oldest_archived = registry.list_versions("p", SYSTEM, archived=True).items[-1]
    restored = registry.restore_version(RestoreVersion("p", oldest_archived.id), SYSTEM)
    assert restored.changed and not restored.version.archived
    assert restored.version.content == contents[oldest_archived.id]
    assert len(unarchived(registry, "p")) == 3
    assert (
        registry.restore_version(RestoreVersion("p", oldest_archived.id), SYSTEM).changed is False
    )
    kinds = [e.kind for e in registry.list_events("p", SYSTEM, limit=5).items]
    assert kinds[:2] == ["version.archived", "version.restored"]


def test_rollback_to_an_archived_version_restores_it_first_and_says_so(
    registry: Registry,
) -> None:
    registry.create_prompt(CreatePrompt("p", content="v1", max_versions=3), SYSTEM)
    for i in range(5):
        registry.create_version(CreateVersion("p", content=f"{BASE} {i}", activate=True), SYSTEM)
    target = registry.list_versions("p", SYSTEM, archived=True).items[0]
    result = registry.rollback(Rollback("p", target.id), SYSTEM)
    assert result.changed
    assert result.version.active and not result.version.archived
    assert result.version.content == f"{BASE} 1"
    assert registry.get_active("p", SYSTEM)[1].content == f"{BASE} 1"
    assert len(unarchived(registry, "p")) == 3
    events = registry.list_events("p", SYSTEM, limit=5).items
    rolled = next(e for e in events if e.kind == "version.rolled_back")
    assert rolled.detail["restored"] is True
    assert any(e.kind == "version.restored" and e.detail["reason"] == "rollback" for e in events)


def test_lowering_max_versions_archives_at_once(registry: Registry) -> None:
    registry.create_prompt(CreatePrompt("p", content="v1"), SYSTEM)
    for i in range(5):
        registry.create_version(CreateVersion("p", content=f"v{i + 2}"), SYSTEM)
    assert len(unarchived(registry, "p")) == 6
    registry.update_prompt(UpdatePrompt("p", {"max_versions": 2}), SYSTEM)
    live = unarchived(registry, "p")
    assert len(live) == 2
    assert registry.get_prompt("p", SYSTEM).active_version_id in live


def test_the_server_default_applies_to_prompts_created_without_a_limit(
    registry: Registry,
) -> None:
    limited = Registry(registry.engine, default_max_versions=2)
    assert limited.create_prompt(CreatePrompt("p", content="x"), SYSTEM).prompt.max_versions == 2
    for i in range(4):
        limited.create_version(CreateVersion("p", content=f"x{i}"), SYSTEM)
    assert len(unarchived(limited, "p")) == 2


def test_a_purged_version_cannot_be_restored_or_rolled_back_to(registry: Registry) -> None:
    registry.create_prompt(CreatePrompt("p", content="v1"), SYSTEM)
    v2 = registry.create_version(CreateVersion("p", content="v2 secret"), SYSTEM).version
    registry.purge_version(PurgeVersion("p", v2.id, reason="leaked key"), SYSTEM)
    with pytest.raises(VersionUnavailable):
        registry.rollback(Rollback("p", v2.id), SYSTEM)
    with pytest.raises(VersionUnavailable):
        registry.restore_version(RestoreVersion("p", v2.id), SYSTEM)


def test_the_limit_holds_under_concurrent_creation(registry: Registry) -> None:
    registry.create_prompt(CreatePrompt("p", content="v1", max_versions=3), SYSTEM)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(8):
                registry.create_version(
                    CreateVersion("p", content=f"{BASE} {n}-{i}", activate=i % 3 == 0), SYSTEM
                )
        except BaseException as exc:  # collected and re-raised below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    history = registry.list_versions("p", SYSTEM, limit=200).items
    assert len(history) == 33
    live = [v for v in history if not v.archived]
    assert len(live) == 3
    assert registry.get_prompt("p", SYSTEM).active_version_id in [v.id for v in live]
    assert registry.storage("p", SYSTEM).archived == 30


ops = st.lists(
    st.tuples(
        st.sampled_from(["create", "create+activate", "rollback", "archive", "restore"]),
        st.integers(0, 50),
    ),
    min_size=1,
    max_size=25,
)


@given(max_versions=st.integers(2, 5), steps=ops)
@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_whatever_the_operations_the_active_version_is_never_archived_and_the_limit_holds(
    registry: Registry, max_versions: int, steps: list[tuple[str, int]]
) -> None:
    name = f"p{time.monotonic_ns()}"
    registry.create_prompt(CreatePrompt(name, content="v0", max_versions=max_versions), SYSTEM)
    for i, (op, pick) in enumerate(steps):
        history = registry.list_versions(name, SYSTEM, limit=200).items
        target = history[pick % len(history)]
        if op.startswith("create"):
            registry.create_version(
                CreateVersion(name, content=f"v{i + 1}", activate=op == "create+activate"), SYSTEM
            )
        elif op == "rollback":
            registry.rollback(Rollback(name, target.id), SYSTEM)
        elif op == "archive" and not target.active:
            registry.archive_version(ArchiveVersion(name, target.id), SYSTEM)
        elif op == "restore":
            registry.restore_version(RestoreVersion(name, target.id), SYSTEM)
        history = registry.list_versions(name, SYSTEM, limit=200).items
        live = [v for v in history if not v.archived]
        active = [v for v in history if v.active]
        assert len(active) == 1 and not active[0].archived
        assert len(live) <= max_versions
        with registry.engine.connect() as conn:
            counter = conn.execute(
                sa.select(prompts.c.live_count).where(prompts.c.name == name)
            ).scalar_one()
        assert counter == len(live)


def test_thirty_default_names_in_one_millisecond_get_suffixes_2_to_30(
    registry: Registry,
) -> None:
    from datetime import UTC, datetime

    frozen = Registry(registry.engine, clock=lambda: datetime(2026, 11, 24, 9, 30, tzinfo=UTC))
    frozen.create_prompt(CreatePrompt("p", content="v1"), SYSTEM)
    for i in range(29):
        frozen.create_version(CreateVersion("p", content=f"v{i + 2}"), SYSTEM)
    names = [v.version_name for v in frozen.list_versions("p", SYSTEM, limit=50).items]
    base = "2026-11-24T09:30:00.000Z"
    assert names == [f"{base}-{n}" for n in range(30, 1, -1)] + [base]

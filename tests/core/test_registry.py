"""Rules that need an injected clock or direct access to the core."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from promptdeck.core import Registry
from promptdeck.domain.caller import SYSTEM, Caller
from promptdeck.domain.commands import (
    CreatePrompt,
    CreateVersion,
    DeletePrompt,
    PurgePrompt,
    RestorePrompt,
    Rollback,
    UpdatePrompt,
)
from promptdeck.errors import (
    IdempotencyKeyReused,
    InvalidInput,
    PromptNameTaken,
    PromptNotDeleted,
    PromptNotFound,
    StaleEtag,
    VersionNameTaken,
)

FROZEN = datetime(2026, 11, 24, 9, 30, 15, 123456, tzinfo=UTC)


@pytest.fixture
def frozen(registry: Registry) -> Registry:
    return Registry(registry.engine, clock=lambda: FROZEN)


def test_default_names_in_one_millisecond_get_dash_suffixes(frozen: Registry) -> None:
    frozen.create_prompt(CreatePrompt("p"), SYSTEM)
    names = [
        frozen.create_version(CreateVersion("p"), SYSTEM).version.version_name for _ in range(3)
    ]
    assert names == [
        "2026-11-24T09:30:15.123Z-2",
        "2026-11-24T09:30:15.123Z-3",
        "2026-11-24T09:30:15.123Z-4",
    ]
    first = frozen.list_versions("p", SYSTEM).items[-1]
    assert first.version_name == "2026-11-24T09:30:15.123Z"


def test_an_explicit_name_equal_to_the_next_default_pushes_the_default_to_a_suffix(
    frozen: Registry,
) -> None:
    frozen.create_prompt(CreatePrompt("p", version_name="first"), SYSTEM)
    frozen.create_version(CreateVersion("p", version_name="2026-11-24T09:30:15.123Z"), SYSTEM)
    assert (
        frozen.create_version(CreateVersion("p"), SYSTEM).version.version_name
        == "2026-11-24T09:30:15.123Z-2"
    )


def test_explicit_duplicate_name_raises_version_name_taken(registry: Registry) -> None:
    registry.create_prompt(CreatePrompt("p", version_name="v1"), SYSTEM)
    with pytest.raises(VersionNameTaken):
        registry.create_version(CreateVersion("p", version_name="v1"), SYSTEM)
    # the failed attempt used no number: the next one is 2
    assert registry.create_version(CreateVersion("p"), SYSTEM).version.number == 2


def test_numbers_come_from_the_prompt_counter_and_are_never_reused(registry: Registry) -> None:
    registry.create_prompt(CreatePrompt("p"), SYSTEM)
    numbers = [registry.create_version(CreateVersion("p"), SYSTEM).version.number for _ in range(5)]
    assert numbers == [2, 3, 4, 5, 6]


def test_prompt_names_are_unique_even_when_the_holder_is_deleted(registry: Registry) -> None:
    registry.create_prompt(CreatePrompt("p"), SYSTEM)
    registry.delete_prompt(DeletePrompt("p"), SYSTEM)
    with pytest.raises(PromptNameTaken):
        registry.create_prompt(CreatePrompt("p"), SYSTEM)


def test_names_that_are_all_digits_are_refused(registry: Registry) -> None:
    with pytest.raises(InvalidInput):
        registry.create_prompt(CreatePrompt("123"), SYSTEM)


def test_stale_if_match_is_refused_and_changes_nothing(registry: Registry) -> None:
    prompt = registry.create_prompt(CreatePrompt("p", description="one"), SYSTEM).prompt
    registry.update_prompt(UpdatePrompt("p", {"description": "two"}, if_match=prompt.etag), SYSTEM)
    with pytest.raises(StaleEtag):
        registry.update_prompt(
            UpdatePrompt("p", {"description": "three"}, if_match=prompt.etag), SYSTEM
        )
    assert registry.get_prompt("p", SYSTEM).description == "two"


def test_patch_never_changes_versions_or_the_active_pointer(registry: Registry) -> None:
    prompt = registry.create_prompt(CreatePrompt("p", content="v1"), SYSTEM).prompt
    registry.update_prompt(
        UpdatePrompt("p", {"content": "edited", "model_config": {"t": 1}}), SYSTEM
    )
    after = registry.get_prompt("p", SYSTEM)
    assert after.active_version_id == prompt.active_version_id
    assert after.version_count == 1
    assert registry.get_active("p", SYSTEM)[1].content == "v1"


def test_delete_hides_the_prompt_and_restore_brings_it_back_whole(registry: Registry) -> None:
    registry.create_prompt(CreatePrompt("p"), SYSTEM)
    registry.create_version(CreateVersion("p", version_name="b", activate=True), SYSTEM)
    registry.delete_prompt(DeletePrompt("p"), SYSTEM)
    for call in (
        lambda: registry.get_prompt("p", SYSTEM),
        lambda: registry.get_active("p", SYSTEM),
        lambda: registry.list_versions("p", SYSTEM),
        lambda: registry.create_version(CreateVersion("p"), SYSTEM),
    ):
        with pytest.raises(PromptNotFound):
            call()
    assert [p.name for p in registry.list_prompts(SYSTEM).items] == []
    restored = registry.restore_prompt(RestorePrompt("p"), SYSTEM)
    assert restored.version_count == 2
    assert registry.get_active("p", SYSTEM)[1].version_name == "b"
    kinds = [e.kind for e in registry.list_events("p", SYSTEM).items][:2]
    assert kinds == ["prompt.restored", "prompt.deleted"]


def test_deleted_prompts_are_listed_apart_with_the_time_of_their_delete(
    frozen: Registry,
) -> None:
    frozen.create_prompt(CreatePrompt("live"), SYSTEM)
    frozen.create_prompt(CreatePrompt("gone"), SYSTEM)
    frozen.delete_prompt(DeletePrompt("gone"), SYSTEM)
    deleted = frozen.list_prompts(SYSTEM, deleted=True).items
    assert [(p.name, p.deleted_at) for p in deleted] == [("gone", FROZEN)]
    assert [(p.name, p.deleted_at) for p in frozen.list_prompts(SYSTEM).items] == [("live", None)]


def test_restoring_a_live_prompt_is_a_conflict(registry: Registry) -> None:
    registry.create_prompt(CreatePrompt("p"), SYSTEM)
    with pytest.raises(PromptNotDeleted):
        registry.restore_prompt(RestorePrompt("p"), SYSTEM)


def test_purge_needs_a_soft_delete_first_and_then_removes_everything(registry: Registry) -> None:
    registry.create_prompt(CreatePrompt("p"), SYSTEM)
    with pytest.raises(PromptNotDeleted):
        registry.purge_prompt(PurgePrompt("p"), SYSTEM)
    registry.delete_prompt(DeletePrompt("p"), SYSTEM)
    registry.purge_prompt(PurgePrompt("p"), SYSTEM)
    with pytest.raises(PromptNotFound):
        registry.restore_prompt(RestorePrompt("p"), SYSTEM)
    registry.create_prompt(CreatePrompt("p"), SYSTEM)  # the name is free again


def test_idempotency_key_replays_the_first_version(registry: Registry) -> None:
    registry.create_prompt(CreatePrompt("p"), SYSTEM)
    first = registry.create_version(CreateVersion("p", content="x", idempotency_key="k1"), SYSTEM)
    again = registry.create_version(CreateVersion("p", content="x", idempotency_key="k1"), SYSTEM)
    assert not first.replayed and again.replayed
    assert again.version.id == first.version.id
    assert registry.get_prompt("p", SYSTEM).version_count == 2


def test_idempotency_key_with_a_different_body_is_refused(registry: Registry) -> None:
    registry.create_prompt(CreatePrompt("p"), SYSTEM)
    registry.create_version(CreateVersion("p", content="x", idempotency_key="k1"), SYSTEM)
    with pytest.raises(IdempotencyKeyReused):
        registry.create_version(CreateVersion("p", content="y", idempotency_key="k1"), SYSTEM)


def test_idempotency_key_on_prompt_creation_replays(registry: Registry) -> None:
    first = registry.create_prompt(CreatePrompt("p", idempotency_key="k"), SYSTEM)
    again = registry.create_prompt(CreatePrompt("p", idempotency_key="k"), SYSTEM)
    assert again.replayed and again.prompt.id == first.prompt.id


def test_every_change_is_an_event_with_actor(registry: Registry) -> None:
    registry.create_prompt(CreatePrompt("p"), Caller.local("ana"))
    v2 = registry.create_version(CreateVersion("p"), Caller.local("bo")).version
    registry.rollback(Rollback("p", v2.id), Caller.local("cy"))
    registry.update_prompt(UpdatePrompt("p", {"description": "d"}), Caller.local("di"))
    events = registry.list_events("p", SYSTEM).items
    assert [(e.kind, e.actor) for e in events] == [
        ("prompt.updated", "di"),
        ("version.rolled_back", "cy"),
        ("version.created", "bo"),
        ("version.activated", "ana"),
        ("version.created", "ana"),
        ("prompt.created", "ana"),
    ]


def test_save_working_copy_snapshots_and_saves_in_one_transaction(registry: Registry) -> None:
    prompt = registry.create_prompt(CreatePrompt("p", content="one"), SYSTEM).prompt
    created = registry.create_version(
        CreateVersion("p", content="two", save_working_copy=True, if_match=prompt.etag), SYSTEM
    ).version
    assert created.content == "two"
    assert registry.get_prompt("p", SYSTEM).content == "two"
    with pytest.raises(StaleEtag):
        registry.create_version(
            CreateVersion("p", content="three", save_working_copy=True, if_match=prompt.etag),
            SYSTEM,
        )
    assert registry.get_prompt("p", SYSTEM).content == "two"
    assert registry.get_prompt("p", SYSTEM).version_count == 2


def test_a_rare_tag_does_not_end_the_pages_early(registry: Registry) -> None:
    # Two tagged prompts 500 ids apart, a page of one: the second must still be found.
    for i in range(502):
        registry.create_prompt(
            CreatePrompt(f"p{i:03d}", tags=["rare"] if i in (0, 501) else ["common"]), SYSTEM
        )
    first = registry.list_prompts(SYSTEM, tag="rare", limit=1)
    assert [p.name for p in first.items] == ["p000"] and first.next_cursor
    second = registry.list_prompts(SYSTEM, tag="rare", limit=1, cursor=first.next_cursor)
    assert [p.name for p in second.items] == ["p501"] and second.next_cursor is None
    assert len(registry.list_prompts(SYSTEM, tag="common", limit=200).items) == 200

"""Templates in the core, on the run's database: chat versions, rendering, if_changed,
composition (cycles, dependencies, purge and delete protection) and migration 0007."""

from __future__ import annotations

import itertools

import pytest
import sqlalchemy as sa

from promptdeck.core import Registry
from promptdeck.domain.caller import SYSTEM
from promptdeck.domain.commands import (
    CreatePrompt,
    CreateVersion,
    DeletePrompt,
    ImportPrompt,
    PurgePrompt,
    PurgeVersion,
    RenderPrompt,
)
from promptdeck.errors import (
    IncludeCycle,
    MissingVariables,
    StillIncluded,
    TemplateInvalid,
)
from promptdeck.store import migrate
from promptdeck.store.engine import create_engine

SYSTEM_USER = [
    {"role": "system", "content": "You answer for {{company}}."},
    {"role": "user", "content": "{{question}}"},
]


def test_a_chat_version_keeps_its_messages_and_lists_its_variables(registry: Registry) -> None:
    registry.create_prompt(CreatePrompt("support"), SYSTEM)
    created = registry.create_version(
        CreateVersion("support", kind="chat", messages=SYSTEM_USER), SYSTEM
    )
    version = registry.get_version("support", created.version.id, SYSTEM)
    assert (version.kind, version.messages) == ("chat", SYSTEM_USER)
    assert version.variables == ["company", "question"]
    assert (
        registry.get_version(
            "support", registry.get_prompt("support", SYSTEM).active_version_id, SYSTEM
        ).kind
        == "text"
    )


def test_a_chat_version_refuses_content_and_a_text_one_refuses_messages(registry: Registry) -> None:
    registry.create_prompt(CreatePrompt("support"), SYSTEM)
    with pytest.raises(TemplateInvalid):
        registry.create_version(
            CreateVersion("support", kind="chat", content="x", messages=SYSTEM_USER), SYSTEM
        )
    with pytest.raises(TemplateInvalid):
        registry.create_version(CreateVersion("support", messages=SYSTEM_USER), SYSTEM)
    with pytest.raises(TemplateInvalid):
        registry.create_version(
            CreateVersion("support", content="{% if %}", template_format="jinja"), SYSTEM
        )


def test_render_fills_the_active_version_or_the_one_asked_for(registry: Registry) -> None:
    registry.create_prompt(CreatePrompt("support", content="Hi {{name}}"), SYSTEM)
    registry.create_version(
        CreateVersion("support", kind="chat", messages=SYSTEM_USER, activate=True), SYSTEM
    )
    values = {"company": "ACME", "question": "{{company}}?"}
    out = registry.render(RenderPrompt("support", values), SYSTEM)
    assert out.rendered.value() == [
        {"role": "system", "content": "You answer for ACME."},
        {"role": "user", "content": "{{company}}?"},
    ]
    assert (
        registry.render(RenderPrompt("support", {"name": "Ada"}, at="1"), SYSTEM).rendered.value()
        == "Hi Ada"
    )
    with pytest.raises(MissingVariables, match="question"):
        registry.render(RenderPrompt("support", {"company": "ACME"}), SYSTEM)


def test_if_changed_returns_the_latest_version_when_nothing_changed(registry: Registry) -> None:
    registry.create_prompt(CreatePrompt("support", content="a", model_config={"t": 1}), SYSTEM)
    again = registry.create_version(
        CreateVersion("support", content="a", model_config={"t": 1}, if_changed=True), SYSTEM
    )
    assert again.unchanged and again.version.number == 1
    other = registry.create_version(
        CreateVersion("support", content="a", model_config={"t": 2}, if_changed=True), SYSTEM
    )
    assert not other.unchanged and other.version.number == 2
    chat = registry.create_version(
        CreateVersion("support", kind="chat", messages=SYSTEM_USER, if_changed=True), SYSTEM
    )
    assert not chat.unchanged
    same = registry.create_version(
        CreateVersion("support", kind="chat", messages=SYSTEM_USER, if_changed=True), SYSTEM
    )
    assert same.unchanged and same.version.id == chat.version.id


@pytest.mark.parametrize("length", [1, 2, 3, 4, 5])
def test_a_cycle_of_includes_is_refused_at_creation_naming_its_path(
    registry: Registry, length: int
) -> None:
    names = [f"p{i}" for i in range(length)]
    for name in names:
        registry.create_prompt(CreatePrompt(name, content="plain"), SYSTEM)
    for a, b in itertools.pairwise(names):  # p0 -> p1 -> … -> p(n-1)
        registry.create_version(CreateVersion(a, content=f"{{{{> {b}}}}}", activate=True), SYSTEM)
    with pytest.raises(IncludeCycle) as refused:
        registry.create_version(
            CreateVersion(names[-1], content=f"x {{{{> {names[0]}@1}}}}"), SYSTEM
        )
    path = " -> ".join([names[-1], *names])
    assert f"include cycle: {path}" in refused.value.detail
    assert registry.get_prompt(names[-1], SYSTEM).version_count == 1  # nothing was created


def test_includes_render_the_active_version_or_the_pinned_one(registry: Registry) -> None:
    registry.create_prompt(
        CreatePrompt("tone", content="Be {{mood}}.", version_name="calm"), SYSTEM
    )
    registry.create_version(CreateVersion("tone", content="Be loud.", activate=True), SYSTEM)
    registry.create_prompt(
        CreatePrompt("a", content="{{> tone}} / {{> tone@1}} / {{> tone@calm}}"), SYSTEM
    )
    assert (
        registry.render(RenderPrompt("a", {"mood": "calm"}), SYSTEM).rendered.text
        == "Be loud. / Be calm. / Be calm."
    )
    with pytest.raises(TemplateInvalid, match="no label or version"):
        registry.create_version(CreateVersion("a", content="{{> tone@production}}"), SYSTEM)
    with pytest.raises(TemplateInvalid, match="no prompt"):
        registry.create_version(CreateVersion("a", content="{{> nobody}}"), SYSTEM)


def test_an_included_prompt_cannot_be_deleted_without_force(registry: Registry) -> None:
    registry.create_prompt(CreatePrompt("tone", content="Be kind."), SYSTEM)
    for name in ("a", "b", "c"):
        registry.create_prompt(CreatePrompt(name, content="{{> tone}} " + name), SYSTEM)
    with pytest.raises(StillIncluded) as refused:
        registry.delete_prompt(DeletePrompt("tone"), SYSTEM)
    assert all(f"{n} version 1" in refused.value.detail for n in "abc")
    registry.delete_prompt(DeletePrompt("tone", force=True), SYSTEM)
    with pytest.raises(TemplateInvalid, match="no prompt 'tone'"):
        registry.render(RenderPrompt("a", {}), SYSTEM)


def test_a_version_pinned_by_a_live_version_cannot_be_purged(registry: Registry) -> None:
    registry.create_prompt(CreatePrompt("tone", content="v1"), SYSTEM)
    registry.create_version(CreateVersion("tone", content="v2", activate=True), SYSTEM)
    pinned = registry.get_prompt("tone", SYSTEM)
    v1_id = registry.list_versions("tone", SYSTEM, limit=10).items[-1].id
    includer = registry.create_prompt(CreatePrompt("a", content="{{> tone@1}}"), SYSTEM).prompt
    with pytest.raises(StillIncluded, match="a version 1"):
        registry.purge_version(PurgeVersion("tone", v1_id, reason="test"), SYSTEM)
    registry.create_version(CreateVersion("a", content="no include", activate=True), SYSTEM)
    registry.purge_version(PurgeVersion("a", includer.active_version_id, reason="test"), SYSTEM)
    assert registry.purge_version(PurgeVersion("tone", v1_id, reason="test"), SYSTEM).changed
    assert pinned.name == "tone"


def test_dependencies_and_dependents_name_both_ends(registry: Registry) -> None:
    tone = registry.create_prompt(CreatePrompt("tone", content="x"), SYSTEM).prompt
    a = registry.create_prompt(CreatePrompt("a", content="{{> tone}} {{> tone@1}}"), SYSTEM).prompt
    deps = registry.dependencies("a", a.active_version_id, SYSTEM)
    assert [(d.target_prompt_name, d.at, d.target_version_id) for d in deps] == [
        ("tone", None, None),
        ("tone", "1", tone.active_version_id),
    ]
    dependents = registry.dependents("tone", tone.active_version_id, SYSTEM)
    assert [(d.prompt_name, d.number) for d in dependents] == [("a", 1)]
    assert registry.dependencies("tone", tone.active_version_id, SYSTEM) == []


def test_migration_0007_goes_down_and_up_keeping_versions(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        migrate.upgrade(engine)
        registry = Registry(engine)
        registry.create_prompt(CreatePrompt("tone", content="x"), SYSTEM)
        registry.create_prompt(CreatePrompt("a", content="{{> tone}}"), SYSTEM)
        migrate.downgrade(engine, "0006")  # the revision before 0007
        inspector = sa.inspect(engine)
        assert "version_includes" not in inspector.get_table_names()
        assert "kind" not in {c["name"] for c in inspector.get_columns("versions")}
        migrate.upgrade(engine)
        assert Registry(engine).get_version("a", 2, SYSTEM).kind == "text"
    finally:
        engine.dispose()


def test_export_and_import_keep_chat_versions_and_their_includes(registry: Registry) -> None:
    registry.create_prompt(CreatePrompt("tone", content="Be kind."), SYSTEM)
    registry.create_prompt(CreatePrompt("support", content="x"), SYSTEM)
    chat = [{"role": "system", "content": "{{> tone}} {{q}}"}]
    registry.create_version(
        CreateVersion("support", kind="chat", messages=chat, activate=True), SYSTEM
    )
    record = registry.export_prompt("support", SYSTEM)
    registry.delete_prompt(DeletePrompt("support"), SYSTEM)
    registry.purge_prompt(PurgePrompt("support"), SYSTEM)
    imported, created = registry.import_prompt(ImportPrompt(record), SYSTEM)
    assert created
    active = registry.get_version("support", imported.active_version_id, SYSTEM)
    assert (active.kind, active.messages) == ("chat", chat)
    assert registry.render(RenderPrompt("support", {"q": "?"}), SYSTEM).rendered.value() == [
        {"role": "system", "content": "Be kind. ?"}
    ]
    with pytest.raises(StillIncluded):
        registry.delete_prompt(DeletePrompt("tone"), SYSTEM)


def test_a_prompt_can_start_as_chat_and_a_text_prompts_key_hashes_as_before(
    registry: Registry,
) -> None:
    created = registry.create_prompt(
        CreatePrompt("support", messages=SYSTEM_USER, idempotency_key="k"), SYSTEM
    )
    first = registry.get_version("support", created.prompt.active_version_id, SYSTEM)
    assert (first.kind, first.messages, created.prompt.content) == ("chat", SYSTEM_USER, "")
    again = registry.create_prompt(
        CreatePrompt("support", messages=SYSTEM_USER, idempotency_key="k"), SYSTEM
    )
    assert again.replayed and again.prompt.id == created.prompt.id
    plain = registry.create_prompt(CreatePrompt("other", content="x", idempotency_key="k2"), SYSTEM)
    # A text prompt's request hashes as before templates: the template fields are left out.
    assert "messages" not in prompts_request(plain.prompt.name)


def prompts_request(name: str) -> dict[str, object]:
    return CreatePrompt(name, content="x").request()

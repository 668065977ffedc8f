"""Templates in the core, on the run's database: chat versions, rendering, if_changed,
composition (cycles, dependencies, purge and delete protection) and migration 0007."""

from __future__ import annotations

import itertools

import pytest
import sqlalchemy as sa

from promptdeck.core import Registry
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
    registry.create_prompt("support")
    created = registry.create_version("support", kind="chat", messages=SYSTEM_USER)
    version = registry.get_version("support", created.version.id)
    assert (version.kind, version.messages) == ("chat", SYSTEM_USER)
    assert version.variables == ["company", "question"]
    assert (
        registry.get_version("support", registry.get_prompt("support").active_version_id).kind
        == "text"
    )


def test_a_chat_version_refuses_content_and_a_text_one_refuses_messages(registry: Registry) -> None:
    registry.create_prompt("support")
    with pytest.raises(TemplateInvalid):
        registry.create_version("support", kind="chat", content="x", messages=SYSTEM_USER)
    with pytest.raises(TemplateInvalid):
        registry.create_version("support", messages=SYSTEM_USER)
    with pytest.raises(TemplateInvalid):
        registry.create_version("support", content="{% if %}", template_format="jinja")


def test_render_fills_the_active_version_or_the_one_asked_for(registry: Registry) -> None:
    registry.create_prompt("support", content="Hi {{name}}")
    registry.create_version("support", kind="chat", messages=SYSTEM_USER, activate=True)
    values = {"company": "ACME", "question": "{{company}}?"}
    out = registry.render("support", values)
    assert out.rendered.value() == [
        {"role": "system", "content": "You answer for ACME."},
        {"role": "user", "content": "{{company}}?"},
    ]
    assert registry.render("support", {"name": "Ada"}, at="1").rendered.value() == "Hi Ada"
    with pytest.raises(MissingVariables, match="question"):
        registry.render("support", {"company": "ACME"})


def test_if_changed_returns_the_latest_version_when_nothing_changed(registry: Registry) -> None:
    registry.create_prompt("support", content="a", model_config={"t": 1})
    again = registry.create_version("support", content="a", model_config={"t": 1}, if_changed=True)
    assert again.unchanged and again.version.number == 1
    other = registry.create_version("support", content="a", model_config={"t": 2}, if_changed=True)
    assert not other.unchanged and other.version.number == 2
    chat = registry.create_version("support", kind="chat", messages=SYSTEM_USER, if_changed=True)
    assert not chat.unchanged
    same = registry.create_version("support", kind="chat", messages=SYSTEM_USER, if_changed=True)
    assert same.unchanged and same.version.id == chat.version.id


@pytest.mark.parametrize("length", [1, 2, 3, 4, 5])
def test_a_cycle_of_includes_is_refused_at_creation_naming_its_path(
    registry: Registry, length: int
) -> None:
    names = [f"p{i}" for i in range(length)]
    for name in names:
        registry.create_prompt(name, content="plain")
    for a, b in itertools.pairwise(names):  # p0 -> p1 -> … -> p(n-1)
        registry.create_version(a, content=f"{{{{> {b}}}}}", activate=True)
    with pytest.raises(IncludeCycle) as refused:
        registry.create_version(names[-1], content=f"x {{{{> {names[0]}@1}}}}")
    path = " -> ".join([names[-1], *names])
    assert f"include cycle: {path}" in refused.value.detail
    assert registry.get_prompt(names[-1]).version_count == 1  # nothing was created


def test_includes_render_the_active_version_or_the_pinned_one(registry: Registry) -> None:
    registry.create_prompt("tone", content="Be {{mood}}.", version_name="calm")
    registry.create_version("tone", content="Be loud.", activate=True)
    registry.create_prompt("a", content="{{> tone}} / {{> tone@1}} / {{> tone@calm}}")
    assert registry.render("a", {"mood": "calm"}).rendered.text == "Be loud. / Be calm. / Be calm."
    with pytest.raises(TemplateInvalid, match="no label or version"):
        registry.create_version("a", content="{{> tone@production}}")
    with pytest.raises(TemplateInvalid, match="no prompt"):
        registry.create_version("a", content="{{> nobody}}")


def test_an_included_prompt_cannot_be_deleted_without_force(registry: Registry) -> None:
    registry.create_prompt("tone", content="Be kind.")
    for name in ("a", "b", "c"):
        registry.create_prompt(name, content="{{> tone}} " + name)
    with pytest.raises(StillIncluded) as refused:
        registry.delete_prompt("tone")
    assert all(f"{n} version 1" in refused.value.detail for n in "abc")
    registry.delete_prompt("tone", force=True)
    with pytest.raises(TemplateInvalid, match="no prompt 'tone'"):
        registry.render("a", {})


def test_a_version_pinned_by_a_live_version_cannot_be_purged(registry: Registry) -> None:
    registry.create_prompt("tone", content="v1")
    registry.create_version("tone", content="v2", activate=True)
    pinned = registry.get_prompt("tone")
    v1_id = registry.list_versions("tone", limit=10).items[-1].id
    includer = registry.create_prompt("a", content="{{> tone@1}}").prompt
    with pytest.raises(StillIncluded, match="a version 1"):
        registry.purge_version("tone", v1_id, reason="test")
    registry.create_version("a", content="no include", activate=True)
    registry.purge_version("a", includer.active_version_id, reason="test")
    assert registry.purge_version("tone", v1_id, reason="test").changed
    assert pinned.name == "tone"


def test_dependencies_and_dependents_name_both_ends(registry: Registry) -> None:
    tone = registry.create_prompt("tone", content="x").prompt
    a = registry.create_prompt("a", content="{{> tone}} {{> tone@1}}").prompt
    deps = registry.dependencies("a", a.active_version_id)
    assert [(d.target_prompt_name, d.at, d.target_version_id) for d in deps] == [
        ("tone", None, None),
        ("tone", "1", tone.active_version_id),
    ]
    dependents = registry.dependents("tone", tone.active_version_id)
    assert [(d.prompt_name, d.number) for d in dependents] == [("a", 1)]
    assert registry.dependencies("tone", tone.active_version_id) == []


def test_migration_0007_goes_down_and_up_keeping_versions(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        migrate.upgrade(engine)
        registry = Registry(engine)
        registry.create_prompt("tone", content="x")
        registry.create_prompt("a", content="{{> tone}}")
        migrate.downgrade(engine, "0006")  # the revision before 0007
        inspector = sa.inspect(engine)
        assert "version_includes" not in inspector.get_table_names()
        assert "kind" not in {c["name"] for c in inspector.get_columns("versions")}
        migrate.upgrade(engine)
        assert Registry(engine).get_version("a", 2).kind == "text"
    finally:
        engine.dispose()


def test_export_and_import_keep_chat_versions_and_their_includes(registry: Registry) -> None:
    registry.create_prompt("tone", content="Be kind.")
    registry.create_prompt("support", content="x")
    chat = [{"role": "system", "content": "{{> tone}} {{q}}"}]
    registry.create_version("support", kind="chat", messages=chat, activate=True)
    record = registry.export_prompt("support")
    registry.delete_prompt("support")
    registry.purge_prompt("support")
    imported, created = registry.import_prompt(record)
    assert created
    active = registry.get_version("support", imported.active_version_id)
    assert (active.kind, active.messages) == ("chat", chat)
    assert registry.render("support", {"q": "?"}).rendered.value() == [
        {"role": "system", "content": "Be kind. ?"}
    ]
    with pytest.raises(StillIncluded):
        registry.delete_prompt("tone")


def test_a_prompt_can_start_as_chat_and_a_text_prompts_key_hashes_as_before(
    registry: Registry,
) -> None:
    created = registry.create_prompt("support", messages=SYSTEM_USER, idempotency_key="k")
    first = registry.get_version("support", created.prompt.active_version_id)
    assert (first.kind, first.messages, created.prompt.content) == ("chat", SYSTEM_USER, "")
    again = registry.create_prompt("support", messages=SYSTEM_USER, idempotency_key="k")
    assert again.replayed and again.prompt.id == created.prompt.id
    plain = registry.create_prompt("other", content="x", idempotency_key="k2")
    # A text prompt's request hashes as before templates: the template fields are left out.
    assert "messages" not in prompts_request(plain.prompt.name)


def prompts_request(name: str) -> dict[str, object]:
    from promptdeck.core.prompts import NewPrompt

    return NewPrompt(name, "", [], "x", {}, None, "", None).request()

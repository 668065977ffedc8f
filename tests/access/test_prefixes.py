"""A key limited to prompt-name prefixes: its lists, and bodies it cannot hide a name in."""

from __future__ import annotations

from starlette.testclient import TestClient

from promptdeck.core import Registry
from promptdeck.domain.caller import SYSTEM, Caller
from promptdeck.domain.commands import CreatePrompt, MoveLabel
from tests.access.conftest import Keys, bearer


def test_a_limited_key_lists_only_its_prompts_and_cannot_create_outside_them(
    keyed: TestClient, keys: Keys, registry: Registry
) -> None:
    for name in ("team-a", "other", "team-b"):
        registry.create_prompt(CreatePrompt(name, content="x"), Caller.local("setup"))
    key = bearer(keys.limited)
    listed = keyed.get("/prompts", headers=key).json()["items"]
    assert [p["name"] for p in listed] == ["team-a", "team-b"]
    events = keyed.get("/events", headers=key).json()["items"]
    assert {e["prompt_name"] for e in events} == {"team-a", "team-b"}
    exported = keyed.get("/export", headers=key).json()["items"]
    assert [r["name"] for r in exported] == ["team-a", "team-b"]
    other_id = registry.get_prompt("other", SYSTEM).id
    assert keyed.get(f"/prompts/{other_id}", headers=key).status_code == 404

    # Through the UI's form, URL-encoded or multipart: the core reads the name it creates.
    form = {"name": "elsewhere", "content": "x"}
    assert keyed.post("/ui/new", data=form, headers=key).status_code == 404
    multipart = keyed.post("/ui/new", files={"name": (None, "elsewhere")}, headers=key)
    assert multipart.status_code == 404
    inside = keyed.post("/ui/new", data={"name": "team-c"}, headers=key, follow_redirects=False)
    assert inside.status_code == 303
    assert registry.get_prompt("team-c", SYSTEM).name == "team-c"
    names = [p.name for p in registry.list_prompts(SYSTEM).items]
    assert "elsewhere" not in names


def test_a_limited_key_fetches_labels_from_the_hot_path_only_within_its_prefixes(
    keyed: TestClient, keys: Keys, registry: Registry
) -> None:
    for name in ("team-a", "other"):
        created = registry.create_prompt(
            CreatePrompt(name, content="x"), Caller.local("setup")
        ).prompt
        assert created.active_version is not None
        registry.move_label(
            MoveLabel(name, "staging", created.active_version.id), Caller.local("setup")
        )
    other_id = registry.get_prompt("other", SYSTEM).id
    key = bearer(keys.limited)
    assert keyed.get("/prompts/team-a/active?label=staging", headers=key).status_code == 200
    for ref in ("other", str(other_id)):
        for query in ("", "?label=staging", "?label=nope"):
            response = keyed.get(f"/prompts/{ref}/active{query}", headers=key)
            assert response.status_code == 404, (ref, query)
            assert "x" not in response.json().get("content", "")

"""Labels wired into what main added since: the streamed export and the checked import over
HTTP, GET /changes, includes that follow a label, and ?label= past the hot path."""

from __future__ import annotations

import json

from starlette.testclient import TestClient

from promptdeck.core import Registry
from promptdeck.core.transfer import LABEL_KEYS
from promptdeck.domain.caller import SYSTEM, Caller
from promptdeck.domain.commands import (
    CreatePrompt,
    CreateVersion,
    MoveLabel,
    ProposeDeploy,
    ProtectLabel,
    RemoveLabel,
    RenderPrompt,
    Rollback,
)
from promptdeck.schemas import PromptRecord


def _labelled(registry: Registry, name: str) -> tuple[int, int]:
    registry.create_prompt(CreatePrompt(name, content="one"), SYSTEM)
    v2 = registry.create_version(CreateVersion(name, content="two"), SYSTEM).version
    registry.move_label(MoveLabel(name, "production", v2.id, reason="ship"), Caller.local("ana"))
    registry.protect_label(ProtectLabel(name, "production", True), SYSTEM)
    registry.propose_deploy(
        ProposeDeploy(name, "production", v2.id, reason="again"), Caller.local("bo")
    )
    registry.move_label(MoveLabel(name, "staging", v2.id), Caller.local("bo"))
    registry.remove_label(RemoveLabel(name, "staging"), Caller.local("bo"))
    return registry.get_prompt(name, SYSTEM).active_version_id or 0, v2.id


def test_the_streamed_export_carries_labels_and_the_import_over_http_keeps_them(
    api: TestClient, registry: Registry
) -> None:
    _labelled(registry, "p")
    expected = PromptRecord.model_validate(registry.export_prompt("p", SYSTEM)).model_dump(
        mode="json", by_alias=True
    )
    streamed = api.get("/prompts/p/export").json()
    assert streamed == expected
    assert [x["name"] for x in streamed["labels"]] == ["production"]
    assert streamed["protected_labels"] == ["production"]
    assert len(streamed["label_moves"]) == 4 and len(streamed["deploy_requests"]) == 1
    page = api.get("/export").json()
    assert page["items"] == [expected]

    copy = {**streamed, "name": "copy"}
    assert api.post("/prompts/import", json=copy).status_code == 201
    assert api.get("/prompts/copy/export").json() == {**expected, "name": "copy"}
    assert api.post("/prompts/import", json=copy).status_code == 200  # identical: no-op
    older = {k: v for k, v in copy.items() if k not in LABEL_KEYS}
    assert api.post("/prompts/import", json=older).status_code == 200  # written before labels


def test_an_import_naming_a_missing_version_in_its_labels_is_a_422(
    api: TestClient, registry: Registry
) -> None:
    _labelled(registry, "p")
    record = api.get("/prompts/p/export").json()
    record["name"] = "bad"
    record["labels"][0]["version_number"] = 99
    answer = api.post("/prompts/import", json=record)
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == "labels[0].version_number"


def test_changes_carry_label_moves_with_their_label(api: TestClient, registry: Registry) -> None:
    registry.create_prompt(CreatePrompt("p", content="one"), SYSTEM)
    start = api.get("/changes", params={"wait": "0"}).json()["last_event_id"]
    v2 = registry.create_version(CreateVersion("p", content="two"), SYSTEM).version
    registry.move_label(MoveLabel("p", "production", v2.id), SYSTEM)
    registry.remove_label(RemoveLabel("p", "production"), SYSTEM)
    registry.rollback(Rollback("p", v2.id), SYSTEM)
    moves: list[dict[str, object]] = []
    for _ in range(10):  # the long poll answers as soon as some moves are there
        page = api.get("/changes", params={"wait": "2", "after": str(start)}).json()
        moves += page["events"]
        start = page["last_event_id"]
        if len(moves) >= 3:
            break
    assert [(m["label"], m["kind"], m["version_id"]) for m in moves] == [
        ("production", "label.moved", v2.id),
        ("production", "label.removed", None),
        ("active", "version.rolled_back", v2.id),
    ]


def test_an_include_follows_a_label(registry: Registry) -> None:
    registry.create_prompt(CreatePrompt("tone", content="calm"), SYSTEM)
    v2 = registry.create_version(CreateVersion("tone", content="loud"), SYSTEM).version
    registry.move_label(MoveLabel("tone", "production", v2.id), SYSTEM)
    registry.create_prompt(CreatePrompt("a", content="{{> tone@production}}"), SYSTEM)
    assert registry.render(RenderPrompt("a", {}), SYSTEM).rendered.value() == "loud"


def test_label_fetches_go_past_the_hot_path_and_active_stays_on_it(
    api: TestClient, registry: Registry
) -> None:
    active, v2 = _labelled(registry, "p")
    assert api.get("/prompts/p/active").json()["version_id"] == active
    production = api.get("/prompts/p/active", params={"label": "production"})
    assert production.json()["version_id"] == v2
    again = api.get(
        "/prompts/p/active",
        params={"label": "production"},
        headers={"If-None-Match": production.headers["etag"]},
    )
    assert again.status_code == 304
    assert api.get("/prompts/p/active", params={"label": "nope"}).status_code == 404
    assert json.loads(api.get("/prompts/p/active?label=active").content)["version_id"] == active

"""GET /events: every prompt's history, filtered and keyset-paginated, naming keys; the
Python client raises the access errors as their classes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from starlette.testclient import TestClient

from promptdeck import Client
from promptdeck.core import Registry
from promptdeck.domain.caller import Caller
from promptdeck.domain.commands import CreatePrompt
from promptdeck.errors import Forbidden, Unauthorized
from tests.access.conftest import Keys, bearer
from tests.support.server import ServerProcess


def test_events_across_prompts_filter_by_prompt_actor_kind_and_time_and_page_by_key(
    keyed: TestClient, keys: Keys
) -> None:
    write, admin = bearer(keys.write), bearer(keys.admin)
    for name in ("a", "b"):
        keyed.post("/prompts", json={"name": name, "content": "1"}, headers=write)
    keyed.post(
        "/prompts/a/versions",
        json={"content": "2", "activate": True},
        headers={**write, "X-Actor": "mallory"},
    )
    keyed.delete("/prompts/b", headers=admin)

    every = keyed.get("/events", headers=admin).json()["items"]
    assert [(e["prompt_name"], e["kind"], e["actor"]) for e in every[:3]] == [
        ("b", "prompt.deleted", "admin"),
        ("a", "version.activated", "ci"),
        ("a", "version.created", "ci"),
    ]
    assert [e["id"] for e in every] == sorted((e["id"] for e in every), reverse=True)

    def names(**params: object) -> list[tuple[str, str]]:
        page = keyed.get("/events", params=params, headers=admin).json()["items"]
        return [(e["prompt_name"], e["kind"]) for e in page]

    assert {p for p, _ in names(prompt="b")} == {"b"}
    assert names(actor="admin") == [("b", "prompt.deleted")]
    assert names(actor="mallory") == []  # X-Actor does not replace the key's name
    assert {k for _, k in names(kind="version.")} == {"version.created", "version.activated"}
    future = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    assert names(since=future) == [] and len(names(until=future)) == len(every)

    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = keyed.get("/events", params=params, headers=admin).json()
        seen += [e["id"] for e in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert seen == [e["id"] for e in every]


def test_the_client_raises_unauthorized_and_forbidden_from_the_problems(
    start_server: object, registry: Registry, keys: Keys
) -> None:
    registry.create_prompt(CreatePrompt("greet", content="Hello"), Caller.local("setup"))
    server: ServerProcess = start_server()  # type: ignore[operator]
    with Client(server.url, keys.read) as reader:
        assert reader.get_active("greet").content == "Hello"
        with pytest.raises(Forbidden) as refused:
            reader.rollback("greet", 1)
        assert refused.value.status == 403
    with Client(server.url, "pdk_00000000_" + "x" * 40) as stranger:
        with pytest.raises(Unauthorized) as unknown:
            stranger.get_prompt("greet")
        assert unknown.value.status == 401

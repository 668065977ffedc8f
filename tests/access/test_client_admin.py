"""The Python client's administration methods against a real server with keys: keys and
people made, listed and revoked; the history across prompts, filtered and paged."""

from __future__ import annotations

import asyncio

import pytest

from promptdeck import AsyncClient, Client
from promptdeck.errors import Unauthorized
from tests.access.conftest import Keys
from tests.support.server import ServerProcess


def test_an_admin_client_makes_lists_and_revokes_keys_and_people(
    start_server: object, keys: Keys
) -> None:
    server: ServerProcess = start_server()  # type: ignore[operator]
    with Client(server.url, keys.admin) as admin:
        made = admin.create_key("batch", "read", prompts=["team-"], expires="2d")
        assert (made.name, made.role, made.prompts) == ("batch", "read", ["team-"])
        assert made.key.startswith("pdk_") and made.expires_at is not None
        with Client(server.url, made.key) as batch:
            assert batch.list_audit_events().items == []  # it sees no prompt yet
        assert "batch" in {a.name for a in admin.iter_keys()}
        assert [a.name for a in admin.list_keys(limit=1).items] == ["admin"]
        assert admin.revoke_key("batch").revoked_at is not None
        with Client(server.url, made.key) as batch, pytest.raises(Unauthorized):
            batch.list_audit_events()

        person = admin.create_user("ana", "write", "a long password", prompts=["team-"])
        assert (person.name, person.role) == ("ana", "write")
        assert [a.name for a in admin.iter_users()] == ["ana"]
        assert admin.list_users().items[0].revoked_at is None
        assert admin.revoke_user("ana").revoked_at is not None


def test_the_history_across_prompts_is_filtered_and_paged_by_the_client(
    start_server: object, keys: Keys
) -> None:
    server: ServerProcess = start_server()  # type: ignore[operator]
    with Client(server.url, keys.write) as writer, Client(server.url, keys.admin) as admin:
        admin.create_prompt("a", "1")
        for name in ("b", "c"):
            writer.create_prompt(name, "1")
        writer.create_version("b", "2", activate=True)

        every = list(admin.iter_audit_events())
        assert [e.id for e in every] == sorted((e.id for e in every), reverse=True)
        assert {(e.prompt_name, e.actor) for e in every} == {
            ("a", "admin"),
            ("b", "ci"),
            ("c", "ci"),
        }
        first = admin.list_audit_events(limit=2)
        assert len(first.items) == 2 and first.next_cursor is not None
        assert admin.list_audit_events(limit=2, cursor=first.next_cursor).items == every[2:4]
        assert list(admin.iter_audit_events(prompt="b")) == [
            e for e in every if e.prompt_name == "b"
        ]
        assert list(admin.iter_audit_events(actor="admin")) == [
            e for e in every if e.actor == "admin"
        ]
        versions = [e for e in every if e.kind.startswith("version.")]
        assert len(versions) >= 2 and list(admin.iter_audit_events(kind="version.")) == versions
        assert list(admin.iter_audit_events(until=every[-1].created_at)) == []

    async def asynchronous() -> list[int]:
        async with AsyncClient(server.url, keys.admin) as client:
            return [e.id async for e in client.iter_audit_events(prompt="b")]

    assert asyncio.run(asynchronous()) == [e.id for e in every if e.prompt_name == "b"]

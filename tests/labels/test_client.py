"""The clients move labels, fetch by label (each label cached on its own) and handle deploy
requests, against a real server."""

from __future__ import annotations

import pytest

from promptdeck import errors
from promptdeck.client import AsyncClient, Client
from tests.support.aio import run as run_async
from tests.support.server import ServerProcess


def test_the_client_moves_labels_fetches_by_label_and_reverts(
    shared_server: ServerProcess, name: str
) -> None:
    with Client(shared_server.url, actor="alice") as c:
        c.create_prompt(name, "one")
        c.create_version(name, content="two", version_name="v2")
        moved = c.move_label(name, "staging", "v2", reason="try it")
        assert moved.changed and moved.label.number == 2
        assert c.get_active(name, label="staging").content == "two"
        assert c.get_active(name).content == "one"  # active and staging cached apart
        with pytest.raises(errors.PreconditionFailed):
            c.move_label(name, "staging", 1, if_match='"stale"')
        c.revert_label(name, "staging")
        history = c.label_history(name, "staging").items
        assert [(m.to_number, m.actor) for m in history] == [(None, "alice"), (2, "alice")]
        assert [x.name for x in c.list_labels(name)] == ["active", "production"]


def test_the_async_client_proposes_and_another_actor_approves(
    shared_server: ServerProcess, name: str
) -> None:
    async def run() -> None:
        async with (
            AsyncClient(shared_server.url, actor="writer") as w,
            AsyncClient(shared_server.url, actor="admin") as a,
        ):
            await w.create_prompt(name, "one")
            v2 = await w.create_version(name, content="two")
            request = await w.propose_deploy(name, "production", v2.id, reason="ship")
            assert request.diff == ["+ two"]  # production serves nothing yet
            with pytest.raises(errors.PromptdeckError) as own:
                await w.approve_deploy(name, request.id)
            assert own.value.status == 403
            approved = await a.approve_deploy(name, request.id, reason="ok")
            assert approved.status == "approved"
            assert (await a.get_active(name, label="production")).content == "two"

    run_async(run())

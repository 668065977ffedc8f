"""`promptdeck labels` and `promptdeck deploys` against a real server."""

from __future__ import annotations

from tests.cli.helpers import js, ok, run
from tests.support.server import ServerProcess


def test_labels_set_list_history_revert_and_rm_from_the_command_line(
    shared_server: ServerProcess, name: str
) -> None:
    url = shared_server.url
    ok(url, "prompts", "create", name, "--content", "one")
    ok(url, "versions", "create", name, "--content", "two", "--name", "v2")
    out = ok(url, "labels", "set", name, "staging", "v2", "-m", "try it")
    assert "staging" in out and "#2" in out
    assert [x["name"] for x in js(url, "labels", "list", name)] == [
        "active",
        "production",
        "staging",
    ]
    ok(url, "labels", "revert", name, "staging")
    moves = js(url, "labels", "history", name, "staging")
    assert [(m["to_number"], m["reason"]) for m in moves][1] == (2, "try it")
    ok(url, "labels", "set", name, "staging", "v2")
    ok(url, "labels", "rm", name, "staging", "-m", "done")
    assert "active" in ok(url, "labels", "history", name)
    refused = run(url, "labels", "rm", name, "active")
    assert refused.exit_code == 1


def test_deploys_request_then_approve_by_another_actor(
    shared_server: ServerProcess, name: str
) -> None:
    url = shared_server.url
    ok(url, "prompts", "create", name, "--content", "one")
    ok(url, "versions", "create", name, "--content", "two", "--name", "v2")
    ok(url, "labels", "set", name, "production", "v2")
    ok(url, "versions", "create", name, "--content", "three", "--name", "v3")
    request = js(url, "deploys", "request", name, "production", "v3", "-m", "ship")
    assert request["diff"] == ["- two", "+ three"]
    own = run(url, "deploys", "approve", name, str(request["id"]))
    assert own.exit_code == 1
    approved = js(
        url, "deploys", "approve", name, str(request["id"]), env={"PROMPTDECK_ACTOR": "boss"}
    )
    assert approved["status"] == "approved" and approved["decided_by"] == "boss"

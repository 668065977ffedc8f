"""The options every command that talks to a server shares (cli/context.py): declared once,
the same on every such command, and accepted wherever people type them."""

from __future__ import annotations

import json
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from promptdeck.cli.context import Cli, connected
from promptdeck.cli.main import app
from tests.cli.helpers import js, ok, run
from tests.support.server import ServerProcess, free_port

LOCAL = ("serve", "db")  # work on a database, not through a server


def commands(group: Any, path: tuple[str, ...] = ()) -> dict[str, Any]:
    """Every command of the CLI by its words: "prompts list", "log"…"""
    found: dict[str, Any] = {}
    for word, command in group.commands.items():
        if hasattr(command, "commands"):  # a group
            found |= commands(command, (*path, word))
        else:
            found[" ".join((*path, word))] = command
    return found


def options(command: Any) -> dict[str, tuple[object, ...]]:
    return {
        opt: (p.help, p.envvar, p.default, getattr(p, "rich_help_panel", None))  # type: ignore[attr-defined]
        for p in command.params
        for opt in getattr(p, "opts", ())
    }


def test_every_command_that_talks_to_a_server_has_the_same_shared_options() -> None:
    every = commands(typer.main.get_group(app))
    remote = {w: c for w, c in every.items() if w.split()[0] not in LOCAL}
    assert len(remote) >= 44
    reference = options(remote["prompts create"])
    for words, command in remote.items():
        own = options(command)
        expected = ["--url", "--api-key", "--actor", "--json"]
        if words == "events":  # its --actor is a filter: who made the change
            expected.remove("--actor")
            assert own["--actor"][0] == "A key's or person's name."
        if words in ("export", "mcp"):  # --format says what to write; mcp's is the protocol
            expected.remove("--json")
        for option in expected:
            assert own.get(option) == reference[option], (words, option)
    for words in ("serve", "db upgrade"):
        assert "--url" not in options(every[words])


def test_the_shared_options_are_accepted_before_between_and_after_the_arguments(
    shared_server: ServerProcess, name: str
) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"  # what PROMPTDECK_URL says: nothing answers
    url = shared_server.url
    ok(url, "prompts", "create", name, "-c", "a")
    for args in (
        ["versions", "list", name, "--url", url, "--json"],
        ["versions", "list", "--json", "--url", url, name],
        ["versions", "list", "--url", url, name, "--limit", "5", "--json"],
    ):
        listed = json.loads(ok(nowhere, *args))
        assert [v["number"] for v in listed] == [1], args
    made = js(nowhere, "versions", "create", name, "-c", "b", "--actor", "ana", "--url", url)
    assert made["created_by"] == "ana"
    assert js(url, "versions", "show", name, str(made["id"]))["created_by"] == "ana"
    assert run(nowhere, "versions", "list", name, "--json").exit_code == 1  # no server there


def test_the_json_of_a_command_that_answers_with_a_sentence_is_what_it_did(
    shared_server: ServerProcess, name: str
) -> None:
    url = shared_server.url
    first = js(url, "prompts", "create", name, "-c", "a")["active_version"]["id"]
    ok(url, "labels", "set", name, "staging", str(first))
    assert js(url, "labels", "protect", name, "staging")["protected"] is True
    assert js(url, "labels", "protect", name, "staging", "--off")["protected"] is False
    assert js(url, "labels", "rm", name, "staging") == {"prompt": name, "removed": "staging"}
    assert "staging" not in {x["name"] for x in js(url, "labels", "list", name)}


def test_a_model_config_that_is_not_a_json_object_is_a_usage_error_naming_the_option(
    shared_server: ServerProcess, name: str
) -> None:
    for bad, said in (("{oops", "not valid JSON"), ("[1]", "must be a JSON object")):
        refused = run(
            shared_server.url, "prompts", "create", name, "-c", "a", "--model-config", bad
        )
        assert refused.exit_code == 2
        assert "--model-config" in refused.stderr and said in refused.stderr
    made = js(shared_server.url, "prompts", "create", name, "-c", "a", "--model-config", " ")
    assert made["model_config"] == {}


def test_a_command_cannot_declare_a_shared_option_of_its_own() -> None:
    def show(cli: Cli, url: str) -> None: ...

    with pytest.raises(TypeError, match="url is a shared option"):
        connected(show)


def test_a_command_gets_the_shared_options_values_and_its_client_is_closed_after_it() -> None:
    seen: list[Cli] = []

    @connected
    def probe(cli: Cli, word: str) -> None:
        seen.append(cli)
        assert cli.client.url == "http://example.test:1"  # made on first use

    probe_app = typer.Typer()
    probe_app.command()(probe)
    done = CliRunner().invoke(
        probe_app, ["w", "--url", "http://example.test:1", "--actor", "ana", "--json"]
    )
    assert done.exit_code == 0, done.output
    (cli,) = seen
    assert (cli.url, cli.actor, cli.api_key, cli.as_json) == (
        "http://example.test:1", "ana", None, True,
    )  # fmt: skip
    assert cli.client._http.is_closed

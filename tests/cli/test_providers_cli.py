"""`promptdeck providers add|list|rm` and the Python client's provider methods, against a real
server: a key comes in on standard input (never an argument), is stored sealed and never
printed back; the list says where each key comes from."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import promptdeck
from promptdeck.errors import InvalidInput, ProviderNotFound
from tests.cli.helpers import js, ok, run
from tests.support.databases import fresh_database_url
from tests.support.server import ServerProcess

KEY = "sk-pdtest-cli-provider-key-0003"
URL = "https://llm.example.com/v1"  # a public name: configured, never called here


@pytest.fixture(scope="module")
def keyed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server for the module (each test its own provider names), with a key file."""
    tmp = tmp_path_factory.mktemp("providers")
    env = {"PROMPTDECK_SECRET_KEY_FILE": str(tmp / "secret.key")}
    with fresh_database_url(tmp) as url:
        server = ServerProcess(url, log_path=tmp / "server.log", env=env).start()
        yield server
        server.stop()


def test_providers_add_with_a_key_on_stdin_list_and_rm(keyed_server: ServerProcess) -> None:
    url = keyed_server.url
    args = ["add", "cloud", "--base-url", URL, "-m", "gpt-x", "-m", "gpt-y", "--api-key-stdin"]
    added = ok(url, "providers", *args, "--price", "gpt-x=2.5/10", input=KEY + "\n")
    assert "added provider cloud" in added and KEY not in added
    ok(url, "providers", "add", "env", "--base-url", URL, "-m", "m",
       "--api-key-env", "OPENAI_API_KEY")  # fmt: skip
    listed = ok(url, "providers", "list")
    assert "stored" in listed and "$OPENAI_API_KEY" in listed and KEY not in listed
    found = {p["name"]: p for p in js(url, "providers", "list")}
    assert found["cloud"]["api_key"] == "stored" and found["cloud"]["models"] == ["gpt-x", "gpt-y"]
    assert found["cloud"]["prices"]["gpt-x"] == {"input": 2.5, "output": 10.0}
    assert found["env"]["api_key_env"] == "OPENAI_API_KEY"
    assert "removed provider env" in ok(url, "providers", "rm", "env")
    assert "env" not in [p["name"] for p in js(url, "providers", "list")]


def test_providers_add_refuses_an_empty_stdin_and_a_bad_price(keyed_server: ServerProcess) -> None:
    url = keyed_server.url
    empty = run(url, "providers", "add", "x1", "--base-url", URL, "-m", "m", "--api-key-stdin",
                input="")  # fmt: skip
    assert empty.exit_code == 2 and "standard input" in empty.output
    price = run(url, "providers", "add", "x", "--base-url", URL, "-m", "m", "--price", "m=a/b")
    assert price.exit_code == 2 and "MODEL=INPUT/OUTPUT" in price.output
    missing = run(url, "providers", "rm", "nothing")
    assert missing.exit_code != 0 and "no provider" in missing.output


def test_the_client_adds_replaces_keeping_the_key_and_removes(keyed_server: ServerProcess) -> None:
    with promptdeck.Client(keyed_server.url) as client:
        added = client.add_provider("py", URL, ["a"], api_key=KEY, retry_attempts=2)
        assert added.api_key == "stored" and added.retry.attempts == 2
        kept = client.replace_provider("py", URL, ["a", "b"], timeouts={"total_s": 30})
        assert kept.api_key == "stored" and kept.models == ["a", "b"]
        assert kept.timeouts.total_s == 30
        dropped = client.replace_provider("py", URL, ["a"], drop_key=True)
        assert dropped.api_key is None and dropped.api_key_env is None
        assert "py" in [p.name for p in client.list_providers()]
        with pytest.raises(InvalidInput) as refused:
            client.add_provider("bad", URL, ["a"], api_key="has a space")
        assert refused.value.field == "api_key"
        client.remove_provider("py")
        with pytest.raises(ProviderNotFound):
            client.get_provider("py")

"""`promptdeck export` / `promptdeck import`: a backup restores a server whole."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from promptdeck.client import Client
from tests.cli.helpers import js, ok, run
from tests.support.databases import fresh_database_url
from tests.support.server import ServerProcess


@contextmanager
def another_server(tmp_path: Path) -> Iterator[ServerProcess]:
    (tmp_path / "b").mkdir()
    with fresh_database_url(tmp_path / "b") as url:
        server = ServerProcess(url, log_path=tmp_path / "b" / "server.log").start()
        try:
            yield server
        finally:
            server.stop()


def fill(url: str) -> None:
    with Client(url, actor="ana") as c:
        c.create_prompt(
            "support-reply", "Héllo {{name}}\n\ttabbed  \n\n", description="support",
            tags=["cs", "prod"], model_config={"model": "m", "params": {"t": 0.2, "stop": ["\n"]}},
            version_name="v1", version_description="first", max_versions=50,
        )  # fmt: skip
        c.create_version("support-reply", "second: text", version_name="v2", description="x")
        c.create_version("support-reply", "  leading spaces\nno final newline", activate=True)
        c.rollback("support-reply", "v2")
        c.update_prompt("support-reply", content="working copy", tags=["cs"])
    with Client(url, actor="bob") as c:
        c.create_prompt("summarize", "Summarize: {{text}}")
        c.create_prompt("translate", "Translate to {{lang}}")
        c.create_prompt("gone", "deleted, not forgotten")
        c.delete_prompt("gone")


@pytest.mark.parametrize("suffix", ["json", "yaml"])
def test_export_then_import_into_a_fresh_server_then_export_gives_the_same_file(
    start_server: Callable[..., ServerProcess], tmp_path: Path, suffix: str
) -> None:
    source = start_server()
    fill(source.url)
    first = tmp_path / f"backup.{suffix}"
    ok(source.url, "export", "-o", str(first))
    with another_server(tmp_path) as target:
        assert "imported 4 prompts" in ok(target.url, "import", str(first))
        second = tmp_path / f"again.{suffix}"
        ok(target.url, "export", "-o", str(second))
        assert second.read_text() == first.read_text()
        # Importing again changes nothing.
        assert js(target.url, "import", str(first)) == [
            {"name": n, "created": False}
            for n in ("gone", "summarize", "support-reply", "translate")
        ]
        third = tmp_path / f"third.{suffix}"
        ok(target.url, "export", "-o", str(third))
        assert third.read_text() == first.read_text()
        with Client(target.url) as c:
            assert [p.name for p in c.iter_prompts()] == ["summarize", "support-reply", "translate"]
            assert c.restore_prompt("gone").content == "deleted, not forgotten"
            active = c.get_active("support-reply")
            history = c.list_versions("support-reply").items
            events = list(c.iter_events("support-reply"))
    assert (active.version_name, active.content, active.created_by) == ("v2", "second: text", "ana")
    assert [v.number for v in history] == [3, 2, 1]
    assert events[0].kind == "prompt.updated" and events[1].kind == "version.rolled_back"


def test_export_of_named_prompts_to_standard_output_and_import_from_standard_input(
    start_server: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    source = start_server()
    fill(source.url)
    text = ok(source.url, "export", "summarize", "--format", "yaml")
    assert "format: promptdeck-export" in text and "support-reply" not in text
    with another_server(tmp_path) as target:
        assert js(target.url, "import", "-", input=text) == [{"name": "summarize", "created": True}]
        assert Client(target.url).get_prompt("summarize").content == "Summarize: {{text}}"


def test_import_of_a_prompt_with_a_different_history_exits_1_and_imports_the_others(
    start_server: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    source = start_server()
    fill(source.url)
    backup = tmp_path / "backup.json"
    ok(source.url, "export", "-o", str(backup))
    with another_server(tmp_path) as target:
        Client(target.url).create_prompt("summarize", "something else")
        result = run(target.url, "import", str(backup))
        assert result.exit_code == 1
        assert "Prompt name taken" in result.stderr and "summarize" in result.stderr
        assert Client(target.url).get_prompt("support-reply").content == "working copy"


def test_import_refuses_a_file_that_is_not_an_export(
    shared_server: ServerProcess, tmp_path: Path
) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"hello": 1}')
    result = run(shared_server.url, "import", str(path))
    assert result.exit_code == 2 and "not a promptdeck export" in result.stderr

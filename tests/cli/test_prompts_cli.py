"""`promptdeck prompts …` against a real server."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.cli.helpers import js, ok, run
from tests.support.server import PROMPTDECK, ServerProcess


def test_prompts_create_reads_content_from_a_file_and_show_prints_it(
    shared_server: ServerProcess, name: str, tmp_path: Path
) -> None:
    path = tmp_path / "p.txt"
    path.write_text("Hello {{who}}\n")
    out = ok(shared_server.url, "prompts", "create", name, "--file", str(path), "-d", "greets",
             "-t", "a", "-t", "b", "--model-config", '{"model": "m"}', "-n", "v1")  # fmt: skip
    assert f"created prompt {name}" in out and "v1" in out
    shown = ok(shared_server.url, "prompts", "show", name)
    assert "Hello {{who}}" in shown and "greets" in shown and "a, b" in shown
    data = js(shared_server.url, "prompts", "show", name)
    assert data["content"] == "Hello {{who}}\n" and data["model_config"] == {"model": "m"}
    assert data["active_version"]["created_by"] == "tester"


def test_prompts_create_reads_standard_input_when_piped(
    shared_server: ServerProcess, name: str
) -> None:
    data = js(shared_server.url, "prompts", "create", name, input="from stdin")
    assert data["content"] == "from stdin"


def test_prompts_edit_opens_the_editor_on_the_working_copy(
    shared_server: ServerProcess, name: str
) -> None:
    ok(shared_server.url, "prompts", "create", name, "-c", "Hello")
    script = "import sys; p = sys.argv[1]; t = open(p).read(); open(p, 'w').write(t.upper())"
    editor = f'{sys.executable} -c "{script}"'
    out = ok(shared_server.url, "prompts", "edit", name, "--editor", env={"EDITOR": editor})
    assert "changed" in out
    assert js(shared_server.url, "prompts", "show", name)["content"] == "HELLO"


def test_prompts_edit_reads_piped_input_and_changes_metadata_alone(
    shared_server: ServerProcess, name: str
) -> None:
    ok(shared_server.url, "prompts", "create", name, "-c", "a")
    ok(shared_server.url, "prompts", "edit", name, input="b")
    data = js(shared_server.url, "prompts", "edit", name, "-d", "new", "-t", "x")
    assert (data["content"], data["description"], data["tags"]) == ("b", "new", ["x"])


def test_prompts_list_shows_prompts_as_a_table_and_as_json(
    shared_server: ServerProcess, name: str
) -> None:
    ok(shared_server.url, "prompts", "create", name, "-c", "a", "-t", name)
    assert name in ok(shared_server.url, "prompts", "list", "--tag", name)
    assert [p["name"] for p in js(shared_server.url, "prompts", "list", "--tag", name)] == [name]


def test_prompts_delete_then_restore(shared_server: ServerProcess, name: str) -> None:
    ok(shared_server.url, "prompts", "create", name, "-c", "a")
    assert "deleted" in ok(shared_server.url, "prompts", "delete", name)
    assert run(shared_server.url, "prompts", "show", name).exit_code == 1
    assert js(shared_server.url, "prompts", "restore", name)["name"] == name
    ok(shared_server.url, "prompts", "delete", name)
    assert "purged" in ok(shared_server.url, "prompts", "purge", name, "--yes")


def test_prompts_list_deleted_shows_deleted_prompts_with_when_as_a_table_and_as_json(
    shared_server: ServerProcess, name: str
) -> None:
    url = shared_server.url
    for suffix in ("live", "gone"):
        ok(url, "prompts", "create", f"{name}-{suffix}", "-c", "a", "-t", name)
    ok(url, "prompts", "delete", f"{name}-gone")
    table = ok(url, "prompts", "list", "--deleted", "--tag", name)
    assert f"{name}-gone" in table and f"{name}-live" not in table
    assert "DELETED" in table and "just now" in table
    data = js(url, "prompts", "list", "--deleted", "--tag", name)
    assert [p["name"] for p in data] == [f"{name}-gone"] and data[0]["deleted_at"]
    assert [p["name"] for p in js(url, "prompts", "list", "--tag", name)] == [f"{name}-live"]
    ok(url, "prompts", "restore", f"{name}-gone")
    assert "no deleted prompts" in ok(url, "prompts", "list", "--deleted", "--tag", name)


def test_an_api_error_exits_1_with_the_problem_title_and_detail_on_stderr(
    shared_server: ServerProcess, name: str
) -> None:
    ok(shared_server.url, "prompts", "create", name, "-c", "a")
    result = run(shared_server.url, "prompts", "create", name, "-c", "b")
    assert result.exit_code == 1
    assert "Prompt name taken" in result.stderr and name in result.stderr
    assert result.stdout == ""


def test_usage_errors_exit_2_and_every_command_has_help(shared_server: ServerProcess) -> None:
    assert run(shared_server.url, "prompts", "list", "--no-such-flag").exit_code == 2
    assert run(shared_server.url, "prompts", "create").exit_code == 2
    for command in (
        ["prompts", c]
        for c in ("list", "create", "show", "edit", "delete", "restore", "purge", "storage")
    ):
        assert "Usage" in ok(shared_server.url, *command, "--help")
    for command in (
        ["versions", c]
        for c in ("list", "show", "create", "rollback", "diff", "archive", "restore", "purge")
    ):
        assert "Usage" in ok(shared_server.url, *command, "--help")
    for top in ("log", "export", "import", "serve", "db"):
        assert "Usage" in ok(shared_server.url, top, "--help")


def test_the_installed_command_exits_1_when_no_server_answers() -> None:
    from tests.support.server import free_port

    run_ = subprocess.run(
        [PROMPTDECK, "prompts", "list", "--url", f"http://127.0.0.1:{free_port()}"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run_.returncode == 1
    assert "Connection failed" in run_.stderr


def test_docs_cli_md_embeds_the_current_help_of_every_command() -> None:
    from tests.cli.cli_docs import DOC, MARKER, reference

    assert DOC.read_text().split(MARKER)[1] == "\n" + reference(), (
        "docs/cli.md is out of date: run .venv/bin/python -m tests.cli.cli_docs"
    )


def test_prompts_max_versions_on_create_and_edit_and_storage(
    shared_server: ServerProcess, name: str
) -> None:
    url = shared_server.url
    created = js(url, "prompts", "create", name, "-c", "one " * 40, "--max-versions", "3")
    assert created["max_versions"] == 3
    for i in (2, 3, 4):
        ok(url, "versions", "create", name, "-c", f"{i} " * 80, "--activate")
    assert "(max 3)" in ok(url, "prompts", "show", name)
    assert js(url, "prompts", "storage", name)["archived"] == 1
    assert js(url, "prompts", "edit", name, "--max-versions", "2")["max_versions"] == 2
    report = js(url, "prompts", "storage", name)
    assert (report["versions"], report["archived"], report["purged"]) == (4, 2, 0)
    assert report["raw_bytes"] > report["stored_bytes"] > 0
    out = ok(url, "prompts", "storage", name)
    assert "versions: 4 (2 archived, 0 purged)" in out and "% of raw" in out
    assert js(url, "prompts", "edit", name, "--unlimited")["max_versions"] is None
    both = run(url, "prompts", "edit", name, "--unlimited", "--max-versions", "2")
    assert both.exit_code == 2
    assert run(url, "prompts", "edit", name, "--max-versions", "0").exit_code == 2
    missing = run(url, "prompts", "storage", f"{name}-missing")
    assert missing.exit_code == 1 and "Prompt not found" in missing.stderr

"""`promptdeck versions …` and `promptdeck log` against a real server."""

from __future__ import annotations

from tests.cli.helpers import js, ok, run
from tests.support.server import ServerProcess


def _prompt(url: str, name: str) -> None:
    ok(url, "prompts", "create", name, "-c", "line one\nline two\n", "-n", "v1")
    ok(url, "versions", "create", name, "-c", "line one\nline 2\n", "-n", "v2", "-m", "fix")


def test_versions_create_list_and_show_by_name_or_id(
    shared_server: ServerProcess, name: str
) -> None:
    url = shared_server.url
    _prompt(url, name)
    listed = js(url, "versions", "list", name)
    assert [(v["number"], v["version_name"], v["active"]) for v in listed] == [
        (2, "v2", False), (1, "v1", True),
    ]  # fmt: skip
    table = ok(url, "versions", "list", name)
    assert "v2" in table and "fix" in table and "tester" in table
    by_name = js(url, "versions", "show", name, "v2")
    assert by_name["content"] == "line one\nline 2\n" and by_name["description"] == "fix"
    assert js(url, "versions", "show", name, str(by_name["id"]))["version_name"] == "v2"
    assert "line 2" in ok(url, "versions", "show", name, "v2")


def test_versions_create_without_content_snapshots_the_working_copy_and_can_activate(
    shared_server: ServerProcess, name: str
) -> None:
    url = shared_server.url
    _prompt(url, name)
    ok(url, "prompts", "edit", name, "-c", "working")
    created = js(url, "versions", "create", name, "--activate")
    assert created["content"] == "working" and created["active"]
    piped = js(url, "versions", "create", name, "-f", "-", input="piped")
    assert piped["content"] == "piped" and not piped["active"]


def test_versions_rollback_by_name_and_again_is_a_no_op(
    shared_server: ServerProcess, name: str
) -> None:
    url = shared_server.url
    _prompt(url, name)
    assert "now serves v2" in ok(url, "versions", "rollback", name, "v2")
    assert "already active" in ok(url, "versions", "rollback", name, "v2")
    assert js(url, "versions", "rollback", name, "v1")["changed"] is True
    missing = run(url, "versions", "rollback", name, "v9")
    assert missing.exit_code == 1 and "Version not found" in missing.stderr


def test_versions_diff_prints_a_unified_diff(shared_server: ServerProcess, name: str) -> None:
    url = shared_server.url
    _prompt(url, name)
    out = ok(url, "versions", "diff", name, "v1", "v2")
    assert "--- v1 (#1)" in out and "+++ v2 (#2)" in out
    assert "-line two" in out and "+line 2" in out
    assert js(url, "versions", "diff", name, "v1", "v2")["diff"].count("\n+line 2") == 1
    assert "no differences" in ok(url, "versions", "diff", name, "v1", "v1")


def test_log_shows_the_timeline_newest_first_with_rollbacks(
    shared_server: ServerProcess, name: str
) -> None:
    url = shared_server.url
    _prompt(url, name)
    ok(url, "versions", "rollback", name, "v2")
    out = ok(url, "log", name)
    lines = [line for line in out.splitlines() if not line.startswith(" ")]
    assert lines[0].startswith("rollback") and "v2 (#2)" in lines[0] and "was v1 (#1)" in lines[0]
    assert lines[-1].startswith("prompt created")
    assert "by tester" in out
    kinds = [e["kind"] for e in js(url, "log", name)]
    assert kinds[0] == "version.rolled_back" and "version.created" in kinds

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


def test_versions_archive_and_restore_and_list_filtered_with_the_state_shown(
    shared_server: ServerProcess, name: str
) -> None:
    url = shared_server.url
    _prompt(url, name)
    assert "archived v2 (#2)" in ok(url, "versions", "archive", name, "v2")
    assert "already archived" in ok(url, "versions", "archive", name, "v2")
    listed = js(url, "versions", "list", name)
    assert [(v["version_name"], v["archived"]) for v in listed] == [("v2", True), ("v1", False)]
    assert [v["version_name"] for v in js(url, "versions", "list", name, "--archived")] == ["v2"]
    assert [v["version_name"] for v in js(url, "versions", "list", name, "--unarchived")] == ["v1"]
    row = next(line for line in ok(url, "versions", "list", name).splitlines() if " v2 " in line)
    assert "archived" in row
    shown = ok(url, "versions", "show", name, "v2")
    assert "(archived)" in shown and "restorable" in shown and "line 2" in shown
    refused = run(url, "versions", "archive", name, "v1")
    assert refused.exit_code == 1 and "[409]" in refused.stderr
    restored = js(url, "versions", "restore", name, "v2")
    assert restored["archived"] is False and restored["content"] == "line one\nline 2\n"
    assert "not archived" in ok(url, "versions", "restore", name, "v2")
    assert "archived" not in ok(url, "versions", "show", name, "v2").splitlines()[0]
    log = ok(url, "log", name)
    assert "restored" in log and "archived" in log and "manual" in log


def test_versions_purge_needs_a_reason_asks_first_and_leaves_a_tombstone(
    shared_server: ServerProcess, name: str
) -> None:
    url = shared_server.url
    _prompt(url, name)
    assert run(url, "versions", "purge", name, "v2").exit_code == 2  # no --reason
    declined = run(url, "versions", "purge", name, "v2", "--reason", "leak", input="n\n")
    assert declined.exit_code == 1 and "Destroy the content" in declined.stderr
    assert js(url, "versions", "show", name, "v2")["purged"] is False
    out = ok(url, "versions", "purge", name, "v2", "--reason", "leaked key", input="y\n")
    assert "purged v2 (#2)" in out
    tomb = js(url, "versions", "show", name, "v2")
    assert (tomb["purged"], tomb["content"], tomb["purged_by"], tomb["purge_reason"]) == (
        True, None, "tester", "leaked key",
    )  # fmt: skip
    shown = ok(url, "versions", "show", name, "v2")
    assert "(purged)" in shown and "by tester: leaked key" in shown and "destroyed" in shown
    row = next(line for line in ok(url, "versions", "list", name).splitlines() if " v2 " in line)
    assert "purged" in row
    assert "already purged" in ok(url, "versions", "purge", name, "v2", "-r", "again")
    active = run(url, "versions", "purge", name, "v1", "--reason", "x", "--yes")
    assert active.exit_code == 1 and "active" in active.stderr
    gone = run(url, "versions", "restore", name, "v2")
    assert gone.exit_code == 1 and "Version unavailable" in gone.stderr
    assert "purged" in ok(url, "log", name).splitlines()[0]


def test_versions_purge_with_yes_and_json_prints_only_the_tombstone(
    shared_server: ServerProcess, name: str
) -> None:
    url = shared_server.url
    _prompt(url, name)
    tomb = js(url, "versions", "purge", name, "v2", "--reason", "leak", "--yes")
    assert tomb["purged"] and tomb["purge_reason"] == "leak" and tomb["content"] is None

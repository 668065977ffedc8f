"""`promptdeck sync pull|push`: a folder of prompt files against a real server."""

from __future__ import annotations

import json
from pathlib import Path

from promptdeck.client import Client
from promptdeck.domain.syncplan import EXIT_PENDING, LOCK_NAME
from tests.cli.helpers import ok, run
from tests.support.server import ServerProcess

TRICKY = "---\nyes: no\r\n\ttab\u00e9 😀 null: ~\n---\n\n\n"


def fill(url: str, prefix: str) -> None:
    with Client(url, actor="ana") as c:
        c.create_prompt(
            f"{prefix}-text", TRICKY, description="yes", tags=["null", "on"],
            model_config={"model": "m", "temperature": 1.0, "stop": ["\n"], "n": None},
            version_description="first: one",
        )  # fmt: skip
        c.create_prompt(
            f"{prefix}-chat",
            messages=[
                {"role": "system", "content": "You are {{persona}}.\n  Indented\n\n"},
                {"role": "placeholder", "name": "history"},
                {"role": "user", "content": "{{question}}\r\n"},
            ],
            template_format="plain",
        )


def files_of(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def versions(url: str, name: str) -> int:
    with Client(url) as c:
        return len(c.list_versions(name).items)


def test_pull_then_push_with_no_edit_changes_nothing_and_pulls_the_same_bytes_again(
    shared_server: ServerProcess, tmp_path: Path, name: str
) -> None:
    url = shared_server.url
    fill(url, name)
    folder = tmp_path / "prompts"
    ok(url, "sync", "pull", str(folder), "-p", f"{name}-text", "-p", f"{name}-chat")
    first = files_of(folder)
    assert set(first) == {f"{name}-text.md", f"{name}-chat.yaml", LOCK_NAME}
    assert first[f"{name}-text.md"].endswith(TRICKY.encode())
    planned = run(url, "sync", "push", str(folder), "--plan")
    assert planned.exit_code == 0, planned.stdout + planned.stderr
    assert "0 to change, 2 unchanged" in planned.stdout
    ok(url, "sync", "push", str(folder))
    assert (versions(url, f"{name}-text"), versions(url, f"{name}-chat")) == (1, 1)
    ok(url, "sync", "pull", str(folder), "-p", f"{name}-text", "-p", f"{name}-chat")
    assert files_of(folder) == first


def test_push_makes_a_version_only_for_the_changed_file_and_moves_the_label(
    shared_server: ServerProcess, tmp_path: Path, name: str
) -> None:
    url = shared_server.url
    fill(url, name)
    folder = tmp_path / "prompts"
    ok(url, "sync", "pull", str(folder), "-p", f"{name}-text", "-p", f"{name}-chat")
    text = folder / f"{name}-text.md"
    assert b"\nlabels:\n- active\n---\n" in text.read_bytes()
    edited = text.read_bytes().replace(
        b"version_description: 'first: one'", b"version_description: why"
    )
    text.write_bytes(edited + b"one more line\n")
    planned = run(url, "sync", "push", str(folder), "--plan", "--label", "staging", "--json")
    assert planned.exit_code == EXIT_PENDING
    steps = {s["path"]: s for s in json.loads(planned.stdout)}
    assert steps[f"{name}-text.md"]["new_version"] is True
    assert steps[f"{name}-chat.yaml"]["new_version"] is False
    assert steps[f"{name}-chat.yaml"]["moves"] == ["staging"]
    assert versions(url, f"{name}-text") == 1  # the plan changed nothing
    ok(url, "sync", "push", str(folder), "--label", "staging")
    with Client(url) as c:
        latest = c.list_versions(f"{name}-text").items[0]
        assert (latest.number, latest.description) == (2, "why")
        assert c.get_version(f"{name}-text", latest.id).content == TRICKY + "one more line\n"
        assert c.get_label(f"{name}-text", "staging").version_id == latest.id
        assert c.get_label(f"{name}-chat", "staging").number == 1
        # The pulled file lists the labels that served its version (active here), so they
        # follow the new version; a protected one (production) is never listed.
        assert c.get_active(f"{name}-text").number == 2
    assert versions(url, f"{name}-chat") == 1
    again = run(url, "sync", "push", str(folder), "--plan", "--label", "staging")
    assert again.exit_code == 0, again.stdout


def test_push_refuses_a_prompt_changed_on_the_server_since_the_pull_unless_forced(
    shared_server: ServerProcess, tmp_path: Path, name: str
) -> None:
    url = shared_server.url
    fill(url, name)
    folder = tmp_path / "prompts"
    ok(url, "sync", "pull", str(folder), "-p", f"{name}-text", "-p", f"{name}-chat")
    with Client(url) as c:
        c.create_version(f"{name}-text", "edited in the UI")
    chat = folder / f"{name}-chat.yaml"
    chat.write_bytes(chat.read_bytes().replace(b"Indented", b"Indented more"))
    text = folder / f"{name}-text.md"
    text.write_bytes(text.read_bytes() + b"local edit\n")
    refused = run(url, "sync", "push", str(folder))
    assert refused.exit_code == 1
    assert "made on the server since the last sync (#1)" in refused.stdout
    assert "nothing was pushed" in refused.stderr
    assert (versions(url, f"{name}-text"), versions(url, f"{name}-chat")) == (2, 1)
    assert run(url, "sync", "push", str(folder), "--plan").exit_code == 1
    ok(url, "sync", "push", str(folder), "--force")
    assert (versions(url, f"{name}-text"), versions(url, f"{name}-chat")) == (3, 2)


def test_push_creates_prompts_from_new_files_and_a_readme_is_not_a_prompt(
    shared_server: ServerProcess, tmp_path: Path, name: str
) -> None:
    url = shared_server.url
    folder = tmp_path / "prompts"
    folder.mkdir()
    (folder / "README.md").write_text("# Our prompts\n")
    (folder / "greet.md").write_bytes(
        f"---\nname: {name}\ntags: [cs]\nlabels: [staging]\n---\nHello {{{{who}}}}".encode()
    )
    ok(url, "sync", "push", str(folder))
    with Client(url) as c:
        assert c.get_active(name).content == "Hello {{who}}"
        assert c.get_prompt(name).tags == ["cs"]
        assert c.get_label(name, "staging").number == 1
    lock = json.loads((folder / LOCK_NAME).read_text())
    assert list(lock["files"]) == ["greet.md"]
    assert run(url, "sync", "push", str(folder), "--plan").exit_code == 0


def test_a_bad_file_stops_the_push_before_anything_is_sent(
    shared_server: ServerProcess, tmp_path: Path, name: str
) -> None:
    folder = tmp_path / "prompts"
    folder.mkdir()
    (folder / "a.md").write_bytes(f"---\nname: {name}\n---\nfine".encode())
    (folder / "b.md").write_bytes(b"---\nname: x\ntags: [yes]\n---\n")
    refused = run(shared_server.url, "sync", "push", str(folder))
    assert refused.exit_code == 1
    assert "b.md: tags" in refused.stderr
    with Client(shared_server.url) as c:
        assert not c.list_prompts(q=name).items

"""docs/prompts-as-code.md's CI recipe: its steps' commands, as written, against a real
server, in a git repository with a remote (plan on a pull request, push on merge, the lock
committed back, the next pull request planned against it)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from promptdeck.client import Client
from tests.cli.helpers import ok
from tests.support.server import ServerProcess

DOC = Path(__file__).parents[2] / "docs" / "prompts-as-code.md"


def workflow() -> dict[str, Any]:
    (block,) = [b for b in re.findall(r"```yaml\n(.*?)```", DOC.read_text(), re.S) if "jobs:" in b]
    found: dict[str, Any] = yaml.safe_load(block)
    return found


def steps() -> dict[str, str]:
    (job,) = workflow()["jobs"].values()
    return {s["name"]: s["run"] for s in job["steps"] if "name" in s and "run" in s}


def sh(script: str, cwd: Path, url: str) -> subprocess.CompletedProcess[str]:
    """As GitHub runs a `run:` step: bash -eo pipefail, the job's env set."""
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "PROMPTDECK_URL": url,
        "PROMPTDECK_ACTOR": "ci",
        "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z",
    }
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout


def test_the_workflow_runs_on_pull_requests_touching_prompts_and_on_pushes_to_main() -> None:
    on = workflow()[True]  # YAML 1.1 (PyYAML) reads the key `on` as true; GitHub does not
    assert on["pull_request"]["paths"] == ["prompts/**"]
    assert on["push"]["branches"] == ["main"]
    assert set(steps()) == {"Install", "Plan", "Push and move staging", "Commit the lock"}


def test_the_recipe_plans_on_a_pull_request_pushes_on_merge_and_commits_the_lock(
    server: ServerProcess, tmp_path: Path
) -> None:
    url, run = server.url, steps()
    with Client(url) as c:
        c.create_prompt("support-reply", "Hello {{customer}}\n")
        c.create_prompt("summarize", "Summarize: {{text}}\n")
    remote, repo = tmp_path / "remote.git", tmp_path / "repo"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    git(tmp_path, "clone", "-q", str(remote), str(repo))
    git(repo, "config", "user.email", "dev@example.com")
    git(repo, "config", "user.name", "dev")
    ok(url, "sync", "pull", str(repo / "prompts"))  # a developer's first pull
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "prompts")
    git(repo, "push", "-q", "-u", "origin", "main")

    # A pull request edits one prompt: the plan passes and says what the merge will do.
    reply = repo / "prompts" / "support-reply.md"
    reply.write_text(reply.read_text() + "Be brief.\n")
    planned = sh(run["Plan"], repo, url)
    assert planned.returncode == 0, planned.stdout + planned.stderr
    assert "support-reply.md: new version" in planned.stdout
    assert "summarize" not in planned.stdout
    git(repo, "commit", "-qam", "shorter answers")

    # Merged: the push makes one version, moves staging, and commits the lock.
    pushed = sh(run["Push and move staging"], repo, url)
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    committed = sh(run["Commit the lock"], repo, url)
    assert committed.returncode == 0, committed.stderr
    assert "promptdeck: lock [skip ci]" in git(remote, "log", "-1", "--format=%s", "main")
    with Client(url) as c:
        assert [v.number for v in c.list_versions("support-reply").items] == [2, 1]
        assert c.get_label("support-reply", "staging").number == 2
        assert c.get_label("summarize", "staging").number == 1
        assert len(c.list_versions("summarize").items) == 1

    # The next pull request, on the committed lock, plans cleanly; nothing to do is 0.
    assert sh(run["Plan"], repo, url).returncode == 0
    reply.write_text(reply.read_text() + "Sign with your name.\n")
    assert "new version" in sh(run["Plan"], repo, url).stdout

    # An edit made on the server meanwhile fails the check, naming the prompt.
    with Client(url) as c:
        c.create_version("support-reply", "edited in the web UI")
    refused = sh(run["Plan"], repo, url)
    assert refused.returncode == 1
    assert "support-reply.md: its latest version (#3) was made on the server" in refused.stdout

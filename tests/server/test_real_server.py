"""Against a real `promptdeck serve` process: start-up, migrations, concurrent writers."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from tests.support.server import PROMPTDECK, ServerProcess


def test_fifty_simultaneous_default_named_versions_all_succeed_with_unique_names(
    server: ServerProcess,
) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        assert client.post("/prompts", json={"name": "busy"}).status_code == 201
    barrier_clients = [httpx.Client(base_url=server.url, timeout=30) for _ in range(50)]
    try:

        def create(client: httpx.Client) -> httpx.Response:
            return client.post("/prompts/busy/versions", json={"description": "race"})

        with ThreadPoolExecutor(max_workers=50) as pool:
            responses = list(pool.map(create, barrier_clients))
    finally:
        for c in barrier_clients:
            c.close()
    statuses = [r.status_code for r in responses]
    names = [r.json()["version_name"] for r in responses]
    numbers = sorted(r.json()["number"] for r in responses)
    print(
        f"figure: 50 concurrent default-named creates: {statuses.count(201)} x 201, "
        f"{len(set(names))} distinct names, numbers {numbers[0]}..{numbers[-1]}"
    )
    assert statuses == [201] * 50
    assert len(set(names)) == 50
    assert numbers == list(range(2, 52))


def test_serve_applies_migrations_on_a_new_database(server: ServerProcess) -> None:
    response = httpx.get(server.url + "/healthz")
    assert response.json() == {"status": "ok"}
    assert httpx.get(server.url + "/prompts").json() == {"items": [], "next_cursor": None}


def test_root_redirects_to_the_ui(server: ServerProcess) -> None:
    response = httpx.get(server.url + "/", follow_redirects=False)
    assert response.status_code in (302, 307)
    assert response.headers["location"] == "/ui/"


def test_db_upgrade_command_migrates_alone(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    result = subprocess.run(
        [PROMPTDECK, "db", "upgrade", "--database-url", url], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert "database at revision" in result.stdout
    current = subprocess.run(
        [PROMPTDECK, "db", "current", "--database-url", url], capture_output=True, text=True
    )
    assert "current: " in current.stdout and "None" not in current.stdout


def test_serve_help_lists_the_documented_defaults() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "promptdeck.cli.main", "serve", "--help"],
        capture_output=True,
        text=True,
        env={"COLUMNS": "200", "PATH": ""},
    )
    assert result.returncode == 0
    for text in ("--host", "127.0.0.1", "--port", "8000", "--database-url", "--workers"):
        assert text in result.stdout

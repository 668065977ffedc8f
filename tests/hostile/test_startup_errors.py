"""A startup error (bad URL, bad setting, port in use) is one clear line and exit 2."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import pytest

from tests.support.server import PROMPTDECK, free_port


def _serve(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PROMPTDECK, "serve", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
        check=False,
    )


def _one_clear_line(run: subprocess.CompletedProcess[str], *words: str) -> None:
    assert run.returncode == 2, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("promptdeck: ")
    assert all(word in lines[0] for word in words), lines[0]
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("nope://x", ("bad database URL",)),
        ("postgresql+psycopg://u:secret@127.0.0.1:1/x", ("cannot open the database", "***")),
        ("sqlite:////nonexistent-dir/x/promptdeck.db", ("cannot open the database",)),
    ],
)
def test_a_bad_database_url_is_one_line_and_exit_2(url: str, words: tuple[str, ...]) -> None:
    run = _serve("--database-url", url, "--port", str(free_port()))
    _one_clear_line(run, *words)
    assert "secret" not in run.stderr


def test_a_bad_setting_is_one_line_naming_it_and_exit_2(tmp_path: Path) -> None:
    run = _serve(
        "--database-url",
        f"sqlite:///{tmp_path / 'db.sqlite'}",
        env={"PROMPTDECK_POOL_SIZE": "many"},
    )
    _one_clear_line(run, "PROMPTDECK_POOL_SIZE")


def test_a_port_in_use_is_one_line_and_exit_2(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = _serve("--database-url", f"sqlite:///{tmp_path / 'db.sqlite'}", "--port", str(port))
    _one_clear_line(run, "cannot listen", str(port))

"""The client alone: the wheel installed without the server's packages still reads prompts.

It builds the wheel from this checkout, installs it with only its base dependencies in a fresh
virtualenv (from the package index pip is configured with), and runs the client and the CLI
there against a real server. About 20-40 s, most of it pip.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from tests.support.server import ServerProcess

ROOT = Path(__file__).resolve().parents[2]
SERVER_PACKAGES = [
    "fastapi",
    "starlette",
    "sqlalchemy",
    "alembic",
    "uvicorn",
    "psycopg",
    "zstandard",
    # Optional extras of the client: absent from a plain install, and nothing needs them.
    "opentelemetry",
    "mcp",
]

IN_THE_LIGHT_VENV = """
import importlib.util, sys
missing = [m for m in sys.argv[3:] if importlib.util.find_spec(m) is None]
print("absent:", ",".join(missing))
import promptdeck
from promptdeck import Client
with Client(sys.argv[1]) as client:
    client.create_prompt(sys.argv[2], "from a light install")
    print("content:", client.get_active(sys.argv[2]).content)
print("loaded:", ",".join(sorted({m.split(".")[0] for m in sys.modules} & set(sys.argv[3:]))))
"""


def run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def light_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtualenv holding the promptdeck wheel and only its base dependencies."""
    tmp = tmp_path_factory.mktemp("light")
    built = run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", tmp, ROOT, cwd=tmp)
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp.glob("promptdeck-*.whl")
    venv.create(tmp / "venv", with_pip=True)
    python = tmp / "venv" / "bin" / "python"
    installed = run(python, "-m", "pip", "install", "-q", wheel, cwd=tmp)
    assert installed.returncode == 0, installed.stderr
    return tmp / "venv"


@pytest.mark.sqlite_only  # the install is the same whatever the server's database
def test_the_client_alone_installs_without_the_server_packages_and_reads_prompts(
    light_venv: Path, shared_server: ServerProcess, name: str
) -> None:
    python = light_venv / "bin" / "python"
    done = run(
        python, "-c", IN_THE_LIGHT_VENV, shared_server.url, name, *SERVER_PACKAGES, cwd=light_venv
    )
    assert done.returncode == 0, done.stderr
    assert f"absent: {','.join(SERVER_PACKAGES)}" in done.stdout
    assert "content: from a light install" in done.stdout
    assert "loaded: \n" in done.stdout


@pytest.mark.sqlite_only
def test_the_client_alone_runs_the_cli_and_serve_says_to_install_the_server(
    light_venv: Path, shared_server: ServerProcess, name: str
) -> None:
    cli = light_venv / "bin" / "promptdeck"
    created = run(
        cli,
        "prompts",
        "create",
        name,
        "--content",
        "hi",
        "--url",
        shared_server.url,
        cwd=light_venv,
    )
    assert created.returncode == 0, created.stderr
    for command in (["serve"], ["db", "current"]):
        refused = run(cli, *command, cwd=light_venv)
        assert refused.returncode == 2
        (line,) = refused.stderr.splitlines()  # one line: no traceback
        assert line.endswith("pip install 'promptdeck[server]'")

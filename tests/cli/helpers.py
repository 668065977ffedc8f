"""Run the CLI in-process (typer's runner) against a real server."""

from __future__ import annotations

import json
from typing import Any

from typer.testing import CliRunner, Result

from promptdeck.cli.main import app


def run(
    url: str, *args: str, input: str | None = None, env: dict[str, str] | None = None
) -> Result:
    runner = CliRunner()
    return runner.invoke(
        app,
        list(args),
        input=input,
        env={"PROMPTDECK_URL": url, "PROMPTDECK_ACTOR": "tester", "COLUMNS": "200", **(env or {})},
    )


def ok(url: str, *args: str, **kw: Any) -> str:
    result = run(url, *args, **kw)
    assert result.exit_code == 0, f"exit {result.exit_code}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def js(url: str, *args: str, **kw: Any) -> Any:
    return json.loads(ok(url, *args, "--json", **kw))

"""The client example at the top of docs/client.md works against a real server."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from promptdeck.client import Client
from tests.support.server import ServerProcess

DOC = Path(__file__).parents[2] / "docs" / "client.md"


def test_the_first_example_of_docs_client_md_runs_as_written(
    server: ServerProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    example = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)[0]
    assert "http://127.0.0.1:8000" in example
    exec(compile(example.replace("http://127.0.0.1:8000", server.url), str(DOC), "exec"), {})
    assert "concise You are a concise support agent" in capsys.readouterr().out
    active = Client(server.url).get_active("support-reply")
    assert active.number == 1

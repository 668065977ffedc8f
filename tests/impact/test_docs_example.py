"""The example of docs/impact.md runs as written against a real server, as a new user would
try it: outcomes reported through the client while a bad version is active, then a rollback;
the comparison says the bad version is worse, with its p-value."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from promptdeck.client import Client
from tests.support.server import ServerProcess

DOC = Path(__file__).parents[2] / "docs" / "impact.md"


def test_the_example_of_docs_impact_md_runs_as_written(
    server: ServerProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    example = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)[0]
    assert "http://127.0.0.1:8000" in example
    exec(compile(example.replace("http://127.0.0.1:8000", server.url), str(DOC), "exec"), {})
    assert re.search(r"^worse chi2_contingency p=\S+$", capsys.readouterr().out, re.M)
    with Client(server.url) as client:
        found = client.impact("checkout-help")
        assert [(v.number, v.count) for v in found.versions] == [(1, 200), (2, 200)]
        assert [p.version_id for p in found.periods] == [
            found.versions[0].version_id,
            found.versions[1].version_id,
            found.versions[0].version_id,
        ]
        assert client.get_active("checkout-help").number == 1

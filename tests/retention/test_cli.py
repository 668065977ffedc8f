"""`promptdeck db compact`."""

from __future__ import annotations

from typer.testing import CliRunner

from promptdeck.cli.main import app
from promptdeck.core import Registry


def test_db_compact_reports_the_bytes_before_and_after(
    registry: Registry, database_url: str
) -> None:
    registry.create_prompt("p", content="hello")
    v2 = registry.create_version("p", content="secret " * 100).version
    registry.purge_version("p", v2.id, reason="leak")
    result = CliRunner().invoke(app, ["db", "compact", "--database-url", database_url])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"compacted {registry.engine.dialect.name} database: ")
    assert "->" in result.output and " bytes" in result.output
    assert registry.get_version("p", v2.id).purged

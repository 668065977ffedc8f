"""`promptdeck db compact`."""

from __future__ import annotations

from typer.testing import CliRunner

from promptdeck.cli.main import app
from promptdeck.core import Registry
from promptdeck.domain.caller import SYSTEM
from promptdeck.domain.commands import CreatePrompt, CreateVersion, PurgeVersion


def test_db_compact_reports_the_bytes_before_and_after(
    registry: Registry, database_url: str
) -> None:
    registry.create_prompt(CreatePrompt("p", content="hello"), SYSTEM)
    v2 = registry.create_version(CreateVersion("p", content="secret " * 100), SYSTEM).version
    registry.purge_version(PurgeVersion("p", v2.id, reason="leak"), SYSTEM)
    result = CliRunner().invoke(app, ["db", "compact", "--database-url", database_url])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"compacted {registry.engine.dialect.name} database: ")
    assert "->" in result.output and " bytes" in result.output
    assert registry.get_version("p", v2.id, SYSTEM).purged

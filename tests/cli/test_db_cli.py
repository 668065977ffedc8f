"""`promptdeck db downgrade` says what it drops and needs --yes to delete data; a database
that once had keys is not served open after they are gone, unless told so (issue 22)."""

from __future__ import annotations

from pathlib import Path

import httpx
import sqlalchemy as sa
from typer.testing import CliRunner, Result

from promptdeck.cli.main import app
from promptdeck.core import Registry
from promptdeck.core.access import Access
from promptdeck.domain.caller import SYSTEM, Caller
from promptdeck.domain.commands import CreatePrompt
from tests.support.server import ServerProcess


def db(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(app, list(args), input=input, env={"COLUMNS": "200"})


def tables(registry: Registry) -> set[str]:
    return set(sa.inspect(registry.engine).get_table_names())


def test_a_downgrade_that_deletes_data_lists_it_and_does_nothing_without_yes(
    database_url: str, registry: Registry
) -> None:
    for name in ("one", "two"):
        registry.create_prompt(CreatePrompt(name, content="kept"), Caller.local("setup"))
    for answer in (None, "n\n"):  # no terminal, or a "no" typed
        refused = db("db", "downgrade", "base", "--database-url", database_url, input=answer)
        assert refused.exit_code == 1, refused.output
        assert "table prompts (2 rows)" in refused.stderr
        assert "table versions (2 rows)" in refused.stderr
        assert "Delete all of this?" in refused.stderr
        assert [p.name for p in registry.list_prompts(SYSTEM).items] == ["one", "two"]
    typed = db("db", "downgrade", "0012", "--database-url", database_url, input="y\n")
    assert typed.exit_code == 0, typed.output
    assert "database at revision 0012" in typed.stdout
    done = db("db", "downgrade", "base", "--yes", "--database-url", database_url)
    assert done.exit_code == 0, done.output
    assert "prompts" not in tables(registry)


def test_a_downgrade_that_drops_only_empty_tables_or_indexes_goes_ahead_and_says_so(
    database_url: str, registry: Registry
) -> None:
    done = db("db", "downgrade", "0009", "--database-url", database_url)
    assert done.exit_code == 0, done.output
    assert "table auth_failures (0 rows)" in done.stderr
    assert "Delete all of this?" not in done.stderr
    assert "database at revision 0009" in done.stdout


def test_after_its_keys_are_downgraded_away_a_database_is_served_open_only_when_told(
    database_url: str, registry: Registry, tmp_path: Path
) -> None:
    Access(registry.engine).create_key("admin", "admin")
    registry.create_prompt(CreatePrompt("greet", content="hi"), Caller.local("setup"))
    gone = db("db", "downgrade", "0003", "--yes", "--database-url", database_url)
    assert gone.exit_code == 0, gone.output
    assert "table principals (1 row)" in gone.stderr

    refused = db("serve", "--port", "9", "--database-url", database_url)
    assert refused.exit_code == 2
    assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert "refusing to serve" in refused.stderr and "--allow-open" in refused.stderr

    server = ServerProcess(
        database_url, log_path=tmp_path / "open.log", env={"PROMPTDECK_ALLOW_OPEN": "1"}
    ).start()
    try:
        assert httpx.get(f"{server.url}/prompts/greet/active").status_code == 200
    finally:
        server.stop()
    assert "OPEN" in (tmp_path / "open.log").read_text()

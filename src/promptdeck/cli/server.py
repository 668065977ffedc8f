"""`promptdeck serve` and `promptdeck db …`: the commands that use the core directly."""

from __future__ import annotations

import enum
import os
from typing import Annotated

import typer

from promptdeck.config import Settings
from promptdeck.store import migrate
from promptdeck.store.engine import create_engine

GRACEFUL_SHUTDOWN_S = 3


class LogFormat(enum.StrEnum):
    text = "text"
    json = "json"


db_app = typer.Typer(help="Database migrations and compaction.", no_args_is_help=True)

DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar="PROMPTDECK_DATABASE_URL",
        help="sqlite:///FILE (default sqlite:///promptdeck.db) or postgresql+psycopg://…",
        show_default=False,
    ),
]


def _settings(database_url: str | None, **overrides: object) -> Settings:
    values = {k: v for k, v in overrides.items() if v is not None}
    if database_url:
        values["database_url"] = database_url
    return Settings(**values)  # type: ignore[arg-type]


def serve(
    host: Annotated[
        str, typer.Option(envvar="PROMPTDECK_HOST", help="Address to listen on.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="PROMPTDECK_PORT", help="Port to listen on.")] = 8000,
    database_url: DatabaseUrl = None,
    workers: Annotated[
        int, typer.Option(envvar="PROMPTDECK_WORKERS", help="Worker processes.", min=1)
    ] = 1,
    access_log: Annotated[bool, typer.Option(help="Log every request (slower).")] = False,
    log_level: Annotated[str, typer.Option(help="Server log level.")] = "info",
    log_format: Annotated[
        LogFormat,
        typer.Option(
            envvar="PROMPTDECK_LOG_FORMAT",
            help="text, or json: one JSON object a line, each with its request_id.",
        ),
    ] = LogFormat.text,
) -> None:
    """Apply pending migrations, then serve the API and the UI (uvicorn, uvloop, httptools)."""
    import uvicorn

    from promptdeck.server.logs import line, log_config

    settings = _settings(
        database_url, host=host, port=port, workers=workers, log_format=log_format.value
    )
    engine = create_engine(settings.database_url)
    migrate.upgrade(engine)
    engine.dispose()
    # Workers read their settings from the environment: pass on what the flags chose.
    os.environ["PROMPTDECK_DATABASE_URL"] = settings.database_url
    os.environ["PROMPTDECK_LOG_FORMAT"] = settings.log_format
    os.environ["PROMPTDECK_ACCESS_LOG"] = "true" if access_log else "false"
    message = (
        f"promptdeck serving {settings.database_url} on http://{host}:{port}/ "
        f"(UI /ui/, API docs /docs)"
    )
    typer.echo(line(settings.log_format, message), err=True)
    uvicorn.run(
        "promptdeck.server.asgi:make_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        loop="uvloop",
        http="httptools",
        access_log=access_log,
        log_level=log_level,
        log_config=log_config(settings.log_format, log_level),
        # Open GET /changes streams never end by themselves: past this, a shutdown closes
        # them (their clients reconnect elsewhere with Last-Event-ID).
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
    )


@db_app.command("upgrade")
def db_upgrade(
    database_url: DatabaseUrl = None,
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Apply pending migrations (serve does this at start)."""
    settings = _settings(database_url)
    engine = create_engine(settings.database_url)
    migrate.upgrade(engine, revision)
    typer.echo(f"database at revision {migrate.current(engine)}")


@db_app.command("downgrade")
def db_downgrade(
    revision: Annotated[str, typer.Argument(help="Target revision (base: empty).")],
    database_url: DatabaseUrl = None,
) -> None:
    """Undo migrations down to REVISION."""
    settings = _settings(database_url)
    engine = create_engine(settings.database_url)
    migrate.downgrade(engine, revision)
    typer.echo(f"database at revision {migrate.current(engine)}")


@db_app.command("current")
def db_current(database_url: DatabaseUrl = None) -> None:
    """Show the database's migration revision and the newest one."""
    settings = _settings(database_url)
    engine = create_engine(settings.database_url)
    typer.echo(f"current: {migrate.current(engine)}  head: {migrate.head(engine)}")


@db_app.command("compact")
def db_compact(database_url: DatabaseUrl = None) -> None:
    """Reclaim free space: VACUUM on SQLite (WAL checkpointed), VACUUM FULL on PostgreSQL.

    Run it after purging versions: afterwards no copy of purged content is left in the
    database files. It takes an exclusive lock while it runs; run it when writes are quiet.
    """
    from promptdeck.core import Registry

    settings = _settings(database_url)
    engine = create_engine(settings.database_url)
    report = Registry(engine).compact()
    engine.dispose()
    typer.echo(
        f"compacted {report.backend} database: {report.bytes_before:,} -> "
        f"{report.bytes_after:,} bytes"
    )

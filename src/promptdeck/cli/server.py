"""`promptdeck serve` and `promptdeck db …`: the commands that use the core directly."""

from __future__ import annotations

import os
import socket
from typing import Annotated, NoReturn

import typer
from pydantic import ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, InterfaceError, NoSuchModuleError, OperationalError

from promptdeck.config import Settings
from promptdeck.store import migrate
from promptdeck.store.engine import create_engine

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


def _startup_error(message: str) -> NoReturn:
    """A startup error is one clear line on stderr and exit status 2, no traceback."""
    typer.echo(f"promptdeck: {message}", err=True)
    raise typer.Exit(2)


def _shown(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(unparsable URL)"


def _startup_settings(database_url: str | None, **overrides: object) -> Settings:
    try:
        return _settings(database_url, **overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ".".join(str(p) for p in first["loc"])
        _startup_error(f"bad setting {name} (PROMPTDECK_{name.upper()}): {first['msg']}")


def _migrate_or_exit(url: str) -> None:
    try:
        engine = create_engine(url)
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        _startup_error(f"bad database URL {_shown(url)}: {exc}")
    try:
        migrate.upgrade(engine)
    except (OperationalError, InterfaceError) as exc:
        reason = str(exc.orig or exc).strip().splitlines()[0]
        _startup_error(f"cannot open the database {_shown(url)}: {reason}")
    finally:
        engine.dispose()


def _port_free_or_exit(host: str, port: int) -> None:
    """Refuse at once, in one line, a port that another process holds (uvicorn would log
    a traceback-like error and exit 1 or 3)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        _startup_error(f"cannot listen on {host}:{port}: {exc}")
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            _startup_error(f"cannot listen on {host}:{port}: {exc.strerror or exc}")


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
) -> None:
    """Apply pending migrations, then serve the API and the UI (uvicorn, uvloop, httptools)."""
    import uvicorn

    settings = _startup_settings(database_url, host=host, port=port, workers=workers)
    _migrate_or_exit(settings.database_url)
    _port_free_or_exit(host, port)
    # Workers read their settings from the environment: pass on what the flags chose.
    os.environ["PROMPTDECK_DATABASE_URL"] = settings.database_url
    typer.echo(
        f"promptdeck serving {settings.database_url} on http://{host}:{port}/ "
        f"(UI /ui/, API docs /docs)",
        err=True,
    )
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

"""`promptdeck serve` and `promptdeck db …`: the commands that use the core directly.

They need the server's packages (``pip install 'promptdeck[server]'``). A client-only install
has every other command, and these say in one line what to install: the core is imported
inside each command, never when the CLI starts.
"""

from __future__ import annotations

import enum
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from pydantic import ValidationError

if TYPE_CHECKING:
    from promptdeck.config import Settings

GRACEFUL_SHUTDOWN_S = 3
# uvicorn's supervisor pings each worker and kills one that does not answer within this many
# seconds (its default, 5, killed every worker still importing on a busy machine, again and
# again: measured, 9 kills and no worker up while 8 processes spun on 2 cores). A worker is
# hung only when it stays silent this long.
WORKER_HEALTHCHECK_S = 60


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


@contextmanager
def server_needed() -> Iterator[None]:
    """Around the imports of the server's modules: a client-only install exits 2 with what
    to install, not a traceback."""
    try:
        yield
    except ModuleNotFoundError as exc:
        typer.echo(
            f"promptdeck: this command needs the server (no module {exc.name!r}): "
            "pip install 'promptdeck[server]'",
            err=True,
        )
        raise typer.Exit(2) from None


def _settings(database_url: str | None, **overrides: object) -> Settings:
    with server_needed():
        from promptdeck.config import Settings
    values = {k: v for k, v in overrides.items() if v is not None}
    if database_url:
        values["database_url"] = database_url
    return Settings(**values)  # type: ignore[arg-type]


def _startup_error(message: str) -> NoReturn:
    """A startup error is one clear line on stderr and exit status 2, no traceback."""
    typer.echo(f"promptdeck: {message}", err=True)
    raise typer.Exit(2)


def _shown(url: str) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

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


def _migrate_or_exit(url: str) -> tuple[bool, datetime | None]:
    """Migrate the database; whether any key or user exists (else the server is open), and
    when the first was ever made (None: never). A bad URL or a database that cannot be
    opened is one line and exit 2."""
    with server_needed():
        from sqlalchemy.exc import (
            ArgumentError,
            InterfaceError,
            NoSuchModuleError,
            OperationalError,
        )

        from promptdeck.core import setup
    try:
        setup.migrate_to(url)
        return setup.access_state(url)
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        _startup_error(f"bad database URL {_shown(url)}: {exc}")
    except (OperationalError, InterfaceError) as exc:
        reason = str(exc.orig or exc).strip().splitlines()[0]
        _startup_error(f"cannot open the database {_shown(url)}: {reason}")


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
    insecure: Annotated[
        bool,
        typer.Option(
            "--insecure",
            envvar="PROMPTDECK_INSECURE",
            help="Serve with no key and no user on a non-loopback address: anyone who can "
            "reach the port can change or destroy everything.",
        ),
    ] = False,
    allow_open: Annotated[
        bool,
        typer.Option(
            "--allow-open",
            envvar="PROMPTDECK_ALLOW_OPEN",
            help="Serve open a database that once had keys or people and has none now "
            "(after `db downgrade` past the access migration, or keys lost); refused "
            "otherwise.",
        ),
    ] = False,
    proxy_headers: Annotated[
        bool,
        typer.Option(
            help="Trust X-Forwarded-Proto/-For from --forwarded-allow-ips (behind TLS).",
        ),
    ] = True,
    forwarded_allow_ips: Annotated[
        str,
        typer.Option(
            envvar="PROMPTDECK_FORWARDED_ALLOW_IPS",
            help="The proxy addresses trusted with --proxy-headers.",
        ),
    ] = "127.0.0.1",
    log_format: Annotated[
        LogFormat,
        typer.Option(
            envvar="PROMPTDECK_LOG_FORMAT",
            help="text, or json: one JSON object a line, each with its request_id.",
        ),
    ] = LogFormat.text,
) -> None:
    """Apply pending migrations, then serve the API and the UI (uvicorn, uvloop, httptools).

    With no key and no user it serves open on a loopback address (one person on a laptop)
    and refuses to start on any other address unless --insecure, or on a database that
    once had keys or people unless --allow-open. Once a key or a user exists, every route
    but /healthz needs one.
    """
    with server_needed():
        import uvicorn

        import promptdeck.server  # noqa: F401  (FastAPI missing: say so here, not in a worker)
        from promptdeck.server.logs import line, log_config
        from promptdeck.server.security import default_allowed_hosts, is_loopback

    settings = _startup_settings(
        database_url,
        host=host,
        port=port,
        workers=workers,
        insecure=insecure,
        allow_open=allow_open,
        log_format=log_format.value,
    )
    closed, had_access = _migrate_or_exit(settings.database_url)
    if not closed and had_access is not None and not settings.allow_open:
        _startup_error(
            f"refusing to serve {_shown(settings.database_url)} open: it had keys or people "
            f"(the first made {had_access:%Y-%m-%d %H:%M} UTC) and has none now (a downgrade "
            "past the access migration, or rows lost); create an admin key with `promptdeck "
            "keys create --name admin --role admin --database-url …`, or pass --allow-open"
        )
    if not closed and not is_loopback(host) and not settings.insecure:
        _startup_error(
            f"refusing to serve {host} with no API key and no user (anyone could change "
            "everything); create an admin key with `promptdeck keys create --name admin "
            "--role admin --database-url …`, or pass --insecure"
        )
    _port_free_or_exit(host, port)
    # Workers read their settings from the environment: pass on what the flags chose.
    os.environ["PROMPTDECK_DATABASE_URL"] = settings.database_url
    os.environ["PROMPTDECK_HOST"] = host
    os.environ["PROMPTDECK_LOG_FORMAT"] = settings.log_format
    os.environ["PROMPTDECK_ACCESS_LOG"] = "true" if access_log else "false"
    os.environ["PROMPTDECK_INSECURE"] = "true" if settings.insecure else "false"
    hosts = settings.host_list() or default_allowed_hosts(host)
    if settings.allowed_hosts is None:
        os.environ["PROMPTDECK_ALLOWED_HOSTS"] = ",".join(hosts)
    mode = (
        "keys and users required"
        if closed
        else "OPEN: no key or user, anyone who reaches the port may change everything"
    )
    message = (
        f"promptdeck serving {settings.database_url} on http://{host}:{port}/ "
        f"(UI /ui/, API docs /docs); {mode}; answers to Host {', '.join(hosts)} "
        "(PROMPTDECK_ALLOWED_HOSTS)"
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
        proxy_headers=proxy_headers,
        forwarded_allow_ips=forwarded_allow_ips,
        log_config=log_config(settings.log_format, log_level),
        # Open GET /changes streams never end by themselves: past this, a shutdown closes
        # them (their clients reconnect elsewhere with Last-Event-ID).
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_S,
    )


@db_app.command("upgrade")
def db_upgrade(
    database_url: DatabaseUrl = None,
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Apply pending migrations (serve does this at start)."""
    with server_needed():
        from promptdeck.core import setup

    settings = _settings(database_url)
    typer.echo(f"database at revision {setup.migrate_to(settings.database_url, revision)}")


@db_app.command("downgrade")
def db_downgrade(
    revision: Annotated[str, typer.Argument(help="Target revision (base: empty).")],
    database_url: DatabaseUrl = None,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Delete what it lists without asking.")
    ] = False,
) -> None:
    """Undo migrations down to REVISION.

    First it lists what the downgrade drops (tables with their rows, columns, rows), found
    by running it in a transaction that is rolled back; when that holds any data, it goes
    on only with --yes or a "y" typed at the prompt. A downgrade past the access migration deletes
    every key and person: `serve` then refuses to start open without --allow-open.
    """
    with server_needed():
        from promptdeck.core import setup

    settings = _settings(database_url)
    plan = setup.plan_undo(settings.database_url, revision)
    if plan.drops_anything:
        typer.echo(
            f"Downgrading {_shown(settings.database_url)} from {plan.current} to "
            f"{plan.target or 'base'} drops, for good:",
            err=True,
        )
        for table, rows in plan.tables:
            typer.echo(f"  table {table} ({_rows(rows)})", err=True)
        for column, rows in plan.columns:
            typer.echo(f"  column {column} (in {_rows(rows)})", err=True)
        for table, rows in plan.rows:
            typer.echo(f"  {_rows(rows)} of {table}", err=True)
        if plan.deletes_data and not yes:
            typer.confirm("Delete all of this?", abort=True, err=True)
    typer.echo(f"database at revision {setup.undo_to(settings.database_url, revision)}")


def _rows(n: int) -> str:
    return f"{n:,} row" if n == 1 else f"{n:,} rows"


@db_app.command("current")
def db_current(database_url: DatabaseUrl = None) -> None:
    """Show the database's migration revision and the newest one."""
    with server_needed():
        from promptdeck.core import setup

    settings = _settings(database_url)
    current, head = setup.revisions(settings.database_url)
    typer.echo(f"current: {current}  head: {head}")


@db_app.command("compact")
def db_compact(database_url: DatabaseUrl = None) -> None:
    """Reclaim free space: VACUUM on SQLite (WAL checkpointed), VACUUM FULL on PostgreSQL.

    Run it after purging versions: afterwards no copy of purged content is left in the
    database files. It takes an exclusive lock while it runs; run it when writes are quiet.
    """
    with server_needed():
        from promptdeck.core import setup

    settings = _settings(database_url)
    report = setup.compact(settings.database_url)
    typer.echo(
        f"compacted {report.backend} database: {report.bytes_before:,} -> "
        f"{report.bytes_after:,} bytes"
    )

"""`promptdeck keys …` and `promptdeck users …`: through a server (an admin key), or with
``--database-url`` straight on the database, which is how the first admin key is made."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from promptdeck.cli.options import DEFAULT_URL, ApiKey, Json, Url
from promptdeck.cli.output import (
    api_errors,
    client,
    console,
    err_console,
    print_json,
    stamp,
)
from promptdeck.client import access as calls
from promptdeck.schemas import AccountOut, KeyCreated

if TYPE_CHECKING:
    from promptdeck.core.access import Access
    from promptdeck.domain.access import Account

keys_app = typer.Typer(help="API keys for programs (admin).", no_args_is_help=True)
users_app = typer.Typer(help="People who sign in to the web UI (admin).", no_args_is_help=True)

DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="Work on this database directly, no server needed (the first admin key). "
        "Not read from PROMPTDECK_DATABASE_URL, so a command never goes around a server "
        "by accident.",
        show_default=False,
        rich_help_panel="Connection",
    ),
]
RoleOpt = Annotated[
    str,
    typer.Option(
        "--role", help="read (every GET), write (create, edit, roll back) or admin (all)."
    ),
]
PromptsOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--prompts",
        help="Only prompts whose names start with this prefix (repeat for more).",
        show_default=False,
    ),
]


@contextmanager
def direct(database_url: str) -> Iterator[Access]:
    """The database itself, migrated first (so this works before any server ran)."""
    from promptdeck.cli.server import server_needed

    with server_needed():
        from promptdeck.core import setup
    with setup.open_access(database_url) as access:
        yield access


def account_out(account: Account) -> AccountOut:
    """What the API would answer for ``account`` (the server's own rendering)."""
    from promptdeck.server.api.access import account_out as render

    return render(account)


def _me() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _table(items: list[AccountOut], keys: bool) -> None:
    table = Table(box=None, pad_edge=False)
    for column in ("NAME", "ROLE", "PROMPTS", *(("KEY", "EXPIRES") if keys else ()), "STATE"):
        table.add_column(column)
    for a in items:
        state = "revoked" if a.revoked_at else "active"
        row = [escape(a.name), a.role, ", ".join(a.prompts) or "all"]
        if keys:
            row += [f"{a.key_prefix}…", stamp(a.expires_at) if a.expires_at else "never"]
        table.add_row(*row, state)
    console.print(table)


# --- keys ---------------------------------------------------------------------------------


@keys_app.command("create")
def create_key(
    name: Annotated[str, typer.Option("--name", help="Names the key in the history.")],
    role: RoleOpt,
    prompts: PromptsOpt = None,
    expires: Annotated[
        str | None,
        typer.Option(
            "--expires", help="Lifetime: 90d, 12h, 2w… (default: never).", show_default=False
        ),
    ] = None,
    as_json: Json = False,
    database_url: DatabaseUrl = None,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Create an API key and print it once: only its hash is kept.

    Programs send it as `Authorization: Bearer <key>` (the CLI and the Python client with
    --api-key or PROMPTDECK_API_KEY).
    """
    with api_errors():
        if database_url:
            with direct(database_url) as access:
                new = access.create_key(
                    name, role, prefixes=prompts or [], expires_in=expires, actor=_me()
                )
            created = KeyCreated(**account_out(new.account).model_dump(), key=new.secret)
        else:
            with client(url, api_key) as c:
                created = c._send(
                    calls.create_key(name, role, prompts=prompts or [], expires=expires)
                )
    if as_json:
        print_json(created)
        return
    err_console.print(
        f"Created key {escape(created.name)!r} ({created.role}); it is shown only now, "
        "store it in your secret manager:"
    )
    print(created.key)


@keys_app.command("list")
def list_keys(
    as_json: Json = False,
    database_url: DatabaseUrl = None,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """The keys, with their visible prefix, role, prompts and expiry (never the key)."""
    items = _accounts("key", database_url, url, api_key)
    print_json(items) if as_json else _table(items, keys=True)


@keys_app.command("revoke")
def revoke_key(
    name: Annotated[str, typer.Argument(help="The key's name.")],
    as_json: Json = False,
    database_url: DatabaseUrl = None,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Revoke a key: every server process refuses it from its next request."""
    done = _revoke("key", name, database_url, url, api_key)
    if as_json:
        print_json(done)
    else:
        console.print(f"Revoked key {escape(done.name)!r}.")


def _accounts(
    kind: str, database_url: str | None, url: str, api_key: str | None
) -> list[AccountOut]:
    items: list[AccountOut] = []
    cursor: str | None = None
    with api_errors():
        if database_url:
            with direct(database_url) as access:
                while True:
                    page = access.list_accounts(kind, limit=200, cursor=cursor)
                    items += [account_out(a) for a in page.items]
                    if not (cursor := page.next_cursor):
                        return items
        with client(url, api_key) as c:
            while True:
                wire = c._send(calls.list_accounts(kind, limit=200, cursor=cursor))
                items += wire.items
                if not (cursor := wire.next_cursor):
                    return items


def _revoke(
    kind: str, name: str, database_url: str | None, url: str, api_key: str | None
) -> AccountOut:
    with api_errors():
        if database_url:
            with direct(database_url) as access:
                account: Account = access.revoke(name, kind)
            return account_out(account)
        with client(url, api_key) as c:
            return c._send(calls.revoke(kind, name))
    raise AssertionError("unreachable")  # pragma: no cover


# --- people -------------------------------------------------------------------------------


@users_app.command("create")
def create_user(
    name: Annotated[str, typer.Argument(help="The sign-in name, shown in the history.")],
    role: RoleOpt,
    prompts: PromptsOpt = None,
    password: Annotated[
        str | None,
        typer.Option(
            "--password",
            envvar="PROMPTDECK_NEW_PASSWORD",
            help="The password (at least 10 characters); asked for when not given.",
            show_default=False,
        ),
    ] = None,
    as_json: Json = False,
    database_url: DatabaseUrl = None,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Create a person who signs in to the web UI (the password is stored as argon2id)."""
    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with api_errors():
        if database_url:
            with direct(database_url) as access:
                done = account_out(
                    access.create_user(name, role, password, prefixes=prompts or [], actor=_me())
                )
        else:
            with client(url, api_key) as c:
                done = c._send(calls.create_user(name, role, password, prompts=prompts or []))
    if as_json:
        print_json(done)
    else:
        console.print(f"Created user {escape(done.name)!r} ({done.role}).")


@users_app.command("list")
def list_users(
    as_json: Json = False,
    database_url: DatabaseUrl = None,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """The people, with their role and prompts."""
    items = _accounts("user", database_url, url, api_key)
    print_json(items) if as_json else _table(items, keys=False)


@users_app.command("revoke")
def revoke_user(
    name: Annotated[str, typer.Argument(help="The person's name.")],
    as_json: Json = False,
    database_url: DatabaseUrl = None,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Revoke a person: their sessions end and they cannot sign in again."""
    done = _revoke("user", name, database_url, url, api_key)
    if as_json:
        print_json(done)
    else:
        console.print(f"Revoked user {escape(done.name)!r}.")

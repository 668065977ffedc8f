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

from promptdeck.cli.context import Cli, connected
from promptdeck.cli.output import console, err_console, stamp
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
@connected
def create_key(
    cli: Cli,
    name: Annotated[str, typer.Option("--name", help="Names the key in the history.")],
    role: RoleOpt,
    prompts: PromptsOpt = None,
    expires: Annotated[
        str | None,
        typer.Option(
            "--expires", help="Lifetime: 90d, 12h, 2w… (default: never).", show_default=False
        ),
    ] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Create an API key and print it once: only its hash is kept.

    Programs send it as `Authorization: Bearer <key>` (the CLI and the Python client with
    --api-key or PROMPTDECK_API_KEY).
    """
    if database_url:
        with direct(database_url) as access:
            new = access.create_key(
                name, role, prefixes=prompts or [], expires_in=expires, actor=cli.actor or _me()
            )
        created = KeyCreated(**account_out(new.account).model_dump(), key=new.secret)
    else:
        created = cli.client.create_key(name, role, prompts=prompts, expires=expires)
    cli.show(created, show_key)


def show_key(created: KeyCreated) -> None:
    err_console.print(
        f"Created key {escape(created.name)!r} ({created.role}); it is shown only now, "
        "store it in your secret manager:"
    )
    print(created.key)


@keys_app.command("list")
@connected
def list_keys(cli: Cli, database_url: DatabaseUrl = None) -> None:
    """The keys, with their visible prefix, role, prompts and expiry (never the key)."""
    cli.show(_accounts(cli, "key", database_url), lambda items: _table(items, keys=True))


@keys_app.command("revoke")
@connected
def revoke_key(
    cli: Cli,
    name: Annotated[str, typer.Argument(help="The key's name.")],
    database_url: DatabaseUrl = None,
) -> None:
    """Revoke a key: every server process refuses it from its next request."""
    done = _revoke(cli, "key", name, database_url)
    cli.show(done, f"Revoked key {escape(done.name)!r}.")


def _accounts(cli: Cli, kind: str, database_url: str | None) -> list[AccountOut]:
    if not database_url:
        return list(cli.client.iter_keys() if kind == "key" else cli.client.iter_users())
    items: list[AccountOut] = []
    cursor: str | None = None
    with direct(database_url) as access:
        while True:
            page = access.list_accounts(kind, limit=200, cursor=cursor)
            items += [account_out(a) for a in page.items]
            if not (cursor := page.next_cursor):
                return items


def _revoke(cli: Cli, kind: str, name: str, database_url: str | None) -> AccountOut:
    if not database_url:
        return cli.client.revoke_key(name) if kind == "key" else cli.client.revoke_user(name)
    with direct(database_url) as access:
        account: Account = access.revoke(name, kind)
    return account_out(account)


# --- people -------------------------------------------------------------------------------


@users_app.command("create")
@connected
def create_user(
    cli: Cli,
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
    database_url: DatabaseUrl = None,
) -> None:
    """Create a person who signs in to the web UI (the password is stored as argon2id)."""
    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    if database_url:
        with direct(database_url) as access:
            done = account_out(
                access.create_user(
                    name, role, password, prefixes=prompts or [], actor=cli.actor or _me()
                )
            )
    else:
        done = cli.client.create_user(name, role, password, prompts=prompts)
    cli.show(done, f"Created user {escape(done.name)!r} ({done.role}).")


@users_app.command("list")
@connected
def list_users(cli: Cli, database_url: DatabaseUrl = None) -> None:
    """The people, with their role and prompts."""
    cli.show(_accounts(cli, "user", database_url), lambda items: _table(items, keys=False))


@users_app.command("revoke")
@connected
def revoke_user(
    cli: Cli,
    name: Annotated[str, typer.Argument(help="The person's name.")],
    database_url: DatabaseUrl = None,
) -> None:
    """Revoke a person: their sessions end and they cannot sign in again."""
    done = _revoke(cli, "user", name, database_url)
    cli.show(done, f"Revoked user {escape(done.name)!r}.")

"""`promptdeck labels …`: named pointers at versions (production, staging…), their history."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from promptdeck.cli.options import DEFAULT_URL, Actor, ApiKey, Json, Name, Url, VersionArg
from promptdeck.cli.output import (
    api_command,
    client,
    console,
    print_json,
    relative,
    stamp,
)
from promptdeck.schemas import LabelMoveOut, MovedOut

app = typer.Typer(
    help="Labels: named pointers at versions (active, production, staging…), moved with "
    "compare-and-swap, each move recorded.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)

LabelArg = Annotated[str, typer.Argument(help="The label (a slug).", show_default=False)]
Reason = Annotated[str | None, typer.Option("--reason", "-m", help="Why (kept in the history).")]
IfMatch = Annotated[
    str | None,
    typer.Option("--if-match", help="The label's ETag: move only if it has not moved since."),
]


def _number(n: int | None) -> str:
    return "-" if n is None else f"#{n}"


def _moved(result: MovedOut, name: str) -> None:
    label = result.label
    if not result.changed:
        console.print(f"{escape(label.name)} already at {_number(label.number)}: nothing to do")
    elif label.version_id is None:
        console.print(f"{escape(name)}: label [bold]{escape(label.name)}[/] removed")
    else:
        console.print(
            f"{escape(name)}: [bold]{escape(label.name)}[/] now serves "
            f"[green]{escape(label.version_name or '')}[/] ({_number(label.number)})"
        )


@app.command("list")
@api_command
def list_(
    name: Name,
    as_json: Json = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
    actor: Actor = None,
) -> None:
    """The prompt's labels, active first: version, protection, last move."""
    with client(url, api_key, actor) as c:
        found = c.list_labels(name)
    if as_json:
        print_json(found)
        return
    table = Table("label", "version", "protected", "moved")
    for x in found:
        moved = f"{relative(x.moved_at)} by {escape(x.moved_by or '-')}" if x.moved_at else "-"
        version = f"{escape(x.version_name or '-')} ({_number(x.number)})"
        table.add_row(escape(x.name), version, "yes" if x.protected else "", moved)
    console.print(table)


@app.command("set")
@api_command
def set_(
    name: Name,
    label: LabelArg,
    version: VersionArg,
    reason: Reason = None,
    if_match: IfMatch = None,
    as_json: Json = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
    actor: Actor = None,
) -> None:
    """Point LABEL at VERSION (a protected label needs the admin role: else `deploys request`)."""
    with client(url, api_key, actor) as c:
        target = c.get_version(name, version)
        result = c.move_label(name, label, target.id, reason=reason, if_match=if_match)
    print_json(result) if as_json else _moved(result, name)


@app.command("rm")
@api_command
def rm(
    name: Name,
    label: LabelArg,
    reason: Reason = None,
    if_match: IfMatch = None,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
    actor: Actor = None,
) -> None:
    """Remove LABEL (any but active); recorded in its history."""
    with client(url, api_key, actor) as c:
        c.remove_label(name, label, reason=reason, if_match=if_match)
    console.print(f"{escape(name)}: label [bold]{escape(label)}[/] removed")


@app.command("revert")
@api_command
def revert(
    name: Name,
    label: LabelArg,
    if_match: IfMatch = None,
    as_json: Json = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
    actor: Actor = None,
) -> None:
    """Undo LABEL's last move (itself recorded as a move)."""
    with client(url, api_key, actor) as c:
        result = c.revert_label(name, label, if_match=if_match)
    print_json(result) if as_json else _moved(result, name)


@app.command("protect")
@api_command
def protect(
    name: Name,
    label: LabelArg,
    off: Annotated[bool, typer.Option("--off", help="Lift the protection.")] = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
    actor: Actor = None,
) -> None:
    """Protect LABEL: moving it then needs the admin role or an approved deploy request."""
    with client(url, api_key, actor) as c:
        found = c.protect_label(name, label, not off)
    state = "protected" if found.protected else "not protected"
    console.print(f"{escape(name)}: label [bold]{escape(label)}[/] is {state}")


def show_moves(moves: list[LabelMoveOut]) -> None:
    table = Table("when", "label", "from", "to", "who", "why")
    for m in moves:
        table.add_row(
            stamp(m.created_at),
            escape(m.label),
            _number(m.from_number),
            "removed" if m.to_version_id is None else _number(m.to_number),
            escape(m.actor),
            escape(m.reason),
        )
    console.print(table)


@app.command("history")
@api_command
def history(
    name: Name,
    label: Annotated[
        str | None, typer.Argument(help="The label; omitted: every label's moves.")
    ] = None,
    limit: Annotated[int, typer.Option(help="How many moves, newest first.")] = 20,
    as_json: Json = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
    actor: Actor = None,
) -> None:
    """Who moved LABEL from what to what, when and why (newest first)."""
    with client(url, api_key, actor) as c:
        page = c.label_history(name, label, limit=limit)
    print_json(page.items) if as_json else show_moves(page.items)

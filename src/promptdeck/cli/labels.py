"""`promptdeck labels …`: named pointers at versions (production, staging…), their history."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from promptdeck.cli.context import Cli, connected
from promptdeck.cli.options import Name, VersionArg
from promptdeck.cli.output import console, relative, stamp
from promptdeck.schemas import LabelMoveOut, LabelOut, MovedOut

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


def _moved(result: MovedOut, name: str) -> str:
    label = result.label
    if not result.changed:
        return f"{escape(label.name)} already at {_number(label.number)}: nothing to do"
    if label.version_id is None:
        return f"{escape(name)}: label [bold]{escape(label.name)}[/] removed"
    return (
        f"{escape(name)}: [bold]{escape(label.name)}[/] now serves "
        f"[green]{escape(label.version_name or '')}[/] ({_number(label.number)})"
    )


def show_labels(found: list[LabelOut]) -> None:
    table = Table("label", "version", "protected", "moved")
    for x in found:
        moved = f"{relative(x.moved_at)} by {escape(x.moved_by or '-')}" if x.moved_at else "-"
        version = f"{escape(x.version_name or '-')} ({_number(x.number)})"
        table.add_row(escape(x.name), version, "yes" if x.protected else "", moved)
    console.print(table)


@app.command("list")
@connected
def list_(cli: Cli, name: Name) -> None:
    """The prompt's labels, active first: version, protection, last move."""
    cli.show(cli.client.list_labels(name), show_labels)


@app.command("set")
@connected
def set_(
    cli: Cli,
    name: Name,
    label: LabelArg,
    version: VersionArg,
    reason: Reason = None,
    if_match: IfMatch = None,
) -> None:
    """Point LABEL at VERSION (a protected label needs the admin role: else `deploys request`)."""
    target = cli.client.get_version(name, version)
    result = cli.client.move_label(name, label, target.id, reason=reason, if_match=if_match)
    cli.show(result, _moved(result, name))


@app.command("rm")
@connected
def rm(
    cli: Cli, name: Name, label: LabelArg, reason: Reason = None, if_match: IfMatch = None
) -> None:
    """Remove LABEL (any but active); recorded in its history."""
    cli.client.remove_label(name, label, reason=reason, if_match=if_match)
    cli.show(
        {"prompt": name, "removed": label},
        f"{escape(name)}: label [bold]{escape(label)}[/] removed",
    )


@app.command("revert")
@connected
def revert(cli: Cli, name: Name, label: LabelArg, if_match: IfMatch = None) -> None:
    """Undo LABEL's last move (itself recorded as a move)."""
    result = cli.client.revert_label(name, label, if_match=if_match)
    cli.show(result, _moved(result, name))


@app.command("protect")
@connected
def protect(
    cli: Cli,
    name: Name,
    label: LabelArg,
    off: Annotated[bool, typer.Option("--off", help="Lift the protection.")] = False,
) -> None:
    """Protect LABEL: moving it then needs the admin role or an approved deploy request."""
    found = cli.client.protect_label(name, label, not off)
    state = "protected" if found.protected else "not protected"
    cli.show(found, f"{escape(name)}: label [bold]{escape(label)}[/] is {state}")


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
@connected
def history(
    cli: Cli,
    name: Name,
    label: Annotated[
        str | None, typer.Argument(help="The label; omitted: every label's moves.")
    ] = None,
    limit: Annotated[int, typer.Option(help="How many moves, newest first.")] = 20,
) -> None:
    """Who moved LABEL from what to what, when and why (newest first)."""
    cli.show(cli.client.label_history(name, label, limit=limit).items, show_moves)

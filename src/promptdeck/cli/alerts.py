"""`promptdeck alerts …`: per-label impact thresholds (docs/impact.md, Alerts)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from promptdeck.cli.options import DEFAULT_URL, Actor, ApiKey, Json, Name, Url
from promptdeck.cli.output import api_command, client, console, print_json, stamp

app = typer.Typer(
    help="Impact alerts: raise an impact.alert event (and its webhooks) when success after "
    "a label's move falls below a threshold.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)

Label = Annotated[
    str, typer.Argument(help="The label to watch (active, or a label).", show_default=False)
]


@app.command("list")
@api_command
def list_(
    name: Name,
    as_json: Json = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
    actor: Actor = None,
) -> None:
    """The prompt's alert rules, by label."""
    with client(url, api_key, actor) as c:
        rules = c.list_alerts(name)
    if as_json:
        print_json(rules)
        return
    if not rules:
        console.print(f"no alert rules on {escape(name)}")
        return
    table = Table(box=None, pad_edge=False)
    for column in ("LABEL", "MIN SUCCESS", "WINDOW", "MIN COUNT", "SET BY", "WHEN"):
        table.add_column(column)
    for r in rules:
        table.add_row(
            escape(r.label),
            f"{100 * r.min_success:g}%",
            f"{r.window_minutes} min",
            str(r.min_count),
            escape(r.created_by or "-"),
            stamp(r.created_at) if r.created_at else "-",
        )
    console.print(table)


@app.command("set")
@api_command
def set_(
    name: Name,
    label: Label,
    min_success: Annotated[
        float,
        typer.Option(
            "--min-success",
            min=0.0,
            max=1.0,
            help="Alert when the success rate falls below this (0..1).",
            show_default=False,
        ),
    ],
    window: Annotated[
        int,
        typer.Option("--window", min=1, help="Minutes after each move to watch."),
    ] = 15,
    min_count: Annotated[
        int,
        typer.Option("--min-count", min=1, help="Judge only once this many outcomes say."),
    ] = 20,
    as_json: Json = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
    actor: Actor = None,
) -> None:
    """Add or replace the label's rule (write role)."""
    with client(url, api_key, actor) as c:
        rule = c.set_alert(
            name, label, min_success=min_success, window_minutes=window, min_count=min_count
        )
    if as_json:
        print_json(rule)
        return
    console.print(
        f"alert on {escape(name)} {escape(rule.label)}: success below "
        f"{100 * rule.min_success:g}% within {rule.window_minutes} min of a move "
        f"(once {rule.min_count} outcomes say)"
    )


@app.command("rm")
@api_command
def rm(
    name: Name,
    label: Label,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
    actor: Actor = None,
) -> None:
    """Remove the label's rule (write role)."""
    with client(url, api_key, actor) as c:
        c.remove_alert(name, label)
    console.print(f"removed the alert on {escape(name)} {escape(label)}")

"""`promptdeck alerts …`: per-label impact thresholds (docs/impact.md, Alerts)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from promptdeck.cli.context import Cli, connected
from promptdeck.cli.options import Name
from promptdeck.cli.output import console, stamp
from promptdeck.schemas import AlertOut

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
@connected
def list_(cli: Cli, name: Name) -> None:
    """The prompt's alert rules, by label."""
    rules = cli.client.list_alerts(name)
    cli.show(rules, show_rules if rules else f"no alert rules on {escape(name)}")


def show_rules(rules: list[AlertOut]) -> None:
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
@connected
def set_(
    cli: Cli,
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
) -> None:
    """Add or replace the label's rule (write role)."""
    rule = cli.client.set_alert(
        name, label, min_success=min_success, window_minutes=window, min_count=min_count
    )
    cli.show(
        rule,
        f"alert on {escape(name)} {escape(rule.label)}: success below "
        f"{100 * rule.min_success:g}% within {rule.window_minutes} min of a move "
        f"(once {rule.min_count} outcomes say)",
    )


@app.command("rm")
@connected
def rm(cli: Cli, name: Name, label: Label) -> None:
    """Remove the label's rule (write role)."""
    cli.client.remove_alert(name, label)
    cli.show(
        {"prompt": name, "removed": label}, f"removed the alert on {escape(name)} {escape(label)}"
    )

"""`promptdeck outcomes NAME`: the prompt's kept raw outcomes, newest first."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from promptdeck.cli.context import Cli, connected
from promptdeck.cli.options import Limit, Name, Since, Until
from promptdeck.cli.output import console, stamp
from promptdeck.schemas import RawOutcomeOut

PAGE = 200  # the API's largest page


def _num(value: float | None, form: str = "{:.3g}") -> str:
    return "-" if value is None else form.format(value)


@connected
def outcomes(
    cli: Cli,
    name: Name,
    version_id: Annotated[
        int | None, typer.Option("--version-id", "-v", min=1, help="Only this version's.")
    ] = None,
    since: Since = None,
    until: Until = None,
    limit: Limit = 50,
) -> None:
    """The prompt's raw outcomes, newest first, as reported (tags included). The server
    keeps them only with PROMPTDECK_OUTCOMES_RAW, for PROMPTDECK_OUTCOMES_RAW_DAYS days."""
    found: list[RawOutcomeOut] = []
    cursor: str | None = None
    times = {k: None if t is None else t.isoformat() for k, t in (("s", since), ("u", until))}
    while True:
        page = cli.client.list_outcomes(
            name,
            version_id=version_id,
            since=times["s"],
            until=times["u"],
            limit=min(PAGE, limit - len(found)),
            cursor=cursor,
        )
        found += page.items
        cursor = page.next_cursor
        if len(found) >= limit or cursor is None:
            break
    more = cursor is not None
    cli.show(
        {"items": found, "kept": page.kept, "days": page.days},
        lambda _: show_outcomes(name, found, page.kept, page.days, limit if more else None),
    )


def show_outcomes(
    name: str, found: list[RawOutcomeOut], kept: bool, days: int, limit: int | None
) -> None:
    """The table; ``limit``: the number shown when there are more."""
    if not kept:
        console.print(
            "[yellow]This server does not keep raw outcomes[/] (PROMPTDECK_OUTCOMES_RAW=false): "
            "only impact's aggregates are kept. Listed: what was kept before, if anything."
        )
    else:
        console.print(f"Raw outcomes are kept for {days} days.")
    if not found:
        console.print("No raw outcomes in this range.")
        return
    table = Table(
        "at",
        "version",
        "success",
        "score",
        "latency ms",
        "tokens in/out",
        "cost",
        "feedback",
        "tags",
        title=f"{escape(str(name))}: raw outcomes, newest first",
    )
    for o in found:
        table.add_row(
            stamp(o.at),
            str(o.version_id),
            "-" if o.success is None else ("yes" if o.success else "no"),
            _num(o.score),
            _num(o.latency_ms, "{:.0f}"),
            f"{_num(o.input_tokens, '{}')}/{_num(o.output_tokens, '{}')}",
            _num(o.cost, "{:.4f}"),
            "-" if o.feedback is None else f"{o.feedback:+d}",
            escape(", ".join(f"{k}={v}" for k, v in sorted(o.tags.items()))),
        )
    console.print(table)
    if limit is not None:
        console.print(f"[dim]More: raise --limit (showing the newest {limit}).[/]")

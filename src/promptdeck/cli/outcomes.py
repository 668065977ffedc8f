"""`promptdeck outcomes NAME`: the prompt's kept raw outcomes, newest first."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from promptdeck.cli.options import DEFAULT_URL, Actor, ApiKey, Json, Limit, Name, Since, Until, Url
from promptdeck.cli.output import api_command, client, console, print_json, stamp
from promptdeck.schemas import RawOutcomeOut

PAGE = 200  # the API's largest page


def _num(value: float | None, form: str = "{:.3g}") -> str:
    return "-" if value is None else form.format(value)


@api_command
def outcomes(
    name: Name,
    version_id: Annotated[
        int | None, typer.Option("--version-id", "-v", min=1, help="Only this version's.")
    ] = None,
    since: Since = None,
    until: Until = None,
    limit: Limit = 50,
    as_json: Json = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
    actor: Actor = None,
) -> None:
    """The prompt's raw outcomes, newest first, as reported (tags included). The server
    keeps them only with PROMPTDECK_OUTCOMES_RAW, for PROMPTDECK_OUTCOMES_RAW_DAYS days."""
    found: list[RawOutcomeOut] = []
    cursor: str | None = None
    times = {k: None if t is None else t.isoformat() for k, t in (("s", since), ("u", until))}
    with client(url, api_key, actor) as c:
        while True:
            page = c.list_outcomes(
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
    if as_json:
        print_json({"items": found, "kept": page.kept, "days": page.days})
        return
    if not page.kept:
        console.print(
            "[yellow]This server does not keep raw outcomes[/] (PROMPTDECK_OUTCOMES_RAW=false): "
            "only impact's aggregates are kept. Listed: what was kept before, if anything."
        )
    else:
        console.print(f"Raw outcomes are kept for {page.days} days.")
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
    if cursor is not None:
        console.print(f"[dim]More: raise --limit (showing the newest {limit}).[/]")

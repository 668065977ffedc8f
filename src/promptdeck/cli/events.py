"""`promptdeck events`: every prompt's history, newest first, filtered."""

from __future__ import annotations

from itertools import islice
from typing import Annotated

import typer
from rich.markup import escape

from promptdeck.cli.context import Cli, connected
from promptdeck.cli.options import Limit, Since, Until
from promptdeck.cli.output import console, relative, stamp
from promptdeck.schemas import AuditEventOut


@connected(actor=False)  # --actor here filters by who made the change
def events(
    cli: Cli,
    prompt: Annotated[str | None, typer.Option("--prompt", help="One prompt (id or name).")] = None,
    actor: Annotated[str | None, typer.Option("--actor", help="A key's or person's name.")] = None,
    kind: Annotated[
        str | None, typer.Option("--kind", help="An event kind, or a family like 'version.'.")
    ] = None,
    since: Since = None,
    until: Until = None,
    limit: Limit = 50,
) -> None:
    """Every change to every prompt, newest first: what, which prompt, who, when."""
    found = cli.client.iter_audit_events(
        prompt=prompt, actor=actor, kind=kind, since=since, until=until
    )
    cli.show(list(islice(found, limit)), show_events)


def show_events(found: list[AuditEventOut]) -> None:
    for e in found:
        console.print(
            f"{stamp(e.created_at)}  [bold]{escape(e.prompt_name)}[/]  {e.kind}  "
            f"by {escape(e.actor)} [dim]({relative(e.created_at)})[/]"
        )

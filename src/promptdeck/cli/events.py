"""`promptdeck events`: every prompt's history, newest first, filtered."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from promptdeck.cli.options import DEFAULT_URL, ApiKey, Json, Limit, Since, Until, Url
from promptdeck.cli.output import (
    api_errors,
    client,
    console,
    print_json,
    relative,
    stamp,
)
from promptdeck.client import access as calls
from promptdeck.schemas import AuditEventOut


def events(
    prompt: Annotated[str | None, typer.Option("--prompt", help="One prompt (id or name).")] = None,
    actor: Annotated[str | None, typer.Option("--actor", help="A key's or person's name.")] = None,
    kind: Annotated[
        str | None, typer.Option("--kind", help="An event kind, or a family like 'version.'.")
    ] = None,
    since: Since = None,
    until: Until = None,
    limit: Limit = 50,
    as_json: Json = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Every change to every prompt, newest first: what, which prompt, who, when."""
    found: list[AuditEventOut] = []
    cursor: str | None = None
    with api_errors(), client(url, api_key) as c:
        while len(found) < limit:
            page = c._send(
                calls.list_events(
                    limit=min(200, limit - len(found)),
                    cursor=cursor,
                    prompt=prompt,
                    actor=actor,
                    kind=kind,
                    since=since,
                    until=until,
                )
            )
            found += page.items
            if not (cursor := page.next_cursor):
                break
    if as_json:
        print_json(found)
        return
    for e in found:
        console.print(
            f"{stamp(e.created_at)}  [bold]{escape(e.prompt_name)}[/]  {e.kind}  "
            f"by {escape(e.actor)} [dim]({relative(e.created_at)})[/]"
        )

"""`promptdeck render`: fill a prompt's template with variables, on the server."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer

from promptdeck.cli.context import Cli, connected
from promptdeck.cli.options import Name
from promptdeck.cli.output import print_json
from promptdeck.schemas import RenderOut


def parse_vars(pairs: list[str], json_pairs: list[str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for pair, as_json in [(p, False) for p in pairs] + [(p, True) for p in json_pairs]:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"{pair!r}: write NAME=VALUE")
        try:
            values[key] = json.loads(value) if as_json else value
        except json.JSONDecodeError as exc:
            raise typer.BadParameter(f"{key}: not JSON ({exc.msg})") from exc
    return values


@connected
def render(
    cli: Cli,
    name: Name,
    var: Annotated[
        list[str] | None,
        typer.Option("--var", "-v", help="NAME=VALUE, inserted as text (repeatable)."),
    ] = None,
    json_var: Annotated[
        list[str] | None,
        typer.Option(
            "--json-var",
            help="NAME=JSON: a JSON value, e.g. a placeholder's list of messages (repeatable).",
        ),
    ] = None,
    version: Annotated[
        str | None,
        typer.Option(
            "--version", help="A version number, label or version name (default: active)."
        ),
    ] = None,
) -> None:
    """Render a prompt with variables: the text, or a chat prompt's messages as JSON.

    Includes (`{{> other}}`) are resolved on the server. A missing variable exits 1 naming
    it; variables given but unused are listed on stderr.
    """
    values = parse_vars(var or [], json_var or [])
    cli.show(cli.client.render(name, values, version=version), show_render)


def show_render(out: RenderOut) -> None:
    if out.messages is not None:
        print_json(out.messages)
    else:
        sys.stdout.write((out.text or "") + "\n")
    if out.unused_variables:
        sys.stderr.write(f"unused variables: {', '.join(out.unused_variables)}\n")

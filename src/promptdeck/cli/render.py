"""`promptdeck render`: fill a prompt's template with variables, on the server."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer

from promptdeck.cli.options import DEFAULT_URL, ApiKey, Json, Name, Url
from promptdeck.cli.output import api_command, client, print_json


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


@api_command
def render(
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
    as_json: Json = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Render a prompt with variables: the text, or a chat prompt's messages as JSON.

    Includes (`{{> other}}`) are resolved on the server. A missing variable exits 1 naming
    it; variables given but unused are listed on stderr.
    """
    values = parse_vars(var or [], json_var or [])
    with client(url, api_key) as c:
        out = c.render(name, values, version=version)
    if as_json:
        print_json(out)
        return
    if out.messages is not None:
        print_json(out.messages)
    else:
        sys.stdout.write((out.text or "") + "\n")
    if out.unused_variables:
        sys.stderr.write(f"unused variables: {', '.join(out.unused_variables)}\n")

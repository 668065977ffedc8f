"""Options and arguments that several commands share, defined once (their `--help` text is
docs/cli.md's). A command's own options stay in its module; the connection options and
``--json`` are given to a command by `context.connected`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import typer

from promptdeck.domain import values
from promptdeck.errors import InvalidInput

DEFAULT_URL = "http://127.0.0.1:8000"

# --- connection (every command that talks to a server) ---------------------------------------

Url = Annotated[
    str,
    typer.Option(
        "--url",
        envvar="PROMPTDECK_URL",
        help="The promptdeck server.",
        rich_help_panel="Connection",
    ),
]
ApiKey = Annotated[
    str | None,
    typer.Option(
        "--api-key",
        envvar="PROMPTDECK_API_KEY",
        help="Sent as a Bearer token.",
        show_default=False,
        rich_help_panel="Connection",
    ),
]
Actor = Annotated[
    str | None,
    typer.Option(
        "--actor",
        envvar="PROMPTDECK_ACTOR",
        help="Who makes the change, recorded in the history (default: your login name).",
        show_default=False,
        rich_help_panel="Connection",
    ),
]

# --- output ------------------------------------------------------------------------------------

Json = Annotated[bool, typer.Option("--json", help="Print JSON (for scripts).")]

# --- what a command acts on --------------------------------------------------------------------

Name = Annotated[str, typer.Argument(help="The prompt's name (or id).", show_default=False)]
VersionArg = Annotated[str, typer.Argument(help="A version id or name.", show_default=False)]

# --- what a command writes ---------------------------------------------------------------------


def _model_config(text: str) -> dict[str, Any]:
    try:
        return values.parse_model_config(text)
    except InvalidInput as exc:  # a usage error (exit 2), like any bad option
        raise typer.BadParameter(exc.detail) from exc


ModelConfig = Annotated[
    dict[str, Any] | None,
    typer.Option(
        "--model-config",
        parser=_model_config,
        metavar="JSON",
        help='Model settings as a JSON object, e.g. \'{"model": "gpt-4o", "temperature": 0.2}\'.',
        show_default=False,
    ),
]

# --- common switches ---------------------------------------------------------------------------

Yes = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")]
Limit = Annotated[int, typer.Option("--limit", "-n", min=1, help="At most this many.")]
Since = Annotated[datetime | None, typer.Option("--since", help="At or after this time (UTC).")]
Until = Annotated[datetime | None, typer.Option("--until", help="Before this time (UTC).")]

"""Entry point: `promptdeck …`."""

from __future__ import annotations

import typer

from promptdeck.cli.server import db_app, serve

app = typer.Typer(
    help="promptdeck: a self-hosted prompt registry.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command()(serve)
app.add_typer(db_app, name="db")


if __name__ == "__main__":  # pragma: no cover
    app()

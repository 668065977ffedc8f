"""Entry point: `promptdeck …`."""

from __future__ import annotations

import typer

from promptdeck.cli import (
    alerts,
    deploys,
    evaluations,
    events,
    impact,
    keys,
    labels,
    mcp,
    outcomes,
    prompts,
    providers,
    render,
    rollouts,
    sync,
    test_sets,
    transfer,
    versions,
    webhooks,
)
from promptdeck.cli.server import db_app, serve

app = typer.Typer(
    help="promptdeck: a self-hosted prompt registry.\n\n"
    "`serve` and `db` work on a database; the other commands talk to a server "
    "(--url or PROMPTDECK_URL, default http://127.0.0.1:8000).",
    no_args_is_help=True,
    rich_markup_mode="markdown",
    pretty_exceptions_enable=False,
)
app.command()(serve)
app.add_typer(db_app, name="db")
app.add_typer(prompts.app, name="prompts")
app.add_typer(versions.app, name="versions")
app.add_typer(labels.app, name="labels")
app.add_typer(deploys.app, name="deploys")
app.add_typer(rollouts.app, name="rollout")
app.command("log")(versions.log)
app.command("render")(render.render)
app.command("export")(transfer.export)
app.command("import")(transfer.import_)
app.add_typer(keys.keys_app, name="keys")
app.add_typer(keys.users_app, name="users")
app.command("events")(events.events)
app.add_typer(webhooks.app, name="webhooks")
app.command("impact")(impact.impact)
app.add_typer(alerts.app, name="alerts")
app.command("outcomes")(outcomes.outcomes)
app.add_typer(sync.app, name="sync")
app.command("mcp")(mcp.mcp)
app.add_typer(providers.app, name="providers")
app.add_typer(test_sets.app, name="test-sets")
app.add_typer(evaluations.app, name="eval")
app.add_typer(evaluations.gates_app, name="gates")


if __name__ == "__main__":  # pragma: no cover
    app()

"""`promptdeck webhooks …`: signed announcements of changes to other systems (admin)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from promptdeck.cli.context import Cli, connected
from promptdeck.cli.output import console, err_console, stamp
from promptdeck.schemas import DeliveryOut, WebhookCreated, WebhookOut

app = typer.Typer(
    help="Webhooks: signed POSTs to other systems when prompts change (admin).",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)

HookId = Annotated[int, typer.Argument(help="The webhook's id.", show_default=False)]


def _events(hook: WebhookOut) -> str:
    return ", ".join(hook.events)


@app.command("add")
@connected
def add(
    cli: Cli,
    target: Annotated[
        str, typer.Argument(help="Where to POST: an http:// or https:// URL.", show_default=False)
    ],
    event: Annotated[
        list[str] | None,
        typer.Option(
            "--event",
            "-e",
            help="An event kind to send: version.created, label.moved, version.rolled_back, "
            "deploy.requested… (repeat; default: all).",
            show_default=False,
        ),
    ] = None,
    prompt: Annotated[
        str | None,
        typer.Option("--prompt", help="Only this prompt's events (default: every prompt's)."),
    ] = None,
    secret: Annotated[
        str | None,
        typer.Option(
            "--secret",
            help="The signing secret (16+ characters); generated and printed once if omitted.",
            show_default=False,
        ),
    ] = None,
    description: Annotated[
        str | None, typer.Option("--description", "-d", help="What the hook is for.")
    ] = None,
) -> None:
    """Add a webhook; prints its signing secret once (docs/webhooks.md: how to verify)."""
    made = cli.client.create_webhook(
        target, events=event, prompt=prompt, secret=secret, description=description
    )
    cli.show(made, lambda made: show_made(made, secret_given=secret is not None))


def show_made(made: WebhookCreated, secret_given: bool) -> None:
    scope = f" for {escape(made.prompt_name)}" if made.prompt_name else ""
    console.print(
        f"created webhook {made.id} -> {escape(made.url)}{scope} ({escape(_events(made))})"
    )
    if not secret_given:
        err_console.print("Its signing secret, shown only now (keep it in your receiver):")
        print(made.secret)


@app.command("list")
@connected
def list_(cli: Cli) -> None:
    """Every webhook: id, URL, prompt, events, state (never a secret)."""
    items: list[WebhookOut] = []
    cursor: str | None = None
    while True:
        page = cli.client.list_webhooks(limit=200, cursor=cursor)
        items += page.items
        if not (cursor := page.next_cursor):
            break
    cli.show(items, show_hooks)


def show_hooks(items: list[WebhookOut]) -> None:
    table = Table(box=None, pad_edge=False)
    for column in ("ID", "URL", "PROMPT", "EVENTS", "STATE"):
        table.add_column(column)
    for h in items:
        table.add_row(
            str(h.id),
            escape(h.url),
            escape(h.prompt_name or "all"),
            escape(_events(h)),
            "enabled" if h.enabled else "paused",
        )
    console.print(table)


@app.command("rm")
@connected
def rm(cli: Cli, hook_id: HookId) -> None:
    """Delete a webhook and its deliveries (pending ones are not sent)."""
    cli.client.delete_webhook(hook_id)
    cli.show({"deleted": hook_id}, f"deleted webhook {hook_id}")


@app.command("deliveries")
@connected
def deliveries(
    cli: Cli,
    hook_id: HookId,
    status: Annotated[
        str | None,
        typer.Option("--status", help="pending, delivered or failed.", show_default=False),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="How many, newest first.")] = 20,
) -> None:
    """The webhook's delivery log: each delivery's state and its last attempt."""
    page = cli.client.list_webhook_deliveries(hook_id, status=status, limit=limit)
    cli.show(page.items, show_deliveries)


def show_deliveries(items: list[DeliveryOut]) -> None:
    table = Table(box=None, pad_edge=False)
    for column in ("ID", "EVENT", "STATE", "TRIES", "LAST", "ERROR", "WHEN"):
        table.add_column(column)
    for d in items:
        table.add_row(str(d.id), d.kind, d.status, str(d.attempts), *_last(d))
    console.print(table)


def _last(d: DeliveryOut) -> tuple[str, str, str]:
    if d.last_attempt_at is None:
        return "-", "", stamp(d.created_at)
    code = str(d.last_status_code) if d.last_status_code is not None else "no answer"
    error = (d.last_error or "").replace("\n", " ")[:60]
    return f"{code} in {d.last_duration_ms} ms", escape(error), stamp(d.last_attempt_at)


@app.command("test")
@connected
def test(cli: Cli, hook_id: HookId) -> None:
    """Send a test: queue a webhook.test delivery (see it with `webhooks deliveries`)."""
    d = cli.client.send_webhook_test(hook_id)
    cli.show(d, f"queued test delivery {d.id} ({d.uid}) to webhook {hook_id}")

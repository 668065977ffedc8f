"""`promptdeck deploys …`: deploy requests, for labels a writer may not move alone."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from promptdeck.cli.context import Cli, connected
from promptdeck.cli.options import Name, VersionArg
from promptdeck.cli.output import console
from promptdeck.cli.rollouts import read_plan
from promptdeck.schemas import DeployOut

app = typer.Typer(
    help="Deploy requests: propose a protected label's move; another admin approves it.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)

RequestId = Annotated[int, typer.Argument(help="The deploy request's id.", show_default=False)]
Reason = Annotated[str | None, typer.Option("--reason", "-m", help="Why.")]


def show(request: DeployOut) -> None:
    to = f"#{request.number}" if request.number is not None else str(request.version_id)
    was = f"#{request.from_number}" if request.from_number is not None else "nothing"
    console.print(
        f"deploy request {request.id}: [bold]{escape(request.label)}[/] {was} -> {to}, "
        f"[bold]{request.status}[/]; proposed by {escape(request.proposed_by)}: "
        f"{escape(request.reason)}"
    )
    if request.decided_by:
        console.print(f"decided by {escape(request.decided_by)}")
    gate = request.gate
    if gate is not None and gate.required:
        state = "[green]passed[/]" if gate.passed else "[bold red]not passed[/]"
        via = f", evaluation {gate.evaluation_id}" if gate.evaluation_id else ""
        console.print(f"gate: {state} (test set {escape(gate.test_set or '')}{via})")
        for why in gate.reasons:
            console.print(f"  - {escape(why)}")
    for line in request.diff:
        style = {"+": "green", "-": "red"}.get(line[:1])
        console.print(f"[{style}]{escape(line)}[/]" if style else escape(line))


@app.command("request")
@connected
def request(
    cli: Cli,
    name: Name,
    label: Annotated[str, typer.Argument(help="The label to move.", show_default=False)],
    version: VersionArg,
    reason: Annotated[str, typer.Option("--reason", "-m", help="Why (required).")],
    plan: Annotated[
        Path | None,
        typer.Option(
            "--plan",
            help="A JSON rollout plan (docs/rollouts.md): approving starts that rollout.",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Propose moving LABEL to VERSION (or rolling it out: --plan); prints the diff against
    what LABEL serves now."""
    rollout = read_plan(plan) if plan is not None else None
    target = cli.client.get_version(name, version)
    proposed = cli.client.propose_deploy(name, label, target.id, reason=reason, plan=rollout)
    cli.show(proposed, show)


@app.command("approve")
@connected
def approve(
    cli: Cli,
    name: Name,
    request_id: RequestId,
    reason: Reason = None,
    override_gate: Annotated[
        bool,
        typer.Option(
            "--override-gate",
            help="Approve although the label's gate is not passed (needs --reason; recorded).",
        ),
    ] = False,
) -> None:
    """Approve: the label moves at once (admin role; not the proposer; its gate passed)."""
    found = cli.client.approve_deploy(name, request_id, reason=reason, override_gate=override_gate)
    cli.show(found, show)


@app.command("reject")
@connected
def reject(cli: Cli, name: Name, request_id: RequestId, reason: Reason = None) -> None:
    """Reject (admin role; not the proposer)."""
    cli.show(cli.client.reject_deploy(name, request_id, reason=reason), show)


@app.command("list")
@connected
def list_(
    cli: Cli,
    name: Name,
    status: Annotated[str | None, typer.Option(help="open, approved or rejected.")] = None,
) -> None:
    """The prompt's deploy requests, newest first."""
    cli.show(cli.client.list_deploys(name, status=status).items, show_all)


def show_all(requests: list[DeployOut]) -> None:
    for request in requests:
        show(request)

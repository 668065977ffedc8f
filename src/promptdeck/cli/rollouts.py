"""`promptdeck rollout …`: a label moving by steps to a new version, judged by its guard
(docs/rollouts.md): start one, see how it goes, pause, resume, advance, abort."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from promptdeck.cli.context import Cli, connected
from promptdeck.cli.options import Name, VersionArg
from promptdeck.cli.output import console, relative
from promptdeck.schemas import RolloutOut
from promptdeck.schemas.rollouts import ArmSumsOut

app = typer.Typer(
    help="Rollouts: a label moves to a new version by steps of its callers, and rolls itself "
    "back when its guard finds the new version worse.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)

LabelArg = Annotated[str, typer.Argument(help="The label (a slug).", show_default=False)]
Reason = Annotated[str | None, typer.Option("--reason", "-m", help="Why (kept with the event).")]


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _arm(name: str, version: str, sums: ArmSumsOut) -> list[str]:
    return [name, version, f"{sums.count:,}", _rate(sums.success_rate), _score(sums.mean_score)]


def _score(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"


def show(r: RolloutOut) -> None:
    def named(arm: Any) -> str:
        return f"#{arm.number}" if arm.number is not None else str(arm.version_id)

    steps = " → ".join(f"{s:g}%" for s in r.steps)
    console.print(
        f"{escape(r.prompt)} [bold]{escape(r.label)}[/]: rollout {r.id} "
        f"{named(r.baseline)} → {named(r.candidate)}, [bold]{r.status}[/] at "
        f"[bold]{r.percent:g}%[/] (step {r.step + 1} of {len(r.steps)}: {steps}); "
        f"started {relative(r.started_at)} by {escape(r.started_by)}"
    )
    table = Table("arm", "version", "outcomes", "success", "mean score")
    table.add_row(*_arm("baseline", named(r.baseline), r.baseline.outcomes))
    table.add_row(*_arm("candidate", named(r.candidate), r.candidate.outcomes))
    console.print(table)
    for j in r.judgements:
        if j.difference is None or j.low is None or j.high is None:
            line = f"{j.measure}: {j.verdict} ({j.candidate_n:,} / {j.baseline_n:,} outcomes)"
        else:
            line = (
                f"{j.measure}: [bold]{j.verdict}[/], candidate - baseline {j.difference:+.4f} "
                f"in [{j.low:+.4f}, {j.high:+.4f}] (margin {j.margin:g})"
            )
        console.print(line)
    if r.decision is not None:
        console.print(f"guard ({relative(r.decision.at)}): {escape(r.decision.why)}")


def read_plan(path: Path) -> dict[str, Any]:
    """A plan written as JSON (docs/rollouts.md)."""
    try:
        plan = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        raise typer.BadParameter(f"not JSON: {exc}", param_hint="--plan") from None
    if not isinstance(plan, dict):
        raise typer.BadParameter("a JSON object", param_hint="--plan")
    return plan


def _plan(
    steps: str,
    measure: list[str],
    max_drop: float | None,
    max_increase_ms: float | None,
    min_outcomes: int | None,
    confidence: float | None,
    minutes: int | None,
    outcomes: int | None,
    manual: bool,
    sticky: str | None,
    reason: str | None,
) -> dict[str, Any]:
    """The plan the options spell (the server checks it whole and names what is wrong)."""
    try:
        shares = [float(s) for s in steps.split(",") if s.strip()]
    except ValueError:
        shares = [math.nan]
    if not all(math.isfinite(s) for s in shares):
        raise typer.BadParameter("a comma-separated list of percentages", param_hint="--steps")
    guard: dict[str, Any] = {"measure": measure[0] if len(measure) == 1 else measure}
    optional = {
        "max_drop": max_drop,
        "max_increase_ms": max_increase_ms,
        "min_outcomes": min_outcomes,
        "confidence": confidence,
    }
    guard.update({k: v for k, v in optional.items() if v is not None})
    plan: dict[str, Any] = {
        "steps": [int(s) if s.is_integer() else s for s in shares],
        "guard": guard,
    }
    after = {"minutes": minutes, "outcomes": outcomes}
    if any(v is not None for v in after.values()):
        plan["step_after"] = {k: v for k, v in after.items() if v is not None}
    if manual:
        plan["advance"] = "manual"
    if sticky is not None:
        plan["sticky"] = sticky
    if reason is not None:
        plan["reason"] = reason
    return plan


@app.command("start")
@connected
def start(
    cli: Cli,
    name: Name,
    label: LabelArg,
    version: VersionArg,
    steps: Annotated[
        str, typer.Option(help="The candidate's shares in percent, the last 100.")
    ] = "5,25,50,100",
    measure: Annotated[
        list[str],
        typer.Option(help="success_rate, mean_score or latency_p95; repeat for several."),
    ] = ["success_rate"],  # noqa: B006 - typer reads the default, never mutates it
    max_drop: Annotated[
        float | None, typer.Option(help="Largest acceptable drop (0..1, absolute).")
    ] = None,
    max_increase_ms: Annotated[
        float | None, typer.Option(help="Largest acceptable p95 latency increase (ms).")
    ] = None,
    min_outcomes: Annotated[
        int | None, typer.Option(help="Outcomes per arm before the guard judges (200).")
    ] = None,
    confidence: Annotated[float | None, typer.Option(help="The guard's confidence (0.95).")] = None,
    minutes: Annotated[int | None, typer.Option(help="A step's least minutes (30).")] = None,
    outcomes: Annotated[
        int | None, typer.Option(help="A step's least candidate outcomes (0).")
    ] = None,
    manual: Annotated[bool, typer.Option("--manual", help="Wait for a person at each step.")] = (
        False
    ),
    sticky: Annotated[
        str | None, typer.Option(help="The attribute whose value is a caller's key (user_id).")
    ] = None,
    plan_file: Annotated[
        Path | None,
        typer.Option(
            "--plan",
            help="A JSON plan (docs/rollouts.md) instead of the options above.",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    reason: Reason = None,
    override_gate: Annotated[
        bool,
        typer.Option(
            "--override-gate",
            help="Start although the label's gate is not passed (admin; needs --reason).",
        ),
    ] = False,
) -> None:
    """Roll VERSION out on LABEL: its callers move to it by steps, judged by the guard."""
    if plan_file is not None:
        plan = read_plan(plan_file)
    else:
        plan = _plan(
            steps,
            measure,
            max_drop,
            max_increase_ms,
            min_outcomes,
            confidence,
            minutes,
            outcomes,
            manual,
            sticky,
            reason,
        )
    target = cli.client.get_version(name, version)
    started = cli.client.start_rollout(
        name, label, target.id, plan=plan, reason=reason, override_gate=override_gate
    )
    cli.show(started, show)


@app.command("status")
@connected
def status(cli: Cli, name: Name, label: LabelArg) -> None:
    """The label's rollout: share, step, outcomes per arm, the guard's judgement."""
    cli.show(cli.client.rollout(name, label), show)


def _control(action: str, doc: str) -> None:
    def control(cli: Cli, name: Name, label: LabelArg, reason: Reason = None) -> None:
        cli.show(getattr(cli.client, f"{action}_rollout")(name, label, reason=reason), show)

    control.__doc__ = doc
    control.__name__ = action
    app.command(action)(connected(control))


_control("pause", "Hold the share where it is (the guard still rolls a worse version back).")
_control("resume", "Resume a paused rollout.")
_control("advance", "The next share now; past the last below 100%, the label moves.")
_control("abort", "Stop: every caller back on the baseline (the label does not move).")

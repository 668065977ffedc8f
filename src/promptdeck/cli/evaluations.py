"""`promptdeck eval …` (run an evaluation and stop a pipeline when the candidate is worse) and
`promptdeck gates …` (what a label's candidate must pass). docs/evaluations.md.

`eval run` exits with a status a pipeline can act on:

    0  completed: the candidate is not worse than the baseline, every --min is met
    1  an error: the server refused the request or could not be reached
    2  a usage error (a missing or malformed option)
    3  the candidate is worse than the baseline (the paired comparison's verdict)
    4  a --min threshold is not met by the candidate
    5  the evaluation did not complete: cancelled, failed, or still running at --timeout
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from promptdeck.cli.context import Cli, connected
from promptdeck.cli.options import Name
from promptdeck.cli.output import console, err_console, stamp
from promptdeck.errors import InvalidInput
from promptdeck.schemas import EvaluationOut, GateCheckOut, GateOut

WORSE, UNMET, UNFINISHED = 3, 4, 5

app = typer.Typer(
    help="Evaluations: run a prompt's versions on a test set, judged by evaluators, and "
    "compare them (exit 3 when the candidate is worse).",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)
gates_app = typer.Typer(
    help="Gates: a label whose candidate must pass a test set before a deploy request moves "
    "it (admin to set or remove).",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)

EvaluationId = Annotated[int, typer.Argument(help="The evaluation's id.", show_default=False)]
Label = Annotated[str, typer.Argument(help="The label (production…).", show_default=False)]


def parse_minimums(items: list[str] | None) -> dict[str, float]:
    """``contains=0.9`` (repeat): the least pass rate per evaluator."""
    found: dict[str, float] = {}
    for item in items or ():
        name, sep, rate = item.partition("=")
        try:
            value = float(rate)
        except ValueError:
            value = -1.0
        if not sep or not name or not 0 <= value <= 1:
            raise InvalidInput(f"--min {item!r}: write NAME=RATE, a rate from 0 to 1", field="min")
        found[name] = value
    return found


def parse_evaluators(given: list[str] | None, path: Path | None) -> list[dict[str, Any]]:
    found: list[Any] = []
    for i, text in enumerate(given or ()):
        try:
            found.append(json.loads(text))
        except ValueError:
            raise InvalidInput(f"--evaluator {i + 1} is not JSON", field="evaluator") from None
    if path is not None:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))  # JSON is YAML too
        if not isinstance(loaded, list):
            raise InvalidInput(f"{path} must hold a list of evaluators", field="evaluators")
        found += loaded
    if not found:
        raise InvalidInput(
            'give --evaluator \'{"type": "contains", "value": "refund"}\' (repeat) or '
            "--evaluators FILE",
            field="evaluator",
        )
    return found


def candidate_rates(found: EvaluationOut) -> dict[str, float | None]:
    """The candidate's (the last version's) pass rate per evaluator, errors counted as not
    passed (as a gate counts them)."""
    if not found.summaries:
        return {}
    last = found.summaries[-1]
    return {
        e.name: (e.passed / (e.n + e.errors) if e.n + e.errors else None) for e in last.evaluators
    }


def unmet(found: EvaluationOut, minimums: dict[str, float]) -> list[str]:
    rates = candidate_rates(found)
    out = []
    for name, least in minimums.items():
        rate = rates.get(name)
        if rate is None or rate < least:
            shown = "no cases judged" if rate is None else f"{rate:.2f}"
            out.append(f"{name}: {shown} < {least:.2f}")
    return out


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def show_evaluation(found: EvaluationOut) -> None:
    versions = ", ".join(str(v) for v in found.version_ids)
    console.print(
        f"evaluation {found.id} of [bold]{escape(found.prompt)}[/]: versions {versions} on "
        f"{escape(found.test_set)} v{found.test_set_version}, [bold]{found.status}[/] "
        f"({found.progress.done}/{found.progress.total} items, {found.progress.failed} failed)"
    )
    if found.error:
        console.print(f"[red]{escape(found.error)}[/]")
    if not found.summaries:
        return
    table = Table(box=None, pad_edge=False)
    table.add_column("EVALUATOR")
    for s in found.summaries:
        table.add_column(f"v{s.version_id}", justify="right")
    if found.comparison is not None:
        for column in ("P", "VERDICT"):
            table.add_column(column, justify="right" if column == "P" else "left")
    tests = {
        c.evaluator: c
        for c in (found.comparison.comparisons if found.comparison else [])
        if c.measure == "pass_rate"
    }
    for i, e in enumerate(found.summaries[0].evaluators):
        row = [escape(e.name)] + [_rate(s.evaluators[i].pass_rate.value) for s in found.summaries]
        if found.comparison is not None:
            test = tests.get(e.name)
            p = test.p_adjusted if test and test.p_adjusted is not None else None
            row += ["-" if p is None else f"{p:.3f}", test.verdict if test else "-"]
        table.add_row(*row)
    latency = ["latency p50"] + [
        "-" if s.latency_p50_ms is None else f"{s.latency_p50_ms:.0f} ms" for s in found.summaries
    ]
    table.add_row(*latency, *([""] * (2 if found.comparison else 0)))
    if any(s.cost is not None for s in found.summaries):
        cost = ["cost"] + ["-" if s.cost is None else f"{s.cost:.4f}" for s in found.summaries]
        table.add_row(*cost, *([""] * (2 if found.comparison else 0)))
    console.print(table)
    if found.comparison is not None:
        style = {"better": "green", "worse": "bold red"}.get(found.comparison.verdict, "yellow")
        console.print(
            f"verdict: [{style}]{found.comparison.verdict}[/] ({escape(found.comparison.reason)})"
        )


def exit_status(found: EvaluationOut, minimums: dict[str, float]) -> tuple[int, str]:
    if found.status != "completed":
        return UNFINISHED, f"the evaluation is {found.status}"
    if found.verdict == "worse":
        return WORSE, "the candidate is worse than the baseline"
    missing = unmet(found, minimums)
    if missing:
        return UNMET, "under --min: " + "; ".join(missing)
    return 0, ""


@app.command("run")
@connected
def run(
    cli: Cli,
    name: Name,
    versions: Annotated[
        str,
        typer.Option(
            "--versions",
            "-v",
            help="Version ids or names, comma-separated: the baseline, then the candidate.",
            show_default=False,
        ),
    ],
    test_set: Annotated[
        str, typer.Option("--test-set", "-t", help="The test set to run on.", show_default=False)
    ],
    provider: Annotated[
        str | None, typer.Option("--provider", help="The model provider that runs the versions.")
    ] = None,
    model: Annotated[
        str | None, typer.Option("--model", help="One of the provider's models.")
    ] = None,
    evaluator: Annotated[
        list[str] | None,
        typer.Option(
            "--evaluator",
            "-e",
            help='An evaluator as JSON: {"type": "contains", "value": "refund"} (repeat).',
            show_default=False,
        ),
    ] = None,
    evaluators: Annotated[
        Path | None,
        typer.Option(
            "--evaluators",
            help="A JSON or YAML file: a list of evaluators.",
            exists=True,
            dir_okay=False,
            show_default=False,
        ),
    ] = None,
    minimum: Annotated[
        list[str] | None,
        typer.Option(
            "--min",
            help="NAME=RATE: the candidate's least pass rate for that evaluator (repeat); "
            "exit 4 when under it.",
            show_default=False,
        ),
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option(
            "--timeout", help="Seconds to wait for it (exit 5 past them).", show_default=False
        ),
    ] = None,
    poll: Annotated[float, typer.Option("--poll", help="Seconds between two looks.")] = 1.0,
) -> None:
    """Run versions of a prompt on a test set and wait for the verdict; exit 3 when the
    candidate (the last version) is worse than the baseline (the first)."""
    minimums = parse_minimums(minimum)
    configs = parse_evaluators(evaluator, evaluators)
    wanted: list[int | str] = [
        int(v) if v.strip().isdigit() else v.strip() for v in versions.split(",") if v.strip()
    ]
    started = cli.client.start_evaluation(
        name, wanted, test_set, configs, provider=provider, model=model
    )
    if cli.as_json:
        found = _wait(cli, started.id, poll, timeout)
    else:
        err_console.print(f"evaluation {started.id} started: /evaluations/{started.id}")
        columns = (
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=err_console) as bar:
            task = bar.add_task(f"evaluation {started.id}", total=_whole(started))

            def moved(now: EvaluationOut) -> None:
                done = now.progress.done + now.progress.reports_done
                bar.update(task, completed=done, description=f"evaluation {now.id} {now.status}")

            found = _wait(cli, started.id, poll, timeout, moved)
    code, why = exit_status(found, minimums)
    cli.show(found, show_evaluation)
    if code:
        if not cli.as_json:
            err_console.print(f"[bold red]exit {code}[/]: {escape(why)}")
        raise typer.Exit(code)


def _whole(found: EvaluationOut) -> int:
    return found.progress.total + found.progress.reports_total


def _wait(
    cli: Cli, evaluation_id: int, poll: float, timeout: float | None, moved: Any = None
) -> EvaluationOut:
    try:
        return cli.client.wait_evaluation(
            evaluation_id, poll=poll, timeout=timeout, on_progress=moved
        )
    except TimeoutError:
        return cli.client.get_evaluation(evaluation_id)


@app.command("show")
@connected
def show(cli: Cli, evaluation_id: EvaluationId) -> None:
    """An evaluation: status, progress, each version's pass rates, the verdict."""
    cli.show(cli.client.get_evaluation(evaluation_id), show_evaluation)


@app.command("list")
@connected
def list_(cli: Cli, name: Name) -> None:
    """A prompt's evaluations, newest first."""
    page = cli.client.list_evaluations(name, limit=50)

    def table(items: list[EvaluationOut]) -> None:
        t = Table(box=None, pad_edge=False)
        for column in ("ID", "VERSIONS", "TEST SET", "STATUS", "VERDICT", "CREATED"):
            t.add_column(column)
        for e in items:
            t.add_row(
                str(e.id),
                ",".join(str(v) for v in e.version_ids),
                f"{escape(e.test_set)} v{e.test_set_version}",
                e.status,
                e.verdict or "-",
                stamp(e.created_at),
            )
        console.print(t)

    cli.show(page.items, table)


@app.command("cancel")
@connected
def cancel(cli: Cli, evaluation_id: EvaluationId) -> None:
    """Cancel: nothing more is claimed; the cases already out finish."""
    found = cli.client.cancel_evaluation(evaluation_id)
    cli.show(found, f"evaluation {found.id} cancelled")


# --- gates -------------------------------------------------------------------------------------


def show_gates(items: list[GateOut]) -> None:
    t = Table(box=None, pad_edge=False)
    for column in ("LABEL", "TEST SET", "THRESHOLDS", "BY"):
        t.add_column(column)
    for g in items:
        rates = ", ".join(f"{k}>={v:g}" for k, v in g.thresholds.items()) or "not worse"
        t.add_row(escape(g.label), escape(g.test_set), escape(rates), escape(g.created_by))
    console.print(t)


def show_check(found: GateCheckOut) -> None:
    if not found.required:
        console.print(f"label {escape(found.label)} has no gate")
        return
    state = "[green]passed[/]" if found.passed else "[bold red]not passed[/]"
    via = f" (evaluation {found.evaluation_id})" if found.evaluation_id else ""
    console.print(
        f"version {found.version_id} to {escape(found.label)}: {state} on "
        f"{escape(found.test_set or '')} v{found.test_set_version}{via}"
    )
    for reason in found.reasons:
        console.print(f"  - {escape(reason)}")


@gates_app.command("set")
@connected
def set_gate(
    cli: Cli,
    name: Name,
    label: Label,
    test_set: Annotated[str, typer.Option("--test-set", "-t", help="The test set to pass.")],
    minimum: Annotated[
        list[str] | None,
        typer.Option(
            "--min",
            help="NAME=RATE: least pass rate for an evaluator (repeat).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Require a candidate to pass a test set (and be no worse than what the label serves)."""
    found = cli.client.set_gate(name, label, test_set, parse_minimums(minimum))
    cli.show(found, lambda g: show_gates([g]))


@gates_app.command("list")
@connected
def list_gates(cli: Cli, name: Name) -> None:
    """The prompt's gates."""
    cli.show(cli.client.list_gates(name), show_gates)


@gates_app.command("rm")
@connected
def remove_gate(cli: Cli, name: Name, label: Label) -> None:
    """Remove a label's gate."""
    cli.client.remove_gate(name, label)
    cli.show({"removed": label}, f"removed the gate of {escape(label)}")


@gates_app.command("check")
@connected
def check_gate(
    cli: Cli,
    name: Name,
    label: Label,
    version: Annotated[str, typer.Argument(help="The candidate: a version id or name.")],
) -> None:
    """Whether a version may go to the label now (exit 3 when not)."""
    found = cli.client.check_gate(name, label, int(version) if version.isdigit() else version)
    cli.show(found, show_check)
    if not found.passed:
        raise typer.Exit(WORSE)

"""`promptdeck impact NAME [--compare A B]`: what reported outcomes say about each version."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from promptdeck.cli.context import Cli, connected
from promptdeck.cli.options import Name
from promptdeck.cli.output import console, stamp
from promptdeck.schemas import ImpactOut, IntervalOut

VERDICT_STYLE = {"better": "green", "worse": "bold red", "inconclusive": "dim"}


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _ci(interval: IntervalOut, pct: bool) -> str:
    if interval.value is None:
        return "-"
    show = _pct if pct else (lambda v: "-" if v is None else f"{v:.3f}")
    if interval.low is None:
        return show(interval.value)
    return f"{show(interval.value)} [dim]({show(interval.low)} to {show(interval.high)})[/]"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


@connected
def impact(
    cli: Cli,
    name: Name,
    compare: Annotated[
        tuple[int, int] | None,
        typer.Option(
            "--compare", help="Two version ids A B: is B better, worse or not yet distinguishable?"
        ),
    ] = None,
    label: Annotated[
        str | None, typer.Option("--label", "-l", help="Periods of this label (default active).")
    ] = None,
    since: Annotated[str | None, typer.Option(help="From this time (ISO 8601 UTC).")] = None,
    until: Annotated[str | None, typer.Option(help="Up to this time (ISO 8601 UTC).")] = None,
) -> None:
    """Per version: outcomes, success rate and mean score with 95% intervals, latency
    p50/p95, tokens and cost; then the label's periods; with --compare, B against A."""
    found = cli.client.impact(name, since=since, until=until, label=label, compare=compare)
    cli.show(found, show_impact)


def show_impact(found: ImpactOut) -> None:
    table = Table(
        "version",
        "outcomes",
        "success (95% CI)",
        "score (95% CI)",
        "p50 ms",
        "p95 ms",
        "tokens in/out",
        "cost",
        title=f"{escape(found.prompt_name)}: impact by version",
    )
    for v in found.versions:
        table.add_row(
            f"{escape(v.version_name or '-')} (#{v.number}, id {v.version_id})",
            str(v.count),
            _ci(v.success_rate_ci, True),
            _ci(v.mean_score_ci, False),
            _ms(v.latency_p50_ms),
            _ms(v.latency_p95_ms),
            f"{v.input_tokens}/{v.output_tokens}",
            f"{v.cost:.4f}",
        )
    console.print(table)
    if found.periods:
        periods = Table(
            "from",
            "to",
            "version",
            "outcomes",
            "success",
            "by",
            title=f"periods of label {escape(found.label)}",
        )
        for p in found.periods:
            periods.add_row(
                stamp(p.start),
                stamp(p.end) if p.end else "now",
                str(p.version_id),
                str(p.count),
                _pct(p.success_rate),
                escape(p.actor),
            )
        console.print(periods)
    if found.comparisons and found.compare:
        a, b = found.compare
        verdicts = Table(
            "measure",
            f"A (id {a})",
            f"B (id {b})",
            "B is",
            "test",
            "p-value",
            title=f"version {b} against version {a}",
        )
        for m in found.comparisons:
            style = VERDICT_STYLE[m.verdict]
            verdicts.add_row(
                m.measure,
                "-" if m.a is None else f"{m.a:.4g}",
                "-" if m.b is None else f"{m.b:.4g}",
                f"[{style}]{m.verdict}[/]",
                m.test,
                "-" if m.p_value is None else f"{m.p_value:.3g}",
            )
        console.print(verdicts)

"""`promptdeck test-sets …`: named, versioned collections of cases for a prompt
(docs/evaluations.md, "Test sets")."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from promptdeck.cli.context import Cli, connected
from promptdeck.cli.output import console, stamp
from promptdeck.errors import InvalidInput
from promptdeck.schemas import TestCaseOut, TestSetOut

app = typer.Typer(
    help="Test sets: cases (variables, expected answer, metadata) that evaluations run a "
    "prompt's versions on. Adding cases makes a new version of the set.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)

SetName = Annotated[str, typer.Argument(help="The test set's name (a slug).", show_default=False)]
Prompt = Annotated[str, typer.Option("--prompt", "-p", help="The prompt it belongs to.")]
CaseOption = Annotated[
    list[str] | None,
    typer.Option(
        "--case",
        "-c",
        help='A case as JSON: {"variables": {...}, "expected": ..., "metadata": {...}} (repeat).',
        show_default=False,
    ),
]
FileOption = Annotated[
    Path | None,
    typer.Option(
        "--file",
        "-f",
        help="Cases from a file: JSONL (a case a line) or CSV (docs/evaluations.md).",
        show_default=False,
        exists=True,
        dir_okay=False,
    ),
]
Format = Annotated[
    str | None, typer.Option("--format", help="jsonl or csv (default: from the file's extension).")
]
Description = Annotated[str | None, typer.Option("--description", "-d", help="What it holds.")]


def _cases(cases: list[str] | None) -> list[dict[str, Any]]:
    found = []
    for i, text in enumerate(cases or ()):
        try:
            found.append(json.loads(text))
        except ValueError:
            raise InvalidInput(f"--case {i + 1} is not JSON", field="case") from None
    return found


def _file(path: Path | None, fmt: str | None) -> tuple[str | None, str | None]:
    if path is None:
        return None, None
    return path.read_text(encoding="utf-8"), fmt or (
        "csv" if path.suffix.lower() == ".csv" else "jsonl"
    )


def _source(cases: list[str] | None, path: Path | None, fmt: str | None) -> dict[str, Any]:
    if bool(cases) == (path is not None):
        raise InvalidInput("give --case (one or more) or --file, not both", field="case")
    data, found = _file(path, fmt)
    return {"cases": _cases(cases) if cases else None, "data": data, "format": found}


def show_set(found: TestSetOut) -> None:
    console.print(
        f"test set [bold]{escape(found.name)}[/] of {escape(found.prompt)}: version "
        f"{found.version}, {found.case_count} cases"
    )
    if found.versions:
        table = Table(box=None, pad_edge=False)
        for column in ("VERSION", "CASES", "ADDED", "BY", "WHEN", "DESCRIPTION"):
            table.add_column(column)
        for v in found.versions:
            table.add_row(
                str(v.number),
                str(v.case_count),
                f"+{v.added}",
                escape(v.created_by),
                stamp(v.created_at),
                escape(v.description),
            )
        console.print(table)


@app.command("create")
@connected
def create(
    cli: Cli,
    name: SetName,
    prompt: Prompt,
    case: CaseOption = None,
    file: FileOption = None,
    format: Format = None,
    description: Description = None,
) -> None:
    """Create a test set of a prompt with its first cases (its version 1)."""
    source = _source(case, file, format)
    made = cli.client.create_test_set(name, prompt, description=description, **source)
    cli.show(made, show_set)


@app.command("add")
@connected
def add(
    cli: Cli,
    name: SetName,
    case: CaseOption = None,
    file: FileOption = None,
    format: Format = None,
    description: Description = None,
) -> None:
    """Add cases: the set's next version (its cases and these)."""
    source = _source(case, file, format)
    cli.show(cli.client.add_cases(name, description=description, **source), show_set)


@app.command("import")
@connected
def import_(
    cli: Cli,
    name: SetName,
    file: Annotated[
        Path,
        typer.Argument(
            help="A JSONL file (a case a line) or a CSV file (a header row; docs/evaluations.md).",
            exists=True,
            dir_okay=False,
            show_default=False,
        ),
    ],
    prompt: Annotated[
        str | None,
        typer.Option("--prompt", "-p", help="Create the set for this prompt if it does not exist."),
    ] = None,
    format: Format = None,
    description: Description = None,
) -> None:
    """Import cases from a file: a new version of the set (created with --prompt if new)."""
    data, fmt = _file(file, format)
    if prompt is not None and not any(s.name == name for s in cli.client.iter_test_sets()):
        made = cli.client.create_test_set(
            name, prompt, data=data, format=fmt, description=description
        )
    else:
        made = cli.client.add_cases(name, data=data, format=fmt, description=description)
    cli.show(made, show_set)


@app.command("list")
@connected
def list_(
    cli: Cli,
    prompt: Annotated[
        str | None, typer.Option("--prompt", "-p", help="Only this prompt's.")
    ] = None,
) -> None:
    """Test sets: name, prompt, newest version, cases."""
    items = list(cli.client.iter_test_sets(prompt=prompt))

    def table(items: list[TestSetOut]) -> None:
        t = Table(box=None, pad_edge=False)
        for column in ("NAME", "PROMPT", "VERSION", "CASES", "UPDATED"):
            t.add_column(column)
        for s in items:
            t.add_row(
                escape(s.name),
                escape(s.prompt),
                str(s.version),
                str(s.case_count),
                stamp(s.updated_at),
            )
        console.print(t)

    cli.show(items, table)


@app.command("show")
@connected
def show(
    cli: Cli,
    name: SetName,
    cases: Annotated[bool, typer.Option("--cases", help="List the cases too.")] = False,
    version: Annotated[
        int | None, typer.Option("--version", help="The version whose cases to list.")
    ] = None,
) -> None:
    """A test set with its versions (and, with --cases, its cases)."""
    found = cli.client.get_test_set(name)
    if not cases:
        cli.show(found, show_set)
        return
    listed = list(cli.client.iter_cases(name, version=version))

    def table(listed: list[TestCaseOut]) -> None:
        show_set(found)
        t = Table(box=None, pad_edge=False)
        for column in ("#", "VARIABLES", "EXPECTED", "ADDED IN"):
            t.add_column(column)
        for c in listed:
            t.add_row(
                str(c.position),
                escape(json.dumps(c.variables, ensure_ascii=False)[:80]),
                escape(json.dumps(c.expected, ensure_ascii=False)[:40]),
                str(c.added_in),
            )
        console.print(t)

    cli.show(listed, table)

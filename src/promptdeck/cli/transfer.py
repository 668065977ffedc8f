"""`promptdeck export` and `promptdeck import`: whole histories as JSON or YAML files."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
import yaml
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from promptdeck.cli.output import (
    DEFAULT_URL,
    ApiKey,
    Json,
    Url,
    api_command,
    client,
    console,
    err_console,
    fail,
    print_json,
)
from promptdeck.errors import PromptdeckError
from promptdeck.schemas import PromptRecord

FILE_FORMAT = "promptdeck-export"
FILE_VERSION = 1
Format = Literal["json", "yaml"]


def format_of(path: str, given: str | None) -> Format:
    if given:
        if given not in ("json", "yaml"):
            raise typer.BadParameter("json or yaml", param_hint="--format")
        return "yaml" if given == "yaml" else "json"
    return "yaml" if path.endswith((".yaml", ".yml")) else "json"


class _Dumper(yaml.SafeDumper):
    """Multi-line text as readable literal blocks."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value and not value.endswith((" ", "\t")) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def dump(document: dict[str, Any], fmt: Format) -> str:
    if fmt == "yaml":
        text = yaml.dump(document, Dumper=_Dumper, sort_keys=True, allow_unicode=True, width=100)
        return str(text)
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def load(text: str) -> dict[str, Any]:
    try:
        document = json.loads(text)
    except ValueError:
        try:
            document = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise typer.BadParameter(f"neither JSON nor YAML: {exc}") from exc
    if not isinstance(document, dict) or document.get("format") != FILE_FORMAT:
        raise typer.BadParameter(f"not a promptdeck export (no format: {FILE_FORMAT})")
    return document


@contextmanager
def progress(total: int | None, what: str) -> Iterator[Progress]:
    """A progress bar on stderr, shown on a terminal only."""
    bar = Progress(
        TextColumn(what),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal or (total is not None and total < 2),
    )
    with bar:
        bar.add_task("", total=total)
        yield bar


@api_command
def export(
    names: Annotated[
        list[str] | None,
        typer.Argument(help="Prompts to export (default: every prompt).", show_default=False),
    ] = None,
    output: Annotated[
        str, typer.Option("--output", "-o", help="The file to write ('-': standard output).")
    ] = "-",
    fmt: Annotated[
        str | None,
        typer.Option("--format", help="json or yaml (default: from the file name, else json)."),
    ] = None,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Export prompts with their whole history, as JSON or YAML.

    Every version in full with its metadata, which one is active, and the events: a backup
    that `promptdeck import` restores exactly. A progress bar shows on a terminal.
    """
    chosen = format_of(output, fmt)
    records: list[dict[str, Any]] = []
    with client(url, api_key) as c:
        if names:
            with progress(len(names), "exporting") as bar:
                for name in names:
                    bar.update(bar.task_ids[0], description=name)
                    records.append(c.export_prompt(name).model_dump(mode="json", by_alias=True))
                    bar.advance(bar.task_ids[0])
        else:  # everything, soft-deleted prompts included: a backup of the whole server
            with progress(None, "exporting") as bar:
                for record in c.iter_export():
                    bar.update(bar.task_ids[0], description=record.name)
                    records.append(record.model_dump(mode="json", by_alias=True))
                    bar.advance(bar.task_ids[0])
    records.sort(key=lambda r: str(r["name"]))
    document = {"format": FILE_FORMAT, "version": FILE_VERSION, "prompts": records}
    text = dump(document, chosen)
    if output == "-":
        sys.stdout.write(text)
    else:
        Path(output).write_text(text, encoding="utf-8")
        versions = sum(len(r["versions"]) for r in records)
        err_console.print(f"exported {len(records)} prompts ({versions} versions) to {output}")


@api_command
def import_(
    file: Annotated[str, typer.Argument(help="An export file ('-': standard input).")],
    as_json: Json = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Import an export file (JSON or YAML) into the server.

    Prompts that are not on the server are written exactly as exported (version numbers,
    names, times, authors, active version, events); identical ones are left alone, so
    importing twice is harmless. A prompt that exists with a different history is an error
    (exit 1); the others are still imported.
    """
    try:
        text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
    except OSError as exc:
        raise typer.BadParameter(f"cannot read {file}: {exc.strerror}") from exc
    document = load(text)
    records = [PromptRecord.model_validate(r) for r in document.get("prompts") or []]
    results: list[dict[str, Any]] = []
    failures: list[PromptdeckError] = []
    with client(url, api_key) as c, progress(len(records), "importing") as bar:
        for record in records:
            bar.update(bar.task_ids[0], description=record.name)
            try:
                out = c.import_prompt(record)
                results.append({"name": record.name, "created": out.created})
            except PromptdeckError as exc:
                failures.append(exc)
                results.append({"name": record.name, "error": exc.title, "detail": exc.detail})
            bar.advance(bar.task_ids[0])
    if as_json:
        print_json(results)
    else:
        created = sum(1 for r in results if r.get("created"))
        same = sum(1 for r in results if r.get("created") is False)
        console.print(f"imported {created} prompts; {same} already identical")
    if failures:
        if len(failures) > 1:
            for earlier in failures[:-1]:
                err_console.print(f"[red]{earlier.title}[/]: {earlier.detail}")
        fail(failures[-1])

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
from pydantic import ValidationError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from promptdeck.cli.context import Cli, connected
from promptdeck.cli.output import err_console, fail
from promptdeck.domain import history
from promptdeck.errors import PromptdeckError
from promptdeck.schemas import PromptImport, PromptRecord

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


class StrictLoader(yaml.SafeLoader):
    """YAML without aliases (a few hundred bytes of nested aliases expand to gigabytes)
    and without duplicate keys (which one would win is not what the writer meant)."""

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(
                None, None, "aliases (*name) are not accepted in an import file", event.start_mark
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def load(text: str) -> dict[str, Any]:
    try:
        document = json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except RecursionError as exc:
        raise typer.BadParameter("JSON nested too deep") from exc
    except ValueError as exc:
        if text.lstrip().startswith(("{", "[")):
            raise typer.BadParameter(f"not valid JSON: {exc}") from exc
        try:
            document = yaml.load(text, Loader=StrictLoader)
        except (yaml.YAMLError, RecursionError) as exc:
            raise typer.BadParameter(f"neither JSON nor YAML: {exc}") from exc
    if not isinstance(document, dict) or document.get("format") != FILE_FORMAT:
        raise typer.BadParameter(f"not a promptdeck export (no format: {FILE_FORMAT})")
    return document


def checked_records(document: dict[str, Any]) -> list[PromptImport]:
    """Every record checked by the server's own rules before any is sent: a file with one
    bad record imports nothing, and the error names the record and the field."""
    records: list[PromptImport] = []
    prompts = document.get("prompts") or []
    if not isinstance(prompts, list):
        raise typer.BadParameter("'prompts' must be a list")
    for i, raw in enumerate(prompts):
        label = f"prompts[{i}]" + (f" ({raw.get('name')!r})" if isinstance(raw, dict) else "")
        try:
            record = PromptImport.model_validate(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise typer.BadParameter(f"{label}: {where}: {first['msg']}") from exc
        found = history.problem(record.to_record())
        if found is not None:
            raise typer.BadParameter(f"{label}: {found[0]}: {found[1]}")
        records.append(record)
    return records


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


@connected(json=False)  # --format says what to write
def export(
    cli: Cli,
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
) -> None:
    """Export prompts with their whole history, as JSON or YAML.

    Every version in full with its metadata, which one is active, and the events: a backup
    that `promptdeck import` restores exactly. A progress bar shows on a terminal.
    """
    chosen = format_of(output, fmt)
    records: list[dict[str, Any]] = []
    # Everything by default, soft-deleted prompts included: a backup of the whole server.
    found = (cli.client.export_prompt(n) for n in names) if names else cli.client.iter_export()
    with progress(len(names) if names else None, "exporting") as bar:
        for record in found:
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


@connected
def import_(
    cli: Cli,
    file: Annotated[str, typer.Argument(help="An export file ('-': standard input).")],
) -> None:
    """Import an export file (JSON or YAML) into the server.

    Prompts that are not on the server are written exactly as exported (version numbers,
    names, times, authors, active version, events); identical ones are left alone, so
    importing twice is harmless. Every record is checked by the server's rules first: a
    file with one bad record imports nothing (exit 2, naming the record and the field).
    A prompt that exists with a different history is an error (exit 1); the others are
    still imported. YAML aliases and keys given twice are refused.
    """
    try:
        text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
    except OSError as exc:
        raise typer.BadParameter(f"cannot read {file}: {exc.strerror}") from exc
    document = load(text)
    records = checked_records(document)
    results: list[dict[str, Any]] = []
    failures: list[PromptdeckError] = []
    with progress(len(records), "importing") as bar:
        for record in records:
            bar.update(bar.task_ids[0], description=record.name)
            try:
                out = cli.client.import_prompt(PromptRecord.model_validate(record.to_record()))
                results.append({"name": record.name, "created": out.created})
            except PromptdeckError as exc:
                failures.append(exc)
                results.append({"name": record.name, "error": exc.title, "detail": exc.detail})
            bar.advance(bar.task_ids[0])
    created = sum(1 for r in results if r.get("created"))
    same = sum(1 for r in results if r.get("created") is False)
    cli.show(results, f"imported {created} prompts; {same} already identical")
    if failures:
        if len(failures) > 1:
            for earlier in failures[:-1]:
                err_console.print(f"[red]{earlier.title}[/]: {earlier.detail}")
        fail(failures[-1])

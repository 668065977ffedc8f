"""`promptdeck prompts …`: list, create, show, edit, delete, restore, purge, storage."""

from __future__ import annotations

import json
from itertools import islice
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from promptdeck.cli.content import (
    ContentOpt,
    EditorOpt,
    FileOpt,
    from_editor,
    read_content,
    stdin_is_piped,
)
from promptdeck.cli.context import Cli, connected
from promptdeck.cli.options import ModelConfig, Name, Yes
from promptdeck.cli.output import console, relative, stamp
from promptdeck.schemas import PromptOut, StorageOut

app = typer.Typer(
    help="Create, read, edit and delete prompts.", no_args_is_help=True, rich_markup_mode="markdown"
)

Tags = Annotated[
    list[str] | None,
    typer.Option("--tag", "-t", help="A tag (repeat for several).", show_default=False),
]
MaxVersions = Annotated[
    int | None,
    typer.Option(
        "--max-versions",
        min=1,
        help="Keep at most this many versions unarchived; older ones (never the active one) "
        "are archived.",
        show_default=False,
    ),
]


def show_prompt(prompt: PromptOut) -> None:
    active = prompt.active_version
    lines = [
        f"[bold]{escape(prompt.name)}[/]  (id {prompt.id}, ETag {prompt.etag})",
        f"description: {escape(prompt.description) or '-'}",
        f"tags: {', '.join(prompt.tags) or '-'}",
        f"versions: {prompt.version_count}"
        + (f" (max {prompt.max_versions})" if prompt.max_versions else ""),
        (
            f"active: [green]{escape(active.version_name)}[/] (#{active.number}, id {active.id}, "
            f"{relative(active.created_at)} by {escape(active.created_by)})"
            if active
            else "active: -"
        ),
        f"model_config: {json.dumps(prompt.llm_config, ensure_ascii=False)}",
        f"updated: {stamp(prompt.updated_at)} ({relative(prompt.updated_at)})",
    ]
    console.print("\n".join(lines))
    console.print(Panel(escape(prompt.content), title="working copy", title_align="left"))


@app.command("list")
@connected
def list_prompts(
    cli: Cli,
    q: Annotated[
        str | None, typer.Option("--search", "-q", help="Text in name or description.")
    ] = None,
    tag: Annotated[
        str | None, typer.Option("--tag", "-t", help="Only prompts with this tag.")
    ] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="At most this many.")] = None,
    deleted: Annotated[
        bool,
        typer.Option("--deleted", help="List deleted prompts instead, with when each was deleted."),
    ] = False,
) -> None:
    """List prompts (oldest first) with their active version.

    With --deleted, only the deleted ones: `promptdeck prompts restore NAME` brings one back.
    """
    items = list(islice(cli.client.iter_prompts(q=q, tag=tag, deleted=deleted), limit))
    cli.show(items, lambda items: show_prompts(items, deleted))


def show_prompts(items: list[PromptOut], deleted: bool) -> None:
    if not items:
        console.print("no deleted prompts" if deleted else "no prompts")
        return
    table = Table(
        "NAME", "ACTIVE VERSION", "VERSIONS", "TAGS", "DELETED" if deleted else "UPDATED", box=None
    )
    for p in items:
        active = p.active_version
        table.add_row(
            escape(p.name),
            f"{escape(active.version_name)} (#{active.number})" if active else "-",
            str(p.version_count),
            ", ".join(p.tags),
            relative(p.deleted_at or p.updated_at),
        )
    console.print(table)


@app.command("create")
@connected
def create(
    cli: Cli,
    name: Name,
    file: FileOpt = None,
    content: ContentOpt = None,
    editor: EditorOpt = False,
    description: Annotated[str, typer.Option("--description", "-d", help="What it is for.")] = "",
    tags: Tags = None,
    model_config: ModelConfig = None,
    version_name: Annotated[
        str | None, typer.Option("--version-name", "-n", help="Name of the first version.")
    ] = None,
    version_description: Annotated[
        str, typer.Option("--version-description", "-m", help="Description of the first version.")
    ] = "",
    max_versions: MaxVersions = None,
) -> None:
    """Create a prompt and its first (active) version.

    The content comes from --file, --content, standard input when it is piped, or else
    $EDITOR.
    """
    text = read_content(file, content, editor)
    if text is None:
        text = from_editor("") if not stdin_is_piped() else typer.get_text_stream("stdin").read()
    prompt = cli.client.create_prompt(
        name,
        text,
        description=description,
        tags=tags,
        model_config=model_config,
        version_name=version_name,
        version_description=version_description,
        max_versions=max_versions,
    )
    active = prompt.active_version
    cli.show(
        prompt,
        f"created prompt [bold]{escape(prompt.name)}[/] (id {prompt.id}), active version "
        f"{escape(active.version_name) if active else '-'}",
    )


@app.command("show")
@connected
def show(cli: Cli, name: Name) -> None:
    """Show a prompt: metadata, active version, working copy."""
    cli.show(cli.client.get_prompt(name), show_prompt)


@app.command("edit")
@connected
def edit(
    cli: Cli,
    name: Name,
    file: FileOpt = None,
    content: ContentOpt = None,
    editor: EditorOpt = False,
    description: Annotated[
        str | None, typer.Option("--description", "-d", help="New description.")
    ] = None,
    tags: Tags = None,
    model_config: ModelConfig = None,
    max_versions: MaxVersions = None,
    unlimited: Annotated[
        bool, typer.Option("--unlimited", help="Remove the --max-versions limit.")
    ] = False,
) -> None:
    """Edit a prompt's metadata or working copy (not a version: see `versions create`).

    With no option, the working copy is read from standard input when it is piped, or else
    edited in $EDITOR. The edit is refused if someone else changed the prompt meanwhile. A
    lower --max-versions archives the oldest versions at once.
    """
    if unlimited and max_versions is not None:
        raise typer.BadParameter("give --max-versions or --unlimited, not both")
    prompt = cli.client.get_prompt(name)
    text = read_content(file, content, editor, initial=prompt.content)
    nothing = not unlimited and all(
        v is None for v in (description, tags, model_config, max_versions)
    )
    if text is None and nothing:
        if stdin_is_piped():
            text = typer.get_text_stream("stdin").read()
        else:
            text = from_editor(prompt.content)
    given = {
        "content": text,
        "description": description,
        "tags": tags,
        "model_config": model_config,
        "max_versions": max_versions,
    }
    changes: dict[str, Any] = {k: v for k, v in given.items() if v is not None}
    if unlimited:
        changes["max_versions"] = None
    updated = cli.client.update_prompt(prompt.id, if_match=prompt.etag, **changes)
    what = "changed" if updated.etag != prompt.etag else "unchanged"
    cli.show(updated, f"prompt [bold]{escape(updated.name)}[/] {what}")


@app.command("delete")
@connected
def delete(cli: Cli, name: Name) -> None:
    """Delete a prompt (soft: it keeps every version and `restore` brings it back)."""
    cli.client.delete_prompt(name)
    cli.show(
        {"deleted": name},
        f"deleted prompt [bold]{escape(name)}[/] "
        f"(undo: `promptdeck prompts restore {escape(name)}`)",
    )


@app.command("restore")
@connected
def restore(cli: Cli, name: Name) -> None:
    """Undo a delete."""
    prompt = cli.client.restore_prompt(name)
    cli.show(prompt, f"restored prompt [bold]{escape(prompt.name)}[/]")


@app.command("purge")
@connected
def purge(cli: Cli, name: Name, yes: Yes = False) -> None:
    """Erase a deleted prompt for good, with all its versions and history."""
    if not yes:
        typer.confirm(f"Erase {name} and all its history for good?", abort=True)
    cli.client.purge_prompt(name)
    cli.show({"purged": name}, f"purged prompt [bold]{escape(name)}[/]")


def size(n: int) -> str:
    """Bytes for people: 512 B, 4.2 KB, 1.3 MB."""
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{n} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError  # pragma: no cover


@app.command("storage")
@connected
def storage(cli: Cli, name: Name) -> None:
    """How much a prompt's history takes: versions, archived and purged ones, distinct
    contents, raw bytes and bytes as stored (compressed, deltas)."""
    cli.show(cli.client.get_storage(name), show_storage)


def show_storage(report: StorageOut) -> None:
    share = (
        f" ({100 * report.stored_bytes / report.raw_bytes:.0f}% of raw)" if report.raw_bytes else ""
    )
    console.print(
        f"versions: {report.versions} ({report.archived} archived, {report.purged} purged)\n"
        f"distinct contents: {report.blobs}\n"
        f"raw: {size(report.raw_bytes)}\n"
        f"stored: {size(report.stored_bytes)}{share}"
    )

"""`promptdeck prompts …`: list, create, show, edit, delete, restore, purge, storage."""

from __future__ import annotations

import json
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
from promptdeck.cli.options import DEFAULT_URL, Actor, ApiKey, Json, Name, Url, Yes
from promptdeck.cli.output import (
    api_command,
    client,
    console,
    print_json,
    relative,
    stamp,
)
from promptdeck.schemas import PromptOut

app = typer.Typer(
    help="Create, read, edit and delete prompts.", no_args_is_help=True, rich_markup_mode="markdown"
)

Tags = Annotated[
    list[str] | None,
    typer.Option("--tag", "-t", help="A tag (repeat for several).", show_default=False),
]
ModelConfig = Annotated[
    str | None,
    typer.Option(
        "--model-config",
        help='Model settings as a JSON object, e.g. \'{"model": "gpt-4o", "temperature": 0.2}\'.',
        show_default=False,
    ),
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


def parse_model_config(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise typer.BadParameter(f"not JSON: {exc}", param_hint="--model-config") from exc
    if not isinstance(value, dict):
        raise typer.BadParameter("must be a JSON object", param_hint="--model-config")
    return value


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
@api_command
def list_prompts(
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
    as_json: Json = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """List prompts (oldest first) with their active version.

    With --deleted, only the deleted ones: `promptdeck prompts restore NAME` brings one back.
    """
    with client(url, api_key) as c:
        items = []
        for prompt in c.iter_prompts(q=q, tag=tag, deleted=deleted):
            items.append(prompt)
            if limit is not None and len(items) >= limit:
                break
    if as_json:
        print_json(items)
        return
    when = "DELETED" if deleted else "UPDATED"
    table = Table("NAME", "ACTIVE VERSION", "VERSIONS", "TAGS", when, box=None)
    for p in items:
        active = p.active_version
        table.add_row(
            escape(p.name),
            f"{escape(active.version_name)} (#{active.number})" if active else "-",
            str(p.version_count),
            ", ".join(p.tags),
            relative(p.deleted_at or p.updated_at),
        )
    console.print(table if items else ("no deleted prompts" if deleted else "no prompts"))


@app.command("create")
@api_command
def create(
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
    as_json: Json = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
    actor: Actor = None,
) -> None:
    """Create a prompt and its first (active) version.

    The content comes from --file, --content, standard input when it is piped, or else
    $EDITOR.
    """
    text = read_content(file, content, editor)
    if text is None:
        text = from_editor("") if not stdin_is_piped() else typer.get_text_stream("stdin").read()
    with client(url, api_key, actor) as c:
        prompt = c.create_prompt(
            name,
            text,
            description=description,
            tags=tags,
            model_config=parse_model_config(model_config),
            version_name=version_name,
            version_description=version_description,
            max_versions=max_versions,
        )
    if as_json:
        print_json(prompt)
    else:
        active = prompt.active_version
        console.print(
            f"created prompt [bold]{escape(prompt.name)}[/] (id {prompt.id}), active version "
            f"{escape(active.version_name) if active else '-'}"
        )


@app.command("show")
@api_command
def show(name: Name, as_json: Json = False, url: Url = DEFAULT_URL, api_key: ApiKey = None) -> None:
    """Show a prompt: metadata, active version, working copy."""
    with client(url, api_key) as c:
        prompt = c.get_prompt(name)
    if as_json:
        print_json(prompt)
    else:
        show_prompt(prompt)


@app.command("edit")
@api_command
def edit(
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
    as_json: Json = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
    actor: Actor = None,
) -> None:
    """Edit a prompt's metadata or working copy (not a version: see `versions create`).

    With no option, the working copy is read from standard input when it is piped, or else
    edited in $EDITOR. The edit is refused if someone else changed the prompt meanwhile. A
    lower --max-versions archives the oldest versions at once.
    """
    if unlimited and max_versions is not None:
        raise typer.BadParameter("give --max-versions or --unlimited, not both")
    with client(url, api_key, actor) as c:
        prompt = c.get_prompt(name)
        text = read_content(file, content, editor, initial=prompt.content)
        nothing = not unlimited and all(
            v is None for v in (description, tags, model_config, max_versions)
        )
        if text is None and nothing:
            if stdin_is_piped():
                text = typer.get_text_stream("stdin").read()
            else:
                text = from_editor(prompt.content)
        changes: dict[str, Any] = {}
        if text is not None:
            changes["content"] = text
        if description is not None:
            changes["description"] = description
        if tags is not None:
            changes["tags"] = tags
        if model_config is not None:
            changes["model_config"] = parse_model_config(model_config)
        if max_versions is not None:
            changes["max_versions"] = max_versions
        if unlimited:
            changes["max_versions"] = None
        updated = c.update_prompt(prompt.id, if_match=prompt.etag, **changes)
    if as_json:
        print_json(updated)
    else:
        what = "changed" if updated.etag != prompt.etag else "unchanged"
        console.print(f"prompt [bold]{escape(updated.name)}[/] {what}")


@app.command("delete")
@api_command
def delete(
    name: Name,
    as_json: Json = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
    actor: Actor = None,
) -> None:
    """Delete a prompt (soft: it keeps every version and `restore` brings it back)."""
    with client(url, api_key, actor) as c:
        c.delete_prompt(name)
    if as_json:
        print_json({"deleted": name})
    else:
        console.print(
            f"deleted prompt [bold]{escape(name)}[/] "
            f"(undo: `promptdeck prompts restore {escape(name)}`)"
        )


@app.command("restore")
@api_command
def restore(
    name: Name,
    as_json: Json = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
    actor: Actor = None,
) -> None:
    """Undo a delete."""
    with client(url, api_key, actor) as c:
        prompt = c.restore_prompt(name)
    if as_json:
        print_json(prompt)
    else:
        console.print(f"restored prompt [bold]{escape(prompt.name)}[/]")


@app.command("purge")
@api_command
def purge(
    name: Name,
    yes: Yes = False,
    as_json: Json = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Erase a deleted prompt for good, with all its versions and history."""
    if not yes:
        typer.confirm(f"Erase {name} and all its history for good?", abort=True)
    with client(url, api_key) as c:
        c.purge_prompt(name)
    if as_json:
        print_json({"purged": name})
    else:
        console.print(f"purged prompt [bold]{escape(name)}[/]")


def size(n: int) -> str:
    """Bytes for people: 512 B, 4.2 KB, 1.3 MB."""
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{n} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError  # pragma: no cover


@app.command("storage")
@api_command
def storage(
    name: Name, as_json: Json = False, url: Url = DEFAULT_URL, api_key: ApiKey = None
) -> None:
    """How much a prompt's history takes: versions, archived and purged ones, distinct
    contents, raw bytes and bytes as stored (compressed, deltas)."""
    with client(url, api_key) as c:
        report = c.get_storage(name)
    if as_json:
        print_json(report)
        return
    share = (
        f" ({100 * report.stored_bytes / report.raw_bytes:.0f}% of raw)" if report.raw_bytes else ""
    )
    console.print(
        f"versions: {report.versions} ({report.archived} archived, {report.purged} purged)\n"
        f"distinct contents: {report.blobs}\n"
        f"raw: {size(report.raw_bytes)}\n"
        f"stored: {size(report.stored_bytes)}{share}"
    )

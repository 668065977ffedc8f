"""`promptdeck versions …` and `promptdeck log`: history, snapshots, rollback, diff."""

from __future__ import annotations

import difflib
import json
from typing import Annotated

import typer
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from promptdeck.cli.content import ContentOpt, EditorOpt, FileOpt, read_content
from promptdeck.cli.options import DEFAULT_URL, Actor, ApiKey, Json, Limit, Name, Url, Yes
from promptdeck.cli.output import (
    api_command,
    client,
    console,
    print_json,
    relative,
    stamp,
)
from promptdeck.cli.prompts import ModelConfig, parse_model_config
from promptdeck.client import Client
from promptdeck.domain.refs import EventKind
from promptdeck.errors import NotFound
from promptdeck.schemas import EventOut, VersionOut, VersionSummaryOut

app = typer.Typer(
    help="Versions of a prompt: history, snapshots, rollback, diff, archive, purge.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)

VersionRef = Annotated[
    str,
    typer.Argument(help="A version id or version name.", show_default=False),
]


def state(version: VersionSummaryOut) -> str:
    """ "purged", "archived" or "" (Rich markup)."""
    if version.purged:
        return "[red]purged[/]"
    if version.archived:
        return "[yellow]archived[/]"
    return ""


def show_version(version: VersionOut) -> None:
    flags = [f for f in ("[green]active[/]" if version.active else "", state(version)) if f]
    flag = f" ({', '.join(flags)})" if flags else ""
    lines = [
        f"[bold]{escape(version.version_name)}[/]{flag}  #{version.number}, id {version.id}",
        f"created: {stamp(version.created_at)} ({relative(version.created_at)}) "
        f"by {escape(version.created_by)}",
        f"description: {escape(version.description) or '-'}",
    ]
    if version.purged and version.purged_at is not None:
        lines.append(
            f"purged: {stamp(version.purged_at)} ({relative(version.purged_at)}) "
            f"by {escape(version.purged_by or '-')}: {escape(version.purge_reason or '-')}"
        )
    elif version.archived and version.archived_at is not None:
        lines.append(
            f"archived: {stamp(version.archived_at)} ({relative(version.archived_at)}); "
            "content kept, restorable"
        )
    lines += [
        f"model_config: {json.dumps(version.llm_config, ensure_ascii=False)}",
        f"hash: {version.content_hash}",
    ]
    console.print("\n".join(lines))
    if version.purged:
        console.print(
            Panel("[dim](destroyed by the purge)[/]", title="content", title_align="left")
        )
    else:
        console.print(Panel(escape(version.content or ""), title="content", title_align="left"))


@app.command("list")
@api_command
def list_versions(
    name: Name,
    limit: Annotated[int, typer.Option(min=1, help="At most this many, newest first.")] = 50,
    archived: Annotated[
        bool | None,
        typer.Option(
            "--archived/--unarchived",
            help="Only archived versions (purged ones included), or only unarchived ones "
            "(default: all).",
            show_default=False,
        ),
    ] = None,
    as_json: Json = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """The version history, newest first, with each version's state (archived, purged)."""
    with client(url, api_key) as c:
        items = []
        for version in c.iter_versions(name, archived=archived):
            items.append(version)
            if len(items) >= limit:
                break
    if as_json:
        print_json(items)
        return
    table = Table("", "#", "NAME", "ID", "STATE", "CREATED", "BY", "DESCRIPTION", box=None)
    for v in items:
        table.add_row(
            "[green]*[/]" if v.active else "",
            str(v.number),
            escape(v.version_name),
            str(v.id),
            state(v),
            relative(v.created_at),
            escape(v.created_by),
            escape(v.description),
        )
    console.print(table if items else "no versions")


@app.command("show")
@api_command
def show(
    name: Name,
    version: VersionRef,
    as_json: Json = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """One version in full."""
    with client(url, api_key) as c:
        found = c.get_version(name, version)
    if as_json:
        print_json(found)
    else:
        show_version(found)


@app.command("create")
@api_command
def create(
    name: Name,
    file: FileOpt = None,
    content: ContentOpt = None,
    editor: EditorOpt = False,
    version_name: Annotated[
        str | None,
        typer.Option(
            "--name", "-n", help="Version name (default: the UTC time).", show_default=False
        ),
    ] = None,
    description: Annotated[
        str | None, typer.Option("--description", "-m", help="What changed and why.")
    ] = None,
    model_config: ModelConfig = None,
    activate: Annotated[
        bool, typer.Option("--activate", "-a", help="Also make it active.")
    ] = False,
    as_json: Json = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
    actor: Actor = None,
) -> None:
    """Snapshot a new, immutable version.

    The content comes from --file (or '-' for standard input), --content or --editor; with
    none of them, the prompt's working copy is snapshot. The active version does not change
    unless --activate.
    """
    with client(url, api_key, actor) as c:
        initial = c.get_prompt(name).content if editor else ""
        text = read_content(file, content, editor, initial=initial)
        version = c.create_version(
            name,
            text,
            model_config=parse_model_config(model_config),
            version_name=version_name,
            description=description,
            activate=activate,
        )
    if as_json:
        print_json(version)
    else:
        state = " and made it active" if version.active else ""
        console.print(
            f"created version [bold]{escape(version.version_name)}[/] "
            f"(#{version.number}, id {version.id}){state}"
        )


@app.command("rollback")
@api_command
def rollback(
    name: Name,
    version: VersionRef,
    label: Annotated[
        str | None, typer.Option(help="Point this label at VERSION instead of active.")
    ] = None,
    as_json: Json = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
    actor: Actor = None,
) -> None:
    """Make VERSION the active one (any version, older or newer; deletes nothing)."""
    with client(url, api_key, actor) as c:
        target = c.get_version(name, version)
        result = c.rollback(name, target.id, label=label)
    if as_json:
        print_json(result)
    elif result.changed:
        console.print(
            f"[bold]{escape(result.prompt.name)}[/] now serves "
            f"[green]{escape(result.version.version_name)}[/] (#{result.version.number})"
        )
    else:
        console.print(f"{escape(result.version.version_name)} was already active: nothing to do")


@app.command("archive")
@api_command
def archive(
    name: Name,
    version: VersionRef,
    as_json: Json = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
    actor: Actor = None,
) -> None:
    """Archive VERSION by hand: it stays in history with its content, and `restore` brings it
    back. Never the active version; archiving an archived version does nothing."""
    with client(url, api_key, actor) as c:
        before = c.get_version(name, version)
        after = c.archive_version(name, before.id)
    if as_json:
        print_json(after)
    elif before.archived:
        console.print(f"{escape(after.version_name)} was already archived: nothing to do")
    else:
        console.print(f"archived [bold]{escape(after.version_name)}[/] (#{after.number})")


@app.command("restore")
@api_command
def restore(
    name: Name,
    version: VersionRef,
    as_json: Json = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
    actor: Actor = None,
) -> None:
    """Restore an archived VERSION with its exact content (over the prompt's --max-versions,
    the oldest other versions are archived instead). A purged version cannot come back."""
    with client(url, api_key, actor) as c:
        before = c.get_version(name, version)
        after = c.restore_version(name, before.id)
    if as_json:
        print_json(after)
    elif not before.archived:
        console.print(f"{escape(after.version_name)} is not archived: nothing to do")
    else:
        console.print(f"restored [bold]{escape(after.version_name)}[/] (#{after.number})")


@app.command("purge")
@api_command
def purge(
    name: Name,
    version: VersionRef,
    reason: Annotated[
        str,
        typer.Option(
            "--reason",
            "-r",
            help="Why the content must go (kept in the history; do not repeat the secret).",
            show_default=False,
        ),
    ],
    yes: Yes = False,
    as_json: Json = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
    actor: Actor = None,
) -> None:
    """Destroy VERSION's content for good (a leaked secret, say).

    The version stays in the history as a tombstone: who purged it, when and why. The active
    version cannot be purged: roll back to another first. Run `promptdeck db compact` on the
    server to clear the freed pages from the database files.
    """
    with client(url, api_key, actor) as c:
        target = c.get_version(name, version)
        if target.purged:
            tomb = target
        else:
            if not yes:
                typer.confirm(
                    f"Destroy the content of {name} {target.version_name} "
                    f"(#{target.number}) for good?",
                    abort=True,
                    err=True,  # stdout stays clean for --json
                )
            tomb = c.purge_version(name, target.id, reason=reason)
    if as_json:
        print_json(tomb)
    elif target.purged:
        console.print(f"{escape(tomb.version_name)} was already purged: nothing to do")
    else:
        console.print(
            f"purged [bold]{escape(tomb.version_name)}[/] (#{tomb.number}): content destroyed, "
            "tombstone kept"
        )


def unified_diff(a: VersionOut, b: VersionOut, context: int = 3) -> str:
    def lines(v: VersionOut) -> list[str]:
        config = json.dumps(v.llm_config or {}, indent=2, sort_keys=True, ensure_ascii=False)
        text = (v.content or "").splitlines()
        return [line + "\n" for line in [*text, "", "--- model_config ---", *config.splitlines()]]

    return "".join(
        difflib.unified_diff(
            lines(a),
            lines(b),
            fromfile=f"{a.version_name} (#{a.number})",
            tofile=f"{b.version_name} (#{b.number})",
            n=context,
        )
    )


def colour(diff: str) -> Text:
    text = Text()
    for line in diff.splitlines(keepends=True):
        style = ""
        if line.startswith(("+++", "---")):
            style = "bold"
        elif line.startswith("@@"):
            style = "cyan"
        elif line.startswith("+"):
            style = "green"
        elif line.startswith("-"):
            style = "red"
        text.append(line, style=style)
    return text


@app.command("diff")
@api_command
def diff(
    name: Name,
    a: Annotated[str, typer.Argument(help="The old version (id or name).", show_default=False)],
    b: Annotated[str, typer.Argument(help="The new version (id or name).", show_default=False)],
    context: Annotated[int, typer.Option("--context", "-U", min=0, help="Lines of context.")] = 3,
    as_json: Json = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """A unified diff of two versions' content and model config (coloured on a terminal)."""
    with client(url, api_key) as c:
        va, vb = c.get_version(name, a), c.get_version(name, b)
    text = unified_diff(va, vb, context)
    if as_json:
        print_json({"from": va, "to": vb, "diff": text})
    elif text:
        console.print(colour(text), end="", soft_wrap=True)
    else:
        console.print("no differences")


KIND_STYLE: dict[str, tuple[str, str]] = {
    EventKind.VERSION_CREATED: ("created", "yellow"),
    EventKind.VERSION_ACTIVATED: ("activated", "green"),
    EventKind.VERSION_ROLLED_BACK: ("rollback", "bold magenta"),
    EventKind.PROMPT_CREATED: ("prompt created", "cyan"),
    EventKind.PROMPT_UPDATED: ("prompt edited", "cyan"),
    EventKind.PROMPT_DELETED: ("prompt deleted", "red"),
    EventKind.PROMPT_RESTORED: ("prompt restored", "cyan"),
    EventKind.VERSION_ARCHIVED: ("archived", "dim"),
    EventKind.VERSION_RESTORED: ("restored", "yellow"),
    EventKind.VERSION_PURGED: ("purged", "bold red"),
    EventKind.LABEL_MOVED: ("label moved", "green"),
    EventKind.LABEL_REMOVED: ("label removed", "dim"),
    EventKind.LABEL_PROTECTED: ("label protection", "cyan"),
    EventKind.DEPLOY_REQUESTED: ("deploy requested", "yellow"),
    EventKind.DEPLOY_APPROVED: ("deploy approved", "green"),
    EventKind.DEPLOY_REJECTED: ("deploy rejected", "red"),
    EventKind.IMPACT_ALERT: ("impact alert", "bold red"),
}
RETENTION_KINDS = (EventKind.VERSION_ARCHIVED, EventKind.VERSION_RESTORED, EventKind.VERSION_PURGED)


def describe(event: EventOut, names: dict[int, str]) -> str:
    detail = event.detail
    if event.kind.startswith("version.") and "version_name" in detail:
        what = f"{escape(str(detail['version_name']))} (#{detail.get('number', '?')})"
        if event.from_version_id is not None and event.kind != EventKind.VERSION_CREATED:
            prior = names.get(event.from_version_id, f"id {event.from_version_id}")
            what += f" (was {escape(prior)})"
        retention = event.kind in RETENTION_KINDS
        if retention and detail.get("reason"):
            what += f": {escape(str(detail['reason']))}"
        archived = detail.get("archived")  # a creation over max_versions archived these
        if isinstance(archived, list) and archived:
            what += "; archived " + ", ".join(
                f"#{a.get('number', '?')}" for a in archived if isinstance(a, dict)
            )
        return what
    if "fields" in detail:
        return "fields: " + ", ".join(map(str, detail["fields"]))
    return ""


def version_names(c: Client, name: str, events: list[EventOut]) -> dict[int, str]:
    ids = {e.from_version_id for e in events if e.from_version_id is not None}
    names = {}
    for version_id in ids:
        try:
            v = c.get_version(name, version_id)
        except NotFound:  # gone (purged): the log still prints, with the id
            continue
        names[version_id] = f"{v.version_name} (#{v.number})"
    return names


@api_command
def log(
    name: Name,
    limit: Limit = 50,
    as_json: Json = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """The prompt's timeline, newest first, like `git log`.

    Versions created, activations, rollbacks, archives, purges, edits, deletes and restores:
    what, who, when.
    """
    with client(url, api_key) as c:
        events = []
        for event in c.iter_events(name):
            events.append(event)
            if len(events) >= limit:
                break
        names = {} if as_json else version_names(c, name, events)
    if as_json:
        print_json(events)
        return
    for e in events:
        label, style = KIND_STYLE.get(e.kind, (e.kind, "white"))
        console.print(
            f"[{style}]{label:<15}[/] {describe(e, names)}\n"
            f"  [dim]{stamp(e.created_at)} ({relative(e.created_at)}) by {escape(e.actor)}[/]"
        )

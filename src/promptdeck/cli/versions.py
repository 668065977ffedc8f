"""`promptdeck versions …` and `promptdeck log`: history, snapshots, rollback, diff."""

from __future__ import annotations

import json
from itertools import islice
from typing import Annotated

import typer
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from promptdeck import limits
from promptdeck.cli.content import ContentOpt, EditorOpt, FileOpt, read_content
from promptdeck.cli.context import Cli, connected
from promptdeck.cli.options import Limit, ModelConfig, Name, Yes
from promptdeck.cli.output import console, relative, stamp
from promptdeck.client import Client
from promptdeck.domain.refs import EventKind
from promptdeck.errors import NotFound
from promptdeck.schemas import EventOut, VersionDiffOut, VersionOut, VersionSummaryOut

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


def show_versions(items: list[VersionSummaryOut]) -> None:
    if not items:
        console.print("no versions")
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
    console.print(table)


@app.command("list")
@connected
def list_versions(
    cli: Cli,
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
) -> None:
    """The version history, newest first, with each version's state (archived, purged)."""
    cli.show(list(islice(cli.client.iter_versions(name, archived=archived), limit)), show_versions)


@app.command("show")
@connected
def show(cli: Cli, name: Name, version: VersionRef) -> None:
    """One version in full."""
    cli.show(cli.client.get_version(name, version), show_version)


@app.command("create")
@connected
def create(
    cli: Cli,
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
) -> None:
    """Snapshot a new, immutable version.

    The content comes from --file (or '-' for standard input), --content or --editor; with
    none of them, the prompt's working copy is snapshot. The active version does not change
    unless --activate.
    """
    initial = cli.client.get_prompt(name).content if editor else ""
    text = read_content(file, content, editor, initial=initial)
    version = cli.client.create_version(
        name,
        text,
        model_config=model_config,
        version_name=version_name,
        description=description,
        activate=activate,
    )
    made = " and made it active" if version.active else ""
    cli.show(
        version,
        f"created version [bold]{escape(version.version_name)}[/] "
        f"(#{version.number}, id {version.id}){made}",
    )


@app.command("rollback")
@connected
def rollback(
    cli: Cli,
    name: Name,
    version: VersionRef,
    label: Annotated[
        str | None, typer.Option(help="Point this label at VERSION instead of active.")
    ] = None,
) -> None:
    """Make VERSION the active one (any version, older or newer; deletes nothing)."""
    target = cli.client.get_version(name, version)
    result = cli.client.rollback(name, target.id, label=label)
    cli.show(
        result,
        f"[bold]{escape(result.prompt.name)}[/] now serves "
        f"[green]{escape(result.version.version_name)}[/] (#{result.version.number})"
        if result.changed
        else f"{escape(result.version.version_name)} was already active: nothing to do",
    )


@app.command("archive")
@connected
def archive(cli: Cli, name: Name, version: VersionRef) -> None:
    """Archive VERSION by hand: it stays in history with its content, and `restore` brings it
    back. Never the active version; archiving an archived version does nothing."""
    before = cli.client.get_version(name, version)
    after = cli.client.archive_version(name, before.id)
    cli.show(
        after,
        f"{escape(after.version_name)} was already archived: nothing to do"
        if before.archived
        else f"archived [bold]{escape(after.version_name)}[/] (#{after.number})",
    )


@app.command("restore")
@connected
def restore(cli: Cli, name: Name, version: VersionRef) -> None:
    """Restore an archived VERSION with its exact content (over the prompt's --max-versions,
    the oldest other versions are archived instead). A purged version cannot come back."""
    before = cli.client.get_version(name, version)
    after = cli.client.restore_version(name, before.id)
    cli.show(
        after,
        f"restored [bold]{escape(after.version_name)}[/] (#{after.number})"
        if before.archived
        else f"{escape(after.version_name)} is not archived: nothing to do",
    )


@app.command("purge")
@connected
def purge(
    cli: Cli,
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
) -> None:
    """Destroy VERSION's content for good (a leaked secret, say).

    The version stays in the history as a tombstone: who purged it, when and why. The active
    version cannot be purged: roll back to another first. Run `promptdeck db compact` on the
    server to clear the freed pages from the database files.
    """
    target = cli.client.get_version(name, version)
    if target.purged:
        cli.show(target, f"{escape(target.version_name)} was already purged: nothing to do")
        return
    if not yes:
        typer.confirm(
            f"Destroy the content of {name} {target.version_name} (#{target.number}) for good?",
            abort=True,
            err=True,  # stdout stays clean for --json
        )
    tomb = cli.client.purge_version(name, target.id, reason=reason)
    cli.show(
        tomb,
        f"purged [bold]{escape(tomb.version_name)}[/] (#{tomb.number}): content destroyed, "
        "tombstone kept",
    )


def show_patch(patch: str) -> None:
    """Coloured: headers bold, hunks cyan, removed lines red, added lines green."""
    if not patch:
        console.print("no differences")
        return
    text = Text()
    for line in patch.splitlines(keepends=True):
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
    console.print(text, end="", soft_wrap=True)


@app.command("diff")
@connected
def diff(
    cli: Cli,
    name: Name,
    a: Annotated[str, typer.Argument(help="The old version (id or name).", show_default=False)],
    b: Annotated[str, typer.Argument(help="The new version (id or name).", show_default=False)],
    context: Annotated[
        int,
        typer.Option(
            "--context", "-U", min=0, max=limits.DIFF_CONTEXT_MAX, help="Lines of context."
        ),
    ] = 3,
) -> None:
    """What changed from A to B: a unified diff of the content (coloured on a terminal), the
    model config's changes, and the contract's, each breaking or compatible.

    Exits 0 either way: scripts read `breaking` from --json.
    """
    found = cli.client.diff_versions(name, b, a, context=context)
    cli.show(found, lambda _: show_comparison(found))


def show_comparison(found: VersionDiffOut) -> None:
    if not found.comparable:
        console.print("[dim]no text to compare: a version's content is archived or purged[/]")
    elif found.diff or not (found.config_changes or found.contract_changes):
        show_patch(found.diff)
    if found.config_changes:
        console.print("[bold]model_config[/]")
        for c in found.config_changes:
            old, new = json.dumps(c.old, ensure_ascii=False), json.dumps(c.new, ensure_ascii=False)
            what = {"added": f"+ {new}", "removed": f"- {old}"}.get(c.kind, f"{old} -> {new}")
            console.print(f"  {escape(c.key)}: {escape(what)}")
    if found.contract_changes:
        head = "[bold red]contract: breaking[/]" if found.breaking else "[bold]contract[/]"
        console.print(head)
        for change in found.contract_changes:
            mark = "[red]breaking[/]" if change.breaking else "[green]compatible[/]"
            console.print(f"  {escape(change.path)}: {escape(change.change)} ({mark})")


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
    EventKind.GATE_SET: ("gate set", "cyan"),
    EventKind.GATE_REMOVED: ("gate removed", "dim"),
    EventKind.GATE_OVERRIDDEN: ("gate overridden", "bold red"),
    EventKind.EVALUATION_COMPLETED: ("evaluation completed", "green"),
    EventKind.PROMPT_RUN: ("run", "dim"),
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
    if event.kind == EventKind.PROMPT_RUN:
        where = escape(f"{detail.get('provider', '?')} · {detail.get('model', '?')}")
        what = "a draft" if detail.get("draft") else "this version"
        if detail.get("ok"):
            return f"{what} on {where}: answered in {detail.get('latency_ms', 0):.0f} ms"
        return f"{what} on {where}: " + escape(str(detail.get("error", "failed")))[:120]
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


@connected
def log(cli: Cli, name: Name, limit: Limit = 50) -> None:
    """The prompt's timeline, newest first, like `git log`.

    Versions created, activations, rollbacks, archives, purges, edits, deletes and restores:
    what, who, when.
    """
    events = list(islice(cli.client.iter_events(name), limit))
    cli.show(events, lambda events: show_log(events, version_names(cli.client, name, events)))


def show_log(events: list[EventOut], names: dict[int, str]) -> None:
    for e in events:
        label, style = KIND_STYLE.get(e.kind, (e.kind, "white"))
        console.print(
            f"[{style}]{label:<15}[/] {describe(e, names)}\n"
            f"  [dim]{stamp(e.created_at)} ({relative(e.created_at)}) by {escape(e.actor)}[/]"
        )

"""`promptdeck sync pull|push DIR`: prompts as files in a folder (docs/prompts-as-code.md).

The file format is domain/promptfiles.py's and the plan domain/syncplan.py's; this module
reads the folder, asks the server through the client, prints, and carries the plan out.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from promptdeck.cli.context import Cli, connected
from promptdeck.cli.output import console, err_console
from promptdeck.client import Client
from promptdeck.domain import promptfiles, syncplan
from promptdeck.domain.promptfiles import PromptFile
from promptdeck.domain.syncplan import LOCK_NAME, LockEntry, Remote, Step
from promptdeck.errors import InvalidInput, PromptNotFound, VersionUnavailable
from promptdeck.schemas import PromptOut, VersionOut

app = typer.Typer(
    help="Prompts as files: `pull` writes one file per prompt into a folder, `push` makes "
    "versions from the files that changed (docs/prompts-as-code.md).",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)

Directory = Annotated[
    Path,
    typer.Argument(help="The folder of prompt files.", show_default=False, file_okay=False),
]

# --- the folder --------------------------------------------------------------------------------


def read_files(directory: Path) -> dict[str, PromptFile]:
    """Every prompt file under ``directory`` (hidden folders skipped), by its path relative
    to it; a Markdown file without a ``---`` header (a README) is not a prompt file."""
    found: dict[str, PromptFile] = {}
    for path in sorted(directory.rglob("*")):
        rel = path.relative_to(directory)
        if not path.is_file() or not promptfiles.is_prompt_file(path.name):
            continue
        if any(part.startswith(".") for part in rel.parts):
            continue
        data = path.read_bytes()
        if path.suffix == promptfiles.TEXT_SUFFIX and not data.startswith(b"---"):
            continue
        found[rel.as_posix()] = promptfiles.load(data, rel.as_posix())
    clash = syncplan.duplicates(found)
    if clash is not None:
        raise clash
    return found


def read_lock(directory: Path) -> dict[str, LockEntry]:
    path = directory / LOCK_NAME
    return syncplan.load_lock(path.read_bytes()) if path.exists() else {}


def write_lock(directory: Path, entries: dict[str, LockEntry]) -> None:
    (directory / LOCK_NAME).write_bytes(syncplan.dump_lock(entries))


# --- the server --------------------------------------------------------------------------------


def contract_of(version: VersionOut) -> dict[str, Any] | None:
    """The version's contract, as the server gives it (issue 23; None before it)."""
    found = getattr(version, "contract", None)
    return found if isinstance(found, dict) else None


def latest_version(c: Client, name: str) -> VersionOut:
    summary = c.list_versions(name, limit=1).items[0]
    return c.get_version(name, summary.id)


def remote_of(prompt: PromptOut, latest: VersionOut, labels: dict[str, int | None]) -> Remote:
    shot = syncplan.remote_version(
        id=latest.id,
        number=latest.number,
        content_hash=latest.content_hash,
        description=latest.description,
        kind=latest.kind,
        content=latest.content,
        messages=latest.messages,
        template_format=latest.template_format,
        model_config=latest.llm_config,
        contract=contract_of(latest),
    )
    return Remote(prompt.id, prompt.etag, prompt.description, prompt.tags, shot, labels)


def fetch_remote(c: Client, name: str) -> Remote | None:
    try:
        prompt = c.get_prompt(name)
    except PromptNotFound:
        return None
    labels = {x.name: x.version_id for x in c.list_labels(name)}
    return remote_of(prompt, latest_version(c, name), labels)


def lock_entry(prompt: PromptOut, version_id: int, number: int, content_hash: str) -> LockEntry:
    meta = promptfiles.meta_digest(prompt.description, prompt.tags)
    return LockEntry(prompt.name, prompt.id, version_id, number, content_hash, meta)


# --- pull --------------------------------------------------------------------------------------


def file_of(c: Client, prompt: PromptOut, version: VersionOut) -> PromptFile:
    if version.content is None:
        raise VersionUnavailable(
            f"{prompt.name}: its latest version (#{version.number}) was purged: make a new "
            "version before pulling it"
        )
    # The labels that serve this version, but not protected ones: a push moves what a file
    # lists, and a protected label moves through a deploy request, not a file.
    labels = [
        x.name for x in c.list_labels(prompt.name) if x.version_id == version.id and not x.protected
    ]
    return PromptFile(
        name=prompt.name,
        kind="chat" if version.kind == "chat" else "text",
        content=version.content if version.kind == "text" else "",
        messages=version.messages if version.kind == "chat" else None,
        description=prompt.description,
        tags=list(prompt.tags),
        model_config=version.llm_config or {},
        template_format=version.template_format,
        contract=contract_of(version),
        version_description=version.description,
        labels=labels,
    )


@app.command("pull")
@connected
def pull(
    cli: Cli,
    directory: Directory,
    prompt: Annotated[
        list[str] | None,
        typer.Option("--prompt", "-p", help="Only this prompt (repeat for more); default: all."),
    ] = None,
) -> None:
    """Write each prompt's latest version into DIR (one file each) and the lock file."""
    directory.mkdir(parents=True, exist_ok=True)
    lock = read_lock(directory)
    where = {entry.prompt: path for path, entry in lock.items()}
    written: list[str] = []
    c = cli.client
    prompts = [c.get_prompt(p) for p in prompt] if prompt else list(c.iter_prompts())
    for p in prompts:
        version = latest_version(c, p.name)
        f = file_of(c, p, version)
        path = where.get(p.name, "")
        if not path.endswith(f.suffix):  # new here, or its kind changed
            lock.pop(path, None)
            path = f"{p.name}{f.suffix}"
        target = directory / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(promptfiles.dump(f))
        lock[path] = lock_entry(p, version.id, version.number, version.content_hash)
        written.append(path)
    write_lock(directory, {p: e for p, e in lock.items() if (directory / p).exists()})
    plural = "" if len(written) == 1 else "s"
    sentence = f"pulled {len(written)} prompt{plural} into {escape(str(directory))}"
    cli.show({"directory": str(directory), "files": written}, sentence)


# --- push --------------------------------------------------------------------------------------


def plan(
    c: Client, directory: Path, labels: list[str], force: bool
) -> tuple[list[Step], dict[str, Remote | None]]:
    files = read_files(directory)
    lock = read_lock(directory)
    remotes = {path: fetch_remote(c, f.name) for path, f in files.items()}
    steps = [
        syncplan.plan_file(path, f, lock.get(path), remotes[path], labels=labels, force=force)
        for path, f in files.items()
    ]
    return steps, remotes


def describe(step: Step) -> str:
    if step.action == "conflict":
        return step.why
    parts = []
    if step.action == "create":
        parts.append("new prompt")
    elif step.new_version:
        parts.append("new version")
    if step.meta:
        parts.append("description/tags")
    if step.moves:
        parts.append("move " + ", ".join(step.moves))
    return "; ".join(parts) or "unchanged"


def show(steps: list[Step], as_json: bool) -> None:
    if as_json:
        out = [
            {
                "path": s.path,
                "prompt": s.file.name,
                "action": s.action,
                "new_version": s.new_version,
                "metadata": s.meta,
                "moves": s.moves,
                "why": s.why or None,
            }
            for s in steps
        ]
        sys.stdout.write(json.dumps(out, indent=2, ensure_ascii=False) + "\n")
        return
    colour = {"create": "green", "update": "yellow", "conflict": "bold red", "unchanged": "dim"}
    for s in steps:
        if s.action != "unchanged":
            tag = f"[{colour[s.action]}]{s.action:<9}[/]"
            console.print(f"{tag} {escape(s.path)}: {escape(describe(s))}")
    same = sum(s.action == "unchanged" for s in steps)
    pending = sum(s.pending for s in steps)
    console.print(f"{pending} to change, {same} unchanged")


def apply(c: Client, step: Step, remote: Remote | None) -> LockEntry:
    f = step.file
    content = f.content if f.kind == "text" else ""
    messages = f.messages if f.kind == "chat" else None
    reason = f"sync push {step.path}"
    if step.action == "create":
        created = c.create_prompt(
            f.name,
            content,
            description=f.description,
            tags=f.tags,
            model_config=f.model_config,
            version_description=f.version_description,
            messages=messages,
            template_format=f.template_format,
            contract=f.contract,
        )
        first = created.active_version
        assert first is not None
        for label in step.moves:
            c.move_label(f.name, label, first.id, reason=reason)
        return lock_entry(created, first.id, first.number, first.content_hash)
    assert remote is not None
    if step.meta:
        c.update_prompt(f.name, description=f.description, tags=f.tags, if_match=remote.etag)
    version_id, number, content_hash = remote.latest.id, remote.latest.number, None
    if step.new_version:
        made = c.create_version(
            f.name,
            content if f.kind == "text" else None,
            model_config=f.model_config,
            description=step.version_description,
            messages=messages,
            template_format=f.template_format,
            if_changed=True,
            contract=f.contract,
        )
        version_id, number, content_hash = made.id, made.number, made.content_hash
    for label in step.moves:
        c.move_label(f.name, label, version_id, reason=reason)
    meta = f.meta() if step.meta else remote.meta
    hash_ = content_hash or remote.latest.content_hash
    return LockEntry(f.name, remote.prompt_id, version_id, number, hash_, meta)


@app.command("push")
@connected
def push(
    cli: Cli,
    directory: Directory,
    label: Annotated[
        list[str] | None,
        typer.Option(
            "--label", "-l", help="Also point this label at each file's version (repeatable)."
        ),
    ] = None,
    plan_only: Annotated[
        bool,
        typer.Option(
            "--plan",
            help="Print what a push would do and change nothing. Exit 0: nothing to do; "
            f"{syncplan.EXIT_PENDING}: changes pending; 1: an error or a conflict.",
        ),
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite prompts changed on the server since.")
    ] = False,
) -> None:
    """Make a version for each file that changed, set changed descriptions and tags, and
    move the labels each file lists (and `--label`). Refuses everything, changing nothing,
    when a prompt changed on the server since the last sync (unless `--force`)."""
    if not directory.is_dir():
        raise InvalidInput(f"{directory} is not a folder", field="directory")
    c = cli.client
    steps, remotes = plan(c, directory, list(label or []), force)
    show(steps, cli.as_json)
    conflicts = [s for s in steps if s.action == "conflict"]
    if conflicts:
        err_console.print(
            f"[bold red]{len(conflicts)} conflict{'s' if len(conflicts) > 1 else ''}[/]: "
            "nothing was pushed"
        )
        raise typer.Exit(1)
    if plan_only:
        raise typer.Exit(syncplan.EXIT_PENDING if any(s.pending for s in steps) else 0)
    lock = read_lock(directory)
    try:
        for step in steps:
            remote = remotes[step.path]
            if step.pending:
                lock[step.path] = apply(c, step, remote)
            elif remote is not None:  # in step with the server: recorded as synced
                lock[step.path] = entry_of(step.file.name, remote)
    finally:  # what was pushed is recorded even when a later file fails
        write_lock(directory, {p: e for p, e in lock.items() if p in remotes})


def entry_of(name: str, remote: Remote, meta: str | None = None) -> LockEntry:
    v = remote.latest
    return LockEntry(name, remote.prompt_id, v.id, v.number, v.content_hash, meta or remote.meta)

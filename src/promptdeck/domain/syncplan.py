"""What `promptdeck sync push` would do (docs/prompts-as-code.md): pure, from the files, the
lock and what the server holds. The CLI gathers the three, prints the plan, then carries it
out through the client.

The rule against overwriting: a file whose versioned part (content or messages, format,
model config, contract) differs from the prompt's latest version may make a new version
only when that latest version is the one the lock says the file was synced from; else
someone changed the prompt on the server since (or the file was never synced), and the
push refuses it unless forced. Description and tags follow the same rule.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from promptdeck.domain.promptfiles import PromptFile, meta_digest, snapshot
from promptdeck.errors import InvalidInput

LOCK_NAME = "promptdeck.lock.json"
LOCK_FORMAT = 1
# `sync push --plan`'s exit statuses: 0 nothing to do, 1 an error or a conflict. Not 2:
# click answers a usage error (a misspelt option) with 2, and a pipeline must not read
# that as "changes pending".
EXIT_PENDING = 3

Action = Literal["create", "update", "unchanged", "conflict"]


@dataclass(frozen=True, slots=True)
class LockEntry:
    """What one file was last synced from (pull or push)."""

    prompt: str
    prompt_id: int
    version_id: int
    number: int
    content_hash: str
    meta: str  # meta_digest(description, tags) as synced

    def to_json(self) -> dict[str, Any]:
        return {
            "prompt": self.prompt,
            "prompt_id": self.prompt_id,
            "version_id": self.version_id,
            "number": self.number,
            "content_hash": self.content_hash,
            "meta": self.meta,
        }


def dump_lock(entries: dict[str, LockEntry]) -> bytes:
    """Sorted, indented, one trailing newline: a lock diffs well in a pull request."""
    body = {"format": LOCK_FORMAT, "files": {p: entries[p].to_json() for p in sorted(entries)}}
    return (json.dumps(body, indent=2, ensure_ascii=False) + "\n").encode()


def load_lock(data: bytes) -> dict[str, LockEntry]:
    try:
        body = json.loads(data)
        if body.get("format") != LOCK_FORMAT:
            raise ValueError(f"format {body.get('format')!r}, expected {LOCK_FORMAT}")
        return {path: LockEntry(**entry) for path, entry in body["files"].items()}
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise InvalidInput(f"{LOCK_NAME} cannot be read: {exc}", field=LOCK_NAME) from exc


@dataclass(frozen=True, slots=True)
class RemoteVersion:
    id: int
    number: int
    content_hash: str
    description: str
    snapshot: str  # promptfiles.snapshot of the version


@dataclass(frozen=True, slots=True)
class Remote:
    """What the server holds of one prompt: its metadata, latest version and labels."""

    prompt_id: int
    etag: str
    description: str
    tags: list[str]
    latest: RemoteVersion
    labels: dict[str, int | None]  # label -> version id

    @property
    def meta(self) -> str:
        return meta_digest(self.description, self.tags)


def remote_version(
    *,
    id: int,
    number: int,
    content_hash: str,
    description: str,
    kind: str,
    content: str | None,
    messages: list[dict[str, Any]] | None,
    template_format: str,
    model_config: dict[str, Any] | None,
    contract: dict[str, Any] | None,
) -> RemoteVersion:
    body = content if kind == "text" else messages
    shot = snapshot(kind, body, template_format, model_config, contract)
    return RemoteVersion(id, number, content_hash, description, shot)


@dataclass(frozen=True, slots=True)
class Step:
    """One file's part of a push."""

    path: str
    file: PromptFile
    action: Action
    new_version: bool = False
    meta: bool = False  # description or tags to set
    moves: list[str] = field(default_factory=list)  # labels to point at the file's version
    why: str = ""  # a conflict's reason
    version_description: str | None = None  # for the new version (None: none given)

    @property
    def pending(self) -> bool:
        return self.action in ("create", "update")


def plan_file(
    path: str,
    f: PromptFile,
    lock: LockEntry | None,
    remote: Remote | None,
    *,
    labels: list[str],
    force: bool,
) -> Step:
    """One file's step; ``labels`` are moved for every file (``--label``) besides its own."""
    wanted = list(dict.fromkeys([*f.labels, *labels]))
    if remote is None:
        return Step(path, f, "create", new_version=True, moves=[x for x in wanted if x != "active"])
    new_version = f.snapshot() != remote.latest.snapshot
    meta = f.meta() != remote.meta
    synced = lock is not None and lock.prompt_id == remote.prompt_id
    if not force:
        if new_version and not (synced and lock and lock.version_id == remote.latest.id):
            return Step(path, f, "conflict", why=_why_version(lock if synced else None, remote))
        if meta and not (synced and lock and lock.meta == remote.meta):
            why = (
                "its description or tags changed on the server since the last sync"
                if synced
                else "it was never synced here, and its description or tags differ"
            )
            return Step(path, f, "conflict", why=why)
    moves = [x for x in wanted if new_version or remote.labels.get(x) != remote.latest.id]
    pending = new_version or meta or bool(moves)
    described = f.version_description
    own = described if described and described != remote.latest.description else None
    return Step(
        path,
        f,
        "update" if pending else "unchanged",
        new_version=new_version,
        meta=meta,
        moves=moves,
        version_description=own,
    )


def _why_version(lock: LockEntry | None, remote: Remote) -> str:
    latest = f"#{remote.latest.number}"
    if lock is None:
        return (
            f"it was never synced here, and the server's latest version ({latest}) differs "
            "from the file: pull first, or --force"
        )
    return (
        f"its latest version ({latest}) was made on the server since the last sync "
        f"(#{lock.number}): pull and merge, or --force to overwrite"
    )


def duplicates(files: dict[str, PromptFile]) -> InvalidInput | None:
    """Two files naming one prompt: which would win is a guess, so neither is pushed."""
    seen: dict[str, str] = {}
    for path, f in sorted(files.items()):
        if f.name in seen:
            return InvalidInput(
                f"{seen[f.name]} and {path} both name the prompt {f.name!r}", field=path
            )
        seen[f.name] = path
    return None

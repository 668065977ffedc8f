"""What the store returns: typed, frozen records of its rows (never SQLAlchemy's ``Row``).

The core reads these; the domain's ``Prompt`` and ``Version`` are built from them in
``store/queries.py`` (``to_prompt``, ``to_version``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Row


def sorted_json(value: Any) -> Any:
    """A JSON value with its objects' keys sorted, as it was stored: PostgreSQL's JSONB
    gives keys back in its own order (shortest first), SQLite as written."""
    if isinstance(value, dict):
        return {k: sorted_json(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [sorted_json(v) for v in value]
    return value


@dataclass(frozen=True, slots=True)
class PromptRow:
    """A row of ``prompts``, every column."""

    id: int
    name: str
    description: str
    tags: list[str]
    content: str
    model_config: dict[str, Any]
    active_version_id: int | None
    next_version_number: int
    version_count: int
    live_count: int
    max_versions: int | None
    revision: int
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None

    @classmethod
    def of(cls, row: Row[Any]) -> PromptRow:
        m = row._mapping
        return cls(
            id=int(m["id"]),
            name=m["name"],
            description=m["description"],
            tags=list(m["tags"] or []),
            content=m["content"],
            model_config=dict(m["model_config"] or {}),
            active_version_id=m["active_version_id"],
            next_version_number=int(m["next_version_number"]),
            version_count=int(m["version_count"]),
            live_count=int(m["live_count"]),
            max_versions=m["max_versions"],
            revision=int(m["revision"]),
            created_at=m["created_at"],
            updated_at=m["updated_at"],
            deleted_at=m["deleted_at"],
        )


@dataclass(frozen=True, slots=True)
class StoredContent:
    """A full version row's blob in its stored form (the core decodes it)."""

    blob_id: int
    codec: int
    raw_size: int
    data: bytes


@dataclass(frozen=True, slots=True)
class VersionRow:
    """A row of ``versions``: the summary columns; a full read adds the model config and the
    stored content (None once purged)."""

    id: int
    prompt_id: int
    number: int
    version_name: str
    description: str
    created_at: datetime
    created_by: str
    content_hash: str
    archived: bool
    archived_at: datetime | None
    purged_at: datetime | None
    purged_by: str | None
    purge_reason: str | None
    kind: str = "text"
    template_format: str = "plain"
    blob_id: int | None = None
    model_config: dict[str, Any] | None = None
    stored: StoredContent | None = None
    contract: dict[str, Any] | None = None  # a full read's; None without one (or a summary)

    @classmethod
    def of(cls, row: Row[Any]) -> VersionRow:
        m = row._mapping
        stored = None
        blob_id = m.get("blob_id")
        if blob_id is not None and m.get("blob_codec") is not None:
            stored = StoredContent(
                int(blob_id), int(m["blob_codec"]), int(m["blob_raw_size"]), bytes(m["blob_data"])
            )
        return cls(
            id=int(m["id"]),
            prompt_id=int(m["prompt_id"]),
            number=int(m["number"]),
            version_name=m["version_name"],
            description=m["description"],
            created_at=m["created_at"],
            created_by=m["created_by"],
            content_hash=m["content_hash"],
            archived=bool(m["archived"]),
            archived_at=m["archived_at"],
            purged_at=m["purged_at"],
            purged_by=m["purged_by"],
            purge_reason=m["purge_reason"],
            kind=m.get("kind") or "text",
            template_format=m.get("template_format") or "plain",
            blob_id=blob_id,
            model_config=m.get("model_config"),
            stored=stored,
            contract=sorted_json(m.get("contract")),
        )


@dataclass(frozen=True, slots=True)
class Allocated:
    """What allocating a version number returns (the prompt row is locked until commit)."""

    number: int
    active_version_id: int | None
    live_count: int
    max_versions: int | None
    previous_version_id: int | None  # the newest version before this number, if any


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    request_hash: str
    result_id: int


@dataclass(frozen=True, slots=True)
class BlobBase:
    """The blob a new delta would be stored against."""

    id: int
    depth: int


@dataclass(frozen=True, slots=True)
class OldVersion:
    """An unarchived version the retention sweep may archive."""

    id: int
    number: int
    version_name: str


@dataclass(frozen=True, slots=True)
class HookMatch:
    """An enabled webhook as a write reads it to queue deliveries (core/announce.py): global
    (``prompt_id`` None) or one prompt's, and the event kinds it wants."""

    id: int
    prompt_id: int | None
    events: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PrincipalRow:
    """A row of ``principals``: an API key or a person."""

    id: int
    name: str
    kind: str  # "key" or "user"
    role: str
    prefixes: tuple[str, ...]
    key_id: str | None
    secret_hash: str = field(repr=False)
    created_at: datetime
    created_by: str
    expires_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, row: Row[Any]) -> PrincipalRow:
        m = row._mapping
        return cls(
            id=int(m["id"]),
            name=m["name"],
            kind=m["kind"],
            role=m["role"],
            prefixes=tuple(m["prefixes"] or ()),
            key_id=m["key_id"],
            secret_hash=m["secret_hash"],
            created_at=m["created_at"],
            created_by=m["created_by"],
            expires_at=m["expires_at"],
            revoked_at=m["revoked_at"],
        )


@dataclass(frozen=True, slots=True)
class SessionRow:
    """A web session with its person."""

    id: int
    expires_at: datetime
    principal: PrincipalRow


@dataclass(frozen=True, slots=True)
class FailureCount:
    """A throttled subject's failures, this attempt's included, and until when it had to
    wait before this attempt (None: it did not)."""

    failures: int
    locked_until: datetime | None


@dataclass(frozen=True, slots=True)
class DowngradePlan:
    """What undoing migrations down to ``target`` deletes, found by running the downgrade
    in a transaction that is rolled back: tables dropped (with their rows), columns
    dropped (``table.column``, with the table's rows), rows deleted from tables that stay."""

    current: str | None
    target: str | None
    tables: list[tuple[str, int]]
    columns: list[tuple[str, int]]
    rows: list[tuple[str, int]]

    @property
    def drops_anything(self) -> bool:
        return bool(self.tables or self.columns or self.rows)

    @property
    def deletes_data(self) -> bool:
        """Whether anything it drops holds a row (empty tables lose nothing)."""
        return any(n for _, n in (*self.tables, *self.columns, *self.rows))

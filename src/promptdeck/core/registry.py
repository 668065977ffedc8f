"""The Registry: every operation of promptdeck, each one transaction with its events.

Rules (DESIGN.md 1-7) live here and nowhere else. Faces (HTTP routes, UI pages, CLI) call
these methods and render what they return.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError

from promptdeck.core import retention as ret
from promptdeck.core import transfer
from promptdeck.core.content import ContentStore
from promptdeck.domain import retention as retention_rules
from promptdeck.domain import rules
from promptdeck.domain.models import Event, Page, Prompt, Version
from promptdeck.domain.retention import CompactReport, StorageReport
from promptdeck.errors import (
    DatabaseUnavailable,
    IdempotencyKeyReused,
    InvalidInput,
    PromptNotDeleted,
    PromptNotFound,
    StaleEtag,
    VersionNotFound,
)
from promptdeck.limits import PAGE_LIMIT_MAX
from promptdeck.store import blobs as store_blobs
from promptdeck.store import changes as store_changes
from promptdeck.store import engine as store_engine
from promptdeck.store import queries as q
from promptdeck.store import transfer as t_store
from promptdeck.store.constraints import translate

Clock = Callable[[], datetime]

PROMPT_FIELDS = ("description", "tags", "content", "model_config", "max_versions")


@contextmanager
def unavailable_as_error() -> Iterator[None]:
    """A lost connection, a database that is down, or a lock held past the busy timeout is
    DatabaseUnavailable (retryable), not a bug. Constraint violations pass through."""
    try:
        yield
    except (OperationalError, InterfaceError) as exc:
        raise DatabaseUnavailable("the database is unavailable or busy; retry in a moment") from exc


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Created:
    """What a creating operation returns: the resource, and whether it was a replay."""

    replayed: bool


@dataclass(frozen=True, slots=True)
class PromptCreated(Created):
    prompt: Prompt


@dataclass(frozen=True, slots=True)
class VersionCreated(Created):
    version: Version


@dataclass(frozen=True, slots=True)
class Changed:
    """A version after an archive, restore or purge; ``changed`` False for a no-op."""

    version: Version
    changed: bool


@dataclass(frozen=True, slots=True)
class RolledBack:
    prompt: Prompt
    version: Version
    changed: bool


def _request_hash(payload: dict[str, Any]) -> str:
    return hashlib.sha256(rules.canonical_json(payload).encode()).hexdigest()


def _check_limit(limit: int) -> int:
    if not 1 <= limit <= PAGE_LIMIT_MAX:
        raise InvalidInput(f"limit must be between 1 and {PAGE_LIMIT_MAX}", field="limit")
    return limit


class Registry:
    """The service layer over one database."""

    def __init__(
        self, engine: Engine, *, clock: Clock = utcnow, default_max_versions: int | None = None
    ) -> None:
        self.engine = engine
        self._writer = store_engine.writer(engine)
        self.clock = clock
        self.default_max_versions = default_max_versions
        self.contents = ContentStore()

    # --- transactions ---------------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with unavailable_as_error(), self._writer.begin() as conn:
            yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with unavailable_as_error(), self.engine.connect() as conn:
            yield conn

    def _prompt_row(self, conn: Connection, ref: str, **kw: Any) -> Any:
        row = q.find_prompt_row(conn, ref, **kw)
        if row is None:
            raise PromptNotFound(f"no prompt {ref!r}")
        return row

    def _load_prompt(self, conn: Connection, ref: str) -> Prompt:
        row = self._prompt_row(conn, ref)
        return self._with_active(conn, row)

    def _with_active(self, conn: Connection, row: Any) -> Prompt:
        active = None
        if row.active_version_id is not None:
            vrow = q.version_row(conn, row.id, row.active_version_id, full=False)
            if vrow is not None:
                active = q.to_version(vrow, active_id=row.active_version_id)
        return q.to_prompt(row, active)

    def _event(
        self,
        conn: Connection,
        prompt_id: int,
        kind: str,
        actor: str,
        *,
        version_id: int | None = None,
        from_version_id: int | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        if kind in store_changes.MOVE_KINDS:  # GET /changes: see store/changes.py
            store_changes.announce(conn)
        q.insert_event(
            conn,
            {
                "prompt_id": prompt_id,
                "kind": kind,
                "actor": actor,
                "created_at": self.clock(),
                "version_id": version_id,
                "from_version_id": from_version_id,
                "detail": detail or {},
            },
        )

    @staticmethod
    def _check_etag(row: Any, if_match: str | None) -> int | None:
        """The expected revision for a compare-and-set, or 412 when ``if_match`` is stale."""
        if if_match is None or if_match.strip() == "*":
            return None
        current = f'"{row.id}-{row.revision}"'
        offered = [tag.strip().removeprefix("W/") for tag in if_match.split(",")]
        if current not in offered:
            raise StaleEtag(
                f"If-Match {if_match} does not match the prompt's current ETag {current}"
            )
        return int(row.revision)

    # --- prompts --------------------------------------------------------------------------

    def create_prompt(
        self,
        name: str,
        *,
        description: str = "",
        tags: list[str] | None = None,
        content: str = "",
        model_config: dict[str, Any] | None = None,
        version_name: str | None = None,
        version_description: str = "",
        max_versions: int | None = None,
        actor: str = "anonymous",
        idempotency_key: str | None = None,
    ) -> PromptCreated:
        """Rule 1: a prompt is created with its first version, which is active."""
        rules.check_prompt_name(name)
        tags = tags or []
        model_config = model_config or {}
        request = {
            "name": name,
            "description": description,
            "tags": tags,
            "content": content,
            "model_config": model_config,
            "version_name": version_name,
            "version_description": version_description,
            "max_versions": max_versions,
        }
        for attempt in (1, 2):
            try:
                with self._write() as conn:
                    if idempotency_key is not None:
                        replay = self._replay(conn, "prompts", idempotency_key, request)
                        if replay is not None:
                            return PromptCreated(
                                replayed=True, prompt=self._load_prompt(conn, str(replay))
                            )
                    now = self.clock()
                    prompt_id = q.insert_prompt(
                        conn,
                        {
                            "name": name,
                            "description": description,
                            "tags": tags,
                            "content": content,
                            "model_config": model_config,
                            "active_version_id": None,
                            "next_version_number": 0,
                            "version_count": 0,
                            "max_versions": max_versions
                            if max_versions is not None
                            else self.default_max_versions,
                            "revision": 1,
                            "created_at": now,
                            "updated_at": now,
                        },
                    )
                    self._event(conn, prompt_id, "prompt.created", actor, detail={"name": name})
                    version = self._insert_version(
                        conn,
                        prompt_id,
                        version_name=version_name,
                        description=version_description,
                        content=content,
                        model_config=model_config,
                        activate=True,
                        actor=actor,
                    )
                    if idempotency_key is not None:
                        self._remember(conn, "prompts", idempotency_key, request, prompt_id)
                    return PromptCreated(
                        replayed=False, prompt=self._load_prompt(conn, str(version.prompt_id))
                    )
            except IntegrityError as exc:
                # A concurrent request with the same idempotency key won the race: replay it.
                if idempotency_key is not None and attempt == 1:
                    continue
                raise translate(exc, prompt_name=name, version_name=version_name or "") from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def list_prompts(
        self,
        *,
        limit: int = 50,
        cursor: str | None = None,
        query: str | None = None,
        tag: str | None = None,
        deleted: bool = False,
    ) -> Page[Prompt]:
        """Live prompts, oldest first; ``deleted=True``: only soft-deleted ones (each with its
        ``deleted_at``), so they can be found and restored. Same cursor, limit and filters."""
        _check_limit(limit)
        after = rules.decode_cursor(cursor) if cursor else None
        with self._read() as conn:
            rows = q.prompt_page(
                conn, after_id=after, limit=limit + 1, query_text=query, tag=tag, deleted=deleted
            )
            more = len(rows) > limit
            rows = rows[:limit]
            actives = q.versions_by_ids(conn, [r.active_version_id for r in rows])
            items = [
                q.to_prompt(
                    r,
                    q.to_version(actives[r.active_version_id], active_id=r.active_version_id)
                    if r.active_version_id in actives
                    else None,
                )
                for r in rows
            ]
        return Page(items, rules.encode_cursor(items[-1].id) if more and items else None)

    def get_prompt(self, ref: str) -> Prompt:
        with self._read() as conn:
            return self._load_prompt(conn, ref)

    def update_prompt(
        self,
        ref: str,
        changes: dict[str, Any],
        *,
        if_match: str | None = None,
        actor: str = "anonymous",
    ) -> Prompt:
        """Rule 6: metadata and working copy only; never a version or the active pointer."""
        unknown = set(changes) - set(PROMPT_FIELDS)
        if unknown:
            raise InvalidInput(f"cannot change {sorted(unknown)}", field=sorted(unknown)[0])
        with self._write() as conn:
            row = self._prompt_row(conn, ref, for_update=True)
            self._check_etag(row, if_match)
            values = {k: v for k, v in changes.items() if getattr(row, k) != v}
            if values:
                q.update_prompt(
                    conn,
                    row.id,
                    {**values, "revision": row.revision + 1, "updated_at": self.clock()},
                )
                self._event(
                    conn, row.id, "prompt.updated", actor, detail={"fields": sorted(values)}
                )
                if "max_versions" in values:  # rule 8: a lower limit applies at once
                    ret.sweep(self, conn, row.id, protect={row.active_version_id}, actor=actor)
            return self._load_prompt(conn, str(row.id))

    def delete_prompt(
        self, ref: str, *, if_match: str | None = None, actor: str = "anonymous"
    ) -> None:
        """Rule 7: a soft delete; every version stays and the prompt can be restored."""
        with self._write() as conn:
            row = self._prompt_row(conn, ref, for_update=True)
            self._check_etag(row, if_match)
            now = self.clock()
            q.update_prompt(
                conn, row.id, {"deleted_at": now, "revision": row.revision + 1, "updated_at": now}
            )
            self._event(conn, row.id, "prompt.deleted", actor)

    def restore_prompt(self, ref: str, *, actor: str = "anonymous") -> Prompt:
        with self._write() as conn:
            row = self._prompt_row(conn, ref, include_deleted=True, for_update=True)
            if row.deleted_at is None:
                raise PromptNotDeleted(f"prompt {ref!r} is not deleted")
            now = self.clock()
            q.update_prompt(
                conn, row.id, {"deleted_at": None, "revision": row.revision + 1, "updated_at": now}
            )
            self._event(conn, row.id, "prompt.restored", actor)
            return self._load_prompt(conn, str(row.id))

    def purge_prompt(self, ref: str) -> None:
        """Hard delete: only a prompt already soft-deleted, and only on explicit request."""
        with self._write() as conn:
            row = self._prompt_row(conn, ref, include_deleted=True, for_update=True)
            if row.deleted_at is None:
                raise PromptNotDeleted(f"prompt {ref!r} must be deleted before it is purged")
            blob_ids = ret.prompt_blob_ids(conn, row.id)
            q.purge_prompt(conn, row.id)
            for blob_id in blob_ids:  # contents no other prompt shares go for good
                self.contents.release(conn, blob_id)

    # --- versions -------------------------------------------------------------------------

    def create_version(
        self,
        ref: str,
        *,
        version_name: str | None = None,
        description: str = "",
        content: str | None = None,
        model_config: dict[str, Any] | None = None,
        activate: bool = False,
        actor: str = "anonymous",
        idempotency_key: str | None = None,
        if_match: str | None = None,
        save_working_copy: bool = False,
    ) -> VersionCreated:
        """Rule 2: snapshot the body (or the working copy); the active version stays unless
        ``activate``. Rule 3: names unique per prompt, numbers from the prompt's counter.

        ``save_working_copy`` also makes the given content and model config the prompt's
        working copy, in the same transaction (an editor's "save as new version");
        ``if_match`` guards it with the prompt's ETag."""
        request: dict[str, Any] = {
            "version_name": version_name,
            "description": description,
            "content": content,
            "model_config": model_config,
            "activate": activate,
        }
        if save_working_copy:
            request["save_working_copy"] = True
        try:
            with self._write() as conn:
                row = self._prompt_row(conn, ref, for_update=True)
                self._check_etag(row, if_match)
                scope = f"prompt:{row.id}:versions"
                if idempotency_key is not None:
                    replay = self._replay(conn, scope, idempotency_key, request)
                    if replay is not None:
                        return VersionCreated(
                            replayed=True, version=self._version(conn, row.id, replay)
                        )
                snapshot = row.content if content is None else content
                snapshot_config = row.model_config if model_config is None else model_config
                version = self._insert_version(
                    conn,
                    row.id,
                    version_name=version_name,
                    description=description,
                    content=snapshot,
                    model_config=snapshot_config,
                    activate=activate,
                    actor=actor,
                )
                if save_working_copy:
                    q.update_prompt(
                        conn, row.id, {"content": snapshot, "model_config": snapshot_config}
                    )
                if idempotency_key is not None:
                    self._remember(conn, scope, idempotency_key, request, version.id)
                return VersionCreated(replayed=False, version=version)
        except IntegrityError as exc:
            raise translate(exc, version_name=version_name or "") from exc

    def _insert_version(
        self,
        conn: Connection,
        prompt_id: int,
        *,
        version_name: str | None,
        description: str,
        content: str,
        model_config: dict[str, Any],
        activate: bool,
        actor: str,
    ) -> Version:
        now = self.clock()
        locked = q.lock_and_bump_prompt(conn, prompt_id, now)
        number = int(locked.next_version_number)
        previous_active = locked.active_version_id
        if version_name is None:
            base = rules.default_version_name(now)
            version_name = rules.next_free_name(base, q.names_with_prefix(conn, prompt_id, base))
        content_hash = rules.content_hash(content, model_config)
        version_id = q.insert_version(
            conn,
            {
                "prompt_id": prompt_id,
                "number": number,
                "version_name": version_name,
                "description": description,
                "blob_id": self.contents.put(conn, prompt_id, number, content),
                "model_config": model_config,
                "content_hash": content_hash,
                "created_by": actor,
                "created_at": now,
            },
        )
        self._event(
            conn,
            prompt_id,
            "version.created",
            actor,
            version_id=version_id,
            detail={"number": number, "version_name": version_name},
        )
        if activate:
            q.set_active(conn, prompt_id, version_id, now, None)
            self._event(
                conn,
                prompt_id,
                "version.activated",
                actor,
                version_id=version_id,
                from_version_id=previous_active,
                detail={"number": number, "version_name": version_name},
            )
        # Rule 8: over max_versions, archive the oldest; never the active nor the new one.
        ret.sweep(
            self,
            conn,
            prompt_id,
            protect={version_id, version_id if activate else previous_active},
            actor=actor,
            live=int(locked.live_count),
            max_versions=locked.max_versions,
        )
        # Everything about the new version is known here: no need to read it back.
        return Version(
            id=version_id,
            prompt_id=prompt_id,
            number=number,
            version_name=version_name,
            description=description,
            created_at=now,
            created_by=actor,
            content_hash=content_hash,
            active=activate,
            previous_version_id=q.previous_version_id(conn, prompt_id, number),
            content=content,
            model_config=model_config,
        )

    def _version(self, conn: Connection, prompt_id: int, version_id: int) -> Version:
        row = q.version_row(conn, prompt_id, version_id, full=True)
        if row is None:
            raise VersionNotFound(f"prompt has no version {version_id}")
        prompt = q.find_prompt_row(conn, str(prompt_id), include_deleted=True)
        active_id = prompt.active_version_id if prompt is not None else None
        return q.to_version(
            row,
            active_id=active_id,
            previous_id=q.previous_version_id(conn, prompt_id, row.number),
            content=self.contents.text_of(conn, row),
        )

    def list_versions(
        self,
        ref: str,
        *,
        limit: int = 50,
        cursor: str | None = None,
        name: str | None = None,
        archived: bool | None = None,
    ) -> Page[Version]:
        """History, newest first, keyset-paginated on the version number; ``archived``
        filters (None: all, each marked)."""
        _check_limit(limit)
        before = rules.decode_cursor(cursor) if cursor else None
        with self._read() as conn:
            prompt = self._prompt_row(conn, ref)
            if name is not None:
                found = q.version_by_name(conn, prompt.id, name)
                rows = [found] if found is not None else []
                if archived is not None:
                    rows = [r for r in rows if bool(r.archived) == archived]
                more = False
            else:
                rows = q.version_page(
                    conn, prompt.id, before_number=before, limit=limit + 1, archived=archived
                )
                more = len(rows) > limit
                rows = rows[:limit]
        items = [q.to_version(r, active_id=prompt.active_version_id) for r in rows]
        return Page(items, rules.encode_cursor(items[-1].number) if more and items else None)

    def get_version(self, ref: str, version_id: int) -> Version:
        """Rule 5: a version of another prompt is exactly as missing as one that never was."""
        with self._read() as conn:
            prompt = self._prompt_row(conn, ref)
            return self._version(conn, prompt.id, version_id)

    def rollback(
        self, ref: str, version_id: int, *, if_match: str | None = None, actor: str = "anonymous"
    ) -> RolledBack:
        """Rule 4: make any version of the prompt active; deletes nothing; a no-op if active."""
        with self._write() as conn:
            row = self._prompt_row(conn, ref, for_update=True)
            expected = self._check_etag(row, if_match)
            target = q.version_row(conn, row.id, version_id, full=False)
            if target is None:
                raise VersionNotFound(f"prompt {ref!r} has no version {version_id}")
            changed = row.active_version_id != version_id
            if changed:
                ret.check_usable(target)
                restored = bool(target.archived)
                if restored:  # rule 8: restore first, then keep the limit (see docs/storage.md)
                    ret.restore(self, conn, row.id, target, actor=actor, reason="rollback")
                if not q.set_active(conn, row.id, version_id, self.clock(), expected):
                    raise StaleEtag("the prompt changed while rolling back; fetch it and retry")
                detail = {"number": target.number, "version_name": target.version_name}
                self._event(
                    conn,
                    row.id,
                    "version.rolled_back",
                    actor,
                    version_id=version_id,
                    from_version_id=row.active_version_id,
                    detail={**detail, "restored": True} if restored else detail,
                )
                if restored:
                    ret.sweep(self, conn, row.id, protect={version_id}, actor=actor)
            return RolledBack(
                prompt=self._load_prompt(conn, str(row.id)),
                version=self._version(conn, row.id, version_id),
                changed=changed,
            )

    def get_active(self, ref: str) -> tuple[Prompt, Version]:
        """The active version in full, with its prompt: the hot path's slow path."""
        with self._read() as conn:
            row = self._prompt_row(conn, ref)
            vrow = q.version_row(conn, row.id, row.active_version_id, full=True)
            if vrow is None:  # impossible while the foreign key holds
                raise VersionNotFound(f"prompt {ref!r} has no active version")
            return q.to_prompt(row), q.to_version(
                vrow, active_id=row.active_version_id, content=self.contents.text_of(conn, vrow)
            )

    # --- retention (rule 8) ---------------------------------------------------------------

    def _target(self, conn: Connection, ref: str, version_id: int) -> tuple[Any, Any]:
        row = self._prompt_row(conn, ref, for_update=True)
        target = q.version_row(conn, row.id, version_id, full=True)
        if target is None:
            raise VersionNotFound(f"prompt {ref!r} has no version {version_id}")
        return row, target

    def archive_version(self, ref: str, version_id: int, *, actor: str = "anonymous") -> Changed:
        """Archive by hand: out of the unarchived set, content kept; never the active one."""
        with self._write() as conn:
            row, target = self._target(conn, ref, version_id)
            changed = ret.archive(
                self, conn, row.id, target, actor=actor, active_id=row.active_version_id
            )
            return Changed(self._version(conn, row.id, version_id), changed)

    def restore_version(self, ref: str, version_id: int, *, actor: str = "anonymous") -> Changed:
        """Bring an archived version back (exact content); over max_versions, the oldest other
        unarchived versions (never the active one) are archived in its place."""
        with self._write() as conn:
            row, target = self._target(conn, ref, version_id)
            changed = ret.restore(self, conn, row.id, target, actor=actor, reason="manual")
            if changed:
                ret.sweep(
                    self, conn, row.id, protect={version_id, row.active_version_id}, actor=actor
                )
            return Changed(self._version(conn, row.id, version_id), changed)

    def purge_version(
        self, ref: str, version_id: int, *, reason: str | None, actor: str = "anonymous"
    ) -> Changed:
        """Destroy a version's content for good (a leaked secret); the row stays as a
        tombstone with who, when and why. Run ``compact`` to clear the freed pages."""
        reason = retention_rules.check_purge_reason(reason)
        try:
            with self._write() as conn:
                row, target = self._target(conn, ref, version_id)
                changed = ret.purge(
                    self,
                    conn,
                    row.id,
                    target,
                    target.blob_id,
                    actor=actor,
                    reason=reason,
                    active_id=row.active_version_id,
                )
                return Changed(self._version(conn, row.id, version_id), changed)
        except IntegrityError as exc:
            # Another prompt took up the same content while it was being destroyed.
            raise translate(exc) from exc

    def storage(self, ref: str) -> StorageReport:
        with self._read() as conn:
            row = self._prompt_row(conn, ref)
            return store_blobs.storage_report(conn, row.id)

    def compact(self) -> CompactReport:
        """Reclaim freed space; afterwards no purged content remains in the database files."""
        before = store_blobs.database_bytes(self.engine)
        store_blobs.compact(self.engine)
        after = store_blobs.database_bytes(self.engine)
        return CompactReport(self.engine.dialect.name, before, after)

    def ping(self) -> None:
        """Raise if the database cannot be reached."""
        with self._read() as conn:
            q.ping(conn)

    # --- events ---------------------------------------------------------------------------

    def list_events(self, ref: str, *, limit: int = 50, cursor: str | None = None) -> Page[Event]:
        _check_limit(limit)
        before = rules.decode_cursor(cursor) if cursor else None
        with self._read() as conn:
            prompt = self._prompt_row(conn, ref)
            rows = q.event_page(conn, prompt.id, before_id=before, limit=limit + 1)
        more = len(rows) > limit
        items = [q.to_event(r) for r in rows[:limit]]
        return Page(items, rules.encode_cursor(items[-1].id) if more and items else None)

    # --- export and import (core/transfer.py) ---------------------------------------------

    def export_prompt(self, ref: str) -> dict[str, Any]:
        """The prompt's whole history as one record: every version in full, every event.
        A soft-deleted prompt is exported too (with its ``deleted_at``)."""
        with self._read() as conn:
            return transfer.export_record(
                conn, self._prompt_row(conn, ref, include_deleted=True), self.contents
            )

    def export_prompts(self, *, limit: int = 20, cursor: str | None = None) -> Page[dict[str, Any]]:
        """Every prompt's record, soft-deleted ones included, a page at a time (by id)."""
        _check_limit(limit)
        after = rules.decode_cursor(cursor) if cursor else None
        with self._read() as conn:
            rows = t_store.prompt_rows(conn, after_id=after, limit=limit + 1)
            more = len(rows) > limit
            rows = rows[:limit]
            items = [transfer.export_record(conn, row, self.contents) for row in rows]
        return Page(items, rules.encode_cursor(rows[-1].id) if more and rows else None)

    def import_prompt(self, record: dict[str, Any]) -> tuple[Prompt, bool]:
        """Write an exported record as it is (one transaction); (prompt, created). Importing
        an identical prompt again is a no-op; a different one of the same name is a 409."""
        try:
            with self._write() as conn:
                prompt_id, created = transfer.import_record(conn, record, self.contents)
                row = q.find_prompt_row(conn, str(prompt_id), include_deleted=True)
                return self._with_active(conn, row), created
        except IntegrityError as exc:
            raise translate(exc, prompt_name=str(record.get("name", ""))) from exc

    # --- idempotency ----------------------------------------------------------------------

    def _replay(
        self, conn: Connection, scope: str, key: str, request: dict[str, Any]
    ) -> int | None:
        found = q.find_idempotency_key(conn, scope, key)
        if found is None:
            return None
        if found.request_hash != _request_hash(request):
            raise IdempotencyKeyReused(
                f"Idempotency-Key {key!r} was used for a different request", field="Idempotency-Key"
            )
        return int(found.result_id)

    def _remember(
        self, conn: Connection, scope: str, key: str, request: dict[str, Any], result_id: int
    ) -> None:
        q.insert_idempotency_key(
            conn,
            {
                "scope": scope,
                "key": key,
                "request_hash": _request_hash(request),
                "result_id": result_id,
                "created_at": self.clock(),
            },
        )

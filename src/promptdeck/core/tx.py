"""One operation's unit of work: the connection, the clock, the caller, the events to write
and the idempotency record, committed together or not at all.

``Registry`` opens a ``Tx`` for a caller (``writing`` or ``reading``) and passes it, with the
command, to an operation in the module of its concept (``core/versions.py``...). Events are
buffered on the ``Tx`` and written just before the commit, in the order they were recorded;
an operation that raises writes none of them. What the caller may do and see is asked of
``tx.caller`` (domain/caller.py)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import Connection
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError

from promptdeck.core import announce
from promptdeck.core.content import ContentStore
from promptdeck.domain import rules
from promptdeck.domain.caller import SYSTEM, Caller
from promptdeck.domain.refs import EventKind
from promptdeck.errors import DatabaseUnavailable, IdempotencyKeyReused
from promptdeck.store import changes
from promptdeck.store import engine as store_engine
from promptdeck.store import queries as q
from promptdeck.store.constraints import translate

Clock = Callable[[], datetime]
C = TypeVar("C")
R = TypeVar("R")
P = ParamSpec("P")


def utcnow() -> datetime:
    return datetime.now(UTC)


# A deadlock victim or a serialization failure (PostgreSQL rolled the transaction back
# whole): ``Database.write`` runs the operation again, up to WRITE_ATTEMPTS times in all.
TRANSIENT_SQLSTATES = frozenset({"40P01", "40001"})
WRITE_ATTEMPTS = 3


def transient(exc: BaseException) -> bool:
    """Whether ``exc`` (a DatabaseUnavailable) was a transaction the database rolled back to
    break a deadlock or a serialization conflict: trying it again is safe and will pass."""
    cause = exc.__cause__
    orig = getattr(cause, "orig", None)
    return getattr(orig, "sqlstate", None) in TRANSIENT_SQLSTATES


@contextmanager
def unavailable_as_error() -> Iterator[None]:
    """A lost connection, a database that is down, or a lock held past the busy timeout is
    DatabaseUnavailable (retryable), not a bug. Constraint violations pass through."""
    try:
        yield
    except (OperationalError, InterfaceError) as exc:
        raise DatabaseUnavailable("the database is unavailable or busy; retry in a moment") from exc


@dataclass(frozen=True, slots=True)
class Idempotency:
    """An Idempotency-Key claimed by this operation, with the hash of the request it names."""

    scope: str
    key: str
    request_hash: str


@dataclass(slots=True)
class Tx:
    conn: Connection
    clock: Clock
    contents: ContentStore
    caller: Caller
    default_max_versions: int | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    idempotency: Idempotency | None = None
    # Each prompt's protected labels as read in this transaction (core/load.protected): a
    # move checks them more than once; set_protected drops the entry.
    protected: dict[int, frozenset[str]] = field(default_factory=dict)

    @property
    def actor(self) -> str:
        """The name this transaction's events, moves and versions record."""
        return self.caller.actor

    def record(
        self,
        kind: EventKind,
        prompt_id: int,
        *,
        version_id: int | None = None,
        from_version_id: int | None = None,
        detail: dict[str, Any] | None = None,
        announce: dict[str, Any] | None = None,
    ) -> None:
        """An event to write with this transaction, by this transaction's actor, now.
        ``announce``: more keys its webhook deliveries carry, not stored (a creation's
        contract: up to 100 KB that no event row should repeat)."""
        event = {
            "prompt_id": prompt_id,
            "kind": str(kind),
            "actor": self.actor,
            "created_at": self.clock(),
            "version_id": version_id,
            "from_version_id": from_version_id,
            "detail": detail or {},
        }
        if announce:
            event["announce"] = announce
        self.events.append(event)

    def claim(self, scope: str, key: str | None, request: dict[str, Any]) -> int | None:
        """Claim ``key`` for ``request``: the id the key already names (replay), or None
        (the key is remembered with the result at ``remember``). A key reused for another
        request is an error."""
        if key is None:
            return None
        digest = hashlib.sha256(rules.canonical_json(request).encode()).hexdigest()
        found = q.find_idempotency_key(self.conn, scope, key)
        if found is not None:
            if found.request_hash != digest:
                raise IdempotencyKeyReused(
                    f"Idempotency-Key {key!r} was used for a different request",
                    field="Idempotency-Key",
                )
            return found.result_id
        self.idempotency = Idempotency(scope, key, digest)
        return None

    def remember(self, result_id: int) -> None:
        """Store the claimed key (if any) with the id of what the request created."""
        if self.idempotency is not None:
            q.insert_idempotency_key(
                self.conn,
                {
                    "scope": self.idempotency.scope,
                    "key": self.idempotency.key,
                    "request_hash": self.idempotency.request_hash,
                    "result_id": result_id,
                    "created_at": self.clock(),
                },
            )

    def flush(self) -> None:
        if not self.events:
            return
        # Webhooks: the hooks that may want these events, read once; their deliveries are
        # queued in this transaction, so they commit (or not) with the events.
        hooks = announce.hooks_for(self.conn, self.events)
        if any(event["kind"] in changes.MOVE_KINDS for event in self.events):
            changes.announce(self.conn)  # GET /changes: before the insert, moves commit in order
        # One statement for all, unless deliveries are to be queued: they name their events.
        ids = q.insert_events(self.conn, self.events, ids=bool(hooks))
        if hooks:
            for event, key in zip(self.events, ids, strict=True):
                event["id"] = key
            announce.enqueue(self.conn, hooks, self.events, self.clock())
        self.events.clear()


class Connections:
    """Transactions on one engine for services outside the prompt registry (access,
    webhooks): writes through the store's write queue, reads on a pooled connection."""

    def __init__(self, engine: Engine, *, clock: Clock = utcnow) -> None:
        self.engine = engine
        self._writer = store_engine.writer(engine)
        self.clock = clock

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with unavailable_as_error(), self._writer.begin() as conn:
            yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with unavailable_as_error(), self.engine.connect() as conn:
            yield conn


class Database:
    """Opens transactions on one engine: writes through the store's write queue."""

    def __init__(
        self, engine: Engine, clock: Clock, contents: ContentStore, default_max_versions: int | None
    ) -> None:
        self.engine = engine
        self._writer = store_engine.writer(engine)
        self.clock = clock
        self.contents = contents
        self.default_max_versions = default_max_versions

    @contextmanager
    def writing(self, caller: Caller) -> Iterator[Tx]:
        """One write transaction for ``caller``; commits (events included) unless the block
        raises."""
        with unavailable_as_error(), self._writer.begin() as conn:
            tx = Tx(conn, self.clock, self.contents, caller, self.default_max_versions)
            yield tx
            tx.flush()

    @contextmanager
    def reading(self, caller: Caller) -> Iterator[Tx]:
        with unavailable_as_error(), self.engine.connect() as conn:
            yield Tx(conn, self.clock, self.contents, caller)

    def write(self, caller: Caller, operation: Callable[[Tx, C], R], cmd: C) -> R:
        """``operation(tx, cmd)`` in one write transaction. A constraint the database refused
        is a domain error naming the command's prompt and version; a command with an
        Idempotency-Key whose race another request won is tried once more (a replay); a
        transaction PostgreSQL rolled back to break a deadlock is run again (``transient``)."""
        replayed, retried = False, 0
        while True:
            try:
                with self.writing(caller) as tx:
                    return operation(tx, cmd)
            except IntegrityError as exc:
                if getattr(cmd, "idempotency_key", None) is not None and not replayed:
                    replayed = True
                    continue
                names = {"prompt_name": getattr(cmd, "name", "")}
                names["version_name"] = getattr(cmd, "version_name", None) or ""
                raise translate(exc, **names) from exc
            except DatabaseUnavailable as exc:
                if retried + 1 < WRITE_ATTEMPTS and transient(exc):
                    retried += 1
                    continue
                raise

    def read(
        self, caller: Caller, operation: Callable[Concatenate[Tx, P], R], *a: P.args, **k: P.kwargs
    ) -> R:
        """``operation(tx, …)`` in one read transaction."""
        with self.reading(caller) as tx:
            return operation(tx, *a, **k)

    def ping(self) -> None:
        """Raise DatabaseUnavailable if the database cannot be reached."""
        with self.reading(SYSTEM) as tx:
            q.ping(tx.conn)

"""SQL for keys, people, sessions, failed attempts, the access generation and the history
across prompts. Rows come back as the frozen records of ``store/records.py``."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import datetime
from typing import Any

import psycopg
import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url

from promptdeck.domain import values
from promptdeck.domain.access import Account, Role
from promptdeck.domain.models import Event
from promptdeck.errors import DatabaseUnavailable
from promptdeck.store.queries import events_with_versions, to_event
from promptdeck.store.records import FailureCount, PrincipalRow, SessionRow
from promptdeck.store.tables import (
    access_marks,
    access_state,
    auth_failures,
    events,
    principals,
    prompts,
    sessions,
)
from promptdeck.store.types import UTCDateTime

HAD_ACCESS = "had-access"


def generation(conn: Connection) -> int:
    return int(conn.execute(_GENERATION).scalar_one())


_GENERATION = sa.select(access_state.c.generation).where(access_state.c.id == 1)


def bump_generation(conn: Connection) -> None:
    conn.execute(
        sa.update(access_state)
        .where(access_state.c.id == 1)
        .values(generation=access_state.c.generation + 1)
    )


def any_principal(conn: Connection) -> bool:
    return conn.execute(sa.select(principals.c.id).limit(1)).first() is not None


def had_access(conn: Connection) -> datetime | None:
    """When the first key or person was created, if one ever was (kept by downgrades)."""
    query = sa.select(access_marks.c.at).where(access_marks.c.name == HAD_ACCESS)
    at: datetime | None = conn.execute(query).scalar()
    return at


def mark_access(conn: Connection, at: datetime) -> None:
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    conn.execute(insert(access_marks).values(name=HAD_ACCESS, at=at).on_conflict_do_nothing())


def insert_principal(conn: Connection, values: dict[str, Any]) -> int:
    key = conn.execute(sa.insert(principals).values(**values)).inserted_primary_key
    assert key is not None
    return int(key[0])


def principal_by_name(conn: Connection, name: str) -> PrincipalRow | None:
    if not values.is_text(name):
        return None  # no stored name has a NUL or a lone surrogate (PostgreSQL would refuse it)
    row = conn.execute(sa.select(principals).where(principals.c.name == name)).first()
    return None if row is None else PrincipalRow.of(row)


def principal_by_id(conn: Connection, principal_id: int) -> PrincipalRow | None:
    row = conn.execute(sa.select(principals).where(principals.c.id == principal_id)).first()
    return None if row is None else PrincipalRow.of(row)


def principal_by_key_id(conn: Connection, key_id: str) -> PrincipalRow | None:
    row = conn.execute(_BY_KEY_ID, {"key_id": key_id}).first()
    return None if row is None else PrincipalRow.of(row)


_BY_KEY_ID = sa.select(principals).where(principals.c.key_id == sa.bindparam("key_id"))


def principal_page(
    conn: Connection, kind: str, *, after_id: int | None, limit: int, roles: list[str]
) -> list[PrincipalRow]:
    """Keys or people with one of ``roles``, by id after ``after_id``."""
    query = sa.select(principals).where(principals.c.kind == kind, principals.c.role.in_(roles))
    if after_id is not None:
        query = query.where(principals.c.id > after_id)
    rows = conn.execute(query.order_by(principals.c.id).limit(limit))
    return [PrincipalRow.of(r) for r in rows]


def revoke_principal(conn: Connection, principal_id: int, at: datetime) -> None:
    conn.execute(sa.update(principals).where(principals.c.id == principal_id).values(revoked_at=at))


def insert_session(conn: Connection, values: dict[str, Any]) -> int:
    key = conn.execute(sa.insert(sessions).values(**values)).inserted_primary_key
    assert key is not None
    return int(key[0])


def session_with_principal(conn: Connection, token_hash: str) -> SessionRow | None:
    row = conn.execute(_SESSION, {"token_hash": token_hash}).first()
    if row is None:
        return None
    m = row._mapping
    return SessionRow(int(m["session_id"]), m["session_expires_at"], PrincipalRow.of(row))


_SESSION = (
    sa.select(
        principals,
        sessions.c.id.label("session_id"),
        sessions.c.expires_at.label("session_expires_at"),
    )
    .select_from(sessions.join(principals, principals.c.id == sessions.c.principal_id))
    .where(sessions.c.token_hash == sa.bindparam("token_hash"))
)


def session_exists(conn: Connection, session_id: int) -> bool:
    found = conn.execute(sa.select(sessions.c.id).where(sessions.c.id == session_id)).first()
    return found is not None


def delete_session(conn: Connection, token_hash: str) -> None:
    conn.execute(sa.delete(sessions).where(sessions.c.token_hash == token_hash))


def delete_sessions_of(conn: Connection, principal_id: int) -> None:
    conn.execute(sa.delete(sessions).where(sessions.c.principal_id == principal_id))


def delete_expired_sessions(conn: Connection, now: datetime) -> None:
    conn.execute(sa.delete(sessions).where(sessions.c.expires_at < now))


# --- failed attempts (migration 0014) -----------------------------------------------------


def count_failure(
    conn: Connection, scope: str, subject: str, now: datetime, expires_at: datetime
) -> FailureCount:
    """Count one more failure of ``subject`` (the count starts again once the row expired);
    in one statement, so concurrent attempts are all counted (PostgreSQL keeps the row
    locked until commit; SQLite's writer holds the database)."""
    t = auth_failures
    insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(t)
    now_ = sa.literal(now, UTCDateTime())
    expired = t.c.expires_at <= now_
    statement = (
        insert.values(
            scope=scope, subject=subject, failures=1, locked_until=None, expires_at=expires_at
        )
        .on_conflict_do_update(
            index_elements=[t.c.scope, t.c.subject],
            set_={
                "failures": sa.case((expired, 1), else_=t.c.failures + 1),
                "locked_until": sa.case((expired, None), else_=t.c.locked_until),
                "expires_at": insert.excluded.expires_at,
            },
        )
        .returning(t.c.failures, t.c.locked_until)
    )
    row = conn.execute(statement).one()
    return FailureCount(int(row.failures), row.locked_until)


def _one(scope: str, subject: str) -> sa.ColumnElement[bool]:
    return sa.and_(auth_failures.c.scope == scope, auth_failures.c.subject == subject)


def lock_failures(conn: Connection, scope: str, subject: str, until: datetime) -> None:
    conn.execute(sa.update(auth_failures).where(_one(scope, subject)).values(locked_until=until))


def locked_until(conn: Connection, scope: str, subject: str) -> datetime | None:
    query = sa.select(auth_failures.c.locked_until).where(_one(scope, subject))
    until: datetime | None = conn.execute(query).scalar()
    return until


def forget_failures(conn: Connection, scope: str, subject: str) -> None:
    conn.execute(sa.delete(auth_failures).where(_one(scope, subject)))


def refund_failure(conn: Connection, scope: str, subject: str) -> None:
    conn.execute(
        sa.update(auth_failures)
        .where(_one(scope, subject), auth_failures.c.failures > 0)
        .values(failures=auth_failures.c.failures - 1)
    )


def prune_failures(conn: Connection, now: datetime) -> None:
    """Forget subjects whose window has passed (an index range; usually empty)."""
    conn.execute(sa.delete(auth_failures).where(auth_failures.c.expires_at < now))


# --- reads across prompts -------------------------------------------------------------------


def prompt_name(conn: Connection, ref: str) -> str | None:
    """A prompt's name from its id or name (deleted ones included), or None."""
    if ref.isascii() and ref.isdigit() and len(ref) < 10:
        clause = prompts.c.id == int(ref)
    else:
        clause = prompts.c.name == ref
    found = conn.execute(sa.select(prompts.c.name).where(clause)).first()
    return str(found.name) if found is not None else None


def all_events_page(
    conn: Connection,
    *,
    before_id: int | None,
    limit: int,
    prompt: str | None = None,
    actor: str | None = None,
    kind: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    prefixes: tuple[str, ...] = (),
) -> list[tuple[Event, str]]:
    """Events of every prompt (purged prompts' events go with them), newest first, each
    with its prompt's name."""
    query = events_with_versions().add_columns(prompts.c.name.label("prompt_name"))
    query = query.join(prompts, prompts.c.id == events.c.prompt_id)
    if before_id is not None:
        query = query.where(events.c.id < before_id)
    if prompt is not None:
        query = query.where(
            prompts.c.id == int(prompt)
            if prompt.isdigit() and len(prompt) < 10
            else prompts.c.name == prompt
        )
    if actor is not None:
        query = query.where(events.c.actor == actor)
    if kind is not None:
        query = query.where(
            events.c.kind.startswith(kind) if kind.endswith(".") else events.c.kind == kind
        )
    if since is not None:
        query = query.where(events.c.created_at >= since)
    if until is not None:
        query = query.where(events.c.created_at < until)
    if prefixes:
        query = query.where(
            sa.or_(*(prompts.c.name.startswith(p, autoescape=True) for p in prefixes))
        )
    rows = conn.execute(query.order_by(events.c.id.desc()).limit(limit))
    return [(to_event(r), str(r.prompt_name)) for r in rows]


def to_account(row: PrincipalRow) -> Account:
    return Account(
        id=row.id,
        name=row.name,
        kind=row.kind,
        role=Role[row.role],
        prefixes=row.prefixes,
        key_prefix=row.key_id,
        created_at=row.created_at,
        created_by=row.created_by,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
    )


# --- "did access change?", asked on every request ----------------------------------------

GENERATION_SQL = "SELECT generation FROM access_state WHERE id = 1"


class SQLiteDataVersion:
    """``PRAGMA data_version`` on a connection of its own: it changes whenever any other
    connection, of this process or another, has committed (a few microseconds to ask)."""

    def __init__(self, database_url: str) -> None:
        self._path = make_url(database_url).database or ""
        self._conn: sqlite3.Connection | None = None
        self._last = -1

    def changed(self) -> bool:
        if self._conn is None:  # opened on first use, again after close (a new lifespan)
            self._conn = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None)
            self._last = -1
        value = self._conn.execute("PRAGMA data_version").fetchone()[0]
        if value == self._last:
            return False
        self._last = value
        return True

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
        self._conn = None


class PostgresGeneration:
    """The access generation read over one async connection of its own (no thread pool, no
    connection pool: one round trip, about 0.1 ms).

    Requests that arrive while a read is under way wait for the next read, which starts
    after they arrived: one round trip serves all of them, and no request is answered from a
    read older than itself, so a revocation committed before a request is always seen."""

    def __init__(self, database_url: str) -> None:
        url = make_url(database_url).set(drivername="postgresql")
        self._conninfo = url.render_as_string(hide_password=False)
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._next: asyncio.Future[int] | None = None
        self._running = False
        self._task: asyncio.Task[None] | None = None

    async def read(self) -> int:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a new event loop (tests): start afresh on it
            self._loop, self._conn, self._next, self._running = loop, None, None, False
        if self._next is None:
            self._next = loop.create_future()
        waiting = self._next
        if not self._running:
            self._running = True
            self._task = loop.create_task(self._serve())
        return await waiting

    async def _serve(self) -> None:
        try:
            while self._next is not None:
                batch, self._next = self._next, None
                try:
                    batch.set_result(await self._query())
                except Exception as exc:
                    batch.set_exception(exc)
        finally:
            self._running = False

    async def _query(self) -> int:
        try:
            if self._conn is None or self._conn.closed:
                self._conn = await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True)
            cur = await self._conn.execute(GENERATION_SQL, prepare=True)
            row = await cur.fetchone()
            return int(row[0]) if row is not None else 0
        except psycopg.Error as exc:
            if self._conn is not None:
                await self._conn.close()
            self._conn = None
            raise DatabaseUnavailable("the database is unavailable; retry in a moment") from exc

    async def close(self) -> None:
        if self._conn is not None and asyncio.get_running_loop() is self._loop:
            await self._conn.close()
        self._conn = None

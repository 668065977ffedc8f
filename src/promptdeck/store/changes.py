"""What the hot path and the change feed ask the database: is anything new, where do the
active pointers stand, which pointer moves happened after event n.

- SQLite: ``PRAGMA data_version`` on a connection of its own tells, in a few microseconds,
  whether any connection of any process has committed since the last look.
- PostgreSQL: the hot path reads the pointers of the prompts asked for (and the gate's
  access generation) in one statement, on one async connection a process (psycopg
  ``AsyncConnection``: no thread pool hop). A pointer move announces itself with
  ``NOTIFY`` in its own transaction (delivered at commit), which wakes the change feed of
  every process.
- Both: pointer moves are the events whose kind is in ``MOVE_KINDS``; their ids are the
  feed's cursor. On PostgreSQL a sequence hands out ids before commit, so two moves could
  commit out of id order and a reader that saw event 11 could later find event 10: the move's
  transaction takes ``MOVE_LOCK_KEY`` before inserting its event, so moves commit in id order
  (they are rare; they wait for each other only for the rest of their transaction). SQLite has
  one writer at a time, so ids are in commit order already.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.engine import make_url

from promptdeck.errors import DatabaseUnavailable
from promptdeck.store.tables import events, prompts, versions

# Events after which GET /prompts/{p}/active answers differently.
MOVE_KINDS = (
    "version.activated",
    "version.rolled_back",
    "prompt.deleted",
    "prompt.restored",
    "label.moved",  # labels (issue 14): the moved label is in the event's detail
    "label.removed",
    # Rollouts (docs/rollouts.md): who gets which version changed; the label, and the split
    # a client assigns from, are in the detail ("rollout"). The event's version is the
    # label's own (the baseline; the candidate once completed).
    "rollout.started",
    "rollout.advanced",
    "rollout.paused",
    "rollout.resumed",
    "rollout.completed",
    "rollout.rolled_back",
    "rollout.aborted",
)
CHANNEL = "promptdeck_changes"
# pg_advisory_xact_lock key of pointer moves ("pdmoves" in ASCII); released at commit.
MOVE_LOCK_KEY = 0x70646D6F766573


def announce(conn: Connection) -> None:
    """Call in a write transaction just before it inserts a pointer-move event."""
    if conn.dialect.name == "postgresql":
        conn.execute(_ANNOUNCE)


_ANNOUNCE = sa.text(f"SELECT pg_advisory_xact_lock({MOVE_LOCK_KEY}), pg_notify('{CHANNEL}', '')")


# --- SQLite ---------------------------------------------------------------------------------


class SQLiteDataVersion:
    """True when any connection has committed to the database since the last call."""

    def __init__(self, database_url: str) -> None:
        path = make_url(database_url).database or ""
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._last = -1
        self.statements = 0

    def changed(self) -> bool:
        self.statements += 1
        value = self._conn.execute("PRAGMA data_version").fetchone()[0]
        if value != self._last:
            self._last = value
            return True
        return False

    def close(self) -> None:
        self._conn.close()


# --- PostgreSQL -----------------------------------------------------------------------------


def _conninfo(database_url: str) -> str:
    return make_url(database_url).set(drivername="postgresql").render_as_string(False)


# (id, name, active_version_id, label, label's version_id, then the live rollouts of
# `active` and of the label: id, candidate, basis points, salt each) of live prompts, by name
# or by id; one index probe each (a live rollout: one probe of the partial unique index
# uq_rollouts_live, whose condition the join repeats word for word). Without labels asked,
# the label columns are NULL; with labels, a prompt has a row per label asked that it has
# set (one row with NULLs when none).
_LIVE = "status IN ('running', 'paused')"
_ROLLOUT = "{r}.id, {r}.candidate_version_id, {r}.basis_points, {r}.salt"


def _pointers_sql(key: str, labelled: bool) -> str:
    active = f" LEFT JOIN rollouts ra ON ra.prompt_id = p.id AND ra.label = 'active' AND ra.{_LIVE}"
    if not labelled:
        return (
            f"SELECT p.id, p.name, p.active_version_id, NULL, NULL, {_ROLLOUT.format(r='ra')},"
            " NULL, NULL, NULL, NULL FROM prompts p"
            f"{active} WHERE p.{key} = ANY(%s) AND p.deleted_at IS NULL"
        )
    return (
        f"SELECT p.id, p.name, p.active_version_id, l.name, l.version_id, "
        f"{_ROLLOUT.format(r='ra')}, {_ROLLOUT.format(r='rl')} FROM prompts p"
        " LEFT JOIN labels l ON l.prompt_id = p.id AND l.name = ANY(%s)"
        f"{active}"
        f" LEFT JOIN rollouts rl ON rl.prompt_id = p.id AND rl.label = l.name AND rl.{_LIVE}"
        f" WHERE p.{key} = ANY(%s) AND p.deleted_at IS NULL"
    )


# The access generation (store/access.py) rides the same read: a row whose id is -1.
_GENERATION = (
    "SELECT -1, '', generation, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL"
    " FROM access_state WHERE id = 1"
)

_SQL = {
    (names, ids, labelled): " UNION ALL ".join(
        [_GENERATION]
        + [_pointers_sql("name", labelled)] * names
        + [_pointers_sql("id", labelled)] * ids
    )
    for names in (False, True)
    for ids in (False, True)
    for labelled in (False, True)
}

# A live rollout as the hot path needs it: (rollout id, candidate, basis points, salt).
LiveRollout = tuple[int, int, int, str]
# prompt id, prompt name, active version id, label (or None), the label's version id, the
# live rollout of `active`, the live rollout of the label
Pointer = tuple[
    int, str, int | None, str | None, int | None, LiveRollout | None, LiveRollout | None
]


def _live(row: Any, at: int) -> LiveRollout | None:
    if row[at] is None:
        return None
    return (int(row[at]), int(row[at + 1]), int(row[at + 2]), str(row[at + 3]))


def _loop() -> asyncio.AbstractEventLoop:
    return asyncio.get_running_loop()


class PgPointers:
    """Reads pointers (`active` and the labels asked for) on one async connection of its
    own, opened on first use and again after a failure. Not shared between event loops; one
    statement at a time."""

    def __init__(self, database_url: str) -> None:
        self._conninfo = _conninfo(database_url)
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.statements = 0

    async def read(
        self, names: Sequence[str], ids: Sequence[int], labels: Sequence[str] = ()
    ) -> tuple[int, list[Pointer]]:
        """The access generation (0 when none was ever set), and the pointers of the live
        prompts among ``names`` and ``ids``: `active` and, of ``labels``, those they have
        set. One statement."""
        by_name, by_id = bool(names), bool(ids)
        sql = _SQL[(by_name, by_id, bool(labels))]
        params: list[list[Any]] = []
        for used, keys in ((by_name, names), (by_id, ids)):
            if used:
                params += [list(labels), list(keys)] if labels else [list(keys)]
        for attempt in (1, 2):
            fresh = self._conn is None or self._conn.closed or self._loop is not _loop()
            try:
                conn = await self._connection()
                self.statements += 1
                cur = await conn.execute(sql, params, prepare=True)
                rows = await cur.fetchall()
                generation = 0
                pointers: list[Pointer] = []
                for r in rows:
                    if r[0] == -1:
                        generation = int(r[2])
                    else:
                        pointer = (int(r[0]), str(r[1]), r[2], r[3], r[4], _live(r, 5), _live(r, 9))
                        pointers.append(pointer)
                return generation, pointers
            except psycopg.Error as exc:
                await self.close()
                # A connection the database dropped (a restart, a failover) fails on its
                # next use: reconnect once, as the pool's pre-ping does for the others.
                if fresh or attempt == 2:
                    raise DatabaseUnavailable(
                        "the database is unavailable or busy; retry in a moment"
                    ) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    async def _connection(self) -> psycopg.AsyncConnection[Any]:
        loop = _loop()
        if self._conn is None or self._conn.closed or self._loop is not loop:
            self._conn = await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True)
            self._loop = loop
        return self._conn

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.closed:
            with contextlib.suppress(psycopg.Error):  # closing a broken connection
                await conn.close()


class PgListener:
    """``LISTEN`` on one async connection; ``wait`` returns when a pointer move committed
    (True) or after ``timeout`` seconds (False). Raises DatabaseUnavailable when the
    connection is lost (the caller reconnects by calling again)."""

    def __init__(self, database_url: str) -> None:
        self._conninfo = _conninfo(database_url)
        self._conn: psycopg.AsyncConnection[Any] | None = None

    async def wait(self, timeout: float) -> bool:
        try:
            if self._conn is None or self._conn.closed:
                self._conn = await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True)
                await self._conn.execute(f"LISTEN {CHANNEL}")
                return True  # moves may have happened while nobody listened
            async for _ in self._conn.notifies(timeout=timeout, stop_after=1):
                return True
            return False
        except psycopg.Error as exc:
            await self.close()
            raise DatabaseUnavailable("the change listener lost its connection") from exc

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.closed:
            with contextlib.suppress(psycopg.Error):  # closing a broken connection
                await conn.close()


# --- the moves (both databases) -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MoveRow:
    id: int
    prompt_id: int
    prompt_name: str
    kind: str
    version_id: int | None
    number: int | None
    version_name: str | None
    created_at: Any
    detail: Any  # the event's detail: a label move names its label there


def _moves(filtered: bool) -> sa.Select[Any]:
    # A restore names no version in its event: it brings back the current pointer.
    version_id = sa.case(
        (events.c.kind.in_(("prompt.deleted", "label.removed")), sa.null()),
        (events.c.kind == "label.moved", events.c.version_id),
        else_=sa.func.coalesce(events.c.version_id, prompts.c.active_version_id),
    )
    query = (
        sa.select(
            events.c.id,
            events.c.prompt_id,
            prompts.c.name,
            events.c.kind,
            version_id.label("version_id"),
            versions.c.number,
            versions.c.version_name,
            events.c.created_at,
            events.c.detail,
        )
        .select_from(
            events.join(prompts, prompts.c.id == events.c.prompt_id).outerjoin(
                versions, versions.c.id == version_id
            )
        )
        .where(events.c.id > sa.bindparam("after"), events.c.kind.in_(MOVE_KINDS))
        .order_by(events.c.id)
        .limit(sa.bindparam("limit"))
    )
    if filtered:
        query = query.where(prompts.c.name.in_(sa.bindparam("names", expanding=True)))
    return query


_MOVES = {filtered: _moves(filtered) for filtered in (True, False)}
# Moves only: a later event of another kind may commit while a move holding the lock is not
# yet committed, and a subscriber starting past that move would never see it.
_LAST_MOVE = sa.select(sa.func.coalesce(sa.func.max(events.c.id), 0)).where(
    events.c.kind.in_(MOVE_KINDS)
)


def moves_after(
    conn: Connection, after: int, names: Sequence[str] | None, limit: int
) -> list[MoveRow]:
    """Pointer moves with an event id above ``after``, oldest first; of ``names`` only when
    given. Keyset on the events' primary key: O(limit) whatever the history."""
    params: dict[str, Any] = {"after": after, "limit": limit}
    if names is not None:
        params["names"] = list(names)
    rows = conn.execute(_MOVES[names is not None], params)
    return [MoveRow(*row) for row in rows]


def last_move_id(conn: Connection) -> int:
    """The newest pointer move's event id (0 when none): where a new subscriber starts."""
    return int(conn.execute(_LAST_MOVE).scalar_one())

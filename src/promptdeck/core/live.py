"""What each process keeps live: the hot path's cache of active versions, and the feed of
pointer moves that GET /changes streams.

The hot path (``ActiveCache``). Versions are immutable, so a version's rendered body is
cached by version id for good; only the pointer (which version is active) can change, and a
request must never be answered from a pointer older than itself: a request that starts after
a rollback's 200 was sent, on any process, gets the new version.

- SQLite: ``PRAGMA data_version`` (a few microseconds, no I/O) says whether any process
  committed since the last look; if so the pointers are forgotten (the bodies stay). A hit
  is then two dictionary lookups.
- PostgreSQL: each request waits for a pointer read that *started after it arrived*, but
  requests share reads: while one read is in flight, every request that arrives joins the
  next one, which starts as soon as the first returns (one statement for all the prompts
  asked, on one async connection, no thread pool). At 64 connections one read serves tens of
  requests, and no request can see a pointer read before it arrived. Chosen by measurement
  over LISTEN/NOTIFY alone, which cannot prove that a notification committed before the
  request has been received (see docs/performance.md).

The feed (``ChangeFeed``): one background task a process wakes when a pointer move commits
(PostgreSQL ``NOTIFY``; on SQLite a ``data_version`` poll every 10 ms), reads the moves after
the last one it saw (one keyset query, whatever the number of subscribers) and wakes the
subscribers, who take what is theirs from a bounded buffer. A subscriber resuming from an id
older than the buffer reads the database instead, so none misses a move.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

import anyio.to_thread
from sqlalchemy.engine import Engine, make_url

from promptdeck.core.tx import unavailable_as_error
from promptdeck.domain import values
from promptdeck.domain.labels import ACTIVE
from promptdeck.domain.models import Prompt, Version
from promptdeck.domain.rollouts.split import Split
from promptdeck.errors import DatabaseUnavailable, PromptNotFound
from promptdeck.store import changes

T = TypeVar("T")
log = logging.getLogger("promptdeck.live")

MAX_BODIES = 10_000
MAX_POINTERS = 10_000
# Bodies are up to CONTENT_MAX each: the entry count alone would allow gigabytes. Past this
# many bytes the oldest bodies go first (a miss renders them again).
MAX_BODY_BYTES = 64 * 1024 * 1024


def _is_sqlite(database_url: str) -> bool:
    return make_url(database_url).get_backend_name() == "sqlite"


# --- the hot path ---------------------------------------------------------------------------


class Pointers(dict[str, int | None]):
    """A prompt's pointers as one read found them: label -> version id (`active` always
    present, None when the prompt has no active version; other labels only when set and
    asked for); ``rollouts``: label -> its live rollout, for those that have one."""

    __slots__ = ("rollouts",)

    def __init__(self, active: int | None) -> None:
        super().__init__(active=active)
        self.rollouts: dict[str, changes.LiveRollout] = {}


class _Batch:
    __slots__ = ("by_id", "by_name", "done", "error", "generation", "ids", "labels", "names")

    def __init__(self) -> None:
        self.generation = 0
        self.names: set[str] = set()
        self.ids: set[int] = set()
        self.labels: set[str] = set()  # labels other than `active` asked for
        self.done = asyncio.Event()
        self.by_name: dict[str, Pointers] = {}
        self.by_id: dict[int, Pointers] = {}
        self.error: BaseException | None = None


class PointerReads:
    """Coalesced pointer reads: ``get(ref, label)`` returns the pointers of a live prompt
    (``{label: version id}``, `active` always, ``label`` when set), or None when there is no
    such prompt, from a read that started after the call. Labels ride the same read, and so
    does the access generation (``probe``): the gate's check and the hot path's pointer are
    one round trip."""

    def __init__(
        self,
        read: Callable[
            [Sequence[str], Sequence[int], Sequence[str]],
            Awaitable[tuple[int, list[changes.Pointer]]],
        ],
    ) -> None:
        self._read = read
        self._next: _Batch | None = None
        self._task: asyncio.Task[None] | None = None
        self.reads = 0

    async def get(self, ref: str, label: str = ACTIVE) -> Pointers | None:
        return (await self.probe(ref, label))[1]

    async def probe(self, ref: str | None, label: str = ACTIVE) -> tuple[int, Pointers | None]:
        """The access generation and, with ``ref``, its pointers (as ``get``), from one read
        that started after the call."""
        batch = self._next
        if batch is None:
            batch = self._next = _Batch()
            if self._task is None:
                self._task = asyncio.get_running_loop().create_task(self._run())
        number = None
        if ref is not None:
            number = values.parse_id(ref)  # the one spelling of an id (domain/values.py)
            if number is not None:
                batch.ids.add(number)
            else:
                batch.names.add(ref)
            if label != ACTIVE:
                batch.labels.add(label)
        await batch.done.wait()
        if batch.error is not None:
            raise batch.error
        if ref is None:
            return batch.generation, None
        found = batch.by_id.get(number) if number is not None else batch.by_name.get(ref)
        return batch.generation, found

    async def _run(self) -> None:
        try:
            while self._next is not None:
                batch, self._next = self._next, None
                try:
                    self.reads += 1
                    batch.generation, rows = await self._read(
                        sorted(batch.names), sorted(batch.ids), sorted(batch.labels)
                    )
                    for prompt_id, name, active_id, label, label_id, on_active, on_label in rows:
                        pointers = batch.by_id.get(prompt_id)
                        if pointers is None:
                            pointers = batch.by_id[prompt_id] = Pointers(active_id)
                            batch.by_name[name] = pointers
                        if on_active is not None:
                            pointers.rollouts[ACTIVE] = on_active
                        if label is not None:
                            pointers[label] = label_id
                            if on_label is not None:
                                pointers.rollouts[label] = on_label
                except Exception as exc:
                    batch.error = exc
                batch.done.set()
        finally:
            self._task = None


@dataclass(frozen=True, slots=True)
class Probed:
    """A request's pointers, read with the access generation by the gate (PostgreSQL)."""

    ref: str
    label: str
    pointers: Pointers | None


# What the hot path's loaders return: the version a label serves (its own pointer, the
# baseline during a rollout) with its prompt, and the label's live rollout, read together.
Served = tuple[Prompt, Version, changes.LiveRollout | None]
MAX_SPLITS = 1_000


class ActiveCache(Generic[T]):
    """The version a label of a prompt serves (`active` by default), rendered by ``render``
    once per version: bodies are cached by version id, whichever label points at them, and
    every label's pointer is checked the same way.

    A label in a rollout serves its baseline or the candidate by the caller's key: its live
    rollout is read with its pointer (the same read: PostgreSQL's coalesced one joins it;
    SQLite's is redone after ``data_version`` moves) and kept as a ``Split`` whose salt is
    hashed once, so a key costs one SHA-256 of itself and a comparison."""

    def __init__(
        self,
        database_url: str,
        serve: Callable[[str, str], Served],
        render: Callable[[Prompt, Version], T],
        size_of: Callable[[T], int] = lambda _body: 0,
        max_bytes: int = MAX_BODY_BYTES,
        *,
        version: Callable[[str, int], tuple[Prompt, Version]],
    ) -> None:
        self._serve = serve
        self._version = version  # a rollout's candidate, read by id
        self._render = render
        self._size_of = size_of
        self._max_bytes = max_bytes
        self._bytes = 0
        self._bodies: dict[int, T] = {}
        # SQLite only: (ref, label) -> (the label's version, its live split)
        self._pointers: dict[tuple[str, str], tuple[int, Split | None]] = {}
        self._splits: dict[tuple[int, int, int, int, str], Split] = {}
        # PostgreSQL: misses being read, by (ref, label, version id)
        self._loading: dict[tuple[str, str, int], asyncio.Task[T]] = {}
        self.hits = 0
        self.misses = 0
        self.sqlite: changes.SQLiteDataVersion | None = None
        self.postgres: changes.PgPointers | None = None
        self.reads: PointerReads | None = None
        if _is_sqlite(database_url):
            self.sqlite = changes.SQLiteDataVersion(database_url)
        else:
            self.postgres = changes.PgPointers(database_url)
            self.reads = PointerReads(self.postgres.read)

    @property
    def statements(self) -> int:
        """Statements the pointer checks ran (the query-count guard reads it)."""
        probe = self.sqlite or self.postgres
        return probe.statements if probe is not None else 0

    def _split(self, baseline: int, live: changes.LiveRollout | None) -> Split | None:
        """The label's split, one object per rollout state (its salt hashed once)."""
        if live is None:
            return None
        rollout_id, candidate, basis_points, salt = live
        key = (rollout_id, baseline, candidate, basis_points, salt)
        found = self._splits.get(key)
        if found is None:
            if len(self._splits) >= MAX_SPLITS:
                self._splits.clear()
            found = self._splits[key] = Split(*key)
        return found

    async def get(
        self, ref: str, label: str = ACTIVE, probed: Probed | None = None, key: str | None = None
    ) -> tuple[T, Split | None]:
        """The body a caller with ``key`` gets (None: a random arm during a rollout), and
        the label's live split (None: no rollout). ``label`` must be a valid label
        (domain/labels.py ``check_label``). ``probed``: this request's pointers from a
        read of ``reads`` that started after the request arrived (the gate's, PostgreSQL).
        Raises PromptNotFound, LabelNotFound, InvalidInput (a bad key),
        DatabaseUnavailable."""
        if self.sqlite is not None:
            return self._get_sqlite(ref, label, key)
        assert self.reads is not None
        if probed is not None and probed.ref == ref and probed.label == label:
            pointers = probed.pointers
        else:
            pointers = await self.reads.get(ref, label)
        if pointers is None or (label == ACTIVE and pointers[ACTIVE] is None):
            raise PromptNotFound(f"no prompt {ref!r}")
        version_id = pointers.get(label)
        if version_id is None:
            # A label not set: the core's own answer (LabelNotFound), read after the pointer.
            self.misses += 1
            prompt, version, _ = await anyio.to_thread.run_sync(self._serve, ref, label)
            return self._remember(prompt, version), None
        split = self._split(version_id, pointers.rollouts.get(label))
        if split is not None:
            version_id = split.pick(key)
        body = self._bodies.get(version_id)
        if body is not None:
            self.hits += 1
            return body, split
        self.misses += 1
        # Requests that miss the same version together share one read (after a rollback
        # under load, 64 of them would otherwise fill the thread pool with the same read).
        loading_key = (ref, label, version_id)
        loading = self._loading.get(loading_key)
        if loading is None:
            loading = asyncio.get_running_loop().create_task(self._load(loading_key))
            self._loading[loading_key] = loading
        return await asyncio.shield(loading), split

    async def _load(self, key: tuple[str, str, int]) -> T:
        ref, _label, version_id = key
        try:
            # The version the pointer read named, by id: immutable, so any read will do.
            # Blocking I/O: in the thread pool.
            prompt, version = await anyio.to_thread.run_sync(self._version, ref, version_id)
            return self._remember(prompt, version)
        finally:
            del self._loading[key]

    def _get_sqlite(self, ref: str, label: str, key: str | None) -> tuple[T, Split | None]:
        assert self.sqlite is not None
        if self.sqlite.changed():
            self._pointers.clear()
        found = self._pointers.get((ref, label))
        if found is not None:
            version_id, split = found
            if split is not None:
                version_id = split.pick(key)
            body = self._bodies.get(version_id)
            if body is not None:
                self.hits += 1
                return body, split
        self.misses += 1
        # SQLite reads take ~0.1 ms: cheaper inline than a thread pool hop.
        prompt, version, live = self._serve(ref, label)
        split = self._split(version.id, live)
        if len(self._pointers) >= MAX_POINTERS:
            self._pointers.clear()
        self._pointers[(ref, label)] = (version.id, split)
        body = self._remember(prompt, version)
        picked = version.id if split is None else split.pick(key)
        if picked == version.id:
            return body, split
        body = self._bodies.get(picked)
        if body is None:
            body = self._remember(*self._version(ref, picked))
        return body, split

    def _remember(self, prompt: Prompt, version: Version) -> T:
        body = self._render(prompt, version)
        if len(self._bodies) >= MAX_BODIES:
            self._bodies.clear()
            self._bytes = 0
        size = self._size_of(body)
        while self._bodies and self._bytes + size > self._max_bytes:
            oldest = next(iter(self._bodies))
            self._bytes -= self._size_of(self._bodies.pop(oldest))
        if version.id not in self._bodies:
            self._bytes += size
        self._bodies[version.id] = body
        return body

    @property
    def body_bytes(self) -> int:
        """The bytes of the cached bodies (bounded by ``max_bytes``)."""
        return self._bytes

    async def close(self) -> None:
        if self.sqlite is not None:
            self.sqlite.close()
        if self.postgres is not None:
            await self.postgres.close()


# --- the feed of pointer moves --------------------------------------------------------------


LABEL = "active"


@dataclass(frozen=True, slots=True)
class Move:
    """A pointer move: ``label`` of ``prompt`` now names ``version_id`` (None: the prompt
    was deleted; GET …/active is 404 until it is restored)."""

    id: int
    prompt_id: int
    prompt: str
    label: str
    kind: str
    version_id: int | None
    number: int | None
    version_name: str | None
    at: datetime
    # A rollout's change: its split now (core/rollouts.py ``_push``: status, basis points,
    # baseline, candidate, salt…); None for a move of the pointer.
    rollout: dict[str, Any] | None = None


def _label_of(row: changes.MoveRow) -> str:
    """The label a move moved: a label move's or a rollout's detail names it; the others
    move `active`."""
    if row.kind.startswith(("label.", "rollout.")) and isinstance(row.detail, dict):
        return str(row.detail.get("label") or LABEL)
    return LABEL


def _rollout_of(row: changes.MoveRow) -> dict[str, Any] | None:
    if row.kind.startswith("rollout.") and isinstance(row.detail, dict):
        found = row.detail.get("rollout")
        return found if isinstance(found, dict) else None
    return None


def _move(row: changes.MoveRow) -> Move:
    return Move(
        id=row.id,
        prompt_id=row.prompt_id,
        prompt=row.prompt_name,
        label=_label_of(row),
        kind=row.kind,
        version_id=row.version_id,
        number=row.number,
        version_name=row.version_name,
        at=row.created_at,
        rollout=_rollout_of(row),
    )


class ChangeFeed:
    """Pointer moves of every process, as they commit. Start it on the serving loop."""

    BUFFER = 4096
    READ_LIMIT = 500

    def __init__(
        self,
        engine: Engine,
        database_url: str,
        *,
        sqlite_poll_s: float = 0.01,
        fallback_poll_s: float = 1.0,
    ) -> None:
        self._engine = engine
        self._sqlite = changes.SQLiteDataVersion(database_url) if _is_sqlite(database_url) else None
        self._listener = None if self._sqlite else changes.PgListener(database_url)
        self._sqlite_poll_s = sqlite_poll_s
        self._fallback_poll_s = fallback_poll_s
        self._ids: list[int] = []
        self._moves: list[Move] = []
        self.last = 0  # the newest move seen
        self._floor = 0  # every move at or below it is older than the buffer
        self._wake: asyncio.Event | None = None
        self._starting: asyncio.Task[None] | None = None
        self._task: asyncio.Task[None] | None = None
        self.subscribers = 0

    def _read(self, after: int, names: Sequence[str] | None, limit: int) -> list[Move]:
        with unavailable_as_error(), self._engine.connect() as conn:
            return [_move(r) for r in changes.moves_after(conn, after, names, limit)]

    def _last_move(self) -> int:
        with unavailable_as_error(), self._engine.connect() as conn:
            return changes.last_move_id(conn)

    async def start(self) -> None:
        """Read where the moves stand and start following them (once, however many
        subscribers arrive together: a second start would orphan the first one's waiters)."""
        if self._starting is None:
            self._starting = asyncio.get_running_loop().create_task(self._begin())
        await asyncio.shield(self._starting)

    async def _begin(self) -> None:
        try:
            self.last = self._floor = await anyio.to_thread.run_sync(self._last_move)
        except BaseException:
            self._starting = None  # the next subscriber tries again
            raise
        self._wake = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._follow())

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._listener is not None:
            await self._listener.close()
        if self._sqlite is not None:
            self._sqlite.close()

    async def _follow(self) -> None:
        more = False
        while True:
            try:
                if not more:
                    await self._wait()
                rows = await anyio.to_thread.run_sync(self._read, self.last, None, self.READ_LIMIT)
                more = len(rows) == self.READ_LIMIT
                if rows:
                    self._append(rows)
            except DatabaseUnavailable:
                log.warning("change feed: database unavailable; retrying in 0.5 s")
                more = False
                await asyncio.sleep(0.5)
            except Exception:  # never let the feed die: its subscribers would hear nothing
                log.exception("change feed failed; retrying in 0.5 s")
                more = False
                await asyncio.sleep(0.5)

    async def _wait(self) -> None:
        if self._sqlite is not None:
            while not self._sqlite.changed():
                await asyncio.sleep(self._sqlite_poll_s)
        else:
            assert self._listener is not None
            await self._listener.wait(self._fallback_poll_s)

    def _append(self, moves: list[Move]) -> None:
        self._ids.extend(m.id for m in moves)
        self._moves.extend(moves)
        if len(self._ids) > self.BUFFER:
            cut = len(self._ids) - self.BUFFER
            self._floor = self._ids[cut - 1]
            del self._ids[:cut], self._moves[:cut]
        self.last = moves[-1].id
        assert self._wake is not None
        wake, self._wake = self._wake, asyncio.Event()
        wake.set()

    async def after(
        self, cursor: int | None, names: frozenset[str] | None, timeout: float
    ) -> tuple[list[Move], int]:
        """The moves after ``cursor`` (of ``names`` only, when given), waiting up to
        ``timeout`` seconds for one; and the cursor to resume from. ``cursor`` None: from
        now (the newest move this process has seen)."""
        await self.start()
        after = self.last if cursor is None else cursor
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            if after < self._floor:  # older than the buffer: ask the database
                wanted = sorted(names) if names is not None else None
                moves = await anyio.to_thread.run_sync(self._read, after, wanted, self.READ_LIMIT)
                if moves:
                    return moves, moves[-1].id
                after = self._floor
            start = bisect.bisect_right(self._ids, after)
            moves = [m for m in self._moves[start:] if names is None or m.prompt in names]
            if moves:
                return moves, moves[-1].id
            after = max(after, self.last)
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0 or self._wake is None:
                return [], after
            try:
                await asyncio.wait_for(self._wake.wait(), remaining)
            except TimeoutError:
                return [], after

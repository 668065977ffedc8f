"""GET /changes: pointer moves pushed as Server-Sent Events, or long-polled with ``?wait=``.

The protocol (docs/api.md has it for client authors):

- SSE (default): ``text/event-stream``. First a ``ready`` event whose ``id`` is where the
  stream starts; then one ``move`` event per pointer move (``id`` = the event id, ``data`` a
  MoveOut JSON object); a ``: heartbeat`` comment with an ``id:`` line (where to resume)
  every ``changes_heartbeat_s`` seconds of quiet. Reconnect with ``Last-Event-ID`` (or
  ``?after=``): every move after it is sent, none is skipped, whichever process answers,
  also after a restart.
- Long poll (``?wait=S``, for proxies that buffer streams): JSON ChangesOut. Without a cursor
  it answers at once with the starting ``last_event_id``; with one it answers as soon as a
  move after it exists, or after S seconds with none.

Revocation and expiry reach what is open: a stream or long poll re-checks its caller every
``STANDING_CHECK_S`` (``Standing``: one read of the access generation a process for all of
them, and the caller's own row only when it moved), so a revoked or expired key's stream
ends within a second, and its long poll answers 401.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Callable
from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import Field

from promptdeck.core.access import Access
from promptdeck.core.live import ChangeFeed, Move
from promptdeck.domain.access import Principal
from promptdeck.errors import InvalidInput, Unauthorized
from promptdeck.schemas import ChangesOut, MoveOut
from promptdeck.server import problems
from promptdeck.server.deps import principal_of
from promptdeck.server.roles import Reader

router = APIRouter(tags=["changes"])

WAIT_MAX_S = 60.0
# Last-Event-ID: an event id of up to 18 digits, or blank (from the start); the document's
# pattern and the check (HTTP strips the spaces around a header's value).
EVENT_ID_REGEX = r"^([0-9]{1,18})?$"
_EVENT_ID = re.compile(EVENT_ID_REGEX, re.ASCII)
PROMPTS_MAX = 500
# The pattern sits on the string itself, not beside "string or null": a generator given the
# pattern beside the anyOf could not find a small example (schemathesis's health check).
_Names = Annotated[str, Field(max_length=64 * 1024, json_schema_extra={"pattern": r"[^,\s]"})]
STANDING_CHECK_S = 0.25  # how often an open stream or long poll re-checks its caller


class Standing:
    """Whether the callers of a process's open streams still stand. The access generation
    moves with every change to keys, people and sessions: it is read at most once every
    STANDING_CHECK_S for all the streams, and a stream reads its caller's row only when it
    moved (its expiry is checked on the clock)."""

    def __init__(self, access: Access) -> None:
        self.access = access
        self._lock = asyncio.Lock()
        self._read_at = float("-inf")
        self._generation = -1

    async def generation(self) -> int:
        async with self._lock:
            if time.monotonic() - self._read_at >= STANDING_CHECK_S:
                self._generation = await anyio.to_thread.run_sync(self.access.generation)
                self._read_at = time.monotonic()
        return self._generation

    def of(self, principal: Principal) -> Listener:
        return Listener(self, principal)


class Listener:
    """One stream's caller: ``stands()`` says whether it may still hear moves."""

    def __init__(self, standing: Standing, principal: Principal) -> None:
        self.standing = standing
        self.principal = principal
        self.seen: int | None = None  # the generation at which it last stood

    async def stands(self) -> bool:
        access = self.standing.access
        if self.principal.expired(access.clock()):
            return False
        generation = await self.standing.generation()
        if generation != self.seen:
            if not await anyio.to_thread.run_sync(access.standing, self.principal):
                return False
            self.seen = generation
        return True


def _standing(request: Request) -> Standing:
    state = request.app.state
    found = getattr(state, "standing", None)
    if not isinstance(found, Standing):
        found = state.standing = Standing(state.access)
    return found


def move_out(move: Move) -> MoveOut:
    return MoveOut.model_validate(move, from_attributes=True)


def _names(prompts: str | None) -> frozenset[str] | None:
    if prompts is None:
        return None
    names = frozenset(n.strip() for n in prompts.split(",") if n.strip())
    if not names:
        raise InvalidInput("prompts must name at least one prompt", field="prompts")
    if len(names) > PROMPTS_MAX:
        raise InvalidInput(f"at most {PROMPTS_MAX} prompts", field="prompts")
    return names


def _cursor(after: int | None, last_event_id: str) -> int | None:
    """Where to resume: ``after`` wins over Last-Event-ID, but a malformed header is refused
    either way (the document says what it may hold)."""
    match = _EVENT_ID.fullmatch(last_event_id.strip())
    if match is None:
        raise InvalidInput("Last-Event-ID must be an event id", field="Last-Event-ID")
    if after is not None:
        return after
    return int(match.group(1)) if match.group(1) else None


SSE_EVENT = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "description": "The event id, to resume from."},
        "event": {"type": "string", "enum": ["ready", "move"]},
        "data": {"type": "string", "description": "JSON: ready {last_event_id}; a MoveOut."},
        "retry": {"type": "integer"},
    },
}


@router.get(
    "/changes",
    summary="Pointer moves as Server-Sent Events (or long-polled with ?wait=)",
    response_model=ChangesOut,
    responses={
        200: {
            "description": "text/event-stream (SSE), or ChangesOut JSON with ?wait=",
            # Each Server-Sent Event of the stream (events "ready" and "move"; data is JSON:
            # {"last_event_id"} and a MoveOut); heartbeats are comments with an id.
            "content": {"text/event-stream": {"schema": SSE_EVENT}},
        },
        **problems.responses(400, 422, 503),
    },
)
async def changes(
    request: Request,
    caller: Reader,
    prompts: Annotated[
        _Names | None,  # at least one name
        Query(description=f"Comma-separated prompt names to follow (at most {PROMPTS_MAX})."),
    ] = None,
    after: Annotated[
        int | None,
        Query(ge=0, le=2**63 - 1, description="Resume after this event id (as Last-Event-ID)."),
    ] = None,
    wait: Annotated[
        float | None,
        Query(ge=0, le=WAIT_MAX_S, description="Long poll: answer JSON within this many s."),
    ] = None,
    # A string, not "string or null": a header has no null (a generator would send "null").
    last_event_id: Annotated[
        str,
        Header(
            json_schema_extra={"pattern": EVENT_ID_REGEX},
            description="The id of the last event received (SSE resume; blank: none).",
        ),
    ] = "",
) -> ChangesOut | StreamingResponse:
    feed: ChangeFeed = request.app.state.feed
    names = _names(prompts)
    # A key limited to prefixes hears only of its prompts (names do not leak).
    seen = caller.may_see if caller.limited else None
    cursor = _cursor(after, last_event_id)
    listener = _standing(request).of(principal_of(request.scope))
    if wait is not None:
        if cursor is None:
            await feed.start()
            return ChangesOut(events=[], last_event_id=feed.last)
        moves, cursor = await _long_poll(feed, cursor, names, wait, listener)
        moves = [m for m in moves if seen is None or seen(m.prompt)]
        return ChangesOut(events=[move_out(m) for m in moves], last_event_id=cursor)
    await feed.start()
    heartbeat = float(request.app.state.settings.changes_heartbeat_s)
    return StreamingResponse(
        _stream(feed, feed.last if cursor is None else cursor, names, heartbeat, seen, listener),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _long_poll(
    feed: ChangeFeed, cursor: int, names: frozenset[str] | None, wait: float, listener: Listener
) -> tuple[list[Move], int]:
    """The moves after ``cursor`` within ``wait`` s, waited for in slices so that a caller
    revoked or expired meanwhile gets 401 at once, not the moves."""
    deadline = time.monotonic() + wait
    while True:
        remaining = deadline - time.monotonic()
        moves, cursor = await feed.after(cursor, names, max(0.0, min(STANDING_CHECK_S, remaining)))
        if not await listener.stands():
            raise Unauthorized("the key or session was revoked or has expired")
        if moves or remaining <= STANDING_CHECK_S:
            return moves, cursor


async def _stream(
    feed: ChangeFeed,
    cursor: int,
    names: frozenset[str] | None,
    heartbeat: float,
    seen: Callable[[str], bool] | None,
    listener: Listener,
) -> AsyncIterator[bytes]:
    feed.subscribers += 1
    try:
        ready = f'{{"last_event_id":{cursor}}}'
        yield f"retry: 1000\nid: {cursor}\nevent: ready\ndata: {ready}\n\n".encode()
        beat = time.monotonic() + heartbeat
        while True:
            slice_s = max(0.0, min(STANDING_CHECK_S, beat - time.monotonic()))
            moves, cursor = await feed.after(cursor, names, slice_s)
            if not await listener.stands():
                return  # the stream ends; the client's reconnection gets 401
            if moves:
                moves = [m for m in moves if seen is None or seen(m.prompt)]
                if moves:
                    yield b"".join(_event(m) for m in moves)
                    beat = time.monotonic() + heartbeat
                    continue
            elif time.monotonic() < beat:
                continue
            # Quiet for ``heartbeat`` s, or every move filtered out: the id moves the
            # client's Last-Event-ID past them, so a resume does not scan them again.
            yield b": heartbeat\nid: %d\n\n" % cursor
            beat = time.monotonic() + heartbeat
    finally:
        feed.subscribers -= 1


def _event(move: Move) -> bytes:
    data = move_out(move).model_dump_json().encode()
    return b"id: %d\nevent: move\ndata: %s\n\n" % (move.id, data)

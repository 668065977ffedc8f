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
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse

from promptdeck.core.live import ChangeFeed, Move
from promptdeck.errors import InvalidInput
from promptdeck.schemas import ChangesOut, MoveOut
from promptdeck.server import problems
from promptdeck.server.roles import Reader

router = APIRouter(tags=["changes"])

WAIT_MAX_S = 60.0
PROMPTS_MAX = 500


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


def _cursor(after: int | None, last_event_id: str | None) -> int | None:
    if after is not None:
        return after
    if last_event_id is None or not last_event_id.strip():
        return None
    value = last_event_id.strip()
    if not (value.isascii() and value.isdigit()) or len(value) > 18:
        raise InvalidInput("Last-Event-ID must be an event id", field="Last-Event-ID")
    return int(value)


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
        str | None,
        Query(max_length=64 * 1024, description="Comma-separated prompt names to follow."),
    ] = None,
    after: Annotated[
        int | None,
        Query(ge=0, le=2**63 - 1, description="Resume after this event id (as Last-Event-ID)."),
    ] = None,
    wait: Annotated[
        float | None,
        Query(ge=0, le=WAIT_MAX_S, description="Long poll: answer JSON within this many s."),
    ] = None,
    last_event_id: Annotated[
        str | None, Header(description="The id of the last event received (SSE resume).")
    ] = None,
) -> ChangesOut | StreamingResponse:
    feed: ChangeFeed = request.app.state.feed
    names = _names(prompts)
    # A key limited to prefixes hears only of its prompts (names do not leak).
    seen = caller.may_see if caller.limited else None
    cursor = _cursor(after, last_event_id)
    if wait is not None:
        if cursor is None:
            await feed.start()
            return ChangesOut(events=[], last_event_id=feed.last)
        moves, cursor = await feed.after(cursor, names, wait)
        moves = [m for m in moves if seen is None or seen(m.prompt)]
        return ChangesOut(events=[move_out(m) for m in moves], last_event_id=cursor)
    await feed.start()
    heartbeat = float(request.app.state.settings.changes_heartbeat_s)
    return StreamingResponse(
        _stream(feed, feed.last if cursor is None else cursor, names, heartbeat, seen),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _stream(
    feed: ChangeFeed,
    cursor: int,
    names: frozenset[str] | None,
    heartbeat: float,
    seen: Callable[[str], bool] | None,
) -> AsyncIterator[bytes]:
    feed.subscribers += 1
    try:
        ready = f'{{"last_event_id":{cursor}}}'
        yield f"retry: 1000\nid: {cursor}\nevent: ready\ndata: {ready}\n\n".encode()
        while True:
            moves, cursor = await feed.after(cursor, names, heartbeat)
            moves = [m for m in moves if seen is None or seen(m.prompt)]
            if not moves:
                # The id moves the client's Last-Event-ID past moves it filtered out, so a
                # resume does not scan them again.
                yield b": heartbeat\nid: %d\n\n" % cursor
                continue
            yield b"".join(_event(m) for m in moves)
    finally:
        feed.subscribers -= 1


def _event(move: Move) -> bytes:
    data = move_out(move).model_dump_json().encode()
    return b"id: %d\nevent: move\ndata: %s\n\n" % (move.id, data)

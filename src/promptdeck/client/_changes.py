"""What the sync and async subscribers share: the request, the SSE parser, the cache update.

The reading loop itself (connect, read, reconnect) is `AsyncChanges` in aio.py, written once;
the thread or task that runs it is `_background.py`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import httpx

from promptdeck.client.cache import ActiveCache
from promptdeck.schemas import MoveOut

log = logging.getLogger("promptdeck.client")

RETRY_S = 1.0  # before reconnecting, until the server's "retry:" says otherwise
ERROR_RETRY_MAX_S = 30.0  # an error answer (401, 404 from an old server…) backs off to this
# The server sends a heartbeat after 15 quiet seconds: a read that waits longer than this
# is a connection that died without a word (a cut cable, a suspended laptop).
READ_TIMEOUT_S = 45.0


@dataclass(slots=True)
class SseEvent:
    event: str
    id: str | None
    data: str


@dataclass
class SseParser:
    """Server-Sent Events, line by line, as EventSource reads them. A block with an ``id:``
    and no data (the heartbeat) yields an event with an empty ``event``: the resume point
    moves."""

    _event: str = ""
    _id: str | None = None
    _data: list[str] = field(default_factory=list)
    retry_s: float | None = None

    def feed(self, line: str) -> Iterator[SseEvent]:
        if line == "":
            if self._data or self._id is not None:
                yield SseEvent(self._event if self._data else "", self._id, "\n".join(self._data))
            self._event, self._id, self._data = "", None, []
            return
        if line.startswith(":"):
            return
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        elif name == "id" and "\0" not in value:
            self._id = value
        elif name == "retry" and value.isascii() and value.isdigit():
            self.retry_s = int(value) / 1000


@dataclass
class ChangesState:
    """Where the stream is: the last event id seen (the resume point), and whether it is up."""

    cache: ActiveCache
    prompts: frozenset[str] | None = None  # None: every prompt the key may see
    last_event_id: int | None = None
    connected: bool = False
    moves: int = 0  # moves received
    retry_s: float = RETRY_S
    failures: int = 0  # error answers in a row
    warned: bool = False  # the outage is logged once, not at each reconnect
    on_move: Callable[[MoveOut], None] | None = None  # told of each move, after the cache

    def request(self) -> tuple[dict[str, str], dict[str, str]]:
        """The query parameters and headers of the next GET /changes."""
        params = {"prompts": ",".join(sorted(self.prompts))} if self.prompts else {}
        headers = {"Accept": "text/event-stream"}
        if self.last_event_id is not None:
            headers["Last-Event-ID"] = str(self.last_event_id)
        return params, headers

    def opened(self, response: httpx.Response) -> bool:
        """Whether ``response`` is the stream; logs why not."""
        if response.status_code == 200:
            self.failures = 0
            return True
        self.failures += 1
        if not self.warned:
            log.warning(
                "promptdeck: GET /changes answered %s; get_active falls back to cache_ttl",
                response.status_code,
            )
            self.warned = True
        return False

    def on(self, event: SseEvent) -> None:
        """Apply one event: a move expires its prompt's entries, then its id is kept."""
        if event.event == "move":
            move = MoveOut.model_validate_json(event.data)
            # The cache keys a prompt by what get_active was given, its name or its id, and
            # a label other than active after "?label=" (get_active(name, label=...)).
            refs: tuple[str, ...] = (move.prompt, str(move.prompt_id))
            if move.label != "active":
                refs = tuple(f"{ref}?label={move.label}" for ref in refs)
            self.cache.expire(refs)
            self.moves += 1
            if self.on_move is not None:
                self.on_move(move)
        elif event.event == "ready":
            if self.last_event_id is None:
                # The first connection: what was cached before it may predate the stream.
                self.cache.expire()
            log.info("promptdeck: following GET /changes from event %s", event.id)
            self.connected, self.warned = True, False
        if event.id is not None and event.id.isascii() and event.id.isdigit():
            self.last_event_id = int(event.id)

    def dropped(self, exc: BaseException | None) -> float:
        """The stream ended (``exc``: how); the seconds to wait before reconnecting."""
        if not self.warned:
            self.warned = True
            log.warning(
                "promptdeck: GET /changes stream %s; get_active falls back to cache_ttl "
                "until it is back",
                f"failed ({exc!r})" if exc is not None else "ended",
            )
        self.connected = False
        if self.failures:
            return float(min(ERROR_RETRY_MAX_S, self.retry_s * 2 ** (self.failures - 1)))
        return self.retry_s

"""The subscriber's pieces without a server: the SSE parser, and the cache under pushed moves."""

from __future__ import annotations

from datetime import UTC, datetime

from promptdeck.client._changes import ChangesState, SseEvent, SseParser
from promptdeck.client.cache import ActiveCache
from promptdeck.schemas import ActiveOut
from tests.support.clock import FakeClock

HOUR = 3600.0


def _active(version_id: int) -> ActiveOut:
    return ActiveOut(
        prompt_id=7,
        prompt_name="p",
        version_id=version_id,
        number=version_id,
        version_name=f"v{version_id}",
        description="",
        content=f"content {version_id}",
        model_config={},
        content_hash="h",
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        created_by="t",
    )


def _parse(text: str) -> tuple[list[SseEvent], SseParser]:
    parser = SseParser()
    events = [e for line in text.split("\n") for e in parser.feed(line)]
    return events, parser


def test_the_parser_reads_ready_moves_and_heartbeats_with_their_ids() -> None:
    move = '{"id":5,"prompt_id":7,"prompt":"p","label":"active","kind":"version.rolled_back",'
    move += '"version_id":2,"number":2,"version_name":null,"at":"2026-01-01T00:00:00Z"}'
    stream = (
        'retry: 1000\nid: 4\nevent: ready\ndata: {"last_event_id":4}\n\n'
        f"id: 5\nevent: move\ndata: {move}\n\n"
        ": heartbeat\nid: 9\n\n"
    )
    events, parser = _parse(stream)
    assert [(e.event, e.id) for e in events] == [("ready", "4"), ("move", "5"), ("", "9")]
    assert parser.retry_s == 1.0
    cache = ActiveCache(ttl=HOUR, clock=FakeClock())
    cache.store("p", _active(1), '"e1"')
    cache.store("7", _active(1), '"e1"')
    cache.store("other", _active(1), '"e1"')
    state = ChangesState(cache, last_event_id=4)  # a resume
    for event in events:
        state.on(event)
    # the move expired the prompt by name and by id, not the other one; the heartbeat's id
    # is the resume point
    assert cache.fresh("p") is None and cache.fresh("7") is None
    assert cache.fresh("other") is not None
    assert (state.connected, state.moves, state.last_event_id) == (True, 1, 9)
    assert state.request()[1]["Last-Event-ID"] == "9"
    # a first connection expires everything cached before it
    ChangesState(cache).on(events[0])
    assert cache.fresh("other") is None


def test_a_fetch_in_flight_when_its_prompt_moves_is_not_stored_as_fresh() -> None:
    cache = ActiveCache(ttl=HOUR, clock=FakeClock())
    since = cache.pushes  # the request leaves
    cache.expire(["p"])  # the move is pushed before its answer lands
    cache.store("p", _active(1), '"e1"', since=since)
    assert cache.fresh("p") is None and cache.stale("p") is not None
    since = cache.pushes
    cache.store("p", _active(2), '"e2"', since=since)  # the next call asks again
    assert cache.fresh("p") is not None
    cache.expire(["other"])  # another prompt's move changes nothing here
    assert cache.fresh("p") is not None

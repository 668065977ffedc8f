"""GET /changes: pointer moves pushed across processes, resumable without a gap."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.support.server import ServerProcess
from tests.support.sse import Subscription


def _prompt(url: str, name: str, versions: int = 3) -> list[int]:
    """A prompt with ``versions`` versions; their ids, oldest first (the newest active)."""
    with httpx.Client(base_url=url, timeout=30) as http:
        ids = [http.post("/prompts", json={"name": name}).json()["active_version"]["id"]]
        for i in range(versions - 1):
            r = http.post(f"/prompts/{name}/versions", json={"content": f"v{i}", "activate": True})
            ids.append(r.json()["id"])
    return ids


def _rollback(url: str, name: str, version_id: int) -> None:
    r = httpx.post(f"{url}/prompts/{name}/versions/{version_id}/rollback", timeout=30)
    assert r.status_code == 200, r.text


def test_a_subscriber_on_one_process_sees_a_rollback_made_through_another(
    start_server: Callable[..., ServerProcess], name: str
) -> None:
    a, b = start_server(), start_server()
    ids = _prompt(a.url, name)
    with Subscription(b.url, prompts=[name]) as sub:
        ready = sub.next()
        assert ready.event == "ready" and ready.id is not None
        _rollback(a.url, name, ids[0])
        move = sub.next()
    assert move.event == "move"
    body = move.json()
    assert (body["prompt"], body["label"], body["version_id"]) == (name, "active", ids[0])
    assert body["kind"] == "version.rolled_back"
    assert move.id == str(body["id"]) and int(move.id) > int(ready.id)


def test_the_prompts_filter_keeps_other_prompts_moves_out(server: ServerProcess, name: str) -> None:
    mine, other = _prompt(server.url, name), _prompt(server.url, name + "-other")
    with Subscription(server.url, prompts=[name]) as sub:
        sub.next()  # ready
        _rollback(server.url, name + "-other", other[0])
        _rollback(server.url, name, mine[1])
        move = sub.next().json()
    assert (move["prompt"], move["version_id"]) == (name, mine[1])


def test_a_dropped_subscriber_resumes_by_last_event_id_missing_no_move(
    server: ServerProcess, name: str
) -> None:
    ids = _prompt(server.url, name)
    with Subscription(server.url, prompts=[name]) as sub:
        last = sub.next().id
    # moves while nobody listens
    for version_id in (ids[0], ids[1], ids[2], ids[0]):
        _rollback(server.url, name, version_id)
    with Subscription(server.url, prompts=[name], last_event_id=last) as sub:
        sub.next()  # ready, at the resume point
        got = [sub.next().json()["version_id"] for _ in range(4)]
    assert got == [ids[0], ids[1], ids[2], ids[0]]


def test_subscribers_recover_after_their_process_is_killed_and_restarted(
    start_server: Callable[..., ServerProcess], name: str
) -> None:
    a, b = start_server(), start_server()
    ids = _prompt(a.url, name)
    with Subscription(b.url, prompts=[name]) as sub:
        sub.next()
        _rollback(a.url, name, ids[0])
        last = sub.next().id
        b.kill()  # a crash: the stream ends
    for version_id in (ids[1], ids[2]):
        _rollback(a.url, name, version_id)
    # the load balancer sends the reconnect to the surviving process
    with Subscription(a.url, prompts=[name], last_event_id=last) as sub:
        sub.next()
        assert [sub.next().json()["version_id"] for _ in range(2)] == [ids[1], ids[2]]
    _rollback(a.url, name, ids[0])
    b.start()  # restarted: its feed starts after every move so far
    with Subscription(b.url, prompts=[name], last_event_id=last) as sub:
        sub.next()
        got = [sub.next().json()["version_id"] for _ in range(3)]
    assert got == [ids[1], ids[2], ids[0]]


def test_quiet_streams_get_heartbeats_that_move_the_resume_point(
    start_server: Callable[..., ServerProcess], name: str
) -> None:
    server = start_server(env={"PROMPTDECK_CHANGES_HEARTBEAT_S": "0.2"})
    ids = _prompt(server.url, name + "-other")
    with Subscription(server.url, prompts=[name], timeout=5) as sub:
        events = sub.events(comments=True)
        ready = next(events)
        assert ready.event == "ready"
        _rollback(server.url, name + "-other", ids[0])  # not this subscriber's prompt
        beats = [next(events) for _ in range(3)]
    assert [b.comment for b in beats] == ["heartbeat"] * 3
    # the resume point moves past the other prompt's move
    assert int(sub.last_id or 0) > int(ready.id or 0)


def test_long_poll_answers_at_once_with_a_cursor_then_with_the_next_move(
    start_server: Callable[..., ServerProcess], name: str
) -> None:
    a, b = start_server(), start_server()
    ids = _prompt(a.url, name)
    with httpx.Client(base_url=b.url, timeout=30) as http:
        start = http.get("/changes", params={"wait": 5, "prompts": name}).json()
        assert start["events"] == []
        cursor = start["last_event_id"]
        empty = http.get("/changes", params={"wait": 0.2, "after": cursor, "prompts": name})
        assert empty.json() == {"events": [], "last_event_id": cursor}
        _rollback(a.url, name, ids[1])
        got = http.get("/changes", params={"wait": 5, "after": cursor, "prompts": name}).json()
    assert [e["version_id"] for e in got["events"]] == [ids[1]]
    assert got["last_event_id"] == got["events"][0]["id"]


def test_a_deleted_prompt_is_a_move_to_no_version(server: ServerProcess, name: str) -> None:
    _prompt(server.url, name, versions=1)
    with Subscription(server.url, prompts=[name]) as sub:
        sub.next()
        assert httpx.delete(f"{server.url}/prompts/{name}").status_code == 204
        move = sub.next().json()
    assert (move["kind"], move["version_id"]) == ("prompt.deleted", None)


def test_a_malformed_last_event_id_is_a_422_problem(server: ServerProcess) -> None:
    response = httpx.get(server.url + "/changes", headers={"Last-Event-ID": "x"})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    # ?after= decides where to resume, but does not make a malformed header acceptable.
    both = httpx.get(server.url + "/changes?after=1&wait=0", headers={"Last-Event-ID": "qG0"})
    assert (both.status_code, both.json()["field"]) == (422, "Last-Event-ID")


def test_metrics_count_open_subscribers(server: ServerProcess, name: str) -> None:
    def subscribers() -> str:
        text = httpx.get(server.url + "/metrics").text
        return next(line for line in text.splitlines() if line.startswith("promptdeck_change_sub"))

    with Subscription(server.url, prompts=[name]) as sub:
        sub.next()
        assert subscribers() == "promptdeck_change_subscribers 1.0"

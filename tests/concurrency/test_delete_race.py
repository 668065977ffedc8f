"""Test 15 of the reliability plan, its delete half: concurrent creates and rollbacks against
soft delete and restore, through two server processes on one database."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable

from tests.support.load import Tally, Threads, check_history, client, figure, scale
from tests.support.server import ServerProcess

WRITERS = 8


def test_creates_racing_delete_and_restore_are_201_before_the_delete_or_404_and_none_lost(
    start_server: Callable[..., ServerProcess],
) -> None:
    cycles = scale("delete_cycles", 6)
    urls = [start_server().url, start_server().url]
    with client(urls[0]) as http:
        assert http.post("/prompts", json={"name": "doomed"}).status_code == 201
    tally = Tally()
    acked: list[int] = []
    lock = threading.Lock()
    stop = threading.Event()
    visible_while_deleted = 0

    def writer(i: int) -> None:
        with client(urls[i % 2]) as http:
            n = 0
            while not stop.is_set():
                n += 1
                r = tally.timed(http.post, "/prompts/doomed/versions", json={"content": f"{i}-{n}"})
                assert r.status_code in (201, 404), r.text
                if r.status_code == 201:
                    with lock:
                        acked.append(r.json()["id"])
                else:
                    assert r.json()["type"].endswith("/prompt-not-found")

    def rollbacker() -> None:
        rng = random.Random(15)
        with client(urls[1]) as http:
            while not stop.is_set():
                with lock:
                    ids = acked[-20:]
                if not ids:
                    time.sleep(0.01)
                    continue
                r = tally.timed(http.post, f"/prompts/doomed/versions/{rng.choice(ids)}/rollback")
                assert r.status_code in (200, 404), r.text

    threads = Threads()
    for i in range(WRITERS):
        threads.start(writer, i)
    threads.start(rollbacker)
    try:
        with client(urls[0]) as a, client(urls[1]) as b:
            for c in range(cycles):
                time.sleep(0.4)
                side, other = (a, b) if c % 2 == 0 else (b, a)
                assert tally.timed(side.delete, "/prompts/doomed").status_code == 204
                # Deleted means gone at once, on both processes, the hot path included.
                for http in (side, other):
                    for path in ("/prompts/doomed", "/prompts/doomed/active"):
                        visible_while_deleted += http.get(path).status_code != 404
                time.sleep(0.2)
                assert tally.timed(other.post, "/prompts/doomed/restore").status_code == 200
                visible_while_deleted += side.get("/prompts/doomed/active").status_code != 200
    finally:
        stop.set()
        threads.join()

    with client(urls[0]) as http:
        history = check_history(http, "doomed")
    present = {v["id"] for v in history["versions"]}
    # Replay the event log: no version may have been created while the prompt was deleted.
    deleted = False
    created_while_deleted = 0
    for event in sorted(history["events"], key=lambda e: int(e["id"])):
        if event["kind"] == "prompt.deleted":
            deleted = True
        elif event["kind"] == "prompt.restored":
            deleted = False
        elif event["kind"] in ("version.created", "version.rolled_back") and deleted:
            created_while_deleted += 1
    lost = sum(1 for v in acked if v not in present)
    figure(
        "delete race",
        f"{WRITERS} writers + 1 rollbacker over 2 processes against {cycles} delete/restore "
        f"cycles: {tally.summary()}; {len(acked)} creates acknowledged, all restored (lost "
        f"{lost}); writes recorded while deleted {created_while_deleted}; reads that saw the "
        f"prompt while deleted (or missed it after restore) {visible_while_deleted}; "
        f"{tally.server_errors} 5xx; numbers contiguous={history['contiguous']}",
    )
    assert tally.server_errors == 0
    assert tally.statuses[404] > 0 and tally.statuses[201] > 0  # the race really happened
    assert lost == 0 and created_while_deleted == 0 and visible_while_deleted == 0
    assert len(present) == len(acked) + 1
    assert history["contiguous"] and history["duplicate_numbers"] == 0

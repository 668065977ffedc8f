"""Never stale across processes: a fetch that starts after a rollback's 200 was received,
on another server process over the same database, gets the version rolled back to.

Background readers keep the reader process busy all along, so that on PostgreSQL a pointer
read is nearly always in flight when the checking fetch arrives: the fetch must wait for
the next read, not share the one that started before the rollback committed."""

from __future__ import annotations

import threading
from collections.abc import Callable

import httpx

from tests.support.load import figure, scale
from tests.support.server import ServerProcess
from tests.support.sse import Subscription


def test_a_fetch_on_another_process_right_after_each_rollback_is_never_stale(
    start_server: Callable[..., ServerProcess], name: str
) -> None:
    writer, reader = start_server(), start_server()
    rollbacks = scale("never_stale_rollbacks", 500)
    with (
        httpx.Client(base_url=writer.url, timeout=30) as w,
        httpx.Client(base_url=reader.url, timeout=30) as r,
    ):
        ids = [w.post("/prompts", json={"name": name}).json()["active_version"]["id"]]
        ids.append(w.post(f"/prompts/{name}/versions", json={"content": "two"}).json()["id"])
        assert r.get(f"/prompts/{name}/active").status_code == 200  # the reader's cache is warm
        done = threading.Event()

        def background() -> None:
            with httpx.Client(base_url=reader.url, timeout=30) as bg:
                while not done.is_set():
                    bg.get(f"/prompts/{name}/active")

        readers = [threading.Thread(target=background) for _ in range(4)]
        for thread in readers:
            thread.start()
        stale = []
        try:
            for i in range(rollbacks):
                target = ids[i % 2]
                assert w.post(f"/prompts/{name}/versions/{target}/rollback").status_code == 200
                served = r.get(f"/prompts/{name}/active").json()["version_id"]
                if served != target:
                    stale.append((i, target, served))
        finally:
            done.set()
            for thread in readers:
                thread.join()
    figure(
        "never stale",
        f"{rollbacks} rollbacks on one process, each followed at once by a fetch on another "
        f"(4 more clients reading there all along): {len(stale)} stale",
    )
    assert stale == []


def test_a_subscriber_that_refetches_on_each_move_event_never_gets_a_stale_version(
    start_server: Callable[..., ServerProcess], name: str
) -> None:
    """What a subscribed client does: on a move event it drops its entry and fetches again,
    here from a third process: the event is sent after the commit, so the fetch is new."""
    writer, pusher, reader = start_server(), start_server(), start_server()
    rollbacks = scale("never_stale_subscribed_rollbacks", 100)
    with (
        httpx.Client(base_url=writer.url, timeout=30) as w,
        httpx.Client(base_url=reader.url, timeout=30) as r,
    ):
        ids = [w.post("/prompts", json={"name": name}).json()["active_version"]["id"]]
        ids.append(w.post(f"/prompts/{name}/versions", json={"content": "two"}).json()["id"])
        r.get(f"/prompts/{name}/active")
        stale = []
        with Subscription(pusher.url, prompts=[name]) as sub:
            sub.next()  # ready
            for i in range(rollbacks):
                target = ids[(i + 1) % 2]
                assert w.post(f"/prompts/{name}/versions/{target}/rollback").status_code == 200
                moved = sub.next().json()["version_id"]
                served = r.get(f"/prompts/{name}/active").json()["version_id"]
                if not moved == served == target:
                    stale.append((i, target, moved, served))
    figure(
        "never stale, subscribed",
        f"{rollbacks} rollbacks on one process, each event pushed by a second and followed by "
        f"a fetch on a third: {len(stale)} stale",
    )
    assert stale == []


def test_a_labelled_fetch_on_another_process_right_after_each_label_move_is_never_stale(
    start_server: Callable[..., ServerProcess], name: str
) -> None:
    """The same for a label (issue 14): ?label=staging is served from the hot path's cache,
    its pointer checked like `active`'s; `active` itself never moves meanwhile."""
    writer, reader = start_server(), start_server()
    moves = scale("never_stale_label_moves", 300)
    with (
        httpx.Client(base_url=writer.url, timeout=30) as w,
        httpx.Client(base_url=reader.url, timeout=30) as r,
    ):
        ids = [w.post("/prompts", json={"name": name}).json()["active_version"]["id"]]
        ids.append(w.post(f"/prompts/{name}/versions", json={"content": "two"}).json()["id"])
        assert w.put(f"/prompts/{name}/labels/staging", json={"version_id": ids[1]}).is_success
        labelled = f"/prompts/{name}/active?label=staging"
        assert r.get(labelled).status_code == 200  # the reader's cache is warm
        active_before = r.get(f"/prompts/{name}/active").json()["version_id"]
        done = threading.Event()

        def background(path: str) -> None:
            with httpx.Client(base_url=reader.url, timeout=30) as bg:
                while not done.is_set():
                    bg.get(path)

        paths = [labelled, labelled, f"/prompts/{name}/active", f"{labelled.split('=')[0]}=other"]
        readers = [threading.Thread(target=background, args=(p,)) for p in paths]
        for thread in readers:
            thread.start()
        stale = []
        try:
            for i in range(moves):
                target = ids[i % 2]
                moved = w.put(f"/prompts/{name}/labels/staging", json={"version_id": target})
                assert moved.status_code == 200
                served = r.get(labelled).json()["version_id"]
                if served != target:
                    stale.append((i, target, served))
            active = r.get(f"/prompts/{name}/active").json()["version_id"]
        finally:
            done.set()
            for thread in readers:
                thread.join()
    figure(
        "never stale, labels",
        f"{moves} moves of a label on one process, each followed at once by a fetch of it "
        f"on another (4 more clients reading there all along): {len(stale)} stale",
    )
    assert stale == []
    assert active == active_before  # the active version did not follow the label

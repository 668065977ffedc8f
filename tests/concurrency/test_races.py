"""Tests 4 and 5 of the reliability plan: name races, and the active-pointer race with
read-your-writes across processes. Clients run in real threads against two server
processes on one database (two ``promptdeck serve`` on the same SQLite file or PostgreSQL).
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from promptdeck.core import Registry
from promptdeck.domain.caller import SYSTEM
from promptdeck.domain.commands import CreatePrompt, CreateVersion
from promptdeck.domain.rules import default_version_name
from tests.support.load import (
    Tally,
    Threads,
    check_history,
    client,
    figure,
    run_concurrently,
    scale,
)
from tests.support.server import ServerProcess

CLIENTS = 8


def two_servers(start_server: Callable[..., ServerProcess]) -> tuple[str, str]:
    return start_server().url, start_server().url


def test_concurrent_creates_with_one_explicit_name_give_one_201_and_the_rest_409(
    start_server: Callable[..., ServerProcess],
) -> None:
    urls = two_servers(start_server)
    rounds = scale("name_rounds", 50)
    with client(urls[0]) as http:
        assert http.post("/prompts", json={"name": "named"}).status_code == 201
    tally = Tally()
    problem_types: set[str] = set()
    per_round: list[list[int]] = [[] for _ in range(rounds)]
    barrier = threading.Barrier(CLIENTS, timeout=120)

    def creator(i: int) -> None:
        with client(urls[i % 2]) as http:
            for r in range(rounds):
                barrier.wait()
                response = tally.timed(
                    http.post,
                    "/prompts/named/versions",
                    json={"version_name": f"release-{r}", "content": f"{i}"},
                )
                per_round[r].append(response.status_code)
                if response.status_code == 409:
                    assert response.headers["content-type"] == "application/problem+json"
                    problem_types.add(response.json()["type"])

    run_concurrently(CLIENTS, creator)

    # The same race on prompt names: POST /prompts with one name from every client at once.
    prompt_tally = Tally()

    def prompt_creator(i: int) -> None:
        with client(urls[i % 2]) as http:
            prompt_tally.timed(http.post, "/prompts", json={"name": "contested"})

    run_concurrently(CLIENTS, prompt_creator)

    with client(urls[1]) as http:
        history = check_history(http, "named")
    figure(
        "name race",
        f"{rounds} rounds x {CLIENTS} concurrent creates of one explicit name over 2 "
        f"processes: {tally.summary()} (problem types {sorted(problem_types)}); rounds with "
        f"exactly one 201: {sum(1 for r in per_round if r.count(201) == 1)}/{rounds}; "
        f"prompt-name race: {prompt_tally.summary()}; {tally.server_errors} 5xx",
    )
    assert all(sorted(r) == [201] + [409] * (CLIENTS - 1) for r in per_round)
    assert problem_types == {"https://promptdeck.dev/problems/version-name-taken"}
    assert prompt_tally.statuses == {201: 1, 409: CLIENTS - 1}
    assert history["count"] == rounds + 1 and history["duplicate_names"] == 0


def test_default_names_under_concurrency_are_distinct_and_suffixed_never_409(
    start_server: Callable[..., ServerProcess],
) -> None:
    urls = two_servers(start_server)
    per_client = scale("default_names", 25)
    with client(urls[0]) as http:
        assert http.post("/prompts", json={"name": "stamps"}).status_code == 201
    tally = Tally()
    explicit_409 = 0
    lock = threading.Lock()

    def creator(i: int) -> None:
        nonlocal explicit_409
        rng = random.Random(i)
        with client(urls[i % 2]) as http:
            for _ in range(per_client):
                if i % 4 == 3:
                    # An explicit name equal to the current default (a timestamp): the default
                    # of a concurrent unnamed create must then take a suffix, not fail.
                    soon = datetime.now(UTC) + timedelta(milliseconds=rng.randint(0, 20))
                    name = default_version_name(soon)
                    r = tally.timed(
                        http.post, "/prompts/stamps/versions", json={"version_name": name}
                    )
                    assert r.status_code in (201, 409), r.text
                    with lock:
                        explicit_409 += r.status_code == 409
                else:
                    r = tally.timed(http.post, "/prompts/stamps/versions", json={})
                    assert r.status_code == 201, r.text

    run_concurrently(CLIENTS, creator)
    with client(urls[1]) as http:
        history = check_history(http, "stamps")
    names = [v["version_name"] for v in history["versions"]]
    suffixed = sum(1 for n in names if not n.endswith("Z"))
    figure(
        "default names",
        f"{CLIENTS * per_client} creates from {CLIENTS} clients (1 in 4 clients names its "
        f"versions with the current timestamp): {tally.summary()}; {len(set(names))} distinct "
        f"names of {len(names)}; {suffixed} suffixed; {explicit_409} explicit 409; "
        f"{tally.server_errors} 5xx",
    )
    assert tally.server_errors == 0
    assert tally.statuses[409] == explicit_409  # only explicit names can be refused
    assert history["duplicate_names"] == 0 and history["contiguous"]
    assert history["count"] == 1 + tally.statuses[201]


def test_default_names_in_one_instant_from_concurrent_writers_get_suffixes_in_order(
    registry: Registry,
) -> None:
    """With the clock frozen every default name collides: the prompt-row lock must hand out
    ``-2``, ``-3``… without a duplicate or an error, whatever the interleaving."""
    frozen = Registry(registry.engine, clock=lambda: datetime(2026, 11, 24, 12, tzinfo=UTC))
    frozen.create_prompt(CreatePrompt("frozen"), SYSTEM)
    per_thread = scale("frozen_names", 25)

    def creator(_i: int) -> list[str]:
        return [
            frozen.create_version(CreateVersion("frozen", content="x"), SYSTEM).version.version_name
            for _ in range(per_thread)
        ]

    names = [n for batch in run_concurrently(CLIENTS, creator) for n in batch]
    base = "2026-11-24T12:00:00.000Z"
    expected = {base} | {f"{base}-{k}" for k in range(2, CLIENTS * per_thread + 2)}
    figure(
        "frozen-clock names",
        f"{CLIENTS} threads x {per_thread} creates in one instant: {len(set(names))} distinct "
        f"names of {len(names)}, suffixes -2..-{CLIENTS * per_thread + 1}",
    )
    assert set(names) | {base} == expected and len(set(names)) == len(names)


def _pointer_moves(events: list[dict[str, object]]) -> list[dict[str, object]]:
    moves = [e for e in events if e["kind"] in ("version.activated", "version.rolled_back")]
    return sorted(moves, key=lambda e: int(e["id"]))  # type: ignore[call-overload]


def test_concurrent_rollbacks_with_one_if_match_have_one_winner_seen_at_once_elsewhere(
    start_server: Callable[..., ServerProcess],
) -> None:
    urls = two_servers(start_server)
    rounds = scale("rollback_rounds", 40)
    free_rounds = scale("rollback_free", 100)
    versions = 12
    with client(urls[0]) as http:
        assert http.post("/prompts", json={"name": "live", "content": "c0"}).status_code == 201
        ids = [http.get("/prompts/live/active").json()["version_id"]]
        for n in range(1, versions):
            r = http.post("/prompts/live/versions", json={"content": f"c{n}"})
            ids.append(r.json()["id"])

    tally = Tally()
    rng = random.Random(20261124)
    stale_reads = 0
    propagation: list[float] = []
    winners_per_round: list[int] = []
    shared: dict[str, object] = {}
    barrier = threading.Barrier(CLIENTS + 1, timeout=120)

    def contender(i: int) -> None:
        with client(urls[i % 2]) as http:
            for _ in range(rounds):
                barrier.wait()  # the coordinator has published the ETag and the targets
                targets: list[int] = shared["targets"]  # type: ignore[assignment]
                r = tally.timed(
                    http.post,
                    f"/prompts/live/versions/{targets[i]}/rollback",
                    headers={"If-Match": str(shared["etag"])},
                )
                assert r.status_code in (200, 412), r.text
                if r.status_code == 200:
                    shared[f"winner-{i}"] = (targets[i], i % 2)
                barrier.wait()  # every contender has its answer

    def coordinator() -> None:
        nonlocal stale_reads
        with client(urls[0]) as a, client(urls[1]) as b:
            for _ in range(rounds):
                prompt = a.get("/prompts/live")
                active = prompt.json()["active_version"]["id"]
                shared["etag"] = prompt.headers["etag"]
                # Never the active version: a no-op rollback would not move the ETag.
                others = [v for v in ids if v != active]
                shared["targets"] = [rng.choice(others) for _ in range(CLIENTS)]
                barrier.wait()
                barrier.wait()
                won = [k for k in shared if k.startswith("winner-")]
                winners_per_round.append(len(won))
                target, side = shared.pop(won[0]) if won else (None, 0)  # type: ignore[misc]
                for k in won[1:]:
                    shared.pop(k)
                # Read-your-writes: the process that did not serve the winner, at once.
                other = b if side == 0 else a
                started = time.perf_counter()
                seen = other.get("/prompts/live/active").json()["version_id"]
                propagation.append(time.perf_counter() - started)
                stale_reads += seen != target

    threads = Threads()
    for i in range(CLIENTS):
        threads.start(contender, i)
    threads.start(coordinator)
    threads.join()

    # Free-form phase: every client reads the ETag and rolls back, racing as it likes.
    free = Tally()
    changed = 0
    changed_lock = threading.Lock()

    def free_client(i: int) -> None:
        nonlocal changed
        local = random.Random(i)
        with client(urls[i % 2]) as http:
            for _ in range(free_rounds):
                etag = http.get("/prompts/live").headers["etag"]
                target = local.choice(ids)
                r = free.timed(
                    http.post,
                    f"/prompts/live/versions/{target}/rollback",
                    headers={"If-Match": etag},
                )
                if r.status_code == 200 and r.json()["changed"]:
                    with changed_lock:
                        changed += 1

    run_concurrently(CLIENTS, free_client)

    with client(urls[1]) as http:
        moves = _pointer_moves(check_history(http, "live")["events"])
        lost = sum(
            1
            for prev, cur in itertools.pairwise(moves)
            if cur["from_version_id"] != prev["version_id"]
        )
        active = http.get("/prompts/live/active")
        etag = active.headers["etag"]
        not_modified = http.get("/prompts/live/active", headers={"If-None-Match": etag})
        stale = http.post(
            f"/prompts/live/versions/{ids[0]}/rollback", headers={"If-Match": '"1-1"'}
        )
        current = http.get("/prompts/live")
        noop = http.post(
            f"/prompts/live/versions/{active.json()['version_id']}/rollback",
            headers={"If-Match": current.headers["etag"]},
        )
    figure(
        "rollback race",
        f"{rounds} rounds x {CLIENTS} rollbacks with one If-Match over 2 processes: "
        f"{tally.summary()}, rounds with exactly one winner {winners_per_round.count(1)}/"
        f"{rounds}; stale reads on the other process after a 200: {stale_reads} (max "
        f"{1000 * max(propagation):.1f} ms); free-form {CLIENTS} x {free_rounds} GET+rollback: "
        f"{free.summary()}; pointer moves {len(moves)}, lost updates {lost}; 304 on "
        f"If-None-Match: {not_modified.status_code}; stale If-Match: {stale.status_code}; "
        f"rollback to active: {noop.status_code} changed={noop.json().get('changed')}",
    )
    assert winners_per_round == [1] * rounds
    assert tally.statuses == {200: rounds, 412: rounds * (CLIENTS - 1)}
    assert stale_reads == 0
    assert free.server_errors == 0 and set(free.statuses) <= {200, 412}
    assert lost == 0
    assert len(moves) == 1 + rounds + changed  # one move per success that changed anything
    assert not_modified.status_code == 304
    assert stale.status_code == 412
    assert noop.status_code == 200 and noop.json()["changed"] is False


def test_stale_if_match_on_prompt_edits_is_412_and_no_edit_is_lost(
    start_server: Callable[..., ServerProcess],
) -> None:
    urls = two_servers(start_server)
    per_client = scale("patch_rounds", 25)
    with client(urls[0]) as http:
        assert http.post("/prompts", json={"name": "edited"}).status_code == 201
    tally = Tally()
    applied: list[str] = []
    lock = threading.Lock()

    def editor(i: int) -> None:
        with client(urls[i % 2]) as http:
            for n in range(per_client):
                etag = http.get("/prompts/edited").headers["etag"]
                text = f"{i}-{n}"
                r = tally.timed(
                    http.patch,
                    "/prompts/edited",
                    json={"content": text},
                    headers={"If-Match": etag},
                )
                assert r.status_code in (200, 412), r.text
                if r.status_code == 200:
                    with lock:
                        applied.append(text)

    run_concurrently(CLIENTS, editor)
    with client(urls[1]) as http:
        final = http.get("/prompts/edited").json()["content"]
        updates = [
            e for e in check_history(http, "edited")["events"] if e["kind"] == "prompt.updated"
        ]
    figure(
        "edit race",
        f"{CLIENTS} x {per_client} GET+PATCH with If-Match: {tally.summary()}; "
        f"{len(updates)} update events for {len(applied)} successes; 0 lost = "
        f"{len(updates) == len(applied)}",
    )
    assert tally.server_errors == 0
    assert len(updates) == len(applied) == tally.statuses[200]
    assert final in applied
    assert tally.statuses[200] >= 1 and tally.statuses[412] >= 1

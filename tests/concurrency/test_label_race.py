"""Issue 14: 8 clients over two server processes race compare-and-swap moves of one label.
Every round all 8 send the same If-Match: exactly one wins, the rest get 412, and the
label's history holds every winning move, in order."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable

from tests.support.load import Tally, client, figure, run_concurrently, scale
from tests.support.server import ServerProcess

CLIENTS = 8


def test_racing_compare_and_swap_moves_of_one_label_give_one_winner_a_round_and_full_history(
    start_server: Callable[..., ServerProcess],
) -> None:
    urls = start_server().url, start_server().url
    rounds = scale("label_rounds", 25)
    with client(urls[0]) as http:
        assert http.post("/prompts", json={"name": "raced", "content": "v0"}).status_code == 201
        version_ids = [
            http.post("/prompts/raced/versions", json={"content": f"c{i}"}).json()["id"]
            for i in range(CLIENTS + 1)
        ]
        start = http.put("/prompts/raced/labels/production", json={"version_id": version_ids[0]})
        etag = start.headers["etag"]
    tally = Tally()
    per_round: list[list[int]] = [[] for _ in range(rounds)]
    etags = [etag]
    winners: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(CLIENTS, timeout=120)

    def mover(i: int) -> None:
        with client(urls[i % 2]) as http:
            for r in range(rounds):
                # each client aims at its own version, never the one the label is at (a
                # move to where the label already is would be a no-op 200)
                current = winners[-1] if winners else version_ids[0]
                barrier.wait()
                target = [v for v in version_ids if v != current][i]
                response = tally.timed(
                    http.put,
                    "/prompts/raced/labels/production",
                    json={"version_id": target, "reason": f"round {r} client {i}"},
                    headers={"If-Match": etags[r]},
                )
                with lock:
                    per_round[r].append(response.status_code)
                    if response.status_code == 200:
                        winners.append(target)
                        etags.append(response.headers["etag"])
                barrier.wait()  # the next round starts from the winner's ETag

    run_concurrently(CLIENTS, mover)

    assert all(sorted(codes) == [200] + [412] * (CLIENTS - 1) for codes in per_round), per_round
    with client(urls[1]) as http:
        moves = http.get(
            "/prompts/raced/labels/production/history", params={"limit": rounds + 10}
        ).json()["items"]
        serving = http.get("/prompts/raced/active", params={"label": "production"}).json()
    chain = list(reversed(moves))
    assert [m["to_version_id"] for m in chain] == [version_ids[0], *winners]
    assert all(a["to_version_id"] == b["from_version_id"] for a, b in itertools.pairwise(chain))
    assert [m["id"] for m in chain] == sorted(m["id"] for m in chain)
    assert serving["version_id"] == winners[-1]
    figure(
        "label CAS race",
        f"{rounds} rounds x {CLIENTS} clients moving one label with one If-Match over 2 "
        f"processes: {tally.summary()}; rounds with exactly one 200 and {CLIENTS - 1} 412: "
        f"{sum(1 for c in per_round if c.count(200) == 1)}/{rounds}; history "
        f"{len(moves)} moves, complete and in order; {tally.server_errors} 5xx",
    )

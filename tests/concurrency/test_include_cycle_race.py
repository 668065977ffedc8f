"""Two server processes create the two halves of an include cycle at the same moment: one
wins (201), the other is refused (422 include-cycle), never both."""

from __future__ import annotations

import threading
from collections.abc import Callable

from tests.support.load import client, scale
from tests.support.server import ServerProcess


def test_two_processes_closing_one_cycle_at_once_one_wins_and_one_is_refused(
    start_server: Callable[..., ServerProcess],
) -> None:
    rounds = scale("cycle_rounds", 8)
    urls = [start_server().url, start_server().url]
    with client(urls[0]) as http:
        for r in range(rounds):
            for side in "xy":
                assert http.post("/prompts", json={"name": f"{side}{r}"}).status_code == 201
    for r in range(rounds):
        barrier = threading.Barrier(2)
        answers: dict[str, tuple[int, str]] = {}

        def create(side: str, other: str, url: str, r: int = r) -> None:
            with client(url) as http:
                barrier.wait()
                body = {"content": f"{{{{> {other}{r}}}}}"}
                response = http.post(f"/prompts/{side}{r}/versions", json=body)
                answers[side] = (response.status_code, response.text)

        threads = [
            threading.Thread(target=create, args=("x", "y", urls[0])),
            threading.Thread(target=create, args=("y", "x", urls[1])),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        statuses = sorted(status for status, _ in answers.values())
        assert statuses == [201, 422], answers
        refused = next(text for status, text in answers.values() if status == 422)
        assert "include-cycle" in refused

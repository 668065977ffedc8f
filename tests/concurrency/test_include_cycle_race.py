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
        answers = race(
            (f"/prompts/x{r}/versions", f"{{{{> y{r}}}}}", urls[0]),
            (f"/prompts/y{r}/versions", f"{{{{> x{r}}}}}", urls[1]),
        )
        statuses = sorted(status for status, _ in answers.values())
        assert statuses == [201, 422], answers
        refused = next(text for status, text in answers.values() if status == 422)
        assert "include-cycle" in refused


def race(*posts: tuple[str, str, str]) -> dict[str, tuple[int, str]]:
    """POST each (path, content, server) from its own thread, released together."""
    barrier = threading.Barrier(len(posts))
    answers: dict[str, tuple[int, str]] = {}

    def post(path: str, content: str, url: str) -> None:
        with client(url) as http:
            barrier.wait()
            response = http.post(path, json={"content": content})
            answers[path] = (response.status_code, response.text)

    threads = [threading.Thread(target=post, args=p) for p in posts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return answers

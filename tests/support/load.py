"""Helpers for the concurrency tests: real concurrent clients, paging, figures, checks."""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.support.databases import BACKEND

TIMEOUT = httpx.Timeout(60.0)


def scale(name: str, default: int) -> int:
    """A load figure; ``PROMPTDECK_LOAD_SCALE`` (a float) scales every default at once."""
    explicit = os.environ.get(f"PROMPTDECK_LOAD_{name.upper()}")
    if explicit:
        return int(explicit)
    factor = float(os.environ.get("PROMPTDECK_LOAD_SCALE", "1"))
    return max(1, round(default * factor))


def figure(test: str, text: str) -> str:
    """Print one ``figure:`` line (run pytest with -s) and append it to the figures file."""
    line = f"figure: [{BACKEND}] {test}: {text}"
    print("\n" + line, flush=True)
    path = os.environ.get("PROMPTDECK_FIGURES_FILE")
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(line + "\n")
    return line


def run_concurrently(workers: int, job: Callable[[int], Any]) -> list[Any]:
    """Run ``job(i)`` for i in 0..workers-1 in that many threads, all released at once."""
    barrier = threading.Barrier(workers, timeout=120)

    def start(i: int) -> Any:
        barrier.wait()
        return job(i)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(start, range(workers)))


def client(base_url: str) -> httpx.Client:
    return httpx.Client(base_url=base_url, timeout=TIMEOUT)


def pages(http: httpx.Client, path: str, limit: int = 200) -> Iterator[dict[str, Any]]:
    """Every item of a cursor-paginated list."""
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        response = http.get(path, params=params)
        response.raise_for_status()
        body = response.json()
        yield from body["items"]
        cursor = body["next_cursor"]
        if not cursor:
            return


@dataclass
class Tally:
    """Status codes and failures seen by the clients of one test, thread-safe."""

    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, response: httpx.Response, seconds: float) -> None:
        with self.lock:
            self.statuses[response.status_code] += 1
            self.latencies.append(seconds)
            if response.status_code >= 500:
                self.errors[response.text[:200]] += 1

    def timed(
        self, call: Callable[..., httpx.Response], *args: Any, **kwargs: Any
    ) -> httpx.Response:
        """``call(*args, **kwargs)``, timed and counted."""
        started = time.perf_counter()
        response = call(*args, **kwargs)
        self.record(response, time.perf_counter() - started)
        return response

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)

    def p99_ms(self) -> float:
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]

    def summary(self) -> str:
        return ", ".join(f"{n} x {s}" for s, n in sorted(self.statuses.items()))


def locked_errors_in_logs(paths: list[Path]) -> int:
    """How many times the server logs say "database is locked"."""
    count = 0
    for path in paths:
        if path.exists():
            count += path.read_text(errors="replace").count("database is locked")
    return count


def check_history(http: httpx.Client, prompt: str | int) -> dict[str, Any]:
    """Read a prompt's whole history and events; return what the invariants need."""
    versions = list(pages(http, f"/prompts/{prompt}/versions"))
    events = list(pages(http, f"/prompts/{prompt}/events"))
    numbers = [v["number"] for v in versions]
    names = [v["version_name"] for v in versions]
    created = Counter(e["version_id"] for e in events if e["kind"] == "version.created")
    ids = {v["id"] for v in versions}
    return {
        "versions": versions,
        "events": events,
        "count": len(versions),
        "contiguous": sorted(numbers) == list(range(1, len(numbers) + 1)),
        "duplicate_numbers": len(numbers) - len(set(numbers)),
        "duplicate_names": len(names) - len(set(names)),
        "creation_events_ok": set(created) == ids and all(n == 1 for n in created.values()),
        "creation_events": sum(created.values()),
    }


class Threads:
    """Threads whose first exception is raised again by ``join``: a failed assertion in a
    client thread fails the test instead of vanishing with the thread."""

    def __init__(self) -> None:
        self.threads: list[threading.Thread] = []
        self.errors: list[BaseException] = []

    def start(self, target: Callable[..., Any], *args: Any) -> None:
        def run() -> None:
            try:
                target(*args)
            except BaseException as exc:
                self.errors.append(exc)

        thread = threading.Thread(target=run)
        thread.start()
        self.threads.append(thread)

    def join(self, timeout: float = 300) -> None:
        for thread in self.threads:
            thread.join(timeout)
        if self.errors:
            raise self.errors[0]

"""What rendering a Jinja template costs in the process (the checking sandbox) against a
worker process with hard limits (RLIMIT_AS, RLIMIT_CPU), the other way to bound a render
(docs/api.md, "Templates: what Jinja may do"). Linux only (fork, setrlimit).

    .venv/bin/python -m bench.render_sandbox [--renders 2000]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import pickle
import resource
import statistics
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

import promptdeck.server  # noqa: F401  (a served process's heap, which a fork copies)
from promptdeck.domain import templates
from promptdeck.domain.templates import sandbox

SMALL = (
    "You answer for {{ company }}.{% for q in questions %}\n- {{ q|trim }}{% endfor %}\n"
    "{{ question }}"
)
LOOP = (
    "{% for i in items %}{{ loop.index }}. {{ i.name|upper }}: {{ i.text|truncate(40) }}\n"
    "{% endfor %}"
)
VALUES: dict[str, Any] = {
    "company": "Acme",
    "questions": ["a", "b", "c"],
    "question": "Where is my parcel?",
    "items": [{"name": f"n{i}", "text": "some text " * 10} for i in range(200)],
}
LIMIT_BYTES = 1 << 30


def _render(source: str) -> str:
    return templates.render("text", "jinja", source, VALUES).text or ""


def _timed(run: Callable[[], object], n: int) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        run()
        out.append(time.perf_counter() - start)
    return sorted(out)


def _forked() -> None:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        resource.setrlimit(resource.RLIMIT_AS, (LIMIT_BYTES, LIMIT_BYTES))
        resource.setrlimit(resource.RLIMIT_CPU, (1, 2))
        os.write(write, pickle.dumps(_render(SMALL)))
        os._exit(0)
    os.close(write)
    pickle.loads(os.read(read, 1 << 20))
    os.close(read)
    os.waitpid(pid, 0)


def _serve(conn: Connection) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT_BYTES, LIMIT_BYTES))
    while (source := conn.recv()) is not None:
        used = sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
        resource.setrlimit(resource.RLIMIT_CPU, (int(used) + 2, resource.RLIM_INFINITY))
        conn.send(_render(source))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--renders", type=int, default=2000)
    n = parser.parse_args().renders
    rows: list[tuple[str, list[float]]] = []
    _render(SMALL)
    rows.append(("in the process, compiled once (small)", _timed(lambda: _render(SMALL), n)))
    _render(LOOP)
    rows.append(("in the process, compiled once (200-item loop)", _timed(lambda: _render(LOOP), n)))

    def uncached() -> None:
        sandbox._CACHE.clear()
        _render(SMALL)

    rows.append(("in the process, compiled each time (small)", _timed(uncached, n // 10)))
    parent, child = mp.Pipe()
    worker = mp.get_context("fork").Process(target=_serve, args=(child,))
    worker.start()

    def piped() -> None:
        parent.send(SMALL)
        parent.recv()

    rows.append(("persistent worker through a pipe (small)", _timed(piped, n)))
    parent.send(None)
    worker.join()
    rows.append(("a fork per render (small)", _timed(_forked, max(n // 10, 20))))
    for label, times in rows:
        p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
        median = statistics.median(times) * 1e3
        print(f"{label:48} median {median:8.3f} ms  p99 {p99 * 1e3:8.3f} ms")


if __name__ == "__main__":
    main()

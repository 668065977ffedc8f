"""One command for the serving figures, on both databases, beside the ceiling, in one run.

    source scripts/pg.sh && trap pg_stop EXIT
    python -m bench.run_all --postgres "$PROMPTDECK_TEST_PG_URL" [--seconds 5] [--write-docs]

Measures, one after the other on this machine, every server with uvicorn + uvloop +
httptools and no access log, wrk -t2 -c64 after a 2 s warm-up:

- the ceiling (bench/constant_app.py, a pure-ASGI constant response), 1 and 2 processes;
- GET /prompts/{name}/active on SQLite and on PostgreSQL (1 process), and on PostgreSQL with
  2 processes (``--workers 2``) over the same database;
- sequential create-version and rollback latency over HTTP on each database;
- push latency: 50 subscribers of GET /changes in 5 client processes, on a 2-process server,
  from each rollback's 200 (as the client that made it saw it) to each subscriber's event.

With ``--write-docs`` it rewrites the generated block of docs/performance.md (between the
``bench.run_all`` markers) with the machine, the command and the tables.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from bench.common import BIN, WrkResult, free_port, serve_promptdeck, start, stop, wrk

CONTENT = "You are a helpful support agent. Answer {{customer}} briefly and kindly."
DOC = Path(__file__).parents[1] / "docs" / "performance.md"
BEGIN = "<!-- bench.run_all: begin (generated; do not edit by hand) -->"
END = "<!-- bench.run_all: end -->"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def ceiling(workers: int, seconds: int) -> WrkResult:
    port = free_port()
    cmd = [str(BIN / "uvicorn"), "bench.constant_app:app", "--port", str(port)]
    cmd += ["--workers", str(workers), "--loop", "uvloop", "--http", "httptools"]
    cmd += ["--no-access-log", "--log-level", "warning"]
    proc = start(cmd, f"http://127.0.0.1:{port}/")
    try:
        return wrk(f"http://127.0.0.1:{port}/x", seconds=seconds)
    finally:
        stop(proc)


def fresh_postgres(admin_url: str) -> str:
    name = f"bench_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    with engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def make_prompt(url: str, name: str) -> list[int]:
    with httpx.Client(base_url=url, timeout=30) as http:
        r = http.post("/prompts", json={"name": name, "content": CONTENT})
        ids = [r.json()["active_version"]["id"]]
        r = http.post(f"/prompts/{name}/versions", json={"content": CONTENT + " (2)"})
        ids.append(r.json()["id"])
    return ids


def writes(url: str, name: str, n: int) -> tuple[list[float], list[float]]:
    """Sequential create-version and rollback latencies (ms) over one keep-alive client."""
    creates, rollbacks = [], []
    with httpx.Client(base_url=url, timeout=30) as http:
        ids = []
        for i in range(n):
            t = time.perf_counter()
            r = http.post(f"/prompts/{name}/versions", json={"content": f"{CONTENT} [{i}]"})
            creates.append((time.perf_counter() - t) * 1000)
            assert r.status_code == 201, r.text
            ids.append(r.json()["id"])
        for i in range(n):
            t = time.perf_counter()
            r = http.post(f"/prompts/{name}/versions/{ids[i % len(ids)]}/rollback")
            rollbacks.append((time.perf_counter() - t) * 1000)
            assert r.status_code == 200, r.text
    return creates, rollbacks


def hot(url: str, name: str, seconds: int) -> WrkResult:
    return wrk(f"{url}/prompts/{name}/active", seconds=seconds)


# --- push latency ---------------------------------------------------------------------------


def _subscriber_process(
    url: str, name: str, threads: int, moves: int, ready: Any, out: Any
) -> None:
    def one() -> None:
        got: list[tuple[int, float]] = []
        with (
            httpx.Client(base_url=url, timeout=60) as http,
            http.stream("GET", "/changes", params={"prompts": name}) as response,
        ):
            announced = False
            for line in response.iter_lines():
                if line.startswith("event: ready") and not announced:
                    announced = True
                    ready.put(1)
                elif line.startswith("data: {") and '"version_id"' in line:
                    got.append((len(got), time.monotonic()))
                    if len(got) == moves:
                        break
        out.put(got)

    workers = [threading.Thread(target=one) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()


def push_latency(
    url: str, name: str, ids: list[int], *, processes: int, per_process: int, moves: int
) -> list[float]:
    """Latencies (ms) from each rollback's 200 to each subscriber's event."""
    ctx = mp.get_context("spawn")
    ready, out = ctx.Queue(), ctx.Queue()
    procs = [
        ctx.Process(target=_subscriber_process, args=(url, name, per_process, moves, ready, out))
        for _ in range(processes)
    ]
    for p in procs:
        p.start()
    for _ in range(processes * per_process):
        ready.get(timeout=60)
    sent: list[float] = []
    with httpx.Client(base_url=url, timeout=30) as http:
        for i in range(moves):
            # ids[0] is active at first: start with ids[1] so that every rollback moves
            r = http.post(f"/prompts/{name}/versions/{ids[(i + 1) % 2]}/rollback")
            sent.append(time.monotonic())
            assert r.status_code == 200, r.text
            time.sleep(0.05)
    latencies = []
    for _ in range(processes * per_process):
        for index, received in out.get(timeout=60):
            latencies.append((received - sent[index]) * 1000)
    for p in procs:
        p.join(10)
    return latencies


# --- the run --------------------------------------------------------------------------------


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    load = os.getloadavg()
    return (
        f"{os.cpu_count()} vCPU {cpu}, {mem:.0f} GiB, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}; load average at start "
        f"{load[0]:.2f} (the machine is shared: figures move 20-40% between runs)"
    )


def ms(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} | {percentile(values, 0.99):.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postgres", required=True, help="admin URL of a PostgreSQL server")
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--writes", type=int, default=200)
    parser.add_argument("--moves", type=int, default=20)
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    started = datetime.now(UTC)
    about = machine()
    name = "support-reply"
    rows: list[str] = []
    push_rows: list[str] = []
    write_rows: list[str] = []

    def hot_row(what: str, r: WrkResult, ceiling_rps: float) -> str:
        return f"| {what} | {r.row()} | {r.rps / ceiling_rps:.2f} | {r.non_2xx} |"

    c1 = ceiling(1, args.seconds)
    rows.append(hot_row("pure-ASGI constant response (ceiling), 1 process", c1, c1.rps))

    with tempfile.TemporaryDirectory() as tmp:
        databases = [
            ("SQLite", f"sqlite:///{Path(tmp) / 'bench.db'}"),
            ("PostgreSQL", fresh_postgres(args.postgres)),
        ]
        for label, database_url in databases:
            server, url = serve_promptdeck(database_url, 1)
            try:
                ids = make_prompt(url, name)
                r = hot(url, name, args.seconds)
                rows.append(hot_row(f"GET …/active, {label}, 1 process", r, c1.rps))
                make_prompt(url, name + "-w")
                creates, rollbacks = writes(url, name + "-w", args.writes)
                write_rows.append(f"| {label} | create a version | {ms(creates)} |")
                write_rows.append(f"| {label} | roll back | {ms(rollbacks)} |")
            finally:
                stop(server)
            if label == "PostgreSQL":
                c2 = ceiling(2, args.seconds)
                rows.append(
                    hot_row("pure-ASGI constant response (ceiling), 2 processes", c2, c2.rps)
                )
                server, url = serve_promptdeck(database_url, 2)
                try:
                    r = hot(url, name, args.seconds)
                    rows.append(hot_row("GET …/active, PostgreSQL, 2 processes", r, c2.rps))
                finally:
                    stop(server)
            server, url = serve_promptdeck(database_url, 2)
            try:
                lat = push_latency(url, name, ids, processes=5, per_process=10, moves=args.moves)
                push_rows.append(
                    f"| {label} | 2 | 50 in 5 processes | {args.moves} | "
                    f"{statistics.median(lat):.1f} | {percentile(lat, 0.99):.1f} | "
                    f"{max(lat):.1f} | {len(lat)} / {50 * args.moves} |"
                )
            finally:
                stop(server)

    pg_version = "PostgreSQL"
    engine = sa.create_engine(args.postgres, poolclass=sa.NullPool)
    with engine.connect() as conn:
        pg_version = str(conn.exec_driver_sql("SHOW server_version").scalar())
    command = "python -m bench.run_all --postgres URL " + " ".join(
        a for a in sys.argv[1:] if not a.startswith(("postgres", "--postgres")) and "://" not in a
    )
    text = "\n".join(
        [
            f"Measured {started:%Y-%m-%d %H:%M} UTC by `{command.strip()}` on {about}; "
            f"PostgreSQL {pg_version} on the same machine (loopback, fsync on).",
            "",
            f"Hot path: `wrk -t2 -c64 -d{args.seconds}s` after a 2 s warm-up; the ratio is to "
            "the ceiling with the same number of processes.",
            "",
            "| what | req/s | p50 ms | p99 ms | / ceiling | non-2xx |",
            "|---|---|---|---|---|---|",
            *rows,
            "",
            f"Writes over HTTP, one keep-alive client, {args.writes} sequential each "
            "(SQLite `synchronous=FULL`):",
            "",
            "| database | operation | p50 ms | p99 ms |",
            "|---|---|---|---|",
            *write_rows,
            "",
            "Push: GET /changes subscribers, one rollback every 50 ms; latency from the "
            "rollback's 200 (as its client saw it) to each subscriber's event:",
            "",
            "| database | server processes | subscribers | rollbacks | p50 ms | p99 ms | max ms "
            "| events received |",
            "|---|---|---|---|---|---|---|---|",
            *push_rows,
        ]
    )
    print(text)
    if args.write_docs:
        doc = DOC.read_text()
        head, _, rest = doc.partition(BEGIN)
        _, _, tail = rest.partition(END)
        DOC.write_text(f"{head}{BEGIN}\n{text}\n{END}{tail}")
        print(f"\nrewrote {DOC}")


if __name__ == "__main__":
    main()

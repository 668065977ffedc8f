"""One command for the serving figures, on both databases, beside the ceiling, in one run.

    source scripts/pg.sh && trap pg_stop EXIT
    python -m bench.run_all --postgres "$PROMPTDECK_TEST_PG_URL" [--seconds 5] [--write-docs]

Measures, one after the other on this machine, every server with uvicorn + uvloop +
httptools and no access log, wrk -t2 -c64 after a 2 s warm-up:

- the ceiling (bench/constant_app.py, a pure-ASGI constant response), 1 and 2 processes;
- GET /prompts/{name}/active on SQLite and on PostgreSQL (1 process), and on PostgreSQL with
  2 processes (``--workers 2``) over the same database; ``--rounds`` rounds (default 3)
  interleave all five servers, and each row reports its median round;
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


def ceiling_server(workers: int) -> tuple[Any, str]:
    port = free_port()
    cmd = [str(BIN / "uvicorn"), "bench.constant_app:app", "--port", str(port)]
    cmd += ["--workers", str(workers), "--loop", "uvloop", "--http", "httptools"]
    cmd += ["--no-access-log", "--log-level", "warning"]
    return start(cmd, f"http://127.0.0.1:{port}/"), f"http://127.0.0.1:{port}"


def median_run(runs: list[WrkResult]) -> WrkResult:
    return sorted(runs, key=lambda r: r.rps)[len(runs) // 2]


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
    parser.add_argument("--rounds", type=int, default=3)
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

    with tempfile.TemporaryDirectory() as tmp:
        sqlite_url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        pg_url = fresh_postgres(args.postgres)
        # Every server is up at once (idle ones cost nothing) and the rounds interleave
        # them, so a burst of load from other jobs does not fall on one row only.
        targets: list[tuple[str, int, Any]] = []
        procs: list[Any] = []
        try:
            for workers in (1, 2):
                proc, url = ceiling_server(workers)
                procs.append(proc)
                targets.append(
                    (
                        f"pure-ASGI constant response (ceiling), {workers} process"
                        + ("es" if workers > 1 else ""),
                        workers,
                        f"{url}/x",
                    )
                )
            ids: dict[str, list[int]] = {}
            for label, database_url, workers in (
                ("SQLite", sqlite_url, 1),
                ("PostgreSQL", pg_url, 1),
                ("PostgreSQL", pg_url, 2),
            ):
                proc, url = serve_promptdeck(database_url, workers)
                procs.append(proc)
                if label not in ids:
                    ids[label] = make_prompt(url, name)
                plural = "es" if workers > 1 else ""
                targets.append(
                    (
                        f"GET …/active, {label}, {workers} process{plural}",
                        workers,
                        f"{url}/prompts/{name}/active",
                    )
                )
            results: dict[str, list[WrkResult]] = {t[0]: [] for t in targets}
            for _ in range(args.rounds):
                for what, _workers, url in targets:
                    results[what].append(wrk(url, seconds=args.seconds))
        finally:
            for proc in procs:
                stop(proc)
        medians = {what: median_run(runs) for what, runs in results.items()}
        for what, workers, _url in targets:
            ceiling_what = targets[workers - 1][0]
            r, c = medians[what], medians[ceiling_what]
            runs = ", ".join(f"{x.rps:,.0f}" for x in results[what])
            errors = sum(x.non_2xx for x in results[what])
            rows.append(f"| {what} | {r.row()} | {r.rps / c.rps:.2f} | {runs} | {errors} |")

        for label, database_url in (("SQLite", sqlite_url), ("PostgreSQL", pg_url)):
            server, url = serve_promptdeck(database_url, 1)
            try:
                make_prompt(url, name + "-w")
                creates, rollbacks = writes(url, name + "-w", args.writes)
                write_rows.append(f"| {label} | create a version | {ms(creates)} |")
                write_rows.append(f"| {label} | roll back | {ms(rollbacks)} |")
            finally:
                stop(server)
            server, url = serve_promptdeck(database_url, 2)
            try:
                lat = push_latency(
                    url, name, ids[label], processes=5, per_process=10, moves=args.moves
                )
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
            f"Hot path: `wrk -t2 -c64 -d{args.seconds}s` after a 2 s warm-up, {args.rounds} "
            "rounds interleaving the servers; each row is its median round (by req/s), the "
            "ratio is to the ceiling's median with the same number of processes.",
            "",
            "| what | req/s | p50 ms | p99 ms | / ceiling | every round, req/s | non-2xx |",
            "|---|---|---|---|---|---|---|",
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

"""Outcomes (issue 16): the ingest rate of POST /outcomes in batches, with the server's
memory as it goes, and the latency of impact questions with 10 million outcomes' worth of
aggregates behind them.

    .venv/bin/python -m bench.outcomes                       # SQLite in a temporary file
    .venv/bin/python -m bench.outcomes --database-url postgresql+psycopg://… --workers 2

Ingest: ``--senders`` threads post pre-encoded batches of ``--batch`` outcomes (4 versions
of one prompt, now) for ``--seconds``; the rate is outcomes the server acknowledged per
second, and the server's RSS is read every few seconds (flat memory: the last reading
against the one after warm-up). Query: a second prompt gets 30 days of per-minute
aggregates for ``--outcomes`` outcomes (5 versions taking turns, one label move a day)
written straight into the aggregate tables (as ingest would leave them, much faster than
through HTTP), then GET …/impact is timed over HTTP: the whole history, the last day, a
comparison, one label period.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from bench.common import serve_promptdeck, stop
from promptdeck.core import Registry
from promptdeck.domain import impact
from promptdeck.domain.caller import SYSTEM
from promptdeck.domain.commands import CreatePrompt, CreateVersion, Rollback
from promptdeck.domain.impact import Sums
from promptdeck.store import migrate
from promptdeck.store import outcomes as store
from promptdeck.store.engine import create_engine, writer


def rss_mb(pid: int) -> float:
    """The server's resident memory, its worker processes included."""
    total = 0.0
    for proc in [pid, *_children(pid)]:
        try:
            for line in Path(f"/proc/{proc}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
        except FileNotFoundError:
            pass
    return total


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        kids = (task / "children").read_text().split()
        for kid in kids:
            found += [int(kid), *_children(int(kid))]
    return found


def ingest(url: str, pid: int, senders: int, batch: int, seconds: float) -> dict[str, float]:
    with httpx.Client(base_url=url, timeout=30) as http:
        http.post("/prompts", json={"name": "ingest", "content": "v"})
        versions = [
            http.post("/prompts/ingest/versions", json={"content": f"v{i}"}).json()["id"]
            for i in range(4)
        ]
    rng = random.Random(1)
    bodies = []
    for b in range(16):  # pre-encoded: the senders spend no CPU building JSON
        items = [
            {
                "prompt_id": "ingest",
                "version_id": versions[(b + i) % 4],
                "success": rng.random() < 0.9,
                "score": round(rng.random(), 3),
                "latency_ms": round(rng.lognormvariate(5.5, 0.5), 1),
                "input_tokens": 300 + i % 50,
                "output_tokens": 80 + i % 20,
                "cost": 0.0004,
            }
            for i in range(batch)
        ]
        bodies.append(json.dumps({"outcomes": items}).encode())
    sent = [0] * senders
    failures = [0] * senders
    stop_at = time.monotonic() + seconds
    rss: list[tuple[float, float]] = []

    def sender(k: int) -> None:
        with httpx.Client(base_url=url, timeout=30) as http:
            i = k
            while time.monotonic() < stop_at:
                response = http.post(
                    "/outcomes",
                    content=bodies[i % len(bodies)],
                    headers={"Content-Type": "application/json"},
                )
                if response.status_code == 200:
                    sent[k] += response.json()["accepted"]
                else:
                    failures[k] += 1
                i += senders

    threads = [threading.Thread(target=sender, args=(k,)) for k in range(senders)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        rss.append((time.monotonic() - t0, rss_mb(pid)))
        time.sleep(2)
    elapsed = time.monotonic() - t0
    warm = next((m for s, m in rss if s >= 4), rss[0][1])
    with httpx.Client(base_url=url, timeout=30) as http:
        counted = sum(v["count"] for v in http.get("/prompts/ingest/impact").json()["versions"])
    return {
        "rate": sum(sent) / elapsed,
        "sent": sum(sent),
        "counted": counted,
        "failures": sum(failures),
        "rss_warm": warm,
        "rss_end": rss[-1][1],
        "rss_max": max(m for _, m in rss),
    }


def seed(database_url: str, outcomes: int, days: int = 30) -> tuple[list[int], float]:
    """A prompt with ``outcomes`` outcomes' aggregates over ``days`` days; the seconds taken."""
    t0 = time.monotonic()
    engine = create_engine(database_url)
    migrate.upgrade(engine)
    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(days=days)
    clock_now = [start]
    registry = Registry(engine, clock=lambda: clock_now[0])
    registry.create_prompt(CreatePrompt("history", content="v1"), SYSTEM)
    versions = [registry.get_prompt("history", SYSTEM).active_version_id or 0]
    versions += [
        registry.create_version(CreateVersion("history", content=f"v{i}"), SYSTEM).version.id
        for i in range(4)
    ]
    minutes = days * 24 * 60
    per_minute = outcomes / minutes
    rng = random.Random(2)
    first = impact.minute_of(start)
    prompt_id = registry.get_prompt("history", SYSTEM).id
    day_rows: dict[tuple[int, int], tuple[int, Sums]] = {}
    day_buckets: dict[tuple[int, int, int], int] = {}
    for day in range(days):
        version = versions[day % len(versions)]
        clock_now[0] = start + timedelta(days=day)
        if day:
            registry.rollback(Rollback("history", version), SYSTEM)
        for m in range(day * 1440, (day + 1) * 1440):
            n = int(per_minute) + (rng.random() < per_minute % 1)
            sums = Sums(count=n, success_n=n, success_true=round(n * (0.8 + 0.02 * (day % 5))))
            sums.score_n, sums.score_sum = n, n * 0.7
            sums.score_sq = n * 0.5
            sums.latency_n, sums.latency_sum, sums.latency_sq = n, n * 300.0, n * 100_000.0
            sums.input_tokens, sums.output_tokens, sums.cost = n * 300, n * 80, n * 0.0004
            day_rows[(version, first + m)] = (prompt_id, sums)
            # the minute's latency sketch: n draws, as ingest would bucket them
            for _ in range(min(n, 400)):
                bucket = impact.latency_bucket(rng.lognormvariate(5.5, 0.5))
                key = (version, first + m, bucket)
                day_buckets[key] = day_buckets.get(key, 0) + max(1, n // 400)
        rows, buckets = impact.into_blocks(day_rows, day_buckets)  # as ingest adds them
        with writer(engine).begin() as conn:
            store.add_minutes(conn, rows)
            store.add_latency(conn, buckets)
        day_rows.clear()
        day_buckets.clear()
    if engine.dialect.name == "postgresql":  # what autovacuum would do after a bulk load
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE outcome_minutes")
            conn.exec_driver_sql("ANALYZE outcome_latency")
    engine.dispose()
    return versions, time.monotonic() - t0


def timed(http: httpx.Client, path: str, params: dict[str, str], runs: int) -> tuple[float, float]:
    """Median and worst of ``runs`` requests, in ms (after one warm-up)."""
    assert http.get(path, params=params).status_code == 200
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        response = http.get(path, params=params)
        times.append((time.perf_counter() - t) * 1000)
        assert response.status_code == 200, response.text
    return statistics.median(times), max(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--senders", type=int, default=2)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--outcomes", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--skip-ingest", action="store_true")
    parser.add_argument("--skip-query", action="store_true")
    parser.add_argument("--dir", default=None, help="Keep the SQLite file here (reused).")
    args = parser.parse_args()
    tmp = args.dir or tempfile.mkdtemp(prefix="pd-outcomes-")
    url = args.database_url or f"sqlite:///{tmp}/bench.db"
    backend = "SQLite" if url.startswith("sqlite") else "PostgreSQL"
    if not args.skip_ingest:
        proc, base = serve_promptdeck(url, workers=args.workers)
        try:
            r = ingest(base, proc.pid, args.senders, args.batch, args.seconds)
        finally:
            stop(proc)
        print(
            f"| {backend}, {args.workers} process(es), {args.senders} senders, batches of "
            f"{args.batch} | {r['rate']:,.0f} outcomes/s | sent {r['sent']:,.0f}, counted "
            f"{r['counted']:,.0f}, {r['failures']:.0f} failed | RSS {r['rss_warm']:.0f} MB after "
            f"warm-up, {r['rss_end']:.0f} MB at the end (max {r['rss_max']:.0f}) |",
            flush=True,
        )
    if args.skip_query:
        return
    if args.dir and Path(args.dir, "seeded").exists():
        versions, took = json.loads(Path(args.dir, "seeded").read_text()), 0.0
    else:
        versions, took = seed(url, args.outcomes)
        if args.dir:
            Path(args.dir, "seeded").write_text(json.dumps(versions))
    proc, base = serve_promptdeck(url, workers=1)
    try:
        with httpx.Client(base_url=base, timeout=30) as http:
            day = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
            ten = (datetime.now(UTC) - timedelta(days=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
            nine = (datetime.now(UTC) - timedelta(days=9)).strftime("%Y-%m-%dT%H:%M:%SZ")
            cases = [
                ("whole history (30 days, 5 versions, 30 periods)", {}),
                ("the last day", {"since": day}),
                ("compare two versions over 30 days", {"compare": f"{versions[0]},{versions[1]}"}),
                ("one day ten days ago", {"since": ten, "until": nine}),
            ]
            print(
                f"\n{backend}: {args.outcomes:,} outcomes' aggregates seeded in {took:.0f} s",
                flush=True,
            )
            for label, params in cases:
                median, worst = timed(http, "/prompts/history/impact", params, args.runs)
                print(f"| {backend} | {label} | {median:.1f} ms | {worst:.1f} ms |", flush=True)
    finally:
        stop(proc)


if __name__ == "__main__":
    main()

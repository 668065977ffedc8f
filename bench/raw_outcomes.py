"""Raw outcomes read back (issue 16): GET /prompts/{id}/outcomes pages with millions of raw
outcomes kept, and the plan of each page's statement.

    .venv/bin/python -m bench.raw_outcomes                       # SQLite in a temporary file
    .venv/bin/python -m bench.raw_outcomes --database-url postgresql+psycopg://…

Seeds ``--outcomes`` raw outcome rows (default 2,000,000) spread over ``--prompts`` prompts
(2 versions each) and the last 6 days, written straight into the ``outcomes`` table as
ingest writes them (much faster than through HTTP), then times pages over HTTP against a
server that keeps raw outcomes (median and worst of ``--runs`` after one warm-up): the
newest page, a page 5 days deep (a cursor positioned there), one version's newest page, a
one-hour window 3 days ago, and a window holding nothing. Prints each statement's plan.
``--without-index`` drops migration 0012's index first (what the pages cost without it).
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import sqlalchemy as sa

from bench.common import BIN, free_port, start, stop
from bench.outcomes import timed
from promptdeck.core import Registry
from promptdeck.core.outcomes import RawSettings
from promptdeck.domain import rules
from promptdeck.domain.caller import SYSTEM
from promptdeck.domain.commands import CreatePrompt, CreateVersion, ReportOutcomes
from promptdeck.domain.impact import Outcome
from promptdeck.store import migrate
from promptdeck.store import outcomes as store
from promptdeck.store.engine import create_engine, writer

CHUNK = 20_000  # rows an INSERT batch


def seed(database_url: str, total: int, prompts: int) -> tuple[list[tuple[int, int]], float]:
    """(prompt id, version id) of the second version of each prompt; the seconds taken."""
    t0 = time.monotonic()
    engine = create_engine(database_url)
    migrate.upgrade(engine)
    registry = Registry(engine)
    pairs: list[tuple[int, int, int]] = []
    for p in range(prompts):
        made = registry.create_prompt(CreatePrompt(f"raw-{p}", content="one"), SYSTEM).prompt
        second = registry.create_version(
            CreateVersion(f"raw-{p}", content="two"), SYSTEM
        ).version.id
        pairs.append((made.id, made.active_version_id or 0, second))
    now = datetime.now(UTC)
    span = 6 * 86_400
    rng = random.Random(3)
    rows = []
    for i in range(total):
        prompt_id, first, second = pairs[i % prompts]
        rows.append(
            {
                "prompt_id": prompt_id,
                "version_id": first if rng.random() < 0.5 else second,
                "at": now - timedelta(seconds=rng.random() * span),
                "success": rng.random() < 0.9,
                "score": rng.random(),
                "latency_ms": rng.lognormvariate(5.5, 0.5),
                "input_tokens": 300,
                "output_tokens": 80,
                "cost": 0.0004,
                "feedback": None,
                "tags": {"region": "eu"},
            }
        )
        if len(rows) == CHUNK:
            with writer(engine).begin() as conn:
                store.insert_raw(conn, rows)
            rows = []
    # A quiet prompt: 10 outcomes among the millions (a scan by time would read them all).
    quiet = registry.create_prompt(CreatePrompt("quiet", content="one"), SYSTEM).prompt
    rows += (
        [
            {**rows[0], "prompt_id": quiet.id, "version_id": quiet.active_version_id}
            for _ in range(10)
        ]
        if rows
        else []
    )
    if rows:
        with writer(engine).begin() as conn:
            store.insert_raw(conn, rows)
    if engine.dialect.name == "postgresql":  # what autovacuum would do after a bulk load
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE outcomes")
    engine.dispose()
    return [(p, second) for p, _, second in pairs], time.monotonic() - t0


def plans(database_url: str, prompt_id: int, version_id: int) -> None:
    """The plan of the statements a page runs (the store's, compiled as it sends them)."""
    engine = create_engine(database_url)
    now = datetime.now(UTC)
    asks = {
        "newest page": {"version_id": None, "before": None},
        "5 days deep": {"version_id": None, "before": (now - timedelta(days=5), 2**40)},
        "one version": {"version_id": version_id, "before": None},
    }
    with engine.connect() as conn:
        for what, ask in asks.items():
            captured: list[tuple[str, object]] = []

            def grab(
                _c: object,
                _cur: object,
                statement: str,
                params: object,
                *_: object,
                into: list[tuple[str, object]] = captured,
            ) -> None:
                into.append((statement, params))

            sa.event.listen(engine, "before_cursor_execute", grab)
            store.raw_page(
                conn,
                prompt_id,
                version_id=ask["version_id"],  # type: ignore[arg-type]
                since=now - timedelta(days=7),
                until=None,
                before=ask["before"],  # type: ignore[arg-type]
                limit=201,
            )
            sa.event.remove(engine, "before_cursor_execute", grab)
            statement, params = captured[-1]
            prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
            raw = conn.connection.cursor()
            raw.execute(prefix + statement, params)
            print(f"plan, {what}:")
            for row in raw.fetchall():
                print("   ", row[-1])
    engine.dispose()


def ingest_cost(database_url: str, batches: int, index: bool) -> float:
    """Outcomes a second through ``Registry.report_outcomes`` (in process, raw outcomes kept,
    1,000 a batch, every measure and a tag), with or without migration 0012's index."""
    engine = create_engine(database_url)
    migrate.upgrade(engine)
    if not index:
        with writer(engine).begin() as conn:
            conn.exec_driver_sql("DROP INDEX ix_outcomes_prompt_id_at_id")
    registry = Registry(engine, raw_outcomes=RawSettings(keep=True, days=7))
    version = (
        registry.create_prompt(
            CreatePrompt("ingest", content="one"), SYSTEM
        ).prompt.active_version_id
        or 0
    )
    batch = [
        Outcome("ingest", version, success=i % 9 != 0, score=0.8, latency_ms=300.0 + i,
                input_tokens=300, output_tokens=80, cost=0.0004, tags={"region": "eu"})
        for i in range(1000)
    ]  # fmt: skip
    registry.report_outcomes(ReportOutcomes(batch), SYSTEM)  # warm-up
    t = time.perf_counter()
    for _ in range(batches):
        registry.report_outcomes(ReportOutcomes(batch), SYSTEM)
    rate = batches * len(batch) / (time.perf_counter() - t)
    engine.dispose()
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--outcomes", type=int, default=2_000_000)
    parser.add_argument("--prompts", type=int, default=10)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument(
        "--without-index",
        action="store_true",
        help="Drop migration 0012's (prompt_id, at, id) index first: what a page cost before.",
    )
    parser.add_argument(
        "--ingest-cost",
        type=int,
        default=0,
        metavar="BATCHES",
        help="Only compare ingest with raw outcomes kept, with and without the index, over "
        "BATCHES batches of 1,000 each (SQLite: fresh files; PostgreSQL: give two URLs "
        "joined by a comma).",
    )
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="raw-outcomes-"))
    if args.ingest_cost:
        urls = (args.database_url or "").split(",")
        for n, index in enumerate((True, False, True, False)):
            url = urls[n % len(urls)] if args.database_url else f"sqlite:///{tmp / f'i{n}.db'}"
            if args.database_url and n >= len(urls):
                break  # each PostgreSQL database is used once
            rate = ingest_cost(url, args.ingest_cost, index)
            print(f"ingest, raw kept, {'with' if index else 'without'} the index: {rate:,.0f}/s")
        return
    url = args.database_url or f"sqlite:///{tmp / 'raw.db'}"
    pairs, took = seed(url, args.outcomes, args.prompts)
    print(f"seeded {args.outcomes:,} raw outcomes over {args.prompts} prompts in {took:.0f} s")
    prompt_id, version_id = pairs[0]
    if args.without_index:
        engine = create_engine(url)
        with writer(engine).begin() as conn:
            conn.exec_driver_sql("DROP INDEX ix_outcomes_prompt_id_at_id")
        engine.dispose()
    plans(url, prompt_id, version_id)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    cmd = [str(BIN / "promptdeck"), "serve", "--port", str(port), "--database-url", url]
    cmd += ["--log-level", "warning"]
    proc = start(cmd, base + "/healthz", env={"PROMPTDECK_OUTCOMES_RAW": "true"})
    now = datetime.now(UTC)
    deep = rules.encode_time_cursor(now - timedelta(days=5), 2**40)
    window = now - timedelta(days=3)
    path = f"/prompts/{prompt_id}/outcomes"
    asks = {
        "newest page (200)": {"limit": "200"},
        "a page 5 days deep (200)": {"limit": "200", "cursor": deep},
        "one version's newest page (200)": {"limit": "200", "version_id": str(version_id)},
        "a one-hour window 3 days ago (200)": {
            "limit": "200",
            "since": (window - timedelta(hours=1)).isoformat(),
            "until": window.isoformat(),
        },
        "an empty window": {"since": (now + timedelta(minutes=1)).isoformat()},
    }
    quiet = {"a quiet prompt's page (10 of the 2 million)": {"limit": "200"}}
    try:
        with httpx.Client(base_url=base, timeout=30) as http:
            for what, params in asks.items():
                median, worst = timed(http, path, params, args.runs)
                print(f"| {what} | {median:.1f} ms | {worst:.1f} ms |")
            for what, params in quiet.items():
                median, worst = timed(http, "/prompts/quiet/outcomes", params, args.runs)
                print(f"| {what} | {median:.1f} ms | {worst:.1f} ms |")
    finally:
        stop(proc)


if __name__ == "__main__":
    main()

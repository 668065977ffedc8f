"""An evaluation through the whole server (issue 25): ``--cases`` cases on two versions
(2 x cases model calls) run by ``promptdeck serve``'s own runner against the stand-in
OpenAI-compatible server (tests/support/fake_llm.py, in a process of its own) answering in
``--latency-ms``, with ``--in-flight`` calls at once (``PROMPTDECK_EVALUATION_CONCURRENCY``).

    .venv/bin/python -m bench.evaluations                  # 1,000 cases, 200 ms, 16 in flight
    .venv/bin/python -m bench.evaluations --layout worker  # the runner in a second process

Prints, for the evaluation: the wall time from ``POST …/evaluations`` until it reads
``completed`` (polled every 0.1 s) against the floor (calls x latency / in flight, goal
< 30 s), and the server's memory (RSS, its processes together) sampled through the run
(flat: the runner keeps nothing per case). For the hot path: ``GET …/active`` with wrk
(-t2 -c64) for ``--seconds`` while the evaluation runs, against the same before it
(quiet), and the ratio (goal ≥ 0.9).

``--layout one``: one process serves and runs the evaluation. ``--layout worker``: the
serving process has ``PROMPTDECK_EVALUATIONS_RUN=false`` and a second ``promptdeck serve``
on the same database runs it (docs/evaluations.md, "How an evaluation runs").
Nothing here is asserted: the figures go to docs/performance.md with this command.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from multiprocessing import Process, Queue
from pathlib import Path
from typing import Any

import httpx
from tests.support.fake_llm import Answer, FakeLLM

from bench.common import BIN, free_port, start, stop, wrk
from bench.outcomes import rss_mb
from promptdeck.core import Registry
from promptdeck.core.evaluating import Evaluations
from promptdeck.domain.caller import SYSTEM
from promptdeck.domain.outgoing import parse_allowance
from promptdeck.domain.providers import provider_config
from promptdeck.store import migrate
from promptdeck.store.engine import create_engine

NAME = "support-reply"


def serve_llm(latency_ms: int, urls: Queue[str]) -> None:
    with FakeLLM(models=("m",)) as llm:
        llm.script(Answer(text="Sorry! We will refund you today.", latency_ms=latency_ms))
        urls.put(llm.url)
        threading.Event().wait()


def serve(database_url: str, env: dict[str, str]) -> tuple[Any, str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [str(BIN / "promptdeck"), "serve", "--port", str(port), "--workers", "1"]
    cmd += ["--database-url", database_url, "--log-level", "warning"]
    return start(cmd, url + "/healthz", env), url


def setup(database_url: str, llm_url: str, http: httpx.Client, cases: int) -> list[int]:
    engine = create_engine(database_url)
    try:
        migrate.upgrade(engine)
        evaluations = Evaluations(Registry(engine).db, parse_allowance("127.0.0.1"))
        evaluations.add_provider(provider_config("local", llm_url, ["m"]), SYSTEM)
    finally:
        engine.dispose()
    made = http.post("/prompts", json={"name": NAME, "content": "Reply to: {{q}}"})
    made.raise_for_status()
    second = http.post(f"/prompts/{NAME}/versions", json={"content": "Answer kindly: {{q}}"})
    second.raise_for_status()
    rows = [{"variables": {"q": f"my order {i} came late"}} for i in range(cases)]
    http.post(
        "/test-sets", json={"name": "smoke", "prompt": NAME, "cases": rows}
    ).raise_for_status()
    return [made.json()["active_version"]["id"], second.json()["id"]]


def run(args: argparse.Namespace, database_url: str, llm_url: str) -> None:
    common = {
        "PROMPTDECK_ALLOW_OUTGOING": "127.0.0.1",
        "PROMPTDECK_EVALUATION_CONCURRENCY": str(args.in_flight),
        "PROMPTDECK_EVALUATION_POLL_S": "0.2",
    }
    worker_env = {**common, "PROMPTDECK_EVALUATIONS_RUN": "true"}
    serving_env = {**common, "PROMPTDECK_EVALUATIONS_RUN": str(args.layout == "one").lower()}
    server, url = serve(database_url, serving_env)
    servers = [server]
    try:
        with httpx.Client(base_url=url, timeout=30) as http:
            versions = setup(database_url, llm_url, http, args.cases)
            if args.layout == "worker":
                servers.append(serve(database_url, worker_env)[0])
            active = f"{url}/prompts/{NAME}/active"
            quiet = wrk(active, seconds=args.seconds)
            memory: list[float] = []
            body = {
                "version_ids": versions,
                "test_set": "smoke",
                "evaluators": [{"type": "contains", "value": "refund"}],
                "provider": "local",
                "model": "m",
            }
            started = time.perf_counter()
            made = http.post(f"/prompts/{NAME}/evaluations", json=body)
            made.raise_for_status()
            location = made.headers["location"]
            busy: dict[str, Any] = {}
            load = threading.Thread(
                target=lambda: busy.update(r=wrk(active, seconds=args.seconds)), daemon=True
            )
            time.sleep(1)  # the runner has claimed its first cases
            load.start()
            found: dict[str, Any] = {}
            while True:
                found = http.get(location).json()
                memory.append(sum(rss_mb(s.pid) for s in servers))
                if found["status"] not in ("queued", "running"):
                    break
                time.sleep(0.1)
            wall = time.perf_counter() - started
            load.join()
    finally:
        for s in servers:
            stop(s)
    calls = 2 * args.cases
    floor = calls * args.latency_ms / 1000 / args.in_flight
    half = memory[len(memory) // 2]
    during = busy["r"]
    print(
        f"layout {args.layout}: {found['status']}, verdict {found['verdict']}; {calls} calls "
        f"({args.cases} cases x 2 versions), {args.latency_ms} ms each, {args.in_flight} in "
        f"flight: {wall:.1f} s (floor {floor:.1f} s, goal < 30 s); server RSS "
        f"{memory[0]:.0f} -> {half:.0f} -> {memory[-1]:.0f} MB (first, middle, last of "
        f"{len(memory)} samples; max {max(memory):.0f})"
    )
    print(
        f"hot path GET …/active, wrk -t2 -c64 -d{args.seconds}s: quiet {quiet.rps:.0f} req/s "
        f"(p99 {quiet.p99_ms:.1f} ms), during the evaluation {during.rps:.0f} req/s (p99 "
        f"{during.p99_ms:.1f} ms): {during.rps / quiet.rps:.2f} (goal ≥ 0.9)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--latency-ms", type=int, default=200)
    parser.add_argument("--in-flight", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--layout", choices=["one", "worker"], default="one")
    parser.add_argument("--database-url", help="PostgreSQL (default: a fresh SQLite file)")
    args = parser.parse_args()
    urls: Queue[str] = Queue()
    llm = Process(target=serve_llm, args=(args.latency_ms, urls), daemon=True)
    llm.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            database_url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
            run(args, database_url, urls.get(timeout=30))
    finally:
        llm.terminate()
        llm.join()


if __name__ == "__main__":
    main()

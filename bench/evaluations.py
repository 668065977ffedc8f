"""An evaluation through the whole server (issue 25): ``--cases`` cases on two versions
(2 x cases model calls) run by ``promptdeck serve``'s own runner against the stand-in
OpenAI-compatible server (tests/support/fake_llm.py, in a process of its own) answering in
``--latency-ms``, with ``--in-flight`` calls at once (``PROMPTDECK_EVALUATION_CONCURRENCY``).

    .venv/bin/python -m bench.evaluations               # 1,000 cases, 200 ms, 16 in flight
    .venv/bin/python -m bench.evaluations --layout one  # one process serves and runs it
    .venv/bin/python -m bench.evaluations --nice 10     # the runner's process at nice 10

Prints, for the evaluation: the wall time from its ``created_at`` to its ``finished_at``
(the server's clock; the evaluation is watched every 0.5 s, as a page or the CLI would)
against the floor (calls x latency / in flight, goal < 30 s), and the server's memory (RSS,
its processes together) sampled through the run (flat: the runner keeps nothing per case).
For the hot path: ``GET …/active`` with wrk (-t2 -c64) for ``--seconds`` while the
evaluation runs, against the same before and after it (quiet: their mean, so that a drift
of the shared machine's speed weighs on both sides), and the ratio (goal ≥ 0.9). And the CPU
time each process used during the evaluation (the serving one's includes the hot path's
load), per model call.

``--layout worker`` (the default): the serving process has ``PROMPTDECK_EVALUATIONS_RUN=false``
and a second ``promptdeck serve`` on the same database runs the evaluation, the layout
docs/evaluations.md ("How an evaluation runs") gives for a busy hot path. ``--layout one``:
one process serves and runs it (every process's default).
Nothing here is asserted: the figures go to docs/performance.md with this command.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from datetime import datetime
from multiprocessing import Process, Queue
from pathlib import Path
from typing import Any

import httpx
from tests.support.fake_llm import Answer, FakeLLM

from bench.common import BIN, free_port, start, stop, wrk
from bench.outcomes import _children, rss_mb
from promptdeck.core import Registry
from promptdeck.core.evaluating import Evaluations
from promptdeck.domain.caller import SYSTEM
from promptdeck.domain.outgoing import parse_allowance
from promptdeck.domain.providers import provider_config
from promptdeck.store import migrate
from promptdeck.store.engine import create_engine

NAME = "support-reply"


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used, its children included."""
    total = 0.0
    for proc in [pid, *_children(pid)]:
        try:
            fields = Path(f"/proc/{proc}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def serve_llm(latency_ms: int, urls: Queue[str]) -> None:
    with FakeLLM(models=("m",)) as llm:
        llm.script(Answer(text="Sorry! We will refund you today.", latency_ms=latency_ms))
        urls.put(llm.url)
        threading.Event().wait()


def serve(database_url: str, env: dict[str, str], nice: int = 0) -> tuple[Any, str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = ["nice", "-n", str(nice)] if nice else []
    cmd += [str(BIN / "promptdeck"), "serve", "--port", str(port), "--workers", "1"]
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


def run(args: argparse.Namespace, database_url: str, llm_url: str, llm_pid: int) -> None:
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
                servers.append(serve(database_url, worker_env, args.nice)[0])
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
            pids = {"serving": servers[0].pid, "runner": servers[-1].pid, "stand-in": llm_pid}
            if args.layout == "one":
                del pids["runner"]
            cpu = {k: cpu_s(pid) for k, pid in pids.items()}
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
                time.sleep(0.5)  # as a page or the CLI watches one (the CLI: every 1 s)
            polled = time.perf_counter() - started
            wall = (
                datetime.fromisoformat(found["finished_at"])
                - datetime.fromisoformat(found["created_at"])
            ).total_seconds()
            cpu = {k: cpu_s(pids[k]) - v for k, v in cpu.items()}
            load.join()
            after = wrk(active, seconds=args.seconds)
    finally:
        for s in servers:
            stop(s)
    calls = 2 * args.cases
    floor = calls * args.latency_ms / 1000 / args.in_flight
    half = memory[len(memory) // 2]
    during = busy["r"]
    quiet_rps = (quiet.rps + after.rps) / 2
    print(
        f"layout {args.layout}: {found['status']}, verdict {found['verdict']}; {calls} calls "
        f"({args.cases} cases x 2 versions), {args.latency_ms} ms each, {args.in_flight} in "
        f"flight: {wall:.1f} s from created_at to finished_at ({polled:.1f} s as polled; "
        f"floor {floor:.1f} s, goal < 30 s); server RSS "
        f"{memory[0]:.0f} -> {half:.0f} -> {memory[-1]:.0f} MB (first, middle, last of "
        f"{len(memory)} samples; max {max(memory):.0f})"
    )
    print(
        f"hot path GET …/active, wrk -t2 -c64 -d{args.seconds}s: quiet {quiet.rps:.0f} before, "
        f"{after.rps:.0f} after (p99 {quiet.p99_ms:.1f}, {after.p99_ms:.1f} ms), during the "
        f"evaluation {during.rps:.0f} req/s (p99 {during.p99_ms:.1f} ms): "
        f"{during.rps / quiet_rps:.2f} of their mean (goal ≥ 0.9)"
    )
    used = ", ".join(f"{k} {v:.1f} s ({1000 * v / calls:.2f} ms a call)" for k, v in cpu.items())
    print(f"CPU during the evaluation (the hot path's load included): {used}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--latency-ms", type=int, default=200)
    parser.add_argument("--in-flight", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--layout", choices=["one", "worker"], default="worker")
    parser.add_argument(
        "--nice", type=int, default=0, help="the worker's nice level (--layout worker)"
    )
    parser.add_argument("--database-url", help="PostgreSQL (default: a fresh SQLite file)")
    args = parser.parse_args()
    urls: Queue[str] = Queue()
    llm = Process(target=serve_llm, args=(args.latency_ms, urls), daemon=True)
    llm.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            database_url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
            run(args, database_url, urls.get(timeout=30), llm.pid)
    finally:
        llm.terminate()
        llm.join()


if __name__ == "__main__":
    main()

"""What webhooks cost a write, and how fast deliveries leave.

    python -m bench.webhooks [--samples 400] [--events 300]

1. In the core, on SQLite (synchronous=FULL): creating a version with the per-write hooks
   read skipped (the code before webhooks), with no hooks, with 10 hooks none of which wants
   the event, and with one that does (a delivery row per version). Rounds interleave the
   four, so the machine's drift hits them alike.
2. Over HTTP: `promptdeck serve` (default settings: a look for due deliveries every second)
   and a local receiver answering 200; --events versions are created as fast as one client
   can, then: from each event's time to its arrival at the receiver, and deliveries a second.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from bench.common import serve_promptdeck, stop
from promptdeck.core import Registry, announce
from promptdeck.core.webhooks import Destinations, Webhooks
from promptdeck.domain.caller import SYSTEM
from promptdeck.domain.commands import CreatePrompt, CreateVersion
from promptdeck.domain.outgoing import parse_allowance
from promptdeck.store import migrate
from promptdeck.store.engine import create_engine

TEXT = "You are a support agent for {{company}}. Answer {{customer}} in {{language}}. " * 20


class Server(ThreadingHTTPServer):
    # socketserver's default backlog (5) drops the SYNs of a burst: a second's retransmit.
    request_queue_size = 128
    daemon_threads = True


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def core(samples: int) -> None:
    rounds, per = 8, max(1, samples // 8)
    configs = ["hooks read skipped", "no hooks", "10 hooks, none wants it", "1 hook wants it"]
    times: dict[str, list[float]] = {c: [] for c in configs}
    real = announce.hooks_for
    with tempfile.TemporaryDirectory() as tmp:
        registries = {}
        for n, config in enumerate(configs):
            engine = create_engine(f"sqlite:///{Path(tmp) / f'{n}.db'}")
            migrate.upgrade(engine)
            registry = Registry(engine)
            registry.create_prompt(CreatePrompt("p", content=TEXT), SYSTEM)
            hooks = Webhooks(registry.db, Destinations(parse_allowance("127.0.0.1")))
            if config.startswith("10"):
                for _ in range(10):
                    hooks.create("http://127.0.0.1:9/", events=["label.moved"])
            if config.startswith("1 hook"):
                hooks.create("http://127.0.0.1:9/", events=["version.created"])
            registries[config] = registry
        for r in range(rounds):
            for config in configs:
                announce.hooks_for = (lambda conn, events: []) if config == configs[0] else real
                for i in range(per):
                    t = time.perf_counter()
                    registries[config].create_version(
                        CreateVersion("p", content=f"{TEXT}{r}-{i}"), SYSTEM
                    )
                    times[config].append((time.perf_counter() - t) * 1000)
        announce.hooks_for = real
        for registry in registries.values():
            registry.engine.dispose()
    print("| create a version (core, SQLite, synchronous=FULL) | median ms | p99 ms |")
    print("|---|---|---|")
    for config in configs:
        ts = times[config]
        print(f"| {config} | {statistics.median(ts):.2f} | {p(ts, 0.99):.2f} |")


def http_delivery(events: int) -> None:
    arrived: list[tuple[float, dict[str, Any]]] = []
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            now = time.time()
            with lock:
                arrived.append((now, json.loads(body)))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    receiver = Server(("127.0.0.1", 0), Handler)
    receiver.daemon_threads = True
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    target = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
    os.environ["PROMPTDECK_ALLOW_OUTGOING"] = "127.0.0.1"  # the server may reach the receiver
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = serve_promptdeck(f"sqlite:///{Path(tmp) / 'http.db'}")
        try:
            with httpx.Client(base_url=url, timeout=30) as http:
                http.post("/prompts", json={"name": "p", "content": "0"})
                http.post("/webhooks", json={"url": target, "events": ["version.created"]})
                started = time.time()
                for i in range(events):
                    http.post("/prompts/p/versions", json={"content": f"{TEXT}{i}"})
                written = time.time()
            deadline = time.time() + 120
            while len(arrived) < events and time.time() < deadline:
                time.sleep(0.05)
            finished = time.time()
        finally:
            stop(proc)
            receiver.shutdown()
    lag = [
        (at - datetime.fromisoformat(body["created_at"]).replace(tzinfo=UTC).timestamp()) * 1000
        for at, body in arrived
    ]
    print(
        f"{len(arrived)} of {events} deliveries in {finished - started:.1f} s "
        f"(writes took {written - started:.1f} s; {len(arrived) / (finished - started):.0f} "
        f"deliveries/s overall); from event to receiver: median {statistics.median(lag):.0f} ms, "
        f"p99 {p(lag, 0.99):.0f} ms, max {max(lag):.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=400)
    parser.add_argument("--events", type=int, default=300)
    args = parser.parse_args()
    core(args.samples)
    http_delivery(args.events)


if __name__ == "__main__":
    main()

"""The PostgreSQL hot path's p99 with and without the served process's heap settled.

    source scripts/pg.sh && trap pg_stop EXIT
    python -m bench.gc_tail --postgres "$PROMPTDECK_TEST_PG_URL" [--rounds 4] [--seconds 5]
        [--path "/prompts/p/active?label=staging"]

Starts two servers (uvicorn + uvloop + httptools, one process each, no access log) on two
fresh PostgreSQL databases: "unsettled" builds the app as before (CPython's default
collector: thresholds 700/10/10, nothing frozen), "settled" is what `promptdeck serve` runs
(server/asgi.py ``settle_heap``: the start-up heap frozen, young collections every 10,000
allocations). Rounds interleave them (wrk -t2 -c64 after a 2 s warm-up). Each server counts,
per round, its collections by generation (number, longest) and the lag of its event loop
(a 5 ms sleep that overran), so the tail can be put beside its cause. Prints one line a
round and the medians.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any

import httpx

from bench.common import BIN, free_port, start, stop, wrk
from bench.run_all import fresh_postgres, make_prompt

# --- inside a server process ------------------------------------------------------------------


class _Stats:
    def __init__(self) -> None:
        self.gc: list[tuple[int, float]] = []
        self.lag: list[float] = []
        self._started = 0.0

    def on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.gc.append((info["generation"], (time.perf_counter() - self._started) * 1000))

    def report(self) -> dict[str, Any]:
        lag = sorted(self.lag)
        out: dict[str, Any] = {
            "loop_lag_p99_ms": round(lag[int(0.99 * (len(lag) - 1))], 1) if lag else None,
            "loop_lag_max_ms": round(lag[-1], 1) if lag else None,
        }
        for generation in (0, 1, 2):
            times = [ms for g, ms in self.gc if g == generation]
            out[f"gen{generation}"] = (len(times), round(max(times, default=0.0), 1))
        self.gc.clear()
        self.lag.clear()
        return out


def _instrumented(app: Any) -> Any:
    stats = _Stats()
    gc.callbacks.append(stats.on_gc)
    started: list[asyncio.Task[None]] = []

    async def lag_monitor() -> None:
        while True:
            t = time.perf_counter()
            await asyncio.sleep(0.005)
            stats.lag.append((time.perf_counter() - t - 0.005) * 1000)

    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        if not started:
            started.append(asyncio.get_running_loop().create_task(lag_monitor()))
        if scope["type"] == "http" and scope["path"] == "/__gc_tail":
            body = json.dumps(stats.report()).encode()
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": body})
            return
        await app(scope, receive, send)

    return wrapped


def unsettled_app() -> Any:
    """The app as `promptdeck serve` built it before settle_heap."""
    from promptdeck.config import Settings
    from promptdeck.server.app import create_app
    from promptdeck.server.security import default_allowed_hosts

    settings = Settings()
    settings.allowed_hosts = ",".join(default_allowed_hosts(settings.host))
    return _instrumented(create_app(settings))


def settled_app() -> Any:
    """What `promptdeck serve` runs (server/asgi.py)."""
    from promptdeck.server.asgi import make_app

    return _instrumented(make_app())


# --- the driver -------------------------------------------------------------------------------


def _serve(factory: str, database_url: str) -> tuple[Any, str]:
    subprocess.run(
        [str(BIN / "promptdeck"), "db", "upgrade", "--database-url", database_url],
        check=True,
        capture_output=True,
    )
    port = free_port()
    cmd = [str(BIN / "uvicorn"), f"bench.gc_tail:{factory}", "--factory", "--port", str(port)]
    cmd += ["--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning"]
    url = f"http://127.0.0.1:{port}"
    return start(cmd, url + "/healthz", env={"PROMPTDECK_DATABASE_URL": database_url}), url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--postgres", required=True, help="admin URL of a PostgreSQL server")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--path", default="/prompts/p/active")
    args = parser.parse_args()
    servers = {}
    try:
        for name in ("unsettled", "settled"):
            servers[name] = _serve(f"{name}_app", fresh_postgres(args.postgres))
            ids = make_prompt(servers[name][1], "p")
            httpx.put(
                f"{servers[name][1]}/prompts/p/labels/staging", json={"version_id": ids[0]}
            ).raise_for_status()
        runs: dict[str, list[Any]] = {name: [] for name in servers}
        print(f"load average at start: {os.getloadavg()[0]:.2f}; wrk -t2 -c64 on {args.path}")
        for r in range(args.rounds):
            for name, (_proc, url) in servers.items():
                httpx.get(url + "/__gc_tail")  # forget what the setup and the last round did
                result = wrk(url + args.path, seconds=args.seconds)
                stats = httpx.get(url + "/__gc_tail").json()
                runs[name].append(result)
                print(
                    f"round {r} {name:9}: {result.rps:,.0f} req/s, p50 {result.p50_ms:.2f} ms, "
                    f"p99 {result.p99_ms:.2f} ms; {json.dumps(stats)}",
                    flush=True,
                )
        for name, results in runs.items():
            print(
                f"median {name:9}: {statistics.median(x.rps for x in results):,.0f} req/s, "
                f"p50 {statistics.median(x.p50_ms for x in results):.2f} ms, "
                f"p99 {statistics.median(x.p99_ms for x in results):.2f} ms "
                f"(p99 each round: {', '.join(f'{x.p99_ms:.1f}' for x in results)})"
            )
    finally:
        for proc, _url in servers.values():
            stop(proc)
    sys.exit(0)


if __name__ == "__main__":
    main()

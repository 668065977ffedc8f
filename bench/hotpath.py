"""The hot path against the ceiling, side by side in one run.

    python -m bench.hotpath [--seconds 10] [--workers 1]

Starts, on this machine and with the same server settings (uvicorn, uvloop, httptools, no
access log): a pure-ASGI constant response (the ceiling) and `promptdeck serve` on a fresh
SQLite file. Measures with wrk (2 threads, 64 connections): GET /prompts/{name}/active, the
same with If-None-Match (304), the ceiling; then, with one httpx client: keep-alive latency of
the active fetch, and version creation latency. Prints a Markdown table.

Against MLflow's registry, side by side on the same machine: python -m bench.peers_compare.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from bench.common import BIN, free_port, serve_promptdeck, start, stop, wrk

CONTENT = "You are a helpful support agent. Answer {{customer}} briefly and kindly."


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def make_key(database_url: str) -> str:
    """An admin key made on the database before the server starts (as an operator would)."""
    from promptdeck.core.access import Access
    from promptdeck.store import migrate
    from promptdeck.store.engine import create_engine

    engine = create_engine(database_url)
    migrate.upgrade(engine)
    secret = Access(engine).create_key("bench", "admin").secret
    engine.dispose()
    return secret


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--creates", type=int, default=300)
    parser.add_argument(
        "--with-key",
        action="store_true",
        help="Make an admin key first and send it on every request (a closed server).",
    )
    args = parser.parse_args()

    rows: list[str] = []
    port = free_port()
    ceiling = start(
        [
            str(BIN / "uvicorn"),
            "bench.constant_app:app",
            "--port",
            str(port),
            "--workers",
            str(args.workers),
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        f"http://127.0.0.1:{port}/",
    )
    try:
        result = wrk(f"http://127.0.0.1:{port}/x", seconds=args.seconds)
        ceiling_rps = result.rps
        rows.append(f"| pure-ASGI constant response (ceiling) | {result.row()} |")
    finally:
        stop(ceiling)

    with tempfile.TemporaryDirectory() as tmp:
        database_url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        auth: dict[str, str] = {}
        if args.with_key:
            auth = {"Authorization": f"Bearer {make_key(database_url)}"}
        wrk_auth = [f"{k}: {v}" for k, v in auth.items()]
        server, url = serve_promptdeck(database_url, args.workers)
        try:
            with httpx.Client(base_url=url, timeout=30, headers=auth) as client:
                client.post(
                    "/prompts",
                    json={
                        "name": "support-reply",
                        "content": CONTENT,
                        "model_config": {"model": "gpt-4o"},
                    },
                )
                etag = client.get("/prompts/support-reply/active").headers["etag"]
            result = wrk(
                f"{url}/prompts/support-reply/active", seconds=args.seconds, headers=wrk_auth
            )
            rows.append(f"| promptdeck GET /prompts/{{name}}/active (200) | {result.row()} |")
            active_rps = result.rps
            result = wrk(
                f"{url}/prompts/support-reply/active",
                seconds=args.seconds,
                headers=[f"If-None-Match: {etag}", *wrk_auth],
            )
            rows.append(f"| promptdeck GET …/active with If-None-Match (304) | {result.row()} |")

            with httpx.Client(base_url=url, timeout=30, headers=auth) as client:
                samples = []
                for _ in range(2000):
                    t = time.perf_counter()
                    client.get("/prompts/support-reply/active")
                    samples.append((time.perf_counter() - t) * 1000)
                keepalive = (statistics.median(samples), percentile(samples, 0.99))
                creates = []
                for i in range(args.creates):
                    t = time.perf_counter()
                    r = client.post(
                        "/prompts/support-reply/versions",
                        json={"content": f"{CONTENT} ({i})", "description": "bench"},
                    )
                    creates.append((time.perf_counter() - t) * 1000)
                    assert r.status_code == 201, r.text
        finally:
            stop(server)

    print(
        f"{'with an API key on every request; ' if args.with_key else ''}"
        f"workers: {args.workers}; wrk -t2 -c64 -d{args.seconds}s; uvicorn + uvloop + httptools\n"
    )
    print("| what | req/s | p50 ms | p99 ms |")
    print("|---|---|---|---|")
    print("\n".join(rows))
    print(f"\nactive / ceiling: {active_rps / ceiling_rps:.2f} (goal ≥ 0.50)")
    print(
        f"keep-alive GET …/active, one connection, 2,000 requests: p50 {keepalive[0]:.2f} ms, "
        f"p99 {keepalive[1]:.2f} ms"
    )
    print(
        f"create version (POST …/versions, synchronous=FULL), {args.creates} sequential: "
        f"p50 {statistics.median(creates):.2f} ms, p99 {percentile(creates, 0.99):.2f} ms"
    )
    # No ratio against another registry here: a comparison is measured in the same run
    # (python -m bench.peers_compare --mlflow-venv …), or not printed.


if __name__ == "__main__":
    main()

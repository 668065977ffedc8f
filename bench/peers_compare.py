"""promptdeck against MLflow's prompt registry, side by side in one run.

    python -m bench.peers_compare --mlflow-venv /path/to/venv-with-mlflow [--versions 100]

Starts MLflow's default server (`mlflow server`, SQLite store) and `promptdeck serve` (SQLite)
on this machine, one after the other, and measures the same operations on both with each
tool's own client path: creating versions one at a time, rolling back (moving MLflow's
`production` alias), and CLIENTS processes fetching a version for SECONDS with no client
cache (`load_prompt(..., cache_ttl_seconds=0)` against `GET /prompts/{name}/active`).
Needs a venv with `pip install mlflow`; nothing of MLflow is committed to this project.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

from bench.common import free_port, serve_promptdeck, start, stop, wrk

TEMPLATE = (
    "You are a support triage assistant for {{product}}. Read the ticket and choose one of "
    "{{labels}}. Reply with the label only. Ticket: {{ticket}} (revision {n})"
)


def _fetch_worker(url: str, seconds: float, start_at: float, out: mp.Queue) -> None:  # type: ignore[type-arg]
    with httpx.Client(base_url=url) as client:
        while time.time() < start_at:
            time.sleep(0.001)
        count = errors = 0
        end = start_at + seconds
        while time.time() < end:
            if client.get("/prompts/bench/active").status_code == 200:
                count += 1
            else:
                errors += 1
    out.put((count, errors))


def promptdeck_side(versions: int, seconds: float, clients: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        server, url = serve_promptdeck(f"sqlite:///{Path(tmp) / 'pd.db'}")
        try:
            creates, rollbacks = [], []
            with httpx.Client(base_url=url) as client:
                client.post("/prompts", json={"name": "bench", "content": TEMPLATE})
                ids = []
                for n in range(versions):
                    t = time.perf_counter()
                    r = client.post(
                        "/prompts/bench/versions",
                        json={"content": TEMPLATE.replace("{n}", str(n)), "description": f"v{n}"},
                    )
                    creates.append((time.perf_counter() - t) * 1000)
                    ids.append(r.json()["id"])
                for vid in ids[:20]:
                    t = time.perf_counter()
                    client.post(f"/prompts/bench/versions/{vid}/rollback")
                    rollbacks.append((time.perf_counter() - t) * 1000)
            served = wrk(f"{url}/prompts/bench/active", seconds=int(seconds), connections=clients)
            ctx = mp.get_context("fork")
            queue: mp.Queue = ctx.Queue()  # type: ignore[type-arg]
            start_at = time.time() + 2
            procs = [
                ctx.Process(target=_fetch_worker, args=(url, seconds, start_at, queue))
                for _ in range(clients)
            ]
            for p in procs:
                p.start()
            results = [queue.get() for _ in procs]
            for p in procs:
                p.join(30)
        finally:
            stop(server)
    return {
        "create_p50_ms": statistics.median(creates),
        "rollback_p50_ms": statistics.median(rollbacks),
        "loads_per_s": sum(r[0] for r in results) / seconds,
        "load_errors": sum(r[1] for r in results),
        "wrk_rps": served.rps,
    }


def mlflow_side(venv: Path, versions: int, seconds: float, clients: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        server = start(
            [
                str(venv / "bin" / "mlflow"),
                "server",
                "--backend-store-uri",
                f"sqlite:///{Path(tmp) / 'mlflow.db'}",
                "--default-artifact-root",
                str(Path(tmp) / "artifacts"),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            url + "/health",
        )
        try:
            time.sleep(20)  # its job runner imports for ~20 s after /health answers
            out = subprocess.run(
                [
                    str(venv / "bin" / "python"),
                    str(Path(__file__).parent / "peers" / "mlflow_side.py"),
                    url,
                    str(versions),
                    str(seconds),
                    str(clients),
                ],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            name = json.loads(out.strip().splitlines()[-1])["name"]
            # the cheapest of the requests one load_prompt makes: an upper bound on its rate
            served = wrk(
                f"{url}/api/2.0/mlflow/model-versions/get?name={name}&version={versions // 2}",
                seconds=int(seconds),
                connections=clients,
            )
        finally:
            stop(server)
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    result["wrk_rps"] = served.rps
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mlflow-venv", type=Path, required=True)
    parser.add_argument("--versions", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    ours = promptdeck_side(args.versions, args.seconds, args.clients)
    theirs = mlflow_side(args.mlflow_venv, args.versions, args.seconds, args.clients)
    version = subprocess.run(
        [
            str(args.mlflow_venv / "bin" / "python"),
            "-c",
            "import mlflow; print(mlflow.__version__)",
        ],
        capture_output=True,
        text=True,
    ).stdout.strip()
    print(
        f"MLflow {version} (default `mlflow server`, SQLite) vs promptdeck (SQLite, 1 worker); "
        f"{args.versions} versions; {args.clients} client processes x {args.seconds:.0f} s\n"
    )
    print("| operation | MLflow | promptdeck | factor |")
    print("|---|---|---|---|")
    for key, label, higher_better in [
        ("create_p50_ms", "create a version, p50 ms", False),
        ("rollback_p50_ms", "roll back (MLflow: move the alias), p50 ms", False),
        ("loads_per_s", f"uncached fetches/s, {args.clients} Python client processes", True),
        (
            "wrk_rps",
            f"server: wrk, {args.clients} connections, req/s (MLflow: model-versions/get)",
            True,
        ),
    ]:
        a, b = theirs[key], ours[key]
        factor = b / a if higher_better else a / b
        print(f"| {label} | {a:,.1f} | {b:,.1f} | {factor:,.0f}x |")
    print(f"\nerrors: MLflow {theirs['load_errors']:.0f}, promptdeck {ours['load_errors']:.0f}")


if __name__ == "__main__":
    main()

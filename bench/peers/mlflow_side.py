"""The MLflow side of bench/peers.py. Runs inside a venv that has MLflow; prints JSON.

python mlflow_side.py URI VERSIONS SECONDS CLIENTS
"""

from __future__ import annotations

import json
import multiprocessing as mp
import statistics
import sys
import time

TEMPLATE = (
    "You are a support triage assistant for {{product}}. Read the ticket and choose one of "
    "{{labels}}. Reply with the label only. Ticket: {{ticket}} (revision {n})"
)


def _load_worker(uri: str, name: str, seconds: float, start_at: float, out: mp.Queue) -> None:  # type: ignore[type-arg]
    import mlflow

    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    while time.time() < start_at:
        time.sleep(0.001)
    count = 0
    errors = 0
    end = start_at + seconds
    while time.time() < end:
        try:
            mlflow.genai.load_prompt(name, version=max(1, VERSION), cache_ttl_seconds=0)
            count += 1
        except Exception:
            errors += 1
    out.put((count, errors))


VERSION = 1


def main() -> None:
    global VERSION
    uri, versions, seconds, clients = (
        sys.argv[1],
        int(sys.argv[2]),
        float(sys.argv[3]),
        int(sys.argv[4]),
    )
    import mlflow

    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    name = f"bench-{int(time.time())}"
    creates = []
    for n in range(versions):
        t = time.perf_counter()
        mlflow.genai.register_prompt(name, TEMPLATE.replace("{n}", str(n)), commit_message=f"v{n}")
        creates.append((time.perf_counter() - t) * 1000)
    VERSION = max(1, versions // 2)
    rollback = []
    for n in range(min(20, versions)):
        t = time.perf_counter()
        mlflow.genai.set_prompt_alias(name, "production", n + 1)
        rollback.append((time.perf_counter() - t) * 1000)
    ctx = mp.get_context("fork")
    queue: mp.Queue = ctx.Queue()  # type: ignore[type-arg]
    start_at = time.time() + 3
    procs = [
        ctx.Process(target=_load_worker, args=(uri, name, seconds, start_at, queue))
        for _ in range(clients)
    ]
    for p in procs:
        p.start()
    results = [queue.get() for _ in procs]
    for p in procs:
        p.join(30)
    loads = sum(r[0] for r in results)
    print(
        json.dumps(
            {
                "create_p50_ms": statistics.median(creates),
                "rollback_p50_ms": statistics.median(rollback),
                "loads_per_s": loads / seconds,
                "load_errors": sum(r[1] for r in results),
                "name": name,
            }
        )
    )


if __name__ == "__main__":
    main()

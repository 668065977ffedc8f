"""Rollouts on the serving path: what a running rollout costs the hot path, and how soon a
rollback reaches every client.

    python -m bench.rollouts [--seconds 10] [--rounds 3] [--clients 20] [--reps 20]
                             [--part both|throughput|baseline]
                             [--database-url postgresql+psycopg://…]

1. Throughput: ``GET /prompts/{name}/active?label=…&key=user-N`` (a new key each request,
   wrk -t2 -c64 with a Lua script) on one server and one prompt, on two labels at the same
   version: ``staging`` as is and ``production`` in a rollout at 50% (half the keys get each
   version, every request hashes its key and carries the split's header), ``--rounds``
   rounds in ABBA order; the median of the rounds' paired ratios (goal ≥ 0.9), the ratio of
   the medians beside it. (Its first version started and aborted a rollout between runs
   and compared runs a minute apart on a machine whose load drifts.)
2. From the deciding batch to every client on the baseline: ``--clients`` Python clients
   (``Client(subscribe=[name])``) each hold the label's split in their cache and serve
   candidate keys from it; one batch of outcomes (``POST /outcomes``) makes the guard roll
   the candidate back; the time from sending that batch until every client, asked for
   those keys, serves the baseline (goal < 1 s), ``--reps`` times.

Nothing here is asserted: the figures go to docs/performance.md with this command.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.common import WrkResult, serve_promptdeck, stop, wrk
from promptdeck.client import Client

NAME = "support-reply"
LABEL = "production"
PLAIN = "staging"  # the same version, never in a rollout (the throughput part)
LUA = """
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", "/prompts/%s/active?label=%s&key=user-" .. counter)
end
"""
HOLD = {"steps": [50, 100], "step_after": {"minutes": 10_000}}  # never advances by itself


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def setup(http: httpx.Client) -> tuple[int, int]:
    created = http.post("/prompts", json={"name": NAME, "content": "Answer {{q}} fully."})
    baseline = created.json()["active_version"]["id"]
    made = http.post(f"/prompts/{NAME}/versions", json={"content": "Answer {{q}} briefly."})
    http.put(f"/prompts/{NAME}/labels/{LABEL}", json={"version_id": baseline}).raise_for_status()
    return baseline, made.json()["id"]


def start_rollout(http: httpx.Client, candidate: int, guard: dict[str, Any]) -> dict[str, Any]:
    started = http.post(
        f"/prompts/{NAME}/labels/{LABEL}/rollout",
        json={**HOLD, "version_id": candidate, "guard": guard},
    )
    started.raise_for_status()
    result: dict[str, Any] = started.json()
    return result


def throughput(url: str, baseline: int, candidate: int, seconds: int, rounds: int) -> list[str]:
    """One server, one prompt, two labels on the same version: PLAIN as is, LABEL in a
    rollout at 50% for the whole part; each round measures both, in ABBA order."""
    scripts = {}
    for label in (PLAIN, LABEL):
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
            script.write(LUA % (NAME, label))
        scripts[label] = script.name
    without: list[WrkResult] = []
    within: list[WrkResult] = []
    guard = {"measure": "success_rate", "max_drop": 0.02}
    with httpx.Client(base_url=url, timeout=30) as http:
        plain = http.put(f"/prompts/{NAME}/labels/{PLAIN}", json={"version_id": baseline})
        plain.raise_for_status()
        start_rollout(http, candidate, guard)
        for n in range(rounds):
            # ABBA: neither side always runs second on a machine whose load drifts.
            for label in (PLAIN, LABEL) if n % 2 == 0 else (LABEL, PLAIN):
                measured = wrk(url, seconds=seconds, script=scripts[label])
                (within if label == LABEL else without).append(measured)
        http.post(f"/prompts/{NAME}/labels/{LABEL}/rollout/abort").raise_for_status()
    for path in scripts.values():
        Path(path).unlink()

    def median(results: list[WrkResult]) -> WrkResult:
        return sorted(results, key=lambda r: r.rps)[len(results) // 2]

    a, b = median(without), median(within)
    paired = [y.rps / x.rps for x, y in zip(without, within, strict=True)]
    return [
        "| GET …/active?label=…&key= (a new key each request) | req/s | p50 ms | p99 ms |",
        "|---|---|---|---|",
        f"| `{PLAIN}`, no rollout | {a.row()} |",
        f"| `{LABEL}`, in a rollout at 50% (the key hashed, the split's header) | {b.row()} |",
        "",
        f"with / without, the median of the rounds' paired ratios: "
        f"{statistics.median(paired):.2f} (goal ≥ 0.90); the ratio of the medians: "
        f"{b.rps / a.rps:.2f}; rounds: " + ", ".join(f"{r:.2f}" for r in paired),
    ]


def to_baseline(url: str, baseline: int, candidate: int, n_clients: int, reps: int) -> list[str]:
    """The deciding batch's round trip, and the time until every client serves the
    baseline to every key (the clients follow GET /changes; the push expires their copy)."""
    guard = {"measure": "success_rate", "max_drop": 0.0, "min_outcomes": 200}
    clients = [Client(url, subscribe=[NAME], cache_ttl=3600) for _ in range(n_clients)]
    keys = [f"user-{n}" for n in range(40)]
    decided: list[float] = []
    reached: list[float] = []
    try:
        with httpx.Client(base_url=url, timeout=30) as http:
            for _ in range(reps):
                start_rollout(http, candidate, guard)
                before = [{"prompt_id": NAME, "version_id": baseline, "success": i % 10 != 0}
                          for i in range(600)]  # fmt: skip
                before += [
                    {"prompt_id": NAME, "version_id": candidate, "success": i % 2 == 0}
                    for i in range(199)
                ]  # fmt: skip  (one short of the minimum)
                answer = http.post("/outcomes", json={"outcomes": before})
                assert answer.is_success, answer.text
                # Each client holds the split and both arms' bodies once the start's push has
                # reached it (the copy of the last rep's end may be a moment older).
                deadline = time.monotonic() + 10
                for c in clients:
                    while (
                        served := {c.get_active(NAME, label=LABEL, key=k).version_id for k in keys}
                    ) != {baseline, candidate}:
                        assert time.monotonic() < deadline, served
                        time.sleep(0.01)
                deciding = [{"prompt_id": NAME, "version_id": candidate, "success": False}]
                t0 = time.perf_counter()
                http.post("/outcomes", json={"outcomes": deciding}).raise_for_status()
                decided.append(time.perf_counter() - t0)
                pending = list(clients)
                while pending:
                    pending = [
                        c
                        for c in pending
                        if any(
                            c.get_active(NAME, label=LABEL, key=k).version_id != baseline
                            for k in keys
                        )
                    ]
                    if pending:
                        time.sleep(0.001)
                reached.append(time.perf_counter() - t0)
                state = http.get(f"/prompts/{NAME}/labels/{LABEL}/rollout").json()
                assert state["status"] == "rolled_back", state["status"]
    finally:
        for c in clients:
            c.close()
    ms = [x * 1000 for x in reached]
    post = [x * 1000 for x in decided]

    def row(values: list[float]) -> str:
        return (
            f"{statistics.median(values):.1f} | {percentile(values, 0.95):.1f} | {max(values):.1f}"
        )

    return [
        f"| from the deciding batch to every client on the baseline ({n_clients} clients, "
        f"{reps} rollbacks), ms | p50 | p95 | max |",
        "|---|---|---|---|",
        f"| POST /outcomes (the batch; the rollback commits with it) | {row(post)} |",
        f"| every client serving the baseline, after sending the batch | {row(ms)} |",
        "",
        f"slowest / goal: {max(ms):.0f} ms / 1000 ms",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--database-url", help="PostgreSQL (default: a fresh SQLite file)")
    parser.add_argument("--part", choices=["both", "throughput", "baseline"], default="both")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        database_url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        server, url = serve_promptdeck(database_url, args.workers)
        try:
            with httpx.Client(base_url=url, timeout=30) as http:
                baseline, candidate = setup(http)
            lines: list[str] = []
            if args.part in ("both", "throughput"):
                lines += [*throughput(url, baseline, candidate, args.seconds, args.rounds), ""]
            if args.part in ("both", "baseline"):
                lines += to_baseline(url, baseline, candidate, args.clients, args.reps)
        finally:
            stop(server)
    backend = "PostgreSQL" if args.database_url else "SQLite"
    print(f"{backend}, workers: {args.workers}; wrk -t2 -c64 -d{args.seconds}s\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()

"""What naming the prompt on the current span costs a cached `get_active` (issue 27;
docs/opentelemetry.md): calls per second of `Client.get_active` served from the cache,

- ``off``: as without ``opentelemetry-api`` (the client's hook disabled),
- ``idle``: ``opentelemetry-api`` installed, no span recording (no SDK, or sampled out),
- ``recording``: inside a span of the real SDK that records (no exporter),

each measured ``--rounds`` times in turn, best round kept (the machine is shared).

    nice .venv/bin/python -m bench.client_otel
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from opentelemetry.sdk.trace import TracerProvider

from bench.common import serve_promptdeck, stop
from promptdeck.client import Client, _otel


def rate(fn: Callable[[], object], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return calls / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    tracer = TracerProvider().get_tracer("bench")
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = serve_promptdeck(f"sqlite:///{Path(tmp) / 'bench.db'}")
        try:
            with Client(url, cache_ttl=3600) as c:
                c.create_prompt("support-reply", "Hello {{who}}")
                c.get_active("support-reply")
                best = {"off": 0.0, "idle": 0.0, "recording": 0.0}
                for _ in range(args.rounds):
                    _otel.enabled = False
                    best["off"] = max(
                        best["off"], rate(lambda: c.get_active("support-reply"), args.calls)
                    )
                    _otel.enabled = True
                    best["idle"] = max(
                        best["idle"], rate(lambda: c.get_active("support-reply"), args.calls)
                    )
                    with tracer.start_as_current_span("call"):
                        best["recording"] = max(
                            best["recording"],
                            rate(lambda: c.get_active("support-reply"), args.calls),
                        )
        finally:
            stop(proc)
    print(f"cached get_active, {args.calls:,} calls x {args.rounds} rounds (best round):")
    for mode, value in best.items():
        print(f"  {mode:<10} {value:>10,.0f} calls/s  {1e6 / value:6.2f} µs/call")


if __name__ == "__main__":
    main()

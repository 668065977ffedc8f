"""Does history size cost anything? Version creation and history pages at 100 vs 100,000.

    python -m bench.scale [--versions 100000] [--samples 300]

Builds one prompt's history through the core (the same code path as the API), measures
creating a version at 100 versions and again at --versions, then starts `promptdeck serve`
on the database and times history pages at random depths over HTTP (keep-alive).
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from bench.common import serve_promptdeck, stop
from promptdeck.core import Registry
from promptdeck.domain.caller import SYSTEM
from promptdeck.domain.commands import CreatePrompt, CreateVersion
from promptdeck.domain.rules import encode_cursor
from promptdeck.store import migrate
from promptdeck.store.engine import create_engine

TEXT = "You are a support agent for {{company}}. Answer {{customer}} in {{language}}. " * 20


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def time_creates(registry: Registry, n: int, start_at: int) -> list[float]:
    out = []
    for i in range(n):
        t = time.perf_counter()
        registry.create_version(
            CreateVersion("big", content=f"{TEXT}{start_at + i}", description="sample"), SYSTEM
        )
        out.append((time.perf_counter() - t) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--versions", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'scale.db'}"
        full = create_engine(url)
        migrate.upgrade(full)
        registry = Registry(full)
        loader = Registry(create_engine(url, sqlite_synchronous="NORMAL"))
        registry.create_prompt(CreatePrompt("big", content=TEXT), SYSTEM)
        for i in range(99):
            loader.create_version(CreateVersion("big", content=f"{TEXT}{i}"), SYSTEM)
        small = time_creates(registry, args.samples, 100)
        t0 = time.perf_counter()
        count = registry.get_prompt("big", SYSTEM).version_count
        while count < args.versions:
            loader.create_version(CreateVersion("big", content=f"{TEXT}{count}"), SYSTEM)
            count += 1
        load_s = time.perf_counter() - t0
        large = time_creates(registry, args.samples, count)
        total = registry.get_prompt("big", SYSTEM).version_count
        full.dispose()
        loader.engine.dispose()

        server, base_url = serve_promptdeck(url)
        try:
            pages: list[float] = []
            rng = random.Random(7)
            with httpx.Client(base_url=base_url) as client:
                client.get("/prompts/big/versions")
                for _ in range(500):
                    before = rng.randint(2, total + 1)
                    t = time.perf_counter()
                    r = client.get(f"/prompts/big/versions?limit=50&cursor={encode_cursor(before)}")
                    pages.append((time.perf_counter() - t) * 1000)
                    assert r.status_code == 200 and r.json()["items"], r.text
        finally:
            stop(server)

    print(
        f"history built: {total:,} versions of a {len(TEXT):,}-character prompt "
        f"({(args.versions - 100) / load_s:,.0f} versions/s while loading)"
    )
    print("| create a version (core, synchronous=FULL) | median ms | p99 ms |")
    print("|---|---|---|")
    print(
        f"| with 100 versions in history | {statistics.median(small):.2f} | {p(small, 0.99):.2f} |"
    )
    print(
        f"| with {args.versions:,} versions in history | {statistics.median(large):.2f} | "
        f"{p(large, 0.99):.2f} |"
    )
    print(
        f"\nratio of medians: {statistics.median(large) / statistics.median(small):.2f} "
        "(goal ≤ 1.5)"
    )
    print(
        f"history page of 50 at a random depth over HTTP, 500 pages: median "
        f"{statistics.median(pages):.2f} ms, p99 {p(pages, 0.99):.2f} ms, max {max(pages):.2f} ms "
        "(goal < 10 ms)"
    )


if __name__ == "__main__":
    main()

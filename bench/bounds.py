"""The worst case of each bound (docs/api.md, "Limits"), against a real server: the largest
diff, the largest export, the most path spellings. Prints each request's wall time, the
server's CPU time for it and the server's peak RSS (VmHWM) before and after.

    .venv/bin/python -m bench.bounds [--database-url URL]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from bench.common import serve_promptdeck, stop
from promptdeck import limits

CLOCK_TICKS = 100  # os.sysconf("SC_CLK_TCK") on Linux


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def measure(pid: int, label: str, work: Callable[[], str]) -> str:
    cpu0, rss0, t0 = _cpu_seconds(pid), _peak_rss_mb(pid), time.perf_counter()
    detail = work()
    wall, cpu, rss = time.perf_counter() - t0, _cpu_seconds(pid) - cpu0, _peak_rss_mb(pid)
    row = f"| {label} | {detail} | {wall:.2f} s | {cpu:.2f} s | {rss0:.0f} → {rss:.0f} MB |"
    print(row, flush=True)
    return row


def _repetitive(n_chars: int, period: int) -> str:
    lines, size = [], 0
    i = 0
    while size < n_chars:
        line = " ".join("a" if (i + k) % period else "b" for k in range(40))
        lines.append(line)
        size += len(line) + 1
        i += 1
    return "\n".join(lines)[:n_chars]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--export-versions", type=int, default=200)
    parser.add_argument("--spellings", type=int, default=5000)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    url = args.database_url or f"sqlite:///{tmp / 'bounds.db'}"
    proc, base = serve_promptdeck(url)
    rows: list[str] = []
    try:
        with httpx.Client(base_url=base, timeout=600) as c:
            # 1. The largest diff: two 1,000,000-character versions of repetitive words.
            old = _repetitive(limits.CONTENT_MAX, 7)
            new = _repetitive(limits.CONTENT_MAX, 5)
            c.post("/prompts", json={"name": "big-diff", "content": old}).raise_for_status()
            second = c.post("/prompts/big-diff/versions", json={"content": new})
            first = c.get("/prompts/big-diff/versions").json()["items"][-1]["id"]
            ids = {"a": first, "b": second.json()["id"]}

            def compare() -> str:
                page = c.get("/ui/prompts/big-diff/compare", params=ids)
                coarse = "coarser" if "too large or too different" in page.text else "exact"
                return f"2 x {len(old):,} chars, {page.status_code}, {coarse}"

            rows.append(measure(proc.pid, "largest diff (compare page)", compare))

            # 2. The largest export: many versions of large, distinct content.
            random.seed(1)
            words = [f"w{i}" for i in range(5000)]
            body = " ".join(random.choice(words) for _ in range(20_000))  # ~120 KB
            c.post("/prompts", json={"name": "big-export", "content": body}).raise_for_status()
            for n in range(args.export_versions - 1):
                text = f"{n} " + " ".join(random.choice(words) for _ in range(20_000))
                c.post("/prompts/big-export/versions", json={"content": text}).raise_for_status()

            def export_one() -> str:
                answer = c.get("/prompts/big-export/export")
                return f"{args.export_versions} versions, {len(answer.content) / 1e6:.1f} MB"

            rows.append(measure(proc.pid, "largest export (one prompt)", export_one))

            def export_page() -> str:
                answer = c.get("/export", params={"limit": limits.PAGE_LIMIT_MAX})
                return f"limit {limits.PAGE_LIMIT_MAX}, {len(answer.content) / 1e6:.1f} MB"

            rows.append(measure(proc.pid, "largest export page (GET /export)", export_page))

            # 3. The most path spellings: distinct spellings of one prompt and of none.
            def spellings() -> str:
                statuses: dict[int, int] = {}
                for i in range(args.spellings):
                    ref = ["big-export", "1", f"{i:07d}", f"+{i}", f"x{i}", str(2**31 + i)][i % 6]
                    for path in (f"/prompts/{ref}/active", f"/prompts/{ref}"):
                        status = c.get(path).status_code
                        statuses[status] = statuses.get(status, 0) + 1
                return f"{2 * args.spellings:,} requests, statuses {statuses}"

            rows.append(measure(proc.pid, "most path spellings", spellings))
    finally:
        stop(proc)
    print("\n| worst case | input | wall | server CPU | server peak RSS |")
    print("|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()

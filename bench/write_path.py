"""The write path in the core: statements, wall time and CPU time of a create and a rollback.

    python -m bench.write_path --database-url URL [--writes 300]

One process, the Registry directly (what every API write calls, without HTTP): creates
``--writes`` versions of a ~600-byte prompt (each activated), then as many rollbacks, and
prints one JSON line: the statements each ran (counted on the engine: BEGIN IMMEDIATE on
SQLite, the move lock on PostgreSQL, the pool's pre-ping not included), and the median wall
and CPU (this thread's) milliseconds. CPU time is the steadier figure on a shared machine.

Before/after a change, run it on both trees in the same minute, e.g.:

    git archive OLD src | tar -x -C /tmp/old
    PYTHONPATH=/tmp/old/src python -m bench.write_path --database-url URL
    python -m bench.write_path --database-url URL
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import time
from typing import Any

from sqlalchemy import event

import promptdeck
from bench.common import BIN
from promptdeck.config import Settings
from promptdeck.core.setup import open_registry
from promptdeck.domain.caller import SYSTEM
from promptdeck.domain.commands import CreatePrompt, CreateVersion, Rollback

CONTENT = "You are a helpful support agent. Answer {{customer}} briefly and kindly. " * 8


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--writes", type=int, default=300)
    args = parser.parse_args()
    subprocess.run(
        [str(BIN / "promptdeck"), "db", "upgrade", "--database-url", args.database_url],
        check=True,
        capture_output=True,
    )
    registry = open_registry(Settings(database_url=args.database_url))
    name = f"w{time.time_ns()}"
    first = registry.create_prompt(
        CreatePrompt(name, content=CONTENT), SYSTEM
    ).prompt.active_version
    assert first is not None
    statements = [0]

    def count(*_args: Any) -> None:
        statements[0] += 1

    event.listen(registry.engine, "before_cursor_execute", count)
    ids = [first.id]
    figures: dict[str, Any] = {
        "code": promptdeck.__file__,
        "database": registry.engine.dialect.name,
    }
    operations = {
        "create": lambda i: ids.append(
            registry.create_version(
                CreateVersion(name, content=f"{CONTENT}[{i}]", activate=True), SYSTEM
            ).version.id
        ),
        "rollback": lambda i: registry.rollback(Rollback(name, ids[i % len(ids)]), SYSTEM),
    }
    for operation, write in operations.items():
        wall, cpu = [], []
        before = statements[0]
        for i in range(args.writes):
            t, c = time.perf_counter(), time.thread_time()
            write(i)
            cpu.append((time.thread_time() - c) * 1000)
            wall.append((time.perf_counter() - t) * 1000)
        figures[f"{operation}_statements"] = round((statements[0] - before) / args.writes, 2)
        figures[f"{operation}_wall_p50_ms"] = round(statistics.median(wall), 3)
        figures[f"{operation}_cpu_p50_ms"] = round(statistics.median(cpu), 3)
    registry.engine.dispose()
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

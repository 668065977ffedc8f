"""Archiving vs keeping: the same history stored with no version limit and with one.

    python -m bench.storage.archiving                       # 10,000 edits, max_versions 100
    python -m bench.storage.archiving --versions 3000 --max-versions 100

Both databases are fresh SQLite files loaded in-process through the HTTP API (the app under
Starlette's TestClient: the same routes and core as `promptdeck serve`, without a socket),
then compacted (`Registry.compact`: checkpoint + VACUUM). Prints both sizes, their ratio and
the per-table bytes that differ (SQLite `dbstat`), so the cost of archiving is visible.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from bench.storage.generator import generate
from bench.storage.run import NAME, load, table_bytes
from promptdeck.config import Settings
from promptdeck.core import Registry
from promptdeck.store import migrate
from promptdeck.store.engine import create_engine


def stored(history: list[str], db: Path, max_versions: int | None) -> dict[str, Any]:
    from starlette.testclient import TestClient

    from promptdeck.server import create_app

    url = f"sqlite:///{db}"
    engine = create_engine(url)
    try:
        migrate.upgrade(engine)
        registry = Registry(engine)
        with TestClient(create_app(Settings(database_url=url), registry)) as client:
            load(client, history, max_versions)
        report = registry.storage(NAME)
        compacted = registry.compact()
    finally:
        engine.dispose()
    return {
        "max_versions": max_versions,
        "bytes": compacted.bytes_after,
        "archived": report.archived,
        "tables": table_bytes(db),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--versions", type=int, default=10_000)
    parser.add_argument("--max-versions", type=int, default=100)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    history = generate(args.versions, seed=args.seed)
    work = Path(tempfile.mkdtemp(prefix="promptdeck-bench-archiving-"))
    try:
        keep = stored(history, work / "keep.db", None)
        limit = stored(history, work / "limit.db", args.max_versions)
    finally:
        shutil.rmtree(work)
    names = sorted(set(keep["tables"]) | set(limit["tables"]))
    out = {
        "versions": args.versions,
        "seed": args.seed,
        "no_limit_bytes": keep["bytes"],
        "limit_bytes": limit["bytes"],
        "max_versions": args.max_versions,
        "archived": limit["archived"],
        "ratio_limit_to_no_limit": round(limit["bytes"] / keep["bytes"], 4),
        "at_or_below": limit["bytes"] <= keep["bytes"],
        "tables_that_differ": {
            n: [keep["tables"].get(n, 0), limit["tables"].get(n, 0)]
            for n in names
            if keep["tables"].get(n, 0) != limit["tables"].get(n, 0)
        },
    }
    text = json.dumps(out, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()

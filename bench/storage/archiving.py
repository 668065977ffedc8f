"""Archiving vs keeping: the same history stored with no version limit and with one.

    python -m bench.storage.archiving                       # 10,000 edits, max_versions 100
    python -m bench.storage.archiving --versions 3000 --max-versions 100
    python -m bench.storage.archiving --postgres "$PROMPTDECK_TEST_PG_URL"   # and PostgreSQL

Both databases are fresh SQLite files loaded in-process through the HTTP API (the app under
Starlette's TestClient: the same routes and core as `promptdeck serve`, without a socket),
then compacted (`Registry.compact`: checkpoint + VACUUM). Prints both sizes, their ratio and
the per-table bytes that differ (SQLite `dbstat`), so the cost of archiving is visible.
With `--postgres URL` the same two loads also go into two fresh databases created on that
server, compacted by `VACUUM FULL`; bytes are `pg_database_size` (the catalogs, the same in
both, included) and per table `pg_total_relation_size` (indexes and TOAST included).
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from bench.storage.generator import generate
from bench.storage.run import NAME, load, table_bytes
from promptdeck.config import Settings
from promptdeck.core import Registry
from promptdeck.domain.caller import SYSTEM
from promptdeck.store import migrate
from promptdeck.store.engine import create_engine


def pg_tables(engine: Any) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT relname, pg_total_relation_size(oid) FROM pg_class "
            "WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace"
        ).all()
    return {str(name): int(size) for name, size in rows}


def pg_database(server_url: str, name: str) -> str:
    """A fresh database ``name`` on the server of ``server_url``; its URL."""
    url = make_url(server_url)
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def stored(
    history: list[str], db: Path | None, max_versions: int | None, url: str = ""
) -> dict[str, Any]:
    from starlette.testclient import TestClient

    from promptdeck.server import create_app

    url = url or f"sqlite:///{db}"
    engine = create_engine(url)
    try:
        migrate.upgrade(engine)
        registry = Registry(engine)
        with TestClient(create_app(Settings(database_url=url), registry)) as client:
            load(client, history, max_versions)
        report = registry.storage(NAME, SYSTEM)
        compacted = registry.compact()
        tables = table_bytes(db) if db is not None else pg_tables(engine)
    finally:
        engine.dispose()
    return {
        "max_versions": max_versions,
        "bytes": compacted.bytes_after,
        "archived": report.archived,
        "tables": tables,
    }


def compare(keep: dict[str, Any], limit: dict[str, Any]) -> dict[str, Any]:
    names = sorted(set(keep["tables"]) | set(limit["tables"]))
    return {
        "no_limit_bytes": keep["bytes"],
        "limit_bytes": limit["bytes"],
        "archived": limit["archived"],
        "ratio_limit_to_no_limit": round(limit["bytes"] / keep["bytes"], 4),
        "at_or_below": limit["bytes"] <= keep["bytes"],
        "tables_that_differ": {
            n: [keep["tables"].get(n, 0), limit["tables"].get(n, 0)]
            for n in names
            if keep["tables"].get(n, 0) != limit["tables"].get(n, 0)
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--versions", type=int, default=10_000)
    parser.add_argument("--max-versions", type=int, default=100)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--postgres", help="a PostgreSQL server URL: measure there too")
    args = parser.parse_args()
    history = generate(args.versions, seed=args.seed)
    work = Path(tempfile.mkdtemp(prefix="promptdeck-bench-archiving-"))
    try:
        keep = stored(history, work / "keep.db", None)
        limit = stored(history, work / "limit.db", args.max_versions)
    finally:
        shutil.rmtree(work)
    out: dict[str, Any] = {
        "versions": args.versions,
        "seed": args.seed,
        "max_versions": args.max_versions,
        "sqlite": compare(keep, limit),
    }
    if args.postgres:
        pg = [
            stored(history, None, mv, pg_database(args.postgres, f"bench_archiving_{i}"))
            for i, mv in enumerate((None, args.max_versions))
        ]
        out["postgresql"] = compare(*pg)
    text = json.dumps(out, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()

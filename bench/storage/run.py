"""Storage benchmark: promptdeck's database on disk vs `git gc --aggressive` for one history.

    python -m bench.storage                 # 10,000 versions through a real `promptdeck serve`
    python -m bench.storage --versions 1000 --via asgi --chain-max 16   # quick K experiments

1. generate a deterministic history (bench/storage/generator.py): a ~4 KB prompt, each
   version a small edit of the one before;
2. git: one commit per version (fast-import), then `git gc --aggressive --prune=now`; size of
   the pack (.pack + .idx);
3. promptdeck: a fresh SQLite database, a prompt created through the HTTP API and every
   version POSTed to /prompts/{id}/versions, then `promptdeck db compact`; bytes of the file
   (metadata, events and indexes included) and per-table bytes (dbstat);
4. reads: every version read back and compared with the generator's text; latency of
   reading the oldest, the newest and the deepest-chain versions with a cold content cache,
   through the Registry (the API's core call) and over HTTP.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import zstandard as zstd

if __package__ in (None, ""):  # run as a file: bench/storage/run.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.storage.generator import generate
from promptdeck.core import Registry
from promptdeck.domain import storage
from promptdeck.domain.caller import SYSTEM
from promptdeck.store import migrate
from promptdeck.store.engine import create_engine

PROMPTDECK = str(Path(sys.executable).with_name("promptdeck"))
NAME = "support-reply"


def git_pack_bytes(history: list[str], workdir: Path) -> dict[str, int]:
    repo = workdir / "git"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    stream: list[bytes] = []
    for i, text in enumerate(history):
        data = text.encode()
        message = f"version {i + 1}\n".encode()
        stream += [
            b"commit refs/heads/main\n",
            f"mark :{i + 1}\n".encode(),
            f"committer Bench <bench@example.com> {1_700_000_000 + i} +0000\n".encode(),
            f"data {len(message)}\n".encode() + message,
        ]
        if i:
            stream.append(f"from :{i}\n".encode())
        stream.append(f"M 100644 inline prompt.txt\ndata {len(data)}\n".encode() + data + b"\n")
    subprocess.run(["git", "fast-import", "--quiet"], cwd=repo, input=b"".join(stream), check=True)
    subprocess.run(["git", "gc", "--aggressive", "--prune=now", "-q"], cwd=repo, check=True)
    pack_dir = repo / ".git" / "objects" / "pack"
    pack = sum(p.stat().st_size for p in pack_dir.glob("*.pack"))
    idx = sum(p.stat().st_size for p in pack_dir.glob("*.idx"))
    return {"pack": pack, "idx": idx, "total": pack + idx}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, database_url: str, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        with open(log, "ab") as out:
            self.proc = subprocess.Popen(
                [
                    PROMPTDECK,
                    "serve",
                    "--port",
                    str(self.port),
                    "--database-url",
                    database_url,
                    "--log-level",
                    "warning",
                ],
                stdout=out,
                stderr=out,
                start_new_session=True,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not start; see {log}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=30)


def load(
    client: Any, history: list[str], max_versions: int | None = None
) -> tuple[list[int], float]:
    """POST the history; the version ids in order and the ingest time of versions 2..n."""
    body = {"name": NAME, "content": history[0], "max_versions": max_versions}
    r = client.post("/prompts", json=body)
    r.raise_for_status()
    ids = [r.json()["active_version"]["id"]]
    start = time.perf_counter()
    for text in history[1:]:
        r = client.post(f"/prompts/{NAME}/versions", json={"content": text})
        if r.status_code != 201:
            raise RuntimeError(f"create failed: {r.status_code} {r.text}")
        ids.append(r.json()["id"])
    return ids, time.perf_counter() - start


def latency(fn: Any, reps: int) -> dict[str, float]:
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return {
        "p50_ms": round(statistics.median(times), 3),
        "p99_ms": round(times[min(len(times) - 1, int(len(times) * 0.99))], 3),
        "max_ms": round(times[-1], 3),
    }


def table_bytes(db: Path) -> dict[str, int]:
    import sqlite3

    conn = sqlite3.connect(db)
    try:
        rows = conn.execute(
            "SELECT name, SUM(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC"
        ).fetchall()
    except sqlite3.OperationalError:  # SQLite built without dbstat
        return {}
    finally:
        conn.close()
    return {name: int(size) for name, size in rows}


def run(args: argparse.Namespace) -> dict[str, Any]:
    storage.CHAIN_MAX = args.chain_max  # asgi mode only: a served process uses its default
    history = generate(args.versions, seed=args.seed)
    raw = sum(len(t.encode()) for t in history)
    work = Path(tempfile.mkdtemp(prefix="promptdeck-bench-storage-"))
    out: dict[str, Any] = {
        "versions": args.versions,
        "seed": args.seed,
        "mean_version_bytes": round(raw / len(history)),
        "raw_bytes": raw,
        "chain_max": args.chain_max if args.via == "asgi" else storage.CHAIN_MAX,
        "via": args.via,
        "max_versions": args.max_versions,
    }

    t = time.perf_counter()
    out["git"] = git_pack_bytes(history, work)
    out["git"]["seconds"] = round(time.perf_counter() - t, 1)

    db = work / "promptdeck.db"
    url = f"sqlite:///{db}"
    if args.via == "server":
        server = Server(url, work / "server.log")
        try:
            with httpx.Client(base_url=server.url, timeout=30) as client:
                ids, seconds = load(client, history, args.max_versions)
                out["http_read"] = {
                    "oldest": latency(
                        lambda: client.get(f"/prompts/{NAME}/versions/{ids[0]}"), 200
                    ),
                    "newest": latency(
                        lambda: client.get(f"/prompts/{NAME}/versions/{ids[-1]}"), 200
                    ),
                }
        finally:
            server.stop()
    else:
        from starlette.testclient import TestClient

        from promptdeck.config import Settings
        from promptdeck.server import create_app

        engine = create_engine(url)
        migrate.upgrade(engine)
        app = create_app(Settings(database_url=url), Registry(engine))
        with TestClient(app) as client:
            ids, seconds = load(client, history, args.max_versions)
        engine.dispose()
    out["ingest"] = {
        "versions_per_s": round((len(history) - 1) / seconds, 1),
        "ms_per_version": round(seconds * 1000 / (len(history) - 1), 3),
    }

    before = db.stat().st_size + (
        Path(f"{db}-wal").stat().st_size if Path(f"{db}-wal").exists() else 0
    )
    subprocess.run(
        [PROMPTDECK, "db", "compact", "--database-url", url], check=True, capture_output=True
    )
    wal = Path(f"{db}-wal")
    size = db.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
    out["promptdeck"] = {
        "bytes_before_compact": before,
        "bytes": size,
        "bytes_per_version": round(size / len(history), 1),
        "tables": table_bytes(db),
    }
    out["ratio_promptdeck_to_git"] = round(size / out["git"]["total"], 3)
    out["ratio_promptdeck_to_git_pack_only"] = round(size / out["git"]["pack"], 3)

    engine = create_engine(url)
    try:
        registry = Registry(engine)
        report = registry.storage(NAME, SYSTEM)
        out["promptdeck"]["stored_content_bytes"] = report.stored_bytes
        out["promptdeck"]["distinct_contents"] = report.blobs
        # Every version reads back exactly.
        for version_id, text in zip(ids, history, strict=True):
            assert registry.get_version(NAME, version_id, SYSTEM).content == text
        with engine.connect() as conn:
            deepest = conn.exec_driver_sql(
                "SELECT v.id, b.depth FROM versions v JOIN blobs b ON b.id = v.blob_id "
                "ORDER BY b.depth DESC LIMIT 1"
            ).one()

        def cold(version_id: int) -> Any:
            def read() -> None:
                registry.contents.cache = storage.ContentCache()  # nothing decoded yet
                registry.get_version(NAME, version_id, SYSTEM)

            return read

        out["read_cold"] = {
            "oldest": latency(cold(ids[0]), 300),
            "newest": latency(cold(ids[-1]), 300),
            f"deepest_chain_{deepest.depth}": latency(cold(deepest.id), 300),
        }
        out["read_warm"] = {
            "newest": latency(lambda: registry.get_version(NAME, ids[-1], SYSTEM), 300)
        }
    finally:
        engine.dispose()

    # What storing every version as a whole zstd copy (no deltas) would take, for content alone.
    c = zstd.ZstdCompressor(level=storage.LEVEL)
    out["whole_copies_content_bytes"] = sum(len(c.compress(t.encode())) for t in history)
    out["load_average"] = os.getloadavg()  # the machine is shared: context for the latencies
    if not args.keep:
        subprocess.run(["rm", "-rf", str(work)], check=True)
    else:
        out["workdir"] = str(work)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--versions", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--via", choices=["server", "asgi"], default="server")
    parser.add_argument("--chain-max", type=int, default=storage.CHAIN_MAX)
    parser.add_argument(
        "--max-versions", type=int, default=None, help="retention limit (archiving); default none"
    )
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    result = run(args)
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()

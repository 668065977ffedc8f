"""Tests 6 and 7 of the reliability plan: crash safety.

Clients create versions with an ``Idempotency-Key`` (and roll back) while the server is
killed with SIGKILL, or, on PostgreSQL, while the database itself is stopped with
``pg_ctl -m immediate``. After the restart the clients replay every request whose answer
they did not get, with the same key. Then: no acknowledged version is lost, no request made
two versions, numbers were never reused, the database is intact, and writes work again.
"""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.support.databases import can_control_postgresql, pg_ctl
from tests.support.load import Threads, check_history, client, figure, scale
from tests.support.server import ServerProcess

WRITERS = 3  # plus one client that rolls back and one that reads the active version


@dataclass
class Outcome:
    acked: dict[str, int] = field(default_factory=dict)  # key -> version id of the 201
    pending: dict[str, dict[str, Any]] = field(default_factory=dict)  # key -> body, unanswered
    replayed: int = 0  # pending keys whose replay found the first result (committed, unacked)
    server_errors: list[float] = field(default_factory=list)  # when each 5xx was requested
    not_problem: int = 0  # 5xx answers that were not application/problem+json
    reads: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def write_burst(
    url: str, prompt: str, writer: int, seq: list[int], stop: threading.Event, out: Outcome
) -> None:
    """Create versions until ``stop``; an unanswered request is kept for replay."""
    with httpx.Client(base_url=url, timeout=10) as http:
        while not stop.is_set():
            seq[writer] += 1
            key = f"w{writer}-{seq[writer]}"
            body = {"content": key, "description": "crash test"}
            sent = time.monotonic()
            try:
                r = http.post(
                    f"/prompts/{prompt}/versions", json=body, headers={"Idempotency-Key": key}
                )
            except httpx.TransportError:
                with out.lock:
                    out.pending[key] = body
                time.sleep(0.05)
                continue
            with out.lock:
                if r.status_code == 201:
                    out.acked[key] = r.json()["id"]
                elif r.status_code >= 500:
                    out.server_errors.append(sent)
                    out.not_problem += not is_problem(r)
                    out.pending[key] = body  # the outcome is unknown: replay it
                else:
                    raise AssertionError(f"{r.status_code} {r.text}")
            if r.status_code >= 500:
                time.sleep(0.05)


def rollback_burst(url: str, prompt: str, stop: threading.Event, out: Outcome) -> None:
    rng = random.Random(7)
    with httpx.Client(base_url=url, timeout=10) as http:
        while not stop.is_set():
            with out.lock:
                ids = list(out.acked.values())[-50:]
            if not ids:
                time.sleep(0.01)
                continue
            sent = time.monotonic()
            try:
                r = http.post(f"/prompts/{prompt}/versions/{rng.choice(ids)}/rollback")
            except httpx.TransportError:
                time.sleep(0.05)
                continue
            if r.status_code >= 500:
                with out.lock:
                    out.server_errors.append(sent)
                    out.not_problem += not is_problem(r)
                time.sleep(0.05)
            else:
                assert r.status_code == 200, r.text


def read_burst(url: str, prompt: str, stop: threading.Event, out: Outcome) -> None:
    """The hot path: GET /active, which on PostgreSQL reads the pointer on every request."""
    with httpx.Client(base_url=url, timeout=10) as http:
        while not stop.is_set():
            sent = time.monotonic()
            try:
                r = http.get(f"/prompts/{prompt}/active")
            except httpx.TransportError:
                time.sleep(0.05)
                continue
            with out.lock:
                out.reads += 1
                if r.status_code >= 500:
                    out.server_errors.append(sent)
                    out.not_problem += not is_problem(r)
            if r.status_code >= 500:
                time.sleep(0.05)
            else:
                assert r.status_code == 200, r.text


def is_problem(response: httpx.Response) -> bool:
    return response.headers.get("content-type") == "application/problem+json"


def replay(url: str, prompt: str, out: Outcome) -> None:
    """Send every unanswered request again with its key: the client's retry after a crash."""
    with httpx.Client(base_url=url, timeout=30) as http:
        for key, body in list(out.pending.items()):
            r = http.post(
                f"/prompts/{prompt}/versions", json=body, headers={"Idempotency-Key": key}
            )
            assert r.status_code == 201, r.text
            if key in out.acked:
                assert r.json()["id"] == out.acked[key]
            out.acked[key] = r.json()["id"]
            out.replayed += r.headers.get("idempotent-replayed") == "true"
            del out.pending[key]


def run_burst(
    urls: list[str], prompt: str, seq: list[int], out: Outcome, crash: Callable[[], None]
) -> None:
    stop = threading.Event()
    threads = Threads()
    for w in range(WRITERS):
        threads.start(write_burst, urls[w % len(urls)], prompt, w, seq, stop, out)
    threads.start(rollback_burst, urls[-1], prompt, stop, out)
    threads.start(read_burst, urls[0], prompt, stop, out)
    try:
        crash()
    finally:
        stop.set()
        threads.join()


def verify(http: httpx.Client, prompt: str, out: Outcome) -> dict[str, Any]:
    history = check_history(http, prompt)
    by_id = {v["id"]: v for v in history["versions"]}
    contents = Counter(http.get(f"/prompts/{prompt}/versions/{v}").json()["content"] for v in by_id)
    lost = sum(1 for v in out.acked.values() if v not in by_id)
    duplicates = sum(n - 1 for n in contents.values() if n > 1)
    active = http.get(f"/prompts/{prompt}/active")
    return {
        "history": history,
        "lost": lost,
        "duplicates": duplicates,
        "extra": len(by_id) - 1 - len(out.acked),  # versions no key accounts for
        "active_ok": active.status_code == 200 and active.json()["version_id"] in by_id,
    }


@pytest.mark.sqlite_only
def test_sigkill_during_write_bursts_loses_no_acknowledged_version_on_sqlite(
    start_server: Callable[..., ServerProcess], database_url: str
) -> None:
    cycles = scale("crash_cycles", 20)
    rng = random.Random(6)
    server = start_server()
    path = database_url.removeprefix("sqlite:///")
    with client(server.url) as http:
        assert http.post("/prompts", json={"name": "crash"}).status_code == 201
    out = Outcome()
    seq = [0] * WRITERS
    integrity: list[str] = []
    active_after_restart = 0
    started = time.monotonic()

    def crash() -> None:
        time.sleep(rng.uniform(0.3, 1.0))
        server.kill()

    for _ in range(cycles):
        run_burst([server.url], "crash", seq, out, crash)
        with sqlite3.connect(path) as db:
            integrity.append(db.execute("PRAGMA integrity_check").fetchone()[0])
        server.start()
        with client(server.url) as http:
            active_after_restart += http.get("/prompts/crash/active").status_code == 200
        replay(server.url, "crash", out)
    with client(server.url) as http:
        result = verify(http, "crash", out)
        after = http.post("/prompts/crash/versions", json={"content": "after"})
    history = result["history"]
    figure(
        "crash (SIGKILL)",
        f"{cycles} SIGKILLs during bursts of {WRITERS} writers + 1 rollbacker: "
        f"{len(out.acked)} versions acknowledged (after replays), lost {result['lost']}, "
        f"committed-but-unacked found by key replay {out.replayed}, duplicates "
        f"{result['duplicates']}, unexplained versions {result['extra']}, numbers contiguous="
        f"{history['contiguous']}, integrity_check ok {integrity.count('ok')}/{cycles}, active "
        f"served after {active_after_restart}/{cycles} restarts, {out.reads} hot-path reads, "
        f"write after restart {after.status_code}; "
        f"{time.monotonic() - started:.1f} s",
    )
    assert result["lost"] == 0 and result["duplicates"] == 0 and result["extra"] == 0
    assert history["contiguous"] and history["duplicate_numbers"] == 0
    assert history["creation_events_ok"]
    assert integrity == ["ok"] * cycles and active_after_restart == cycles
    assert out.not_problem == 0
    assert result["active_ok"] and after.status_code == 201


@pytest.mark.postgresql_only
def test_database_crashes_and_api_sigkills_lose_nothing_and_the_pool_recovers_on_postgresql(
    start_server: Callable[..., ServerProcess],
) -> None:
    if not can_control_postgresql():
        pytest.fail("needs PGBIN, PG_TMPDIR and PG_START_OPTS from scripts/pg.sh")
    cycles = scale("pg_crash_cycles", 10)  # each cycle: one database crash, one API SIGKILL
    rng = random.Random(7)
    servers = [start_server(), start_server()]
    urls = [s.url for s in servers]
    with client(urls[0]) as http:
        assert http.post("/prompts", json={"name": "crash"}).status_code == 201
    out = Outcome()
    seq = [0] * WRITERS
    outages: list[tuple[float, float]] = []  # (stopped, accepting again)
    after_recovery: list[float] = []
    started = time.monotonic()

    def database_crash() -> None:
        time.sleep(rng.uniform(0.3, 0.8))
        down = time.monotonic()
        pg_ctl("stop")
        time.sleep(rng.uniform(0.2, 0.5))
        pg_ctl("start")
        up = time.monotonic()
        outages.append((down, up))
        time.sleep(1.0)  # keep writing: the API processes were never restarted

    def api_crash() -> None:
        time.sleep(rng.uniform(0.3, 0.8))
        servers[0].kill()

    for _ in range(cycles):
        before = len(out.server_errors)
        run_burst(urls, "crash", seq, out, database_crash)
        up = outages[-1][1]
        after_recovery += [t for t in out.server_errors[before:] if t > up]
        run_burst(urls, "crash", seq, out, api_crash)
        servers[0].start()
        replay(urls[1], "crash", out)
    with client(urls[0]) as http:
        result = verify(http, "crash", out)
        after = http.post("/prompts/crash/versions", json={"content": "after"})
    history = result["history"]
    outage_ms = [1000 * (up - down) for down, up in outages]
    figure(
        "crash (PostgreSQL)",
        f"{cycles} x pg_ctl stop -m immediate + start and {cycles} x SIGKILL of one of 2 API "
        f"processes, during bursts of {WRITERS} writers + 1 rollbacker: {len(out.acked)} "
        f"versions acknowledged (after replays), lost {result['lost']}, committed-but-unacked "
        f"found by key replay {out.replayed}, duplicates {result['duplicates']}, unexplained "
        f"{result['extra']}, numbers contiguous={history['contiguous']}; 5xx during outages "
        f"{len(out.server_errors) - len(after_recovery)} (all problem+json: "
        f"{out.not_problem == 0}), after recovery {len(after_recovery)}, {out.reads} hot-path "
        "reads "
        f"(outages {min(outage_ms):.0f}-{max(outage_ms):.0f} ms; the pool recovered without "
        f"restarting the API); active valid={result['active_ok']}, write after "
        f"{after.status_code}; {time.monotonic() - started:.1f} s",
    )
    assert result["lost"] == 0 and result["duplicates"] == 0 and result["extra"] == 0
    assert history["contiguous"] and history["duplicate_numbers"] == 0
    assert history["creation_events_ok"]
    assert after_recovery == []
    assert out.not_problem == 0  # the hot path included
    assert result["active_ok"] and after.status_code == 201

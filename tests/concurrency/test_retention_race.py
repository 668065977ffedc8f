"""Test 15 of the reliability plan, its archive half: ``max_versions`` under concurrent
creates, rollbacks (to archived versions too), hand archives and restores, and purges, all
through real server processes (two on PostgreSQL, one with two workers on SQLite)."""

from __future__ import annotations

import os
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from promptdeck.domain.rules import content_hash
from tests.support.databases import BACKEND
from tests.support.load import (
    Tally,
    Threads,
    check_history,
    client,
    figure,
    locked_errors_in_logs,
    scale,
)
from tests.support.server import ServerProcess

WRITERS = 8
MAX_VERSIONS = 10
PROMPT = "kept"
PROBLEM = "https://promptdeck.dev/problems/"
# The 4xx each operation may meet in this race, and nothing else (never a 404).
EXPECTED = {
    "rollback": {409: {"version-unavailable"}},  # to a version purged meanwhile
    "archive": {409: {"active-version-protected"}},
    "restore": {409: {"version-unavailable"}},
    "purge": {409: {"active-version-protected"}},
}
BASE = "".join(
    f"line {i}: you are a careful assistant; answer in {i % 7 + 1} words.\n" for i in range(40)
)
# Events that open a write transaction; the others (an activation after its creation, a
# retention archive, a rollback after the restore it caused) belong to the one before.
FOLLOWERS = {"version.activated"}


def servers(start_server: Callable[..., ServerProcess]) -> list[str]:
    if BACKEND == "postgresql":
        return [start_server().url, start_server().url]
    url = start_server(workers=2).url  # one SQLite file, two worker processes
    return [url, url]


def joins_previous(event: dict[str, Any]) -> bool:
    kind, detail = event["kind"], event["detail"]
    if kind in FOLLOWERS:
        return True
    if kind == "version.archived" and detail.get("reason") == "retention":
        return True
    return kind == "version.rolled_back" and bool(detail.get("restored"))


def test_retention_holds_under_creates_rollbacks_archives_restores_and_purges(
    start_server: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    per_writer = scale("retention_creates", 50)
    max_purges = scale("retention_purges", 20)
    # The clients' random choices; PROMPTDECK_RETENTION_SEED replays them (not the timing).
    seed = int(os.environ.get("PROMPTDECK_RETENTION_SEED") or random.randrange(1 << 30))
    urls = servers(start_server)
    started = time.monotonic()
    with client(urls[0]) as http:
        r = http.post(
            "/prompts", json={"name": PROMPT, "content": BASE, "max_versions": MAX_VERSIONS}
        )
        assert r.status_code == 201, r.text
        first = r.json()["active_version"]
    tally = Tally()
    lock = threading.Lock()
    # What each writer sent, by version id: the text and the hash the server acknowledged.
    sent: dict[int, tuple[str, str]] = {first["id"]: (BASE, first["content_hash"])}
    ids: list[int] = [first["id"]]
    outcomes: Counter[str] = Counter()
    unexpected: list[str] = []
    purged_acked: set[int] = set()
    unavailable_seen: set[int] = set()
    writers_done = threading.Event()
    max_live_seen = 0

    def note(op: str, r: httpx.Response, version_id: int) -> None:
        """Count an outcome; keep any status or problem type this race must never produce."""
        if r.status_code == 200:
            outcomes[f"{op} 200"] += 1
            return
        kind = ""
        if r.headers.get("content-type", "").startswith("application/problem+json"):
            kind = r.json().get("type", "").removeprefix(PROBLEM)
        with lock:
            outcomes[f"{op} {r.status_code} {kind}"] += 1
            if kind not in EXPECTED[op].get(r.status_code, set()):
                unexpected.append(f"{op} {version_id}: {r.status_code} {r.text[:200]}")
            if kind == "version-unavailable":
                unavailable_seen.add(version_id)

    def check_content(version: dict[str, Any], op: str) -> None:
        """What a rollback or a restore hands back is exactly what its writer sent."""
        with lock:
            text = sent[version["id"]][0]
        if version["content"] != text:
            with lock:
                unexpected.append(f"{op} {version['id']}: content differs from what was sent")

    def pick(rng: random.Random) -> int:
        with lock:
            return rng.choice(ids)

    def writer(i: int) -> None:
        with client(urls[i % 2]) as http:
            for n in range(per_writer):
                # Mostly near-identical texts (deltas against each other); every 7th is one of
                # three shared texts, so some purges hit a blob other versions still use.
                text = f"shared {n % 3}\n" if n % 7 == 6 else f"{BASE}writer {i} create {n}\n"
                r = tally.timed(http.post, f"/prompts/{PROMPT}/versions", json={"content": text})
                assert r.status_code == 201, r.text
                body = r.json()
                with lock:
                    sent[body["id"]] = (text, body["content_hash"])
                    ids.append(body["id"])

    def rollbacker() -> None:
        rng = random.Random(seed + 1)
        with client(urls[1]) as http:
            while not writers_done.is_set():
                target = pick(rng)
                r = tally.timed(http.post, f"/prompts/{PROMPT}/versions/{target}/rollback")
                note("rollback", r, target)
                if r.status_code == 200:
                    check_content(r.json()["version"], "rollback")

    def archivist() -> None:
        rng = random.Random(seed + 2)
        with client(urls[0]) as http:
            while not writers_done.is_set():
                target = pick(rng)
                op = rng.choice(("archive", "restore"))
                r = tally.timed(http.post, f"/prompts/{PROMPT}/versions/{target}/{op}")
                note(op, r, target)
                if r.status_code == 200 and op == "restore":
                    check_content(r.json(), "restore")

    def purger() -> None:
        rng = random.Random(seed + 3)
        purged = 0
        with client(urls[1]) as http:
            while not writers_done.is_set():
                time.sleep(0.05)
                # Aim at whatever is active right now (409), and only at it once enough are gone.
                if purged >= max_purges or rng.random() < 0.4:
                    target = http.get(f"/prompts/{PROMPT}").json()["active_version"]["id"]
                else:
                    target = pick(rng)
                path = f"/prompts/{PROMPT}/versions/{target}"
                why = f"race {seed}: drop {target}"
                r = tally.timed(http.request, "DELETE", path, json={"reason": why})
                note("purge", r, target)
                if r.status_code == 200:
                    assert r.json()["purged"] and r.json()["content"] is None, r.text
                    with lock:
                        purged_acked.add(target)
                    purged += 1

    def watcher() -> None:
        """Snapshots of the unarchived count while the race runs (one query each)."""
        nonlocal max_live_seen
        with client(urls[0]) as http:
            while not writers_done.is_set():
                s = http.get(f"/prompts/{PROMPT}/storage").json()
                max_live_seen = max(max_live_seen, s["versions"] - s["archived"])
                time.sleep(0.05)

    load = Threads()
    others = Threads()
    for i in range(WRITERS):
        load.start(writer, i)
    for job in (rollbacker, archivist, purger, watcher):
        others.start(job)
    try:
        load.join()
    finally:
        writers_done.set()
        others.join()
    race_seconds = time.monotonic() - started

    with client(urls[0]) as http:
        history = check_history(http, PROMPT)
        versions = {v["id"]: v for v in history["versions"]}
        prompt = http.get(f"/prompts/{PROMPT}").json()
        active = prompt["active_version"]["id"]
        # After the race, the active version is still refused, both ways.
        version_path = f"/prompts/{PROMPT}/versions/{active}"
        for r in (
            http.request("DELETE", version_path, json={"reason": "after the race"}),
            http.post(f"{version_path}/archive"),
        ):
            assert r.status_code == 409, r.text
            assert r.headers["content-type"].startswith("application/problem+json")
            assert r.json()["type"] == PROBLEM + "active-version-protected", r.text
        # Every version's content reads back exactly as its writer sent it; purged: gone.
        mismatched = 0
        archived_checked = 0
        for vid, v in versions.items():
            full = http.get(f"/prompts/{PROMPT}/versions/{vid}")
            assert full.status_code == 200, full.text
            body = full.json()
            if v["purged"]:
                mismatched += body["content"] is not None
                continue
            text, acked_hash = sent[vid]
            mismatched += not (
                body["content"] == text
                and body["content_hash"] == acked_hash == content_hash(text, {})
            )
            archived_checked += v["archived"]

    # Replay the event log: the active pointer, the unarchived set and the purged set.
    events = sorted(history["events"], key=lambda e: int(e["id"]))
    pointer: int | None = None
    live: set[int] = set()
    purged: set[int] = set()
    broken_chain = 0
    active_hit: list[str] = []
    max_live_committed = 0
    rollbacks_restoring = 0
    retention_archived = 0
    for index, e in enumerate(events):
        kind, vid = e["kind"], e["version_id"]
        if index and not joins_previous(e):  # the previous transaction committed here
            max_live_committed = max(max_live_committed, len(live))
        if kind == "version.created":
            live.add(vid)
            # Created over the limit: the version it archived is in its own event.
            for archived in e["detail"].get("archived", []):
                if archived["version_id"] == pointer:
                    active_hit.append(f"event {e['id']}: archived active version {pointer}")
                live.discard(archived["version_id"])
                retention_archived += archived["reason"] == "retention"
        elif kind in ("version.activated", "version.rolled_back"):
            broken_chain += e["from_version_id"] != pointer
            pointer = vid
            rollbacks_restoring += bool(e["detail"].get("restored"))
            assert vid in live, f"event {e['id']}: activated a version outside the live set"
        elif kind == "version.archived":
            if vid == pointer:
                active_hit.append(f"event {e['id']}: archived active version {vid}")
            live.discard(vid)
            retention_archived += e["detail"].get("reason") == "retention"
        elif kind == "version.restored":
            assert vid not in purged, f"event {e['id']}: restored purged version {vid}"
            live.add(vid)
        elif kind == "version.purged":
            if vid == pointer:
                active_hit.append(f"event {e['id']}: purged active version {vid}")
            live.discard(vid)
            purged.add(vid)
    max_live_committed = max(max_live_committed, len(live))

    actual_live = {vid for vid, v in versions.items() if not v["archived"]}
    actual_purged = {vid for vid, v in versions.items() if v["purged"]}
    total = 1 + WRITERS * per_writer
    logs = sorted(tmp_path.glob("server-*.log"))
    tracebacks = sum(p.read_text(errors="replace").count("Traceback") for p in logs)
    locked = locked_errors_in_logs(logs)
    statuses_4xx = sum(n for s, n in tally.statuses.items() if 400 <= s < 500)
    figure(
        "retention race",
        f"max_versions={MAX_VERSIONS}, {WRITERS} writers x {per_writer} creates + rollbacker + "
        f"archivist + purger over {len(set(urls))} server process(es), seed {seed}: "
        f"{history['count']} versions (expected {total}), numbers 1..{total} "
        f"contiguous={history['contiguous']}, {history['duplicate_numbers']} duplicate numbers; "
        f"unarchived at end {len(actual_live)} (max seen live {max_live_seen}, max at any commit "
        f"per event log {max_live_committed}; bound {MAX_VERSIONS}); "
        f"{retention_archived} retention archives, {rollbacks_restoring} rollbacks restored an "
        f"archived version, {len(actual_purged)} purged tombstones; active archived/purged per "
        f"event log {len(active_hit)}, broken active chain {broken_chain}; "
        f"{len(versions) - len(actual_purged)} contents read back ({archived_checked} archived), "
        f"{mismatched} mismatched; {tally.server_errors} 5xx, {statuses_4xx} 4xx "
        f"({', '.join(f'{k}: {n}' for k, n in sorted(outcomes.items()) if ' 4' in k)}; "
        f"{', '.join(f'{k}: {n}' for k, n in sorted(outcomes.items()) if ' 200' in k)}), "
        f"{len(unexpected)} unexpected; {tracebacks} tracebacks and {locked} 'database is "
        f"locked' in server logs; {race_seconds:.1f} s race",
    )
    assert tally.server_errors == 0, tally.errors
    assert not unexpected, unexpected[:5]
    assert tally.statuses[404] == 0
    assert tracebacks == 0 and locked == 0
    assert history["count"] == total and len(sent) == total
    assert history["contiguous"] and history["duplicate_numbers"] == 0
    assert history["duplicate_names"] == 0 and history["creation_events_ok"]
    # docs/storage.md: the active version and the one just created or restored are never
    # archived by the sweep, and both count within the window, so with max_versions >= 2 the
    # unarchived set never exceeds max_versions: after every commit, and at the end.
    assert len(actual_live) <= MAX_VERSIONS
    assert max_live_seen <= MAX_VERSIONS and max_live_committed <= MAX_VERSIONS
    assert active in actual_live and not versions[active]["archived"]
    assert not versions[active]["purged"] and versions[active]["active"]
    assert not active_hit, active_hit[:5]
    assert broken_chain == 0 and pointer == active
    assert live == actual_live and purged == actual_purged
    assert purged_acked <= actual_purged and unavailable_seen <= actual_purged
    assert mismatched == 0
    # The race really happened.
    assert retention_archived > 0 and rollbacks_restoring > 0 and actual_purged

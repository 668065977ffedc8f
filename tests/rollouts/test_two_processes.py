"""The guard runs in one place whatever the number of processes: two server processes on
one PostgreSQL database, both taking outcome batches at once and both running the periodic
check every 50 ms. No double rollback (one rollout.rolled_back, one history row) and no lost
step (each step advanced exactly once, in order, and the label moved once at the end)."""

from __future__ import annotations

import random
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.support.server import ServerProcess

pytestmark = pytest.mark.postgresql_only

FAST_CHECKS = {"PROMPTDECK_ROLLOUT_CHECK_S": "0.05"}


def setup(http: httpx.Client, name: str, plan: dict[str, Any]) -> tuple[int, int]:
    created = http.post("/prompts", json={"name": name, "content": "Answer fully."}).json()
    baseline = created["active_version"]["id"]
    candidate = http.post(f"/prompts/{name}/versions", json={"content": "Briefly."}).json()["id"]
    assert http.put(f"/prompts/{name}/labels/production", json={"version_id": baseline}).is_success
    started = http.post(
        f"/prompts/{name}/labels/production/rollout", json={**plan, "version_id": candidate}
    )
    assert started.status_code == 201, started.text
    return baseline, candidate


def batches(
    name: str, rates: dict[int, tuple[float, int]], count: int, seed: int
) -> list[list[dict[str, Any]]]:
    """``count`` batches, each of ``n`` outcomes of each version at its success rate."""
    rng = random.Random(seed)
    return [
        [
            {"prompt_id": name, "version_id": version, "success": rng.random() < rate}
            for version, (rate, n) in rates.items()
            for _ in range(n)
        ]
        for _ in range(count)
    ]


def send_from_both(servers: list[ServerProcess], work: list[list[dict[str, Any]]]) -> None:
    """Every batch once, alternately through each server, eight at a time."""

    def post(i: int) -> None:
        with httpx.Client(base_url=servers[i % 2].url, timeout=60) as http:
            answer = http.post("/outcomes", json={"outcomes": work[i]})
            assert answer.status_code == 202 or answer.is_success, answer.text

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(post, range(len(work))))


def rollout_events(http: httpx.Client, name: str) -> list[dict[str, Any]]:
    events = http.get(f"/prompts/{name}/events", params={"limit": 200}).json()["items"]
    return [e for e in reversed(events) if e["kind"].startswith("rollout.")]


@pytest.fixture
def two(start_servers: Callable[..., ServerProcess]) -> list[ServerProcess]:
    return [start_servers(env=FAST_CHECKS) for _ in range(2)]


def test_two_processes_roll_a_worse_candidate_back_exactly_once(
    two: list[ServerProcess], name: str
) -> None:
    plan = {
        "steps": [5, 25, 50, 100],
        "guard": {"measure": "success_rate", "max_drop": 0.0, "min_outcomes": 100},
        "step_after": {"minutes": 30},
    }
    with httpx.Client(base_url=two[0].url, timeout=60) as http:
        baseline, candidate = setup(http, name, plan)
        # Every batch after the guard's minimum could decide: many race to roll back.
        send_from_both(two, batches(name, {baseline: (0.9, 40), candidate: (0.5, 20)}, 40, 1))
        rollout = http.get(f"/prompts/{name}/labels/production/rollout").json()
        assert rollout["status"] == "rolled_back"
        events = rollout_events(http, name)
        assert [e["kind"] for e in events] == ["rollout.started", "rollout.rolled_back"]
        history = http.get(f"/prompts/{name}/labels/production/history").json()["items"]
        assert [m["kind"] for m in history].count("rollout.rolled_back") == 1


def test_two_processes_take_each_step_once_and_in_order(
    two: list[ServerProcess], name: str
) -> None:
    plan = {
        "steps": [10, 20, 30, 40, 50, 100],
        "guard": {"measure": "success_rate", "max_drop": 0.5, "min_outcomes": 30},
        "step_after": {"minutes": 0, "outcomes": 40},
    }
    with httpx.Client(base_url=two[0].url, timeout=60) as http:
        baseline, candidate = setup(http, name, plan)
        send_from_both(two, batches(name, {baseline: (0.9, 30), candidate: (0.9, 30)}, 60, 2))
        rollout = http.get(f"/prompts/{name}/labels/production/rollout").json()
        assert rollout["status"] == "completed"
        events = rollout_events(http, name)
        kinds = [e["kind"] for e in events]
        assert kinds == ["rollout.started"] + ["rollout.advanced"] * 4 + ["rollout.completed"]
        steps = [e["detail"]["rollout"]["step"] for e in events]
        assert steps == [0, 1, 2, 3, 4, 5]
        assert http.get(f"/prompts/{name}/labels/production").json()["version_id"] == candidate
        moves = http.get(f"/prompts/{name}/labels/production/history").json()["items"]
        assert [m["kind"] for m in moves].count(None) == 2  # set, then the completion's move

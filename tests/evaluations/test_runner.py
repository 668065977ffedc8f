"""The evaluation runner as a background job (server/evaluations.py), on both databases: its
calls in flight are bounded and it claims a round of cases at a time; two server processes
on one database work each case exactly once, at once; an evaluation whose process is killed
mid-run is finished by the next process once the leases end, each case recorded once."""

from __future__ import annotations

import collections
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from promptdeck.config import Settings
from promptdeck.core import Registry
from promptdeck.core.evaluation_work import EvaluationWork
from promptdeck.domain.evaluations import Work
from promptdeck.server.app import create_app
from tests.evaluations.helpers import (
    FAST,
    REFUND,
    add_provider,
    items,
    make_set,
    script_refunds,
    start,
    two_versions,
    wait,
)
from tests.support.fake_llm import FakeLLM, wait_until
from tests.support.server import ServerProcess


def asked(llm: FakeLLM) -> collections.Counter[str]:
    """How often the stand-in was asked each (version, case): the prompt as it got it."""
    return collections.Counter(
        str(r.body["messages"][-1]["content"]) for r in llm.received() if isinstance(r.body, dict)
    )


def test_one_process_keeps_its_concurrency_in_flight_and_claims_a_round_at_a_time(
    settings: Settings,
    registry: Registry,
    database_url: str,
    llm: FakeLLM,
    name: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    claims: list[int] = []  # the size of each claim that found work
    claim = EvaluationWork.claim

    def counted(self: EvaluationWork, token: str, **kw: Any) -> list[Work]:
        found = claim(self, token, **kw)
        if found:
            claims.append(len(found))
        return found

    monkeypatch.setattr(EvaluationWork, "claim", counted)
    add_provider(database_url, llm)
    script_refunds(llm, latency_ms=60)
    app = create_app(settings.model_copy(update={"evaluation_concurrency": 3}), registry)
    with TestClient(app, raise_server_exceptions=False) as api:
        plain, refund = two_versions(api, name)
        make_set(api, "round", name, 30)
        found = wait(api, start(api, name, [plain, refund], "round")["id"])
    assert found["status"] == "completed", found
    assert found["progress"]["done"] == 60
    assert llm.most_in_flight == 3  # never more than its concurrency, and all of it used
    # A claim takes what the process lacks of two rounds (3 in flight, 3 waiting), so about
    # one claim a round of 3 items, not one a freed slot (the runner before: 50 and more).
    assert sum(claims) == 60 and len(claims) <= 60 // 3 + 2, claims


def test_two_processes_work_each_case_exactly_once_and_at_the_same_time(
    start_server: Callable[..., ServerProcess], database_url: str, llm: FakeLLM, name: str
) -> None:
    script_refunds(llm, latency_ms=150)
    env = {**FAST, "PROMPTDECK_EVALUATION_CONCURRENCY": "2"}
    first, second = start_server(env=env), start_server(env=env)
    add_provider(database_url, llm)  # the database is made by the first server
    with httpx.Client(base_url=first.url, timeout=30) as http:
        plain, refund = two_versions(http, name)
        make_set(http, "shared", name, 30)
        started = start(http, name, [plain, refund], "shared")
    with httpx.Client(base_url=second.url, timeout=30) as http:
        found = wait(http, started["id"])
        every = items(http, started["id"])
    assert found["status"] == "completed", found
    assert (found["progress"]["done"], found["progress"]["failed"]) == (60, 0)
    times = asked(llm)
    assert len(times) == 60 and set(times.values()) == {1}, times.most_common(3)
    assert llm.most_in_flight > 2  # more than one process's 2 at once: both were working
    assert len({(i["version_id"], i["case_id"]) for i in every}) == len(every) == 60


def test_an_evaluation_whose_process_is_killed_is_finished_by_the_next_one(
    start_server: Callable[..., ServerProcess], database_url: str, llm: FakeLLM, name: str
) -> None:
    script_refunds(llm, latency_ms=200)
    env = {**FAST, "PROMPTDECK_EVALUATION_CONCURRENCY": "4", "PROMPTDECK_EVALUATION_LEASE_S": "3"}
    doomed = start_server(env=env)
    add_provider(database_url, llm)
    with httpx.Client(base_url=doomed.url, timeout=30) as http:
        plain, refund = two_versions(http, name)
        make_set(http, "resumed", name, 30)
        started = start(http, name, [plain, refund], "resumed")
    wait_until(lambda: len(llm.received()) >= 12)
    doomed.kill()  # SIGKILL: its calls out and its claimed cases are left mid-way
    cut = llm.received()
    assert len(cut) < 60
    survivor = start_server(env=env)
    with httpx.Client(base_url=survivor.url, timeout=30) as http:
        found = wait(http, started["id"])
        every = items(http, started["id"])
    assert found["status"] == "completed", found
    assert (found["progress"]["done"], found["progress"]["failed"]) == (60, 0)
    assert found["verdict"] == "better"
    assert len(every) == 60 and all(i["status"] == "done" for i in every)
    by_version = collections.Counter(i["version_id"] for i in every)
    assert by_version == {plain: 30, refund: 30}
    refunded = [i for i in every if i["version_id"] == refund]
    assert all(i["output"] == "Sorry! We will refund you today." for i in refunded)
    # Every case was asked; those out when the process died were asked again.
    assert len(asked(llm)) == 60 and sum(asked(llm).values()) >= 60
    assert any(REFUND in p for p in asked(llm))

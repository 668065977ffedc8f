"""What the evaluation tests share: a prompt with a plain and a refund-offering version, the
stand-in provider's scripts for them, a provider configured on the test database, and
waiting for an evaluation to finish."""

from __future__ import annotations

import time
from typing import Any

import httpx

from promptdeck.core import Registry
from promptdeck.core.evaluating import Evaluations
from promptdeck.domain.caller import SYSTEM
from promptdeck.domain.outgoing import parse_allowance
from promptdeck.domain.providers import Timeouts, provider_config
from promptdeck.store.engine import create_engine
from tests.support.fake_llm import Answer, FakeLLM

LOOPBACK = "127.0.0.1"
REFUND = "[offers a refund]"  # in the refund version's text: the stand-in's marker for it
CONTAINS_REFUND = {"type": "contains", "value": "refund"}
# The stand-in answers fast and the lease is short: a killed server's cases come back soon.
FAST = {
    "PROMPTDECK_ALLOW_OUTGOING": LOOPBACK,
    "PROMPTDECK_EVALUATION_POLL_S": "0.05",
    "PROMPTDECK_EVALUATION_LEASE_S": "6",
}
SHORT = Timeouts(connect_s=2, read_s=3, total_s=4)  # well within the lease


def evaluations_of(registry: Registry) -> Evaluations:
    return Evaluations(registry.db, parse_allowance(LOOPBACK))


def add_provider(database_url: str, llm: FakeLLM, name: str = "local") -> None:
    """Configure the stand-in as a provider, straight in the database (as the server's
    processes read it; tests/evaluations/test_providers_api.py goes through the API)."""
    engine = create_engine(database_url)
    try:
        evaluations_of(Registry(engine)).add_provider(
            provider_config(name, llm.url, list(llm.models), timeouts=SHORT),
            SYSTEM,
        )
    finally:
        engine.dispose()


def script_refunds(llm: FakeLLM, *, latency_ms: int = 0) -> None:
    """The refund version's answers offer a refund; the plain one's echo the prompt."""
    offer = Answer(text="Sorry! We will refund you today.", latency_ms=latency_ms)
    llm.script(offer, marker=REFUND)
    llm.script(Answer(latency_ms=latency_ms))


def two_versions(http: httpx.Client, name: str) -> tuple[int, int]:
    """A prompt whose first version answers plainly and whose second offers a refund."""
    created = http.post("/prompts", json={"name": name, "content": "Reply to: {{q}}"})
    assert created.status_code == 201, created.text
    plain = created.json()["active_version"]["id"]
    refund = http.post(
        f"/prompts/{name}/versions", json={"content": f"Reply to: {{{{q}}}} {REFUND}"}
    )
    assert refund.status_code == 201, refund.text
    return int(plain), int(refund.json()["id"])


def cases(n: int, tag: str = "case") -> list[dict[str, Any]]:
    return [{"variables": {"q": f"{tag} {i}"}, "metadata": {"i": i}} for i in range(n)]


def make_set(http: httpx.Client, name: str, prompt: str, n: int) -> None:
    made = http.post("/test-sets", json={"name": name, "prompt": prompt, "cases": cases(n)})
    assert made.status_code == 201, made.text


def start(
    http: httpx.Client, prompt: str, versions: list[int], test_set: str, **extra: Any
) -> dict[str, Any]:
    body = {
        "version_ids": versions,
        "test_set": test_set,
        "evaluators": [CONTAINS_REFUND],
        "provider": "local",
        **extra,
    }
    started = http.post(f"/prompts/{prompt}/evaluations", json=body)
    assert started.status_code == 202, started.text
    assert started.headers["Location"] == f"/evaluations/{started.json()['id']}"
    return dict(started.json())


def wait(http: httpx.Client, evaluation_id: int, timeout: float = 120.0) -> dict[str, Any]:
    """The evaluation once it is no longer queued or running (the test asserts after)."""
    deadline = time.monotonic() + timeout
    while True:
        found = http.get(f"/evaluations/{evaluation_id}").json()
        if found["status"] not in ("queued", "running") or time.monotonic() > deadline:
            return dict(found)
        time.sleep(0.05)


def items(http: httpx.Client, evaluation_id: int) -> list[dict[str, Any]]:
    """Every item, page after page."""
    found: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 200}
        if cursor:
            params["cursor"] = cursor
        page = http.get(f"/evaluations/{evaluation_id}/items", params=params).json()
        found += page["items"]
        if not (cursor := page["next_cursor"]):
            return found

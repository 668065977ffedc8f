"""What POST /outcomes refuses besides bad measures: a success that is not a JSON boolean,
a version that is not live (purged, or of a deleted prompt), and a key reporting faster
than PROMPTDECK_OUTCOMES_RATE (429 with Retry-After), on the real app and database."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from promptdeck import limits
from promptdeck.config import Settings
from promptdeck.core import Registry
from promptdeck.core.access import Access
from promptdeck.core.outcomes import IngestLimit
from promptdeck.domain.caller import SYSTEM
from promptdeck.domain.commands import CreatePrompt
from promptdeck.errors import RateLimited
from promptdeck.server import create_app
from tests.api.helpers import assert_problem
from tests.support.server import ServerProcess


def report(prompt: str, version_id: int, n: int = 1, **measures: Any) -> dict[str, Any]:
    one = {"prompt_id": prompt, "version_id": version_id, **measures}
    return {"outcomes": [one] * n}


def counted(api: TestClient, name: str) -> dict[int, int]:
    body = api.get(f"/prompts/{name}/impact").json()
    return {v["version_id"]: v["count"] for v in body["versions"]}


@pytest.mark.parametrize("spelling", [1, 0, "true", "false", "True", "yes", 1.0, "1", [], {}])
def test_success_is_a_json_boolean_and_nothing_else(
    api: TestClient, name: str, spelling: object
) -> None:
    v1 = api.post("/prompts", json={"name": name, "content": "v"}).json()["active_version"]["id"]
    refused = api.post("/outcomes", json=report(name, v1, success=spelling))
    assert assert_problem(refused, 422)["field"] == "outcomes.0.success"
    for ok in (True, False, None):
        assert api.post("/outcomes", json=report(name, v1, success=ok)).status_code == 200
    assert counted(api, name) == {v1: 3}


def test_a_purged_version_is_refused_like_an_unknown_one_and_an_archived_one_still_counts(
    api: TestClient, name: str
) -> None:
    v1 = api.post("/prompts", json={"name": name, "content": "v"}).json()["active_version"]["id"]
    v2 = api.post(f"/prompts/{name}/versions", json={"content": "two"}).json()["id"]
    v3 = api.post(f"/prompts/{name}/versions", json={"content": "three"}).json()["id"]
    assert api.post(f"/prompts/{name}/versions/{v3}/archive").status_code == 200
    purged = api.request("DELETE", f"/prompts/{name}/versions/{v2}", json={"reason": "leak"})
    assert purged.status_code == 200, purged.text
    unknown = api.post("/outcomes", json=report(name, 10**6, success=True))
    gone = api.post(
        "/outcomes",
        json={"outcomes": [*report(name, v1)["outcomes"], {"prompt_id": name, "version_id": v2}]},
    )
    assert assert_problem(unknown, 422)["field"] == "outcomes.0.version_id"
    assert assert_problem(gone, 422)["field"] == "outcomes.1.version_id"
    assert api.post("/outcomes", json=report(name, v3, success=True)).status_code == 200
    assert counted(api, name) == {v3: 1}  # the refused batch counted nothing, v1 included


def test_a_version_of_a_deleted_prompt_is_refused_and_counts_again_once_restored(
    api: TestClient, name: str
) -> None:
    v1 = api.post("/prompts", json={"name": name, "content": "v"}).json()["active_version"]["id"]
    assert api.delete(f"/prompts/{name}").status_code == 204
    refused = api.post("/outcomes", json=report(name, v1, success=True))
    assert assert_problem(refused, 422)["field"] == "outcomes.0.prompt_id"
    assert api.post(f"/prompts/{name}/restore").status_code == 200
    assert api.post("/outcomes", json=report(name, v1, success=True)).status_code == 200
    assert counted(api, name) == {v1: 1}


# --- the rate per key ------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_key_bucket_refills_at_its_rate_and_a_batch_takes_all_or_nothing() -> None:
    clock = Clock()
    limit = IngestLimit(rate=100, burst=2000, clock=clock)
    limit.take("a", 1000)
    limit.take("a", 1000)
    with pytest.raises(RateLimited) as refused:
        limit.take("a", 50)
    assert refused.value.extra["retry_after"] == pytest.approx(0.5)
    limit.take("b", 1000)  # another caller has its own bucket
    clock.now += 0.5
    limit.take("a", 50)
    with pytest.raises(RateLimited):
        limit.take("a", 1)
    clock.now += 3600
    limit.take("a", 2000)  # refilled to the burst, never past it
    with pytest.raises(RateLimited):
        limit.take("a", 1)
    IngestLimit(rate=0, burst=1000, clock=clock).take("a", 10**9)  # 0: no limit


@pytest.fixture
def keyed(settings: Settings, registry: Registry) -> Iterator[tuple[TestClient, Clock]]:
    """The app over a registry that lets each key report 10 outcomes a second past a burst
    of one full batch, on a clock the test moves."""
    clock = Clock()
    limited = Registry(registry.engine, ingest_limit=IngestLimit(10, 1000, clock))
    with TestClient(create_app(settings, limited), raise_server_exceptions=False) as client:
        yield client, clock


def test_a_key_past_its_rate_gets_429_with_retry_after_and_other_keys_go_on(
    keyed: tuple[TestClient, Clock], registry: Registry
) -> None:
    http, clock = keyed
    access = Access(registry.engine)
    one, two = (
        {"Authorization": f"Bearer {access.create_key(n, 'write').secret}"} for n in ("one", "two")
    )
    v1 = registry.create_prompt(CreatePrompt("p"), SYSTEM).prompt.active_version_id
    assert v1 is not None
    full = report("p", v1, limits.OUTCOMES_BATCH_MAX, success=True)
    assert http.post("/outcomes", json=full, headers=one).status_code == 200
    refused = http.post("/outcomes", json=report("p", v1, 20), headers=one)
    assert_problem(refused, 429, "rate-limited")
    assert refused.headers["retry-after"] == "2"  # 20 outcomes at 10 a second
    assert http.post("/outcomes", json=report("p", v1, 20), headers=two).status_code == 200
    clock.now += 2
    assert http.post("/outcomes", json=report("p", v1, 20), headers=one).status_code == 200
    body = http.get("/prompts/p/impact", headers=one).json()
    assert body["versions"][0]["count"] == limits.OUTCOMES_BATCH_MAX + 40


def test_the_server_applies_the_rate_its_settings_name(
    start_server: Callable[..., ServerProcess],
) -> None:
    server = start_server(
        env={"PROMPTDECK_OUTCOMES_RATE": "1", "PROMPTDECK_OUTCOMES_BURST": "1000"}
    )
    with httpx.Client(base_url=server.url, timeout=30) as http:
        made = http.post("/prompts", json={"name": "p", "content": "v"}).json()
        full = report("p", made["active_version"]["id"], limits.OUTCOMES_BATCH_MAX)
        assert http.post("/outcomes", json=full).status_code == 200
        refused = http.post("/outcomes", json=full)
    assert refused.status_code == 429
    assert refused.json()["type"].endswith("/rate-limited")
    assert 900 <= int(refused.headers["retry-after"]) <= 1000

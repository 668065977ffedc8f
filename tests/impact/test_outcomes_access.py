"""Who may report outcomes (the write role) and see impact (read), through the real gate;
raw outcomes kept only when asked."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from promptdeck.config import Settings
from promptdeck.core import Registry
from promptdeck.core.access import Access
from promptdeck.core.outcomes import RawSettings
from promptdeck.domain.caller import SYSTEM
from promptdeck.domain.commands import CreatePrompt, ReportOutcomes
from promptdeck.domain.impact import Outcome
from promptdeck.server import create_app
from promptdeck.store import outcomes as store


@pytest.fixture
def http(settings: Settings, registry: Registry) -> Iterator[TestClient]:
    with TestClient(create_app(settings, registry)) as client:
        yield client


def test_reporting_needs_the_write_role_and_impact_the_read_role(
    http: TestClient, registry: Registry
) -> None:
    access = Access(registry.engine)
    keys = {
        role: {"Authorization": f"Bearer {access.create_key(f'k-{role}', role).secret}"}
        for role in ("read", "write")
    }
    limited = access.create_key("k-team", "write", prefixes=["team-"]).secret
    version_id = registry.create_prompt(CreatePrompt("team-a"), SYSTEM).prompt.active_version_id
    other = registry.create_prompt(CreatePrompt("other"), SYSTEM).prompt.active_version_id
    body = {"outcomes": [{"prompt_id": "team-a", "version_id": version_id, "success": True}]}
    assert http.post("/outcomes", json=body, headers=keys["read"]).status_code == 403
    assert http.post("/outcomes", json=body, headers=keys["write"]).status_code == 200
    assert (
        http.get("/prompts/team-a/impact", headers=keys["read"]).json()["versions"][0]["count"] == 1
    )
    outside = {"outcomes": [{"prompt_id": "other", "version_id": other, "success": True}]}
    bearer = {"Authorization": f"Bearer {limited}"}
    refused = http.post("/outcomes", json=outside, headers=bearer)
    assert (refused.status_code, refused.json()["field"]) == (422, "outcomes.0.prompt_id")
    assert http.post("/outcomes", json=body, headers=bearer).status_code == 200


def test_raw_outcomes_are_kept_only_when_the_setting_is_on(registry: Registry) -> None:
    version_id = registry.create_prompt(CreatePrompt("raw"), SYSTEM).prompt.active_version_id
    assert version_id is not None
    batch = [Outcome("raw", version_id, success=True, tags={"region": "eu"})] * 4
    registry.report_outcomes(ReportOutcomes(batch), SYSTEM)
    with registry.engine.connect() as conn:
        assert store.raw_count(conn, version_id) == 0
    keeping = Registry(registry.engine, raw_outcomes=RawSettings(keep=True, days=7))
    keeping.report_outcomes(ReportOutcomes(batch), SYSTEM)
    with registry.engine.connect() as conn:
        assert store.raw_count(conn, version_id) == 4
    assert registry.impact("raw", SYSTEM).versions[0].summary.count == 8

"""POST /outcomes and GET /prompts/{prompt_id}/impact over the real app and database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.testclient import TestClient

from promptdeck import limits
from tests.api.helpers import assert_problem, create_prompt, create_version


def two_versions(api: TestClient, name: str) -> tuple[int, int]:
    first = create_prompt(api, name)["active_version"]["id"]
    second = create_version(api, name, content="second", activate=True)["id"]
    return first, second


def outcome(prompt: Any, version_id: int, **measures: Any) -> dict[str, Any]:
    return {"prompt_id": prompt, "version_id": version_id, **measures}


def counts(api: TestClient, name: str) -> dict[int, int]:
    body = api.get(f"/prompts/{name}/impact").json()
    return {v["version_id"]: v["count"] for v in body["versions"]}


def test_a_batch_is_counted_per_version_by_prompt_name_or_id(api: TestClient, name: str) -> None:
    v1, v2 = two_versions(api, name)
    prompt_id = api.get(f"/prompts/{name}").json()["id"]
    batch = [outcome(name, v1, success=i % 10 != 0, score=0.9) for i in range(30)]
    batch += [
        outcome(prompt_id, v2, success=i % 2 == 0, latency_ms=100, cost=0.01) for i in range(20)
    ]
    response = api.post("/outcomes", json={"outcomes": batch})
    assert response.status_code == 200, response.text
    assert response.json() == {"accepted": 50, "alerts": 0}
    body = api.get(f"/prompts/{name}/impact").json()
    by_id = {v["version_id"]: v for v in body["versions"]}
    assert (by_id[v1]["count"], by_id[v1]["success_rate"]) == (30, 27 / 30)
    assert (by_id[v2]["count"], by_id[v2]["success_rate"]) == (20, 0.5)
    assert abs(by_id[v1]["mean_score"] - 0.9) < 1e-9 and by_id[v2]["mean_score"] is None
    assert by_id[v2]["latency_p50_ms"] is not None and abs(by_id[v2]["latency_p50_ms"] - 100) <= 1
    assert abs(by_id[v2]["cost"] - 0.2) < 1e-9
    assert [p["version_id"] for p in body["periods"]] == [v1, v2]
    assert by_id[v2]["periods"][0]["end"] is None


def test_a_bad_item_is_a_422_naming_its_index_and_nothing_of_the_batch_counts(
    api: TestClient, name: str
) -> None:
    v1, _ = two_versions(api, name)
    good = [outcome(name, v1, success=True)] * 3
    for bad, field in [
        (outcome(name, v1, score=1.5), "outcomes.3.score"),
        (outcome(name, v1, feedback=2), "outcomes.3.feedback"),
        (outcome(name, 10**6), "outcomes.3.version_id"),
        (outcome("no-such-prompt", v1), "outcomes.3.prompt_id"),
        (outcome(name, v1, latency_ms=-1), "outcomes.3.latency_ms"),
        (
            outcome(name, v1, at=(datetime.now(UTC) + timedelta(hours=1)).isoformat()),
            "outcomes.3.at",
        ),
        (outcome(name, v1, tags={f"k{i}": "v" for i in range(50)}), "outcomes.3.tags"),
    ]:
        response = api.post("/outcomes", json={"outcomes": [*good, bad]})
        assert assert_problem(response, 422)["field"] == field, response.text
    assert counts(api, name) == {}


def test_another_prompts_version_is_refused(api: TestClient, name: str) -> None:
    two_versions(api, name)
    other = create_prompt(api, name + "-other")["active_version"]["id"]
    response = api.post("/outcomes", json={"outcomes": [outcome(name, other)]})
    assert assert_problem(response, 422)["field"] == "outcomes.0.version_id"


def test_batches_are_bounded(api: TestClient, name: str) -> None:
    v1, _ = two_versions(api, name)
    too_many = [outcome(name, v1)] * (limits.OUTCOMES_BATCH_MAX + 1)
    assert_problem(api.post("/outcomes", json={"outcomes": too_many}), 422)
    assert_problem(api.post("/outcomes", json={"outcomes": []}), 422)


def test_compare_says_the_worse_version_is_worse_with_its_test_and_p_value(
    api: TestClient, name: str
) -> None:
    v1, v2 = two_versions(api, name)
    batch = [outcome(name, v1, success=i % 20 != 0, score=0.8 + (i % 3) / 20) for i in range(400)]
    batch += [outcome(name, v2, success=i % 4 != 0, score=0.6 + (i % 3) / 20) for i in range(400)]
    assert api.post("/outcomes", json={"outcomes": batch}).status_code == 200
    body = api.get(f"/prompts/{name}/impact", params={"compare": f"{v1},{v2}"}).json()
    found = {c["measure"]: c for c in body["comparisons"]}
    assert found["success_rate"]["verdict"] == "worse"
    assert found["success_rate"]["test"] == "chi2_contingency"
    assert found["success_rate"]["p_value"] < 0.001
    assert found["mean_score"]["verdict"] == "worse"
    assert body["compare"] == [v1, v2]


def test_compare_needs_two_versions_of_the_prompt(api: TestClient, name: str) -> None:
    v1, _ = two_versions(api, name)
    assert_problem(api.get(f"/prompts/{name}/impact", params={"compare": "1"}), 422)
    assert_problem(api.get(f"/prompts/{name}/impact", params={"compare": "x,2"}), 422)
    assert_problem(api.get(f"/prompts/{name}/impact", params={"compare": f"{v1},999999"}), 404)


def test_since_and_until_select_minutes(api: TestClient, name: str) -> None:
    v1, _ = two_versions(api, name)
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    old = (now - timedelta(hours=2)).isoformat()
    batch = [outcome(name, v1, success=True, at=old)] * 5 + [outcome(name, v1, success=False)] * 3
    assert api.post("/outcomes", json={"outcomes": batch}).status_code == 200
    recent = api.get(
        f"/prompts/{name}/impact", params={"since": (now - timedelta(hours=1)).isoformat()}
    )
    assert [(v["count"], v["success_rate"]) for v in recent.json()["versions"]] == [(3, 0.0)]
    early = api.get(
        f"/prompts/{name}/impact", params={"until": (now - timedelta(hours=1)).isoformat()}
    )
    assert [(v["count"], v["success_rate"]) for v in early.json()["versions"]] == [(5, 1.0)]


def test_impact_of_a_missing_prompt_is_404(api: TestClient) -> None:
    assert_problem(api.get("/prompts/nothing-here/impact"), 404, "prompt-not-found")


def test_ranges_across_days_hours_and_minutes_count_each_outcome_once(
    api: TestClient, name: str
) -> None:
    v1, _ = two_versions(api, name)
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    times = [now - timedelta(minutes=m) for m in (0, 1, 59, 61, 600, 1439, 1441, 3000, 9000)]
    batch = [outcome(name, v1, success=True, at=t.isoformat()) for t in times]
    assert api.post("/outcomes", json={"outcomes": batch}).status_code == 200
    for since_minutes in (2, 60, 62, 1440, 1442, 3001, 20_000):
        since = now - timedelta(minutes=since_minutes)
        body = api.get(f"/prompts/{name}/impact", params={"since": since.isoformat()}).json()
        expected = sum(1 for t in times if t >= since)
        assert sum(v["count"] for v in body["versions"]) == expected, since_minutes


def test_the_impact_page_and_version_page_render_before_any_outcome_and_after(
    api: TestClient, name: str
) -> None:
    v1, v2 = two_versions(api, name)
    page = api.get(f"/ui/prompts/{name}/impact")
    assert page.status_code == 200 and "No outcomes reported yet" in page.text
    batch = [outcome(name, v1, success=True, score=0.9)] * 40
    batch += [outcome(name, v2, success=i % 2 == 0, score=0.5) for i in range(40)]
    assert api.post("/outcomes", json={"outcomes": batch}).status_code == 200
    page = api.get(f"/ui/prompts/{name}/impact", params={"a": v1, "b": v2})
    assert page.status_code == 200 and "<svg" in page.text and 'data-verdict="worse"' in page.text
    version = api.get(f"/ui/prompts/{name}/versions/{v2}")
    assert version.status_code == 200 and "#1 (before)" in version.text
    assert api.get(f"/ui/prompts/{name}/impact", params={"a": "x", "b": "1"}).status_code == 422


def test_true_or_false_is_not_a_number_and_purging_a_prompt_takes_its_outcomes_along(
    api: TestClient, name: str
) -> None:
    v1, _ = two_versions(api, name)
    for bad in ({"score": True}, {"input_tokens": False}, {"version_id": True}):
        response = api.post("/outcomes", json={"outcomes": [{**outcome(name, v1), **bad}]})
        assert_problem(response, 422)
    assert_problem(api.put(f"/prompts/{name}/alerts/active", json={"min_success": False}), 422)
    assert api.put(f"/prompts/{name}/alerts/active", json={"min_success": 0.9}).status_code == 200
    good = [outcome(name, v1, success=True, latency_ms=10)]
    assert api.post("/outcomes", json={"outcomes": good}).status_code == 200
    assert api.delete(f"/prompts/{name}").status_code == 204
    assert api.post(f"/prompts/{name}/purge").status_code == 204
    assert_problem(api.get(f"/prompts/{name}/impact"), 404)


def test_an_alert_on_a_label_the_prompt_does_not_know_is_404_and_a_rule_says_who_set_it(
    api: TestClient, name: str
) -> None:
    two_versions(api, name)
    missing = api.put(f"/prompts/{name}/alerts/staging", json={"min_success": 0.9})
    assert_problem(missing, 404)
    assert missing.json()["field"] == "label"
    assert missing.json()["type"].endswith("/label-not-found")
    set_ = api.put(
        f"/prompts/{name}/alerts/production", json={"min_success": 0.9}, headers={"X-Actor": "ana"}
    )
    assert set_.status_code == 200 and set_.json()["created_by"] == "ana"
    [listed] = api.get(f"/prompts/{name}/alerts").json()
    assert listed["created_by"] == "ana" and listed["created_at"] == set_.json()["created_at"]


def test_a_query_time_without_an_offset_is_utc_and_one_out_of_range_in_utc_a_422(
    api: TestClient, name: str
) -> None:
    create_prompt(api, name)
    naive, utc = "2026-01-01T00:00:00", "2026-01-01T00:00:00Z"
    impact = api.get(f"/prompts/{name}/impact", params={"since": naive})
    assert impact.status_code == 200 and impact.json()["since"] == utc
    events = api.get("/events", params={"since": naive, "prompt": name})
    assert events.status_code == 200 and len(events.json()["items"]) >= 1
    # Once in UTC, a time must still be one a database holds (years 1 to 9999): else a 422.
    for path in (f"/prompts/{name}/impact", "/events"):
        assert_problem(api.get(path, params={"since": "0001-01-01T00:00:00+01:00"}), 422)
        assert_problem(api.get(path, params={"until": "9999-12-31T23:59:59-01:00"}), 422)

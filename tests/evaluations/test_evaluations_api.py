"""Evaluations through the API, run by the app's own runner against the stand-in provider,
on the run's database: the verdict, items and results, cancel, retries and failures, judges,
reported results, refusals."""

from __future__ import annotations

import time

from starlette.testclient import TestClient

from promptdeck.core import Registry
from promptdeck.domain.caller import SYSTEM
from promptdeck.domain.providers import provider_config
from tests.evaluations.helpers import (
    CONTAINS_REFUND,
    REFUND,
    SHORT,
    evaluations_of,
    items,
    make_set,
    script_refunds,
    start,
    two_versions,
    wait,
)
from tests.support.fake_llm import Answer, FakeLLM, wait_until


def provider(registry: Registry, llm: FakeLLM, name: str = "local") -> None:
    evaluations_of(registry).add_provider(
        provider_config(name, llm.url, list(llm.models), timeouts=SHORT),
        SYSTEM,
    )


def test_two_versions_are_compared_case_by_case_and_the_refund_version_is_better(
    api: TestClient, registry: Registry, llm: FakeLLM, name: str
) -> None:
    provider(registry, llm)
    script_refunds(llm)
    plain, refund = two_versions(api, name)
    make_set(api, "smoke", name, 12)
    started = start(api, name, [plain, refund], "smoke")
    assert started["status"] == "queued" and started["progress"]["total"] == 24
    found = wait(api, started["id"])
    assert found["status"] == "completed", found
    assert found["progress"] == {
        "total": 24, "done": 24, "failed": 0, "reports_total": 0, "reports_done": 0,
        "fraction": 1.0,
    }  # fmt: skip
    assert found["verdict"] == "better"
    comparison = found["comparison"]
    assert (comparison["baseline"], comparison["candidate"]) == (plain, refund)
    (test,) = [c for c in comparison["comparisons"] if c["measure"] == "pass_rate"]
    assert (test["a_only"], test["b_only"], test["test"]) == (0, 12, "mcnemar_exact")
    assert test["p_value"] < 0.001
    by_version = {s["version_id"]: s for s in found["summaries"]}
    assert by_version[plain]["evaluators"][0]["pass_rate"]["value"] == 0
    assert by_version[refund]["evaluators"][0]["pass_rate"]["value"] == 1
    assert by_version[refund]["prompt_tokens"] > 0 and by_version[refund]["latency_p50_ms"] > 0
    assert len(llm.received()) == 24  # each case worked once per version


def test_the_candidate_that_drops_the_refund_is_worse(
    api: TestClient, registry: Registry, llm: FakeLLM, name: str
) -> None:
    provider(registry, llm)
    script_refunds(llm)
    plain, refund = two_versions(api, name)
    make_set(api, "smoke-worse", name, 10)
    found = wait(api, start(api, name, [refund, plain], "smoke-worse")["id"])
    assert (found["status"], found["verdict"]) == ("completed", "worse")
    assert "contains" in found["comparison"]["reason"]


def test_each_item_holds_its_case_answer_usage_and_results_in_pages(
    api: TestClient, registry: Registry, llm: FakeLLM, name: str
) -> None:
    provider(registry, llm)
    script_refunds(llm)
    plain, refund = two_versions(api, name)
    make_set(api, "paged", name, 3)
    evaluation = wait(api, start(api, name, [plain, refund], "paged")["id"])
    first = api.get(f"/evaluations/{evaluation['id']}/items", params={"limit": 4}).json()
    assert len(first["items"]) == 4 and first["next_cursor"]
    every = items(api, evaluation["id"])
    assert len(every) == 6 and len({(i["version_id"], i["case_id"]) for i in every}) == 6
    answered = {i["version_id"]: i for i in every if i["position"] == 2}
    assert answered[refund]["output"] == "Sorry! We will refund you today."
    assert answered[plain]["output"] == "Reply to: case 1"
    assert answered[plain]["variables"] == {"q": "case 1"}
    assert answered[plain]["metadata"] == {"i": 1}
    (result,) = answered[refund]["results"]
    assert (result["evaluator"], result["passed"], result["error"]) == ("contains", True, False)
    assert answered[refund]["usage"]["completion_tokens"] == 6
    only = api.get(
        f"/evaluations/{evaluation['id']}/items", params={"version_id": plain, "status": "done"}
    ).json()
    assert {i["version_id"] for i in only["items"]} == {plain} and len(only["items"]) == 3


def test_cancel_stops_claiming_and_the_cases_already_out_are_recorded(
    api: TestClient, registry: Registry, llm: FakeLLM, name: str
) -> None:
    provider(registry, llm)
    llm.script(Answer(text="slow refund", latency_ms=400))
    plain, refund = two_versions(api, name)
    make_set(api, "to-cancel", name, 100)
    started = start(api, name, [plain, refund], "to-cancel")
    wait_until(lambda: len(llm.received()) >= 5)
    cancelled = api.post(f"/evaluations/{started['id']}/cancel", headers={"X-Actor": "ana"})
    assert cancelled.status_code == 200, cancelled.text
    assert (cancelled.json()["status"], cancelled.json()["cancelled_by"]) == ("cancelled", "ana")
    time.sleep(1.5)  # the calls out finish (0.4 s each) and nothing more is claimed
    asked = len(llm.received())  # the calls started before the cancel reached the stand-in
    time.sleep(1.0)
    found = api.get(f"/evaluations/{started['id']}").json()
    assert found["status"] == "cancelled" and found["summaries"] is None
    assert len(llm.received()) == asked <= 5 + 2 * 16  # what was out, and one claim more
    assert found["progress"]["done"] <= asked
    again = api.post(f"/evaluations/{started['id']}/cancel")
    assert again.status_code == 409
    assert again.json()["type"].endswith("/evaluation-finished")


def test_a_429_is_tried_again_and_a_failing_call_is_a_failed_item_not_a_failed_run(
    api: TestClient, registry: Registry, llm: FakeLLM, name: str
) -> None:
    provider(registry, llm)
    llm.script(Answer(status=429, retry_after="0"), Answer(text="refund granted"), marker=REFUND)
    llm.script(Answer(status=500, message="the model is down"))
    plain, refund = two_versions(api, name)
    make_set(api, "flaky", name, 4)
    found = wait(api, start(api, name, [plain, refund], "flaky")["id"])
    assert found["status"] == "completed"
    assert (found["progress"]["done"], found["progress"]["failed"]) == (8, 4)
    every = items(api, found["id"])
    failed = [i for i in every if i["status"] == "failed"]
    assert {i["version_id"] for i in failed} == {plain}
    assert "500" in failed[0]["error"] and failed[0]["results"][0]["error"] is True
    by_version = {s["version_id"]: s for s in found["summaries"]}
    assert by_version[plain]["failed_calls"] == 4
    assert by_version[plain]["evaluators"][0]["errors"] == 4
    assert found["comparison"]["errors"] == {"contains": 4}  # no pair to compare
    assert found["verdict"] == "inconclusive"
    assert all(i["status"] == "done" for i in every if i["version_id"] == refund)


def test_a_judge_is_a_prompt_fixed_to_its_version_and_grades_each_answer(
    api: TestClient, registry: Registry, llm: FakeLLM, name: str
) -> None:
    provider(registry, llm)
    script_refunds(llm)
    rubric = f"{name}-rubric"
    api.post(
        "/prompts",
        json={"name": rubric, "content": "Grade [rubric]: {{output}} (wanted {{expected}})"},
    )
    llm.script(Answer(json_output={"score": 0.9, "pass": True, "reason": "kind"}), model="judge")
    _, refund = two_versions(api, name)
    make_set(api, "judged", name, 2)
    judge = {"type": "judge", "prompt": rubric, "model": "judge", "name": "polite"}
    started = start(
        api, name, [refund], "judged", evaluators=[CONTAINS_REFUND, judge], provider="local"
    )
    (config,) = [e for e in started["evaluators"] if e["type"] == "judge"]
    active = api.get(f"/prompts/{rubric}").json()["active_version"]
    assert (config["version"], config["number"]) == (active["id"], 1)
    found = wait(api, started["id"])
    assert found["status"] == "completed", found
    summary = found["summaries"][0]["evaluators"]
    assert [(e["name"], e["passed"]) for e in summary] == [("contains", 2), ("polite", 2)]
    assert summary[1]["mean_score"]["value"] == 0.9
    graded = [r for r in llm.received() if r.model == "judge"]
    assert len(graded) == 2
    assert (
        "Grade [rubric]: Sorry! We will refund you today."
        in graded[0].body["messages"][0]["content"]
    )


def test_results_reported_by_the_caller_complete_an_evaluation_without_a_provider(
    api: TestClient, name: str
) -> None:
    plain, refund = two_versions(api, name)
    make_set(api, "mine", name, 8)
    body = {
        "version_ids": [plain, refund],
        "test_set": "mine",
        "evaluators": [CONTAINS_REFUND, {"type": "reported", "name": "mine"}],
    }
    started = api.post(f"/prompts/{name}/evaluations", json=body).json()
    assert started["provider"] is None and started["progress"]["reports_total"] == 16
    waiting = api.get(
        f"/evaluations/{started['id']}/items", params={"awaiting": "true", "limit": 200}
    ).json()["items"]
    assert len(waiting) == 16
    reports = [
        {
            "item_id": i["id"],
            "output": "a refund" if i["version_id"] == refund else "no",
            "results": {"mine": {"score": 1.0 if i["version_id"] == refund else 0.0}},
        }
        for i in waiting
    ]
    first = api.post(f"/evaluations/{started['id']}/results", json={"results": reports[:10]})
    assert first.status_code == 200, first.text
    assert (first.json()["recorded"], first.json()["evaluation"]["status"]) == (10, "running")
    last = api.post(f"/evaluations/{started['id']}/results", json={"results": reports})
    assert (last.json()["recorded"], last.json()["ignored"]) == (6, 10)
    found = last.json()["evaluation"]
    assert (found["status"], found["verdict"]) == ("completed", "better")
    names = [e["name"] for e in found["summaries"][1]["evaluators"]]
    assert names == ["contains", "mine"]
    late = api.post(f"/evaluations/{started['id']}/results", json={"results": reports[:1]})
    assert late.status_code == 409


def test_starting_an_evaluation_refuses_what_cannot_run_naming_the_field(
    api: TestClient, registry: Registry, llm: FakeLLM, name: str
) -> None:
    provider(registry, llm)
    plain, refund = two_versions(api, name)
    other, _ = two_versions(api, f"{name}-other")
    make_set(api, "refusals", name, 1)
    make_set(api, "others", f"{name}-other", 1)
    base = {"version_ids": [plain, refund], "test_set": "refusals", "provider": "local",
            "evaluators": [CONTAINS_REFUND]}  # fmt: skip
    refused = {
        "version_ids": ({**base, "version_ids": [plain, other]}, 404, "version_ids[1]"),
        "test_set": ({**base, "test_set": "others"}, 404, "test_set"),
        "provider": ({**base, "provider": "nowhere"}, 404, "provider"),
        "model": ({**base, "model": "gpt-9"}, 422, "model"),
        "pattern": ({**base, "evaluators": [{"type": "regex", "pattern": "(?=x)"}]}, 422,
                    "evaluators[0].pattern"),
        "type": ({**base, "evaluators": [{"type": "vibes"}]}, 422, "evaluators[0].type"),
        "judge": ({**base, "provider": None, "evaluators": [{"type": "judge", "prompt": name}]},
                  422, "evaluators[0].provider"),
        "version": ({**base, "test_set_version": 2}, 422, "test_set_version"),
    }  # fmt: skip
    for what, (body, status, field) in refused.items():
        answer = api.post(f"/prompts/{name}/evaluations", json=body)
        assert (answer.status_code, answer.json().get("field")) == (status, field), what
    assert api.get(f"/prompts/{name}/evaluations").json()["items"] == []


def test_an_idempotency_key_replays_the_first_evaluation(
    api: TestClient, registry: Registry, llm: FakeLLM, name: str
) -> None:
    provider(registry, llm)
    plain, refund = two_versions(api, name)
    make_set(api, "once", name, 1)
    body = {"version_ids": [plain, refund], "test_set": "once", "provider": "local",
            "evaluators": [CONTAINS_REFUND]}  # fmt: skip
    key = {"Idempotency-Key": "ci-run-1"}
    first = api.post(f"/prompts/{name}/evaluations", json=body, headers=key)
    second = api.post(f"/prompts/{name}/evaluations", json=body, headers=key)
    assert first.json()["id"] == second.json()["id"]
    assert len(api.get(f"/prompts/{name}/evaluations").json()["items"]) == 1

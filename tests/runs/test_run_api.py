"""POST /prompts/{id}/run against the stand-in provider, on the run's database: a saved
version and a draft, whole and streamed, the contract's checks, the provider's failures as
502/504 (whole) or an error event (streamed), the event log, the caller's limits."""

from __future__ import annotations

import json
from typing import Any

from starlette.testclient import TestClient

from promptdeck.config import Settings
from promptdeck.core import Registry
from promptdeck.domain.providers import RetryPolicy, Timeouts
from promptdeck.server.app import create_app
from tests.runs.conftest import add_provider
from tests.support.fake_llm import Answer, FakeLLM

CONTRACT = {
    "variables": {
        "type": "object",
        "properties": {"q": {"type": "string"}, "n": {"type": "integer", "minimum": 1}},
        "required": ["q", "n"],
    },
    "tools": [
        {
            "type": "function",
            "function": {"name": "lookup", "parameters": {"type": "object", "properties": {}}},
        }
    ],
}


def events_of(text: str) -> list[tuple[str, Any]]:
    """A Server-Sent Events body as (event, JSON data) pairs."""
    found = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        found.append((fields["event"], json.loads(fields["data"])))
    return found


def prompt(api: TestClient, name: str, **body: Any) -> dict[str, Any]:
    made = api.post("/prompts", json={"name": name, "content": "Answer: {{q}}", **body})
    assert made.status_code == 201, made.text
    return dict(made.json())


def runs_recorded(api: TestClient, name: str) -> list[dict[str, Any]]:
    found = api.get("/events", params={"prompt": name, "kind": "prompt.run"})
    assert found.status_code == 200, found.text
    return list(found.json()["items"])


def test_a_saved_version_runs_with_its_config_and_answers_output_usage_latency_and_cost(
    api: TestClient, registry: Registry, llm: FakeLLM, name: str
) -> None:
    add_provider(registry, llm, prices={"m": {"input": 1_000_000, "output": 2_000_000}})
    llm.script(Answer(text="Here it is.", usage={"prompt_tokens": 3, "completion_tokens": 4}))
    created = prompt(api, name)
    version = api.post(
        f"/prompts/{name}/versions",
        json={"content": "Answer: {{q}}", "model_config": {"temperature": 0.2}},
    ).json()
    ran = api.post(
        f"/prompts/{name}/run",
        json={"version_id": version["id"], "variables": {"q": "why"}, "provider": "local"},
        headers={"X-Actor": "ada"},
    )
    assert ran.status_code == 200, ran.text
    out = ran.json()
    assert out["output"] == "Here it is." and out["tool_calls"] == []
    assert out["usage"] == {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}
    assert out["cost"] == 3 + 8  # per million tokens, priced by the million
    assert out["latency_ms"] > 0 and out["version_id"] == version["id"]
    assert (out["provider"], out["model"], out["prompt_id"]) == ("local", "m", created["id"])
    (sent,) = llm.received()
    assert sent.body["temperature"] == 0.2
    assert sent.body["messages"] == [{"role": "user", "content": "Answer: why"}]
    (event,) = runs_recorded(api, name)
    assert event["actor"] == "ada" and event["version_id"] == version["id"]
    detail = event["detail"]
    assert (detail["provider"], detail["model"], detail["ok"], detail["draft"]) == (
        "local",
        "m",
        True,
        False,
    )
    assert detail["latency_ms"] > 0 and "why" not in json.dumps(event)  # no variables kept


def test_an_unsaved_chat_draft_runs_with_its_tools_and_nothing_is_saved(
    api: TestClient, local: FakeLLM, name: str
) -> None:
    local.script(Answer(tool_calls=(("lookup", {"id": 7}),)), model="other")
    created = prompt(api, name)
    draft = {
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "{{q}} x{{n}}"},
        ],
        "model_config": {"max_tokens": 50},
        "contract": CONTRACT,
    }
    ran = api.post(
        f"/prompts/{name}/run",
        json={
            "draft": draft,
            "variables": {"q": "hi", "n": 2},
            "provider": "local",
            "model": "other",
        },
    )
    assert ran.status_code == 200, ran.text
    out = ran.json()
    assert out["version_id"] is None and out["model"] == "other"
    assert [(c["name"], json.loads(c["arguments"])) for c in out["tool_calls"]] == [
        ("lookup", {"id": 7})
    ]
    (sent,) = local.received()
    assert sent.body["tools"] == CONTRACT["tools"] and sent.body["max_tokens"] == 50
    assert sent.body["messages"][1] == {"role": "user", "content": "hi x2"}
    assert api.get(f"/prompts/{name}").json()["version_count"] == created["version_count"]
    (event,) = runs_recorded(api, name)
    assert event["version_id"] is None and event["detail"]["draft"] is True


def test_variables_the_contract_refuses_are_a_422_naming_every_path_and_no_call_is_made(
    api: TestClient, local: FakeLLM, name: str
) -> None:
    prompt(api, name)
    draft = {"content": "{{q}} {{n}}", "contract": {"variables": CONTRACT["variables"]}}
    ran = api.post(
        f"/prompts/{name}/run",
        json={"draft": draft, "variables": {"n": 0}, "provider": "local"},
    )
    assert ran.status_code == 422, ran.text
    paths = {e["path"] for e in ran.json()["errors"]}
    assert paths == {"q", "n"} or {"/q", "/n"} <= paths or len(paths) == 2, ran.json()
    assert local.received() == [] and runs_recorded(api, name) == []


def test_a_stream_sends_the_pieces_then_the_whole_answer_and_records_the_run(
    api: TestClient, local: FakeLLM, name: str
) -> None:
    local.script(Answer(text="one two three", pieces=("one ", "two ", "three")))
    prompt(api, name)
    with api.stream(
        "POST",
        f"/prompts/{name}/run",
        json={"variables": {"q": "go"}, "provider": "local"},
        headers={"Accept": "text/event-stream"},
    ) as ran:
        assert ran.status_code == 200
        assert ran.headers["content-type"].startswith("text/event-stream")
        events = events_of(ran.read().decode())
    assert [e for e, _ in events] == ["delta", "delta", "delta", "done"]
    assert "".join(d["text"] for e, d in events if e == "delta") == "one two three"
    done = events[-1][1]
    assert done["output"] == "one two three" and done["first_token_ms"] is not None
    (sent,) = local.received()
    assert sent.body["stream"] is True
    (event,) = runs_recorded(api, name)
    assert event["detail"]["stream"] is True and event["detail"]["ok"] is True


def test_a_failing_provider_is_a_502_whole_and_an_error_event_streamed_both_recorded(
    api: TestClient, registry: Registry, llm: FakeLLM, name: str
) -> None:
    add_provider(registry, llm, retry=RetryPolicy(attempts=1))
    llm.script(Answer(status=500, message="model fell over"))
    prompt(api, name)
    body = {"variables": {"q": "x"}, "provider": "local"}
    whole = api.post(f"/prompts/{name}/run", json=body)
    assert whole.status_code == 502, whole.text
    assert whole.json()["type"].endswith("/provider-unavailable")
    assert "model fell over" in whole.json()["detail"]
    streamed = api.post(f"/prompts/{name}/run", json={**body, "stream": True})
    assert streamed.status_code == 200
    ((kind, problem),) = events_of(streamed.text)
    assert kind == "error" and problem["status"] == 502
    recorded = runs_recorded(api, name)
    assert [e["detail"]["ok"] for e in recorded] == [False, False]
    assert all("provider-unavailable" in e["detail"]["error"] for e in recorded)


def test_a_provider_that_never_answers_is_a_504(
    api: TestClient, registry: Registry, llm: FakeLLM, name: str
) -> None:
    quick = Timeouts(connect_s=1, read_s=0.3, total_s=0.5)
    add_provider(registry, llm, timeouts=quick, retry=RetryPolicy(attempts=1))
    llm.script(Answer(hang=True))
    prompt(api, name)
    ran = api.post(f"/prompts/{name}/run", json={"variables": {"q": "x"}, "provider": "local"})
    assert ran.status_code == 504, ran.text
    assert ran.json()["type"].endswith("/provider-timeout")


def test_a_missing_provider_prompt_or_version_is_a_404_and_a_bad_model_a_422(
    api: TestClient, local: FakeLLM, name: str
) -> None:
    made = prompt(api, name)
    other = prompt(api, name + "-b")
    cases = [
        ({"provider": "nobody"}, 404, "provider-not-found"),
        ({"provider": "local", "version_id": other["active_version"]["id"]}, 404, "not-found"),
        ({"provider": "local", "model": "gpt-9"}, 422, "validation-error"),
        ({"provider": "local", "version_id": 1, "draft": {"content": "x"}}, 422, ""),
        ({"provider": "local", "draft": {"content": "x", "messages": []}}, 422, ""),
        ({"provider": "local", "draft": {"model_config": {"stream": True}}}, 422, ""),
    ]
    for body, status, code in cases:
        ran = api.post(f"/prompts/{made['id']}/run", json={"variables": {"q": "x"}, **body})
        assert ran.status_code == status, (body, ran.text)
        assert ran.json()["type"].endswith(code), (body, ran.json())
    assert api.post("/prompts/nothing-here/run", json={"provider": "local"}).status_code == 404
    assert local.received() == []


def test_runs_past_the_callers_rate_are_429_with_retry_after(
    settings: Settings, registry: Registry, local: FakeLLM, name: str
) -> None:
    slow = settings.model_copy(update={"run_rate": 1.0, "run_burst": 2})
    with TestClient(create_app(slow, registry), raise_server_exceptions=False) as api:
        prompt(api, name)
        body = {"variables": {"q": "x"}, "provider": "local"}
        eve = {"X-Actor": "eve"}
        answers = [api.post(f"/prompts/{name}/run", json=body, headers=eve) for _ in range(3)]
        assert [a.status_code for a in answers] == [200, 200, 429]
        assert int(answers[2].headers["retry-after"]) >= 1
        assert "PROMPTDECK_RUN_RATE" in answers[2].json()["detail"]
        other = api.post(f"/prompts/{name}/run", json=body, headers={"X-Actor": "bob"})
        assert other.status_code == 200  # a bound per caller
        assert len(runs_recorded(api, name)) == 3  # a refused run is no run

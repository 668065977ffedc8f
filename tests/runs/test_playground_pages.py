"""The playground's pages in process (no script): the variables form from the contract, Run
side by side, the stream the script reads, saving the draft, a case from a run."""

from __future__ import annotations

import json
import re

from starlette.testclient import TestClient

from promptdeck.core import Registry
from tests.runs.test_run_api import CONTRACT, events_of, runs_recorded
from tests.support.fake_llm import FakeLLM


def page_of(api: TestClient, name: str, **params: str) -> str:
    found = api.get(f"/ui/prompts/{name}/playground", params=params)
    assert found.status_code == 200, found.text
    return found.text


def made(api: TestClient, name: str) -> tuple[int, int]:
    first = api.post("/prompts", json={"name": name, "content": "Tell {{q}} {{n}} times"})
    contract = {"variables": CONTRACT["variables"]}
    second = api.post(
        f"/prompts/{name}/versions",
        json={"content": "Shout {{q}} {{n}} times", "contract": contract, "activate": True},
    )
    assert second.status_code == 201, second.text
    return int(first.json()["active_version"]["id"]), int(second.json()["id"])


def test_the_page_offers_a_field_for_each_variable_of_the_contract_and_the_models(
    api: TestClient, local: FakeLLM, name: str
) -> None:
    made(api, name)
    html = page_of(api, name)
    assert 'name="var.q"' in html and 'name="var.n"' in html
    assert "integer, required" in html
    assert '<option value="local/m"' in html and '<option value="local/other"' in html
    assert "Shout {{q}} {{n}} times" in html  # the active version is the draft to start from
    assert f'href="/ui/prompts/{name}/playground"' in html  # the tab


def test_run_answers_the_draft_and_the_version_side_by_side_on_the_same_variables(
    api: TestClient, local: FakeLLM, name: str
) -> None:
    first, second = made(api, name)
    form = {
        "base": str(second),
        "compare": str(first),
        "kind": "text",
        "content": "Whisper {{q}} {{n}} times",
        "model_config": "{}",
        "var.q": "hi",
        "var.n": "3",
        "model_choice": "local/m",
        "action": "run",
    }
    ran = api.post(f"/ui/prompts/{name}/playground", data=form)
    assert ran.status_code == 200, ran.text
    assert "Whisper hi 3 times" in ran.text and "Tell hi 3 times" in ran.text
    assert len(runs_recorded(api, name)) == 2
    history = api.get(f"/ui/prompts/{name}/versions").text
    assert "Ran a draft on local · m: answered in" in history
    contract = json.dumps({"variables": CONTRACT["variables"]})
    refused = api.post(
        f"/ui/prompts/{name}/playground", data={**form, "var.n": "0", "contract": contract}
    )
    assert refused.status_code == 200  # each pane says why it has no answer
    (said,) = re.findall(r'<p class="error run-error" role="alert">([^<]+)</p>', refused.text)
    assert "n:" in said or "/n" in said or "'n'" in said, said
    assert len(runs_recorded(api, name)) == 3  # the version ran; the draft was refused


def test_the_stream_the_script_reads_sends_pieces_then_the_answer(
    api: TestClient, local: FakeLLM, name: str
) -> None:
    _, second = made(api, name)
    form = {
        "base": str(second), "kind": "text", "content": "Say {{q}} {{n}}", "var.q": "yo",
        "var.n": "2", "model_choice": "local/m", "target": "draft",
        "contract": json.dumps({"variables": CONTRACT["variables"]}),
    }  # fmt: skip
    ran = api.post(f"/ui/prompts/{name}/playground/run", data=form)
    assert ran.headers["content-type"].startswith("text/event-stream"), ran.text
    events = events_of(ran.text)
    assert events[-1][0] == "done" and events[-1][1]["output"] == "Say yo 2"
    bad = api.post(f"/ui/prompts/{name}/playground/run", data={**form, "var.n": "x"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["path"]


def test_the_draft_is_saved_as_a_new_version_and_a_run_becomes_a_test_case(
    api: TestClient, registry: Registry, local: FakeLLM, name: str
) -> None:
    _, second = made(api, name)
    form = {
        "base": str(second), "kind": "text", "content": "Sing {{q}} {{n}}",
        "model_config": '{"temperature": 0.5}', "var.q": "la", "var.n": "4",
        "description": "sung", "actor": "ada",
    }  # fmt: skip
    saved = api.post(
        f"/ui/prompts/{name}/playground", data={**form, "action": "save"}, follow_redirects=False
    )
    assert saved.status_code == 303, saved.text
    version_id = int(re.findall(r"/versions/(\d+)", saved.headers["location"])[0])
    version = api.get(f"/prompts/{name}/versions/{version_id}").json()
    assert (version["content"], version["description"]) == ("Sing {{q}} {{n}}", "sung")
    assert version["model_config"] == {"temperature": 0.5} and version["created_by"] == "ada"
    assert api.get(f"/prompts/{name}").json()["active_version"]["id"] == second  # not activated
    seed = [{"variables": {"q": "a", "n": 1}}]
    made_set = api.post("/test-sets", json={"name": f"{name}-set", "prompt": name, "cases": seed})
    assert made_set.status_code == 201, made_set.text
    case = {**form, "action": "case", "test_set": f"{name}-set", "with_output": "on"}
    added = api.post(f"/ui/prompts/{name}/playground", data={**case, "output": "la la"})
    assert added.status_code == 200 and "Added a case" in added.text, added.text
    cases = api.get(f"/test-sets/{name}-set/cases").json()["items"]
    assert [(c["variables"], c["expected"]) for c in cases][-1] == ({"q": "la", "n": 4}, "la la")
    assert len(cases) == 2

"""The test set, evaluation and gate pages over the real app and database (the app's own
evaluation runner against the stand-in provider), without a browser: statuses, content,
forms, and refused forms answered with the form and its reason, never a 500."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

import hypothesis
import pytest
from hypothesis import HealthCheck, given
from hypothesis import strategies as st
from starlette.testclient import TestClient

from promptdeck.config import Settings
from promptdeck.core import Registry
from promptdeck.core.access import Access
from promptdeck.domain.caller import SYSTEM
from promptdeck.domain.commands import CreatePrompt
from promptdeck.domain.providers import provider_config
from promptdeck.server import create_app
from tests.access.test_cors_and_audit import PASSWORD, signed_in
from tests.evaluations.helpers import (
    LOOPBACK,
    SHORT,
    evaluations_of,
    make_set,
    script_refunds,
    two_versions,
    wait,
)
from tests.support.fake_llm import FakeLLM
from tests.ui.test_pages import text_of

CONTAINS = '[{"type": "contains", "value": "refund"}]'


@pytest.fixture
def settings(database_url: str) -> Settings:
    """The app's settings: its runner may call the stand-in on loopback, and looks often."""
    return Settings(
        database_url=database_url,
        max_body_bytes=256 * 1024,
        allow_outgoing=LOOPBACK,
        evaluation_poll_s=0.05,
        evaluation_lease_s=30,
    )


@pytest.fixture
def llm() -> Iterator[FakeLLM]:
    with FakeLLM(models=("m",)) as server:
        yield server


def local(registry: Registry, llm: FakeLLM) -> None:
    evaluations_of(registry).add_provider(
        provider_config("local", llm.url, list(llm.models), timeouts=SHORT), SYSTEM
    )


def jsonl(n: int, tag: str = "case") -> str:
    return "\n".join(f'{{"variables": {{"q": "{tag} {i}"}}}}' for i in range(n))


def test_a_test_set_is_created_from_pasted_jsonl_and_its_page_shows_versions_and_cases(
    api: TestClient, name: str
) -> None:
    two_versions(api, name)
    assert "No test sets yet" in api.get("/ui/test-sets").text
    form = {"name": "smoke", "prompt": name, "cases": jsonl(3), "format": "jsonl"}
    made = api.post("/ui/test-sets", data=form, follow_redirects=False)
    assert (
        made.status_code == 303 and made.headers["location"] == "/ui/test-sets/smoke?done=created"
    )
    page = text_of(api.get("/ui/test-sets/smoke?done=created").text)
    assert "Test set created." in page and "version 1 · 3 cases" in page
    assert '{"q": "case 2"}' in page
    listed = text_of(api.get("/ui/test-sets", params={"prompt": name}).text)
    assert "smoke" in listed and name in listed
    assert api.get("/ui/test-sets", params={"prompt": "nothing-here"}).status_code == 404


def test_cases_are_added_from_an_uploaded_csv_file_as_the_next_version_and_paged(
    api: TestClient, name: str
) -> None:
    two_versions(api, name)
    make_set(api, "paged", name, 3)
    rows = "question,expected\n" + "".join(f"Where is parcel {i}?,tracking\n" for i in range(60))
    files = {"file": ("more.csv", rows.encode(), "text/csv")}
    added = api.post(
        "/ui/test-sets/paged/cases",
        data={"description": "tracking", "format": "jsonl"},
        files=files,
        follow_redirects=False,
    )
    assert added.status_code == 303, added.text
    first = api.get("/ui/test-sets/paged").text
    assert "version 2 · 63 cases" in text_of(first) and "tracking" in first
    following = re.search(r'href="([^"]+)">Next page', first)
    assert following is not None
    second = text_of(api.get(html.unescape(following.group(1))).text)
    assert "Where is parcel 59?" in second and "Where is parcel 10?" not in second
    older = text_of(api.get("/ui/test-sets/paged", params={"version": 1}).text)
    assert "Cases of version 1" in older and "parcel" not in older


def test_a_refused_test_set_form_comes_back_with_the_reason_and_what_was_typed(
    api: TestClient, name: str
) -> None:
    two_versions(api, name)
    bad = {"name": "broken", "prompt": name, "cases": '{"variables": {}}\nnot json'}
    page = api.post("/ui/test-sets", data=bad)
    assert page.status_code == 422
    assert "line 2 is not JSON" in text_of(page.text) and "not json</textarea>" in page.text
    empty = api.post("/ui/test-sets", data={"name": "e", "prompt": name})
    assert empty.status_code == 422 and "Cases: paste at least one case" in text_of(empty.text)
    missing = api.post("/ui/test-sets", data={"name": "m", "prompt": "nope", "cases": jsonl(1)})
    assert missing.status_code == 404 and 'name="cases"' in missing.text
    binary = {"file": ("x.jsonl", b"\xff\xfe\x00", "application/octet-stream")}
    refused = api.post("/ui/test-sets", data={"name": "b", "prompt": name}, files=binary)
    assert refused.status_code == 422 and "not UTF-8" in refused.text
    assert api.get("/ui/test-sets/nothing").status_code == 404


def test_an_evaluation_started_from_the_form_runs_and_its_page_shows_the_verdict(
    api: TestClient, registry: Registry, llm: FakeLLM, name: str
) -> None:
    local(registry, llm)
    script_refunds(llm)
    plain, refund = two_versions(api, name)
    make_set(api, "refunds", name, 12)
    form_page = api.get(f"/ui/prompts/{name}/evaluations").text
    assert "No evaluations of" in form_page and 'value="local:m"' in form_page
    form = {
        "baseline": str(plain),
        "candidate": str(refund),
        "test_set": "refunds",
        "evaluators": CONTAINS,
        "target": "local:m",
    }
    started = api.post(f"/ui/prompts/{name}/evaluations", data=form, follow_redirects=False)
    assert started.status_code == 303, started.text
    where = started.headers["location"]
    evaluation_id = int(re.findall(r"\d+", where)[0])
    assert wait(api, evaluation_id)["status"] == "completed"
    page = api.get(where)
    shown = text_of(page.text)
    assert "#2 against #1: better" in shown and "data-reload" not in page.text
    assert "passes more cases on contains" in shown
    assert "12 of 12" in shown and "100.0%" in shown and "0.0%" in shown
    assert 'class="verdict better"' in page.text and "Sorry! We will refund you today." in shown
    only_plain = text_of(api.get(where.split("?")[0], params={"version_id": plain}).text)
    assert "refund you today" not in only_plain
    listed = text_of(api.get(f"/ui/prompts/{name}/evaluations").text)
    assert "#1 → #2" in listed and "better" in listed and "24 / 24" in listed


def test_a_waiting_evaluation_reloads_itself_until_it_is_cancelled(
    api: TestClient, name: str
) -> None:
    _plain, refund = two_versions(api, name)
    make_set(api, "waits", name, 2)
    form = {
        "candidate": str(refund),
        "test_set": "waits",
        "evaluators": '{"type": "reported", "name": "mine"}',
        "target": "",
    }
    started = api.post(f"/ui/prompts/{name}/evaluations", data=form, follow_redirects=False)
    where = started.headers["location"].split("?")[0]
    waiting = api.get(where, params={"done": "started", "status": "pending"}).text
    assert f'data-reload="2" data-reload-url="{where}?status=pending"' in waiting
    assert f'<a href="{where}?status=pending" class="small">Reload now</a>' in waiting
    assert "Cancel evaluation" in waiting and "answers reported by the caller" in text_of(waiting)
    cancelled = api.post(where + "/cancel", follow_redirects=True)
    assert "Evaluation cancelled." in cancelled.text and "cancelled by web" in text_of(
        cancelled.text
    )
    assert "data-reload" not in cancelled.text and "Cancel evaluation" not in cancelled.text
    again = api.post(where + "/cancel")
    assert again.status_code == 409


@pytest.mark.parametrize(
    ("evaluators", "said"),
    [
        ("not json", "Evaluators: not JSON"),
        ('[{"type": "nope"}]', "evaluators[0]"),
        ("[]", "Evaluators"),
        ('"text"', "Evaluators"),
    ],
)
def test_a_refused_evaluation_form_comes_back_with_the_reason(
    api: TestClient, name: str, evaluators: str, said: str
) -> None:
    _plain, refund = two_versions(api, name)
    make_set(api, "s", name, 1)
    form = {"candidate": str(refund), "test_set": "s", "evaluators": evaluators}
    page = api.post(f"/ui/prompts/{name}/evaluations", data=form)
    assert page.status_code == 422, page.text[:300]
    assert said in text_of(page.text) and 'id="ev-evaluators"' in page.text


def test_a_gate_is_set_on_the_labels_page_and_the_deploy_request_shows_its_check_and_override(
    api: TestClient, registry: Registry, llm: FakeLLM, name: str
) -> None:
    plain, refund = two_versions(api, name)
    api.put(f"/prompts/{name}/labels/production", json={"version_id": plain})
    make_set(api, "gate-set", name, 4)
    gate = {"label": "production", "test_set": "gate-set", "thresholds": "contains=90%"}
    made = api.post(f"/ui/prompts/{name}/gates", data=gate, follow_redirects=False)
    assert made.status_code == 303, made.text
    labels = text_of(api.get(f"/ui/prompts/{name}/labels").text)
    assert "gate-set : contains ≥ 90%" in labels
    proposed = api.post(
        f"/ui/prompts/{name}/deploy-requests",
        data={"label": "production", "version_id": str(refund), "reason": "ship"},
        headers={"X-Actor": "dev"},
        follow_redirects=False,
    )
    url = proposed.headers["location"]
    page = api.get(url).text
    assert "not passed" in text_of(page) and "no completed evaluation of version" in page
    assert 'name="override_gate"' in page
    start = re.search(r'href="([^"]+)">Start an evaluation', page)
    assert start is not None
    form = api.get(html.unescape(start.group(1))).text
    assert f'<option value="{plain}" selected>' in form
    assert f'<option value="{refund}" selected>' in form
    refused = api.post(url + "/approve", data={"reason": "ok", "actor": "boss"})
    assert refused.status_code == 409 and "gate" in text_of(refused.text).lower()
    through = api.post(
        url + "/approve",
        data={"reason": "hotfix", "override_gate": "on", "actor": "boss"},
        follow_redirects=True,
    )
    assert through.status_code == 200 and 'id="req-status">approved' in through.text
    bad = api.post(f"/ui/prompts/{name}/gates", data={**gate, "thresholds": "contains=2"})
    assert bad.status_code == 422 and "Least pass rates" in text_of(bad.text)
    removed = api.post(f"/ui/prompts/{name}/labels/production/gate/remove")
    assert "Gate removed." in removed.text and "No label of" in removed.text
    assert api.post(f"/ui/prompts/{name}/labels/production/gate/remove").status_code == 404


FORMS: list[tuple[str, list[str]]] = [
    ("/ui/test-sets", ["name", "prompt", "cases", "format", "description"]),
    ("/ui/test-sets/hostile/cases", ["cases", "format", "description"]),
    (
        "/ui/prompts/{name}/evaluations",
        ["candidate", "baseline", "test_set", "evaluators", "target"],
    ),
    ("/ui/prompts/{name}/gates", ["label", "test_set", "thresholds"]),
]
TEXT = st.text(st.characters(codec="utf-8"), max_size=60) | st.sampled_from(
    ["", "0", "-1", "2147483648", "[]", "{}", "null", "a" * 2000, '{"type": "regex"}', "x:y"]
)


@hypothesis.settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_hostile_form_inputs_get_a_4xx_page_never_a_500(
    api: TestClient, name: str, data: Any
) -> None:
    if api.get(f"/prompts/{name}").status_code == 404:
        two_versions(api, name)
        make_set(api, "hostile", name, 1)
    path, fields = data.draw(st.sampled_from(FORMS))
    form = {f: data.draw(TEXT, label=f) for f in fields if data.draw(st.booleans())}
    answer = api.post(path.replace("{name}", name), data=form, follow_redirects=False)
    assert answer.status_code < 500, answer.text[:300]
    if answer.status_code >= 400:
        assert answer.headers["content-type"].startswith("text/html")


def test_a_signed_in_writers_upload_carries_the_form_token_and_a_reader_gets_no_form(
    settings: Settings, registry: Registry
) -> None:
    access = Access(registry.engine)
    access.create_user("wes", "write", PASSWORD)
    access.create_user("rea", "read", PASSWORD)
    registry.create_prompt(CreatePrompt("greet", content="Hi {{q}}"), SYSTEM)
    app = create_app(settings, registry)
    files = {"file": ("cases.jsonl", jsonl(2).encode(), "application/jsonl")}
    with signed_in(app, "wes") as writer:
        page = writer.get("/ui/test-sets").text
        token = page.split('name="csrf" value="')[1].split('"')[0]
        form = {"name": "up", "prompt": "greet"}
        forged = writer.post("/ui/test-sets", data=form, files=files)
        assert forged.status_code == 403 and "out of date" in forged.text
        made = writer.post(
            "/ui/test-sets", data={**form, "csrf": token}, files=files, follow_redirects=False
        )
        assert made.status_code == 303, made.text
        assert "2 cases" in text_of(writer.get("/ui/test-sets/up").text)
    with signed_in(app, "rea") as reader:
        assert "New test set" not in reader.get("/ui/test-sets").text
        assert "Add cases" not in reader.get("/ui/test-sets/up").text
        refused = reader.post("/ui/test-sets", data={**form, "cases": jsonl(1)})
        assert refused.status_code == 403


def test_cases_the_prompts_contract_refuses_come_back_next_to_the_form_naming_the_case(
    api: TestClient,
) -> None:
    schema = {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}
    made = api.post(
        "/prompts",
        json={"name": "strict", "content": "Reply to {{q}}", "contract": {"variables": schema}},
    )
    assert made.status_code == 201, made.text
    cases = '{"variables": {"q": "fine"}}\n{"variables": {"q": 5}}'
    page = api.post("/ui/test-sets", data={"name": "typed", "prompt": "strict", "cases": cases})
    assert page.status_code == 422
    said = text_of(page.text)
    assert "cases[1]" in said and 'id="cases"' in page.text and "&#34;q&#34;: 5" in page.text
    assert api.get("/ui/test-sets/typed").status_code == 404

"""POST …/render checks the variables against the version's contract and answers its tools
and response format (the contract arrives by import here, as in test_diff.py)."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.api.helpers import assert_problem, create_prompt
from tests.contracts.helpers import CONTRACT, TEMPLATE, record_with


def imported(api: TestClient, name: str = "reply") -> None:
    create_prompt(api, f"{name}-source", content=TEMPLATE)
    record = record_with(api, f"{name}-source", name, [CONTRACT])
    assert api.post("/prompts/import", json=record).status_code == 201


def test_a_render_with_good_variables_answers_text_tools_and_response_format(
    api: TestClient,
) -> None:
    imported(api)
    good = {"customer": {"name": "Ada", "age": 36}, "tone": "warm"}
    answer = api.post("/prompts/reply/render", json={"variables": good})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["text"] == 'Reply to {"name": "Ada", "age": 36}.'
    assert body["tools"] == CONTRACT["tools"]
    assert body["response_format"] == CONTRACT["response_format"]


def test_a_render_with_bad_variables_is_a_422_naming_every_failing_path(api: TestClient) -> None:
    imported(api)
    bad = {"customer": {"name": "", "age": "old"}, "tone": "shouty"}
    body = assert_problem(
        api.post("/prompts/reply/render", json={"variables": bad}), 422, "variables-invalid"
    )
    assert body["errors"] == [
        {"path": "variables.customer.age", "message": "expected integer"},
        {"path": "variables.customer.name", "message": "must be at least 1 character"},
        {"path": "variables.tone", "message": 'must be one of "warm", "brief"'},
    ]
    assert "variables.customer.age: expected integer" in body["detail"]
    missing = assert_problem(api.post("/prompts/reply/render", json={"variables": {}}), 422)
    assert missing["errors"] == [{"path": "variables.customer", "message": "is required"}]


def test_a_render_without_a_contract_answers_no_tools_and_checks_nothing_new(
    api: TestClient,
) -> None:
    create_prompt(api, "plain", content="Hi {{n}}")
    body = api.post("/prompts/plain/render", json={"variables": {"n": 3}}).json()
    assert (body["text"], body["tools"], body["response_format"]) == ("Hi 3", [], None)

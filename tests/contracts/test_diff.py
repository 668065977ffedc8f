"""GET …/versions/{version_id}/diff?against=: the text diff and the contract changes, each
breaking or compatible, on versions whose contracts arrived by import (how a history with
contracts is written before the create routes take one)."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from tests.api.helpers import assert_problem, create_prompt
from tests.contracts.helpers import CONTRACT, TEMPLATE, record_with, with_required

STRICTER = with_required(CONTRACT, "order_id", {"type": "string", "minLength": 3})


def imported(api: TestClient, name: str) -> tuple[int, int]:
    """``name`` with v1 (CONTRACT) and v2 (adding a required variable); their ids."""
    source = f"{name}-source"
    create_prompt(api, source, content=TEMPLATE)
    body = {"content": TEMPLATE + " Order {{order_id}}."}
    assert api.post(f"/prompts/{source}/versions", json=body).status_code == 201
    record = record_with(api, source, name, [CONTRACT, STRICTER])
    assert api.post("/prompts/import", json=record).status_code == 201
    items = api.get(f"/prompts/{name}/versions").json()["items"]
    new, old = (item["id"] for item in items)  # newest first
    return old, new


def diff(api: TestClient, name: str, version_id: int, against: int, **params: Any) -> Any:
    return api.get(
        f"/prompts/{name}/versions/{version_id}/diff", params={"against": against, **params}
    )


def test_the_diff_of_a_new_required_variable_is_breaking_and_its_reverse_is_not(
    api: TestClient,
) -> None:
    v1, v2 = imported(api, "reply")
    answer = diff(api, "reply", v2, v1)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["version_id"], body["against"], body["breaking"]) == (v2, v1, True)
    assert {
        "path": "variables.order_id",
        "change": "variable new and required",
        "breaking": True,
    } in body["contract_changes"]
    assert "+Reply to {{customer}}. Order {{order_id}}." in body["diff"]
    assert (body["added"], body["removed"], body["comparable"]) == (1, 1, True)
    back = diff(api, "reply", v1, v2).json()
    assert back["breaking"] is False  # dropping a required variable breaks no caller
    same = diff(api, "reply", v1, v1).json()
    assert (same["diff"], same["contract_changes"], same["breaking"]) == ("", [], False)


def test_the_diff_with_another_prompts_version_is_a_404(api: TestClient) -> None:
    v1, _ = imported(api, "reply")
    other, _ = imported(api, "other")
    assert_problem(diff(api, "reply", v1, other), 404)


def test_a_diff_without_against_or_with_too_much_context_is_a_422_naming_it(
    api: TestClient,
) -> None:
    v1, v2 = imported(api, "reply")
    missing = assert_problem(api.get(f"/prompts/reply/versions/{v2}/diff"), 422)
    assert missing["field"] == "against"
    wide = assert_problem(diff(api, "reply", v2, v1, context=1_000_000), 422)
    assert wide["field"] == "context"

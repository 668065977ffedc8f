"""The UI shows a version's contract (variables as a small table, tools, response format)
and a comparison's contract changes above the text diff."""

from __future__ import annotations

import html
import re

from starlette.testclient import TestClient

from tests.api.helpers import create_prompt, create_version
from tests.contracts.helpers import CONTRACT, TEMPLATE, record_with, with_required


def text_of(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def imported(api: TestClient, contracts: list[object]) -> list[int]:
    """A prompt "copy" whose versions carry ``contracts``; their ids, oldest first."""
    create_prompt(api, "source", content=TEMPLATE)
    for _ in contracts[1:]:
        create_version(api, "source", content=TEMPLATE + " ")
    response = api.post("/prompts/import", json=record_with(api, "source", "copy", contracts))
    assert response.status_code == 201, response.text
    items = api.get("/prompts/copy/versions").json()["items"]
    return [v["id"] for v in reversed(items)]


def test_the_version_page_shows_the_variables_table_the_tools_and_the_response_format(
    api: TestClient,
) -> None:
    [version_id] = imported(api, [CONTRACT])
    page = text_of(api.get(f"/ui/prompts/copy/versions/{version_id}").text)
    assert "Contract" in page
    assert "{{ customer }} object yes" in page  # name, type, required
    assert '{{ tone }} one of "warm", "brief" no How to sound' in page
    assert "lookup_order : Find an order (order_id*)" in page
    assert "JSON matching the schema reply (strict)" in page


def test_a_version_without_a_contract_shows_its_inferred_variables_and_says_so(
    api: TestClient,
) -> None:
    made = create_prompt(api, "plain", content="Hi {{name}}")
    page = text_of(api.get(f"/ui/prompts/plain/versions/{made['active_version']['id']}").text)
    assert "inferred from the template" in page
    assert "{{ name }} string yes" in page and "No tools." in page


def test_the_compare_page_lists_a_breaking_contract_change_above_the_text_diff(
    api: TestClient,
) -> None:
    stricter = with_required(CONTRACT, "order_id", {"type": "string"})
    old, new = imported(api, [CONTRACT, stricter])
    page = api.get("/ui/prompts/copy/compare", params={"a": old, "b": new}).text
    shown = text_of(page)
    assert "variables.order_id variable new and required breaking" in shown
    assert page.index("contract-changes-h") < page.index('id="diff-h"')
    same = text_of(api.get("/ui/prompts/copy/compare", params={"a": old, "b": old}).text)
    assert "The contract is unchanged." in same

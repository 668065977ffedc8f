"""Export and import carry a version's contract; records written before contracts import
as before, their versions' variables inferred when read."""

from __future__ import annotations

import httpx
from starlette.testclient import TestClient

from promptdeck.client import Client
from promptdeck.errors import VariablesInvalid
from tests.api.helpers import assert_problem, create_prompt
from tests.contracts.helpers import CONTRACT, TEMPLATE, record_with
from tests.support.server import ServerProcess


def test_an_imported_contract_reads_back_exports_unchanged_and_imports_again_as_a_no_op(
    api: TestClient,
) -> None:
    create_prompt(api, "source", content=TEMPLATE)
    record = record_with(api, "source", "copy", [CONTRACT])
    created = api.post("/prompts/import", json=record)
    assert created.status_code == 201, created.text
    version_id = created.json()["prompt"]["active_version"]["id"]
    read = api.get(f"/prompts/copy/versions/{version_id}").json()
    assert read["contract"] == {**CONTRACT, "variables_inferred": False}
    assert api.get("/prompts/copy/active").json()["contract"] == read["contract"]
    exported = api.get("/prompts/copy/export").json()
    assert exported["versions"][0]["contract"] == record["versions"][0]["contract"]
    again = api.post("/prompts/import", json=record)
    assert again.status_code == 200 and again.json()["created"] is False


def test_a_record_written_before_contracts_imports_and_its_versions_show_inferred_variables(
    api: TestClient,
) -> None:
    create_prompt(api, "source", content="Hi {{name}}, about {{topic}}")
    record = api.get("/prompts/source/export").json()
    record["name"] = "old"
    for version in record["versions"]:
        del version["contract"]
    assert api.post("/prompts/import", json=record).status_code == 201
    contract = api.get("/prompts/old/active").json()["contract"]
    assert contract == {
        "variables": {
            "type": "object",
            "properties": {"name": {"type": "string"}, "topic": {"type": "string"}},
            "required": ["name", "topic"],
        },
        "variables_inferred": True,
        "tools": [],
        "response_format": None,
    }


def test_an_imported_contract_that_cannot_be_stored_is_refused_naming_its_path(
    api: TestClient,
) -> None:
    create_prompt(api, "source", content=TEMPLATE)
    record = record_with(api, "source", "copy", [CONTRACT])
    record["versions"][0]["contract"]["tools"][0]["function"]["name"] = "no spaces allowed"
    body = assert_problem(api.post("/prompts/import", json=record), 422)
    assert body["field"] == "versions[0].contract.tools[0].function.name"
    assert_problem(api.get("/prompts/copy"), 404, "prompt-not-found")


def test_an_imported_contract_must_declare_the_variables_its_template_uses(
    api: TestClient,
) -> None:
    create_prompt(api, "source", content=TEMPLATE + " {{signature}}")
    record = record_with(api, "source", "copy", [CONTRACT])
    body = assert_problem(api.post("/prompts/import", json=record), 422)
    assert body["field"] == "versions[0].contract.variables.properties"
    assert "signature" in body["detail"]


def test_a_content_hash_that_leaves_the_contract_out_is_refused(api: TestClient) -> None:
    create_prompt(api, "source", content=TEMPLATE)
    record = record_with(api, "source", "copy", [None])
    record["versions"][0]["contract"] = CONTRACT  # the hash was made without it
    body = assert_problem(api.post("/prompts/import", json=record), 422)
    assert body["field"] == "versions[0].content_hash"


def test_the_clients_local_render_checks_the_variables_against_the_contract(
    api: TestClient, shared_server: ServerProcess, name: str
) -> None:
    create_prompt(api, "source", content=TEMPLATE)
    record = record_with(api, "source", name, [CONTRACT])
    imported = httpx.post(shared_server.url + "/prompts/import", json=record)
    assert imported.status_code == 201, imported.text
    with Client(shared_server.url) as client:
        active = client.get_active(name)
        assert active.contract is not None and active.contract.tools[0] == CONTRACT["tools"][0]
        good = {"customer": {"name": "Ada", "age": 36}}
        assert active.render(**good) == 'Reply to {"name": "Ada", "age": 36}.'
        try:
            active.render(customer={"name": "", "age": "old"}, tone="shouty")
        except VariablesInvalid as exc:
            assert exc.extra["errors"] == [
                {"path": "variables.customer.age", "message": "expected integer"},
                {"path": "variables.customer.name", "message": "must be at least 1 character"},
                {"path": "variables.tone", "message": 'must be one of "warm", "brief"'},
            ]
        else:
            raise AssertionError("the contract should have refused these variables")

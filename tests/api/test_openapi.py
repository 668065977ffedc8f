"""The OpenAPI document is complete: every endpoint, its errors, problem+json."""

from __future__ import annotations

from starlette.testclient import TestClient

EXPECTED = {
    ("post", "/prompts"),
    ("get", "/prompts"),
    ("get", "/prompts/{prompt_id}"),
    ("patch", "/prompts/{prompt_id}"),
    ("delete", "/prompts/{prompt_id}"),
    ("post", "/prompts/{prompt_id}/restore"),
    ("post", "/prompts/{prompt_id}/purge"),
    ("get", "/prompts/{prompt_id}/events"),
    ("post", "/prompts/{prompt_id}/versions"),
    ("get", "/prompts/{prompt_id}/versions"),
    ("get", "/prompts/{prompt_id}/versions/{version_id}"),
    ("post", "/prompts/{prompt_id}/versions/{version_id}/rollback"),
    ("get", "/prompts/{prompt_id}/active"),
}


def test_openapi_lists_every_endpoint_with_problem_responses(api: TestClient) -> None:
    doc = api.get("/openapi.json").json()
    present = {(m, p) for p, ops in doc["paths"].items() for m in ops}
    assert present >= EXPECTED
    assert "Problem" in doc["components"]["schemas"]
    for method, path in EXPECTED:
        op = doc["paths"][path][method]
        assert op.get("summary"), (method, path)
        errors = {code for code in op["responses"] if code.startswith(("4", "5"))}
        assert errors, (method, path)
        for code in errors:
            assert "application/problem+json" in op["responses"][code]["content"], (path, code)


def test_spec_status_codes_are_declared(api: TestClient) -> None:
    paths = api.get("/openapi.json").json()["paths"]
    assert "201" in paths["/prompts/{prompt_id}/versions"]["post"]["responses"]
    assert "200" in paths["/prompts/{prompt_id}/versions"]["get"]["responses"]
    rollback = paths["/prompts/{prompt_id}/versions/{version_id}/rollback"]["post"]
    assert "200" in rollback["responses"] and "404" in rollback["responses"]


def test_docs_page_is_served(api: TestClient) -> None:
    assert api.get("/docs").status_code == 200


def test_the_deleted_filter_of_the_prompt_list_is_documented_with_an_example(
    api: TestClient,
) -> None:
    params = api.get("/openapi.json").json()["paths"]["/prompts"]["get"]["parameters"]
    deleted = next(p for p in params if p["name"] == "deleted")
    assert deleted["in"] == "query" and deleted["required"] is False
    assert "soft-deleted" in deleted["description"]
    assert deleted["schema"]["type"] == "boolean" and deleted["schema"]["default"] is False
    assert deleted["examples"]["deleted"]["value"] is True

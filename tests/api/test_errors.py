"""Bad input is a clear 4xx problem+json, never a 5xx, never a stack trace."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.api.helpers import assert_problem, create_prompt


def test_malformed_json_is_400(api: TestClient) -> None:
    create_prompt(api)
    response = api.post(
        "/prompts/support-reply/versions",
        content=b"{not json",
        headers={"content-type": "application/json"},
    )
    assert_problem(response, 400, "malformed-json")


def test_wrong_types_are_422_naming_the_field(api: TestClient) -> None:
    create_prompt(api)
    cases = [
        ({"version_name": 5}, "version_name"),
        ({"activate": "maybe"}, "activate"),
        ({"model_config": "not an object"}, "model_config"),
        ({"content": ["a"]}, "content"),
    ]
    for body, field in cases:
        problem = assert_problem(api.post("/prompts/support-reply/versions", json=body), 422)
        assert problem["field"] == field, problem


def test_body_that_is_not_an_object_is_422(api: TestClient) -> None:
    create_prompt(api)
    assert_problem(api.post("/prompts/support-reply/versions", json=[1, 2]), 422)
    assert_problem(api.post("/prompts", json="x"), 422)


def test_over_long_names_are_422(api: TestClient) -> None:
    problem = assert_problem(api.post("/prompts", json={"name": "a" * 129}), 422)
    assert problem["field"] == "name"
    create_prompt(api)
    problem = assert_problem(
        api.post("/prompts/support-reply/versions", json={"version_name": "v" * 129}), 422
    )
    assert problem["field"] == "version_name"
    assert_problem(api.get("/prompts/" + "a" * 129), 422)


def test_bad_prompt_names_are_422(api: TestClient) -> None:
    for name in ["Upper", "-dash", "sp ace", "123", "", "a/b"]:
        assert_problem(api.post("/prompts", json={"name": name}), 422)


def test_unknown_ids_are_404(api: TestClient) -> None:
    assert_problem(api.get("/prompts/424242"), 404, "prompt-not-found")
    create_prompt(api)
    assert_problem(api.get("/prompts/support-reply/versions/424242"), 404, "version-not-found")


def test_non_integer_or_out_of_range_version_ids_are_422(api: TestClient) -> None:
    create_prompt(api)
    assert_problem(api.get("/prompts/support-reply/versions/abc"), 422)
    assert_problem(api.post("/prompts/support-reply/versions/0/rollback"), 422)
    assert_problem(api.get("/prompts/support-reply/versions/99999999999999999999"), 422)


def test_oversized_body_is_413(api: TestClient) -> None:
    create_prompt(api)
    big = {"content": "x" * (70 * 1024)}  # the test app's limit is 64 KiB
    problem = assert_problem(api.post("/prompts/support-reply/versions", json=big), 413)
    assert "PROMPTDECK_MAX_BODY_BYTES" in problem["detail"]


def test_oversized_chunked_body_without_length_is_413(api: TestClient) -> None:
    create_prompt(api)

    def chunks():  # type: ignore[no-untyped-def]
        yield b'{"content": "'
        for _ in range(80):
            yield b"x" * 1024
        yield b'"}'

    response = api.post(
        "/prompts/support-reply/versions",
        content=chunks(),
        headers={"content-type": "application/json"},
    )
    assert_problem(response, 413)


def test_unknown_route_is_404_problem(api: TestClient) -> None:
    assert_problem(api.get("/no/such/thing"), 404)


def test_wrong_method_is_405_problem(api: TestClient) -> None:
    assert_problem(api.put("/prompts"), 405)
    assert_problem(api.delete("/prompts"), 405)


def test_page_limit_is_bounded(api: TestClient) -> None:
    assert_problem(api.get("/prompts?limit=1000"), 422)
    assert_problem(api.get("/prompts?limit=0"), 422)


def test_forged_cursor_is_422(api: TestClient) -> None:
    assert_problem(api.get("/prompts?cursor=garbage!!"), 422)
    create_prompt(api)
    assert_problem(api.get("/prompts/support-reply/versions?cursor=Zm9vOmJhcg"), 422)


def test_overlong_actor_header_is_422(api: TestClient) -> None:
    assert_problem(api.post("/prompts", json={"name": "x"}, headers={"X-Actor": "a" * 200}), 422)

"""One resource, one spelling: ids only as canonical decimals, names compared after NFC."""

from __future__ import annotations

import json

import pytest
from starlette.testclient import TestClient


@pytest.fixture
def prompt_id(api: TestClient) -> int:
    created = api.post("/prompts", json={"name": "one", "version_name": "\u00e9t\u00e9"})
    assert created.status_code == 201
    return int(created.json()["id"])


def test_only_the_canonical_decimal_names_the_prompt_by_id(api: TestClient, prompt_id: int) -> None:
    assert api.get(f"/prompts/{prompt_id}").status_code == 200
    for spelling in (f"0{prompt_id}", f"+{prompt_id}", f"{prompt_id} ", "\u0661", "\u00b9"):
        for path in (f"/prompts/{spelling}", f"/prompts/{spelling}/active"):
            answer = api.get(path)
            assert answer.status_code == 404, (path, answer.status_code)
            assert answer.headers["content-type"] == "application/problem+json"
    assert api.get(f"/prompts/{2**31}").status_code == 404
    assert api.get(f"/prompts/{10**30}/active").status_code == 404


def test_a_non_canonical_version_id_is_refused(api: TestClient, prompt_id: int) -> None:
    version = api.get("/prompts/one").json()["active_version"]["id"]
    assert api.get(f"/prompts/one/versions/{version}").status_code == 200
    for spelling in (f"0{version}", f"+{version}", f"{version}.0", str(2**31)):
        assert api.get(f"/prompts/one/versions/{spelling}").status_code == 422, spelling


def test_the_id_and_the_name_give_the_same_etags(api: TestClient, prompt_id: int) -> None:
    by_id, by_name = api.get(f"/prompts/{prompt_id}"), api.get("/prompts/one")
    assert by_id.headers["etag"] == by_name.headers["etag"]
    active_id, active_name = api.get(f"/prompts/{prompt_id}/active"), api.get("/prompts/one/active")
    assert active_id.headers["etag"] == active_name.headers["etag"]


def test_version_names_that_look_the_same_are_the_same_name(
    api: TestClient, prompt_id: int
) -> None:
    decomposed = "e\u0301te\u0301"  # e + combining acute: looks like the NFC "été"
    again = api.post("/prompts/one/versions", json={"version_name": decomposed})
    assert again.status_code == 409
    found = api.get("/prompts/one/versions", params={"name": decomposed}).json()["items"]
    assert [v["version_name"] for v in found] == ["\u00e9t\u00e9"]


@pytest.mark.parametrize("name", [" v2", "v2 ", "v\u200b2", "v\u202e2", "v\x002", "\ud800"])
def test_invisible_characters_and_surrounding_spaces_in_names_are_refused(
    api: TestClient, prompt_id: int, name: str
) -> None:
    answer = api.post(
        "/prompts/one/versions",
        content=json.dumps({"version_name": name}).encode(),  # escapes a lone surrogate
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == "version_name"


def test_tags_are_nfc_and_found_by_any_spelling_that_looks_the_same(api: TestClient) -> None:
    created = api.post("/prompts", json={"name": "tagged", "tags": ["cafe\u0301"]})
    assert created.json()["tags"] == ["caf\u00e9"]
    for spelling in ("cafe\u0301", "caf\u00e9"):
        found = api.get("/prompts", params={"tag": spelling}).json()["items"]
        assert [p["name"] for p in found] == ["tagged"]

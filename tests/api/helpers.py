"""Small helpers shared by the API tests."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient


def create_prompt(api: TestClient, name: str = "support-reply", **body: Any) -> dict[str, Any]:
    response = api.post("/prompts", json={"name": name, "content": "Hello {{name}}", **body})
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def create_version(api: TestClient, prompt: str = "support-reply", **body: Any) -> dict[str, Any]:
    response = api.post(f"/prompts/{prompt}/versions", json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def assert_problem(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert {"type", "title", "status", "detail"} <= set(body)
    assert body["status"] == status
    if code is not None:
        assert body["type"].endswith("/" + code), body
    text = response.text
    assert "Traceback" not in text and "SELECT" not in text and "sqlalchemy" not in text.lower()
    return body

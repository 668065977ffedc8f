"""POST /prompts/{id}/render, chat versions over HTTP, if_changed, includes and their
protection: the problems are problem+json with their codes."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from tests.api.helpers import assert_problem, create_prompt, create_version

MESSAGES = [
    {"role": "system", "content": "You answer for {{company}}."},
    {"role": "placeholder", "name": "history"},
    {"role": "user", "content": "{{question}}"},
]


def test_render_returns_the_filled_messages_with_the_version_and_its_model_config(
    api: TestClient,
) -> None:
    create_prompt(api, model_config={"model": "gpt-x"})
    version = create_version(
        api, kind="chat", messages=MESSAGES, model_config={"model": "gpt-y"}, activate=True
    )
    assert version["kind"] == "chat" and version["messages"] == MESSAGES
    assert version["variables"] == ["history", "company", "question"]
    history = [{"role": "assistant", "content": "{{company}}"}]
    body = {"variables": {"company": "ACME", "question": "hi", "history": history, "x": 1}}
    r = api.post("/prompts/support-reply/render", json=body)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["messages"] == [
        {"role": "system", "content": "You answer for ACME."},
        *history,
        {"role": "user", "content": "hi"},
    ]
    assert out["text"] is None and out["unused_variables"] == ["x"]
    assert (out["version"]["id"], out["model_config"]) == (version["id"], {"model": "gpt-y"})
    first = api.post(
        "/prompts/support-reply/render", json={"variables": {"name": "<b>"}, "version": "1"}
    )
    assert first.json()["text"] == "Hello <b>"


def test_a_prompt_created_with_messages_starts_as_chat(api: TestClient) -> None:
    created = create_prompt(api, "support", content="", messages=MESSAGES[:1])
    version = api.get(f"/prompts/support/versions/{created['active_version']['id']}").json()
    assert (version["kind"], version["messages"]) == ("chat", MESSAGES[:1])
    r = api.post("/prompts", json={"name": "bad", "messages": [{"role": "robot", "content": ""}]})
    assert_problem(r, 422, "template-invalid")


def test_a_missing_variable_is_a_422_naming_it(api: TestClient) -> None:
    create_prompt(api)
    r = api.post("/prompts/support-reply/render", json={"variables": {}})
    body = assert_problem(r, 422, "missing-variables")
    assert "name" in body["detail"] and body["field"] == "variables"


def test_if_changed_answers_200_with_the_latest_version_when_nothing_changed(
    api: TestClient,
) -> None:
    created = create_prompt(api)
    r = api.post(
        "/prompts/support-reply/versions", json={"content": "Hello {{name}}", "if_changed": True}
    )
    assert r.status_code == 200, r.text
    assert r.json()["id"] == created["active_version"]["id"]
    retry = api.post(
        "/prompts/support-reply/versions",
        json={"content": "Hello {{name}}", "if_changed": True},
        headers={"Idempotency-Key": "k1"},
    )
    again = api.post(
        "/prompts/support-reply/versions",
        json={"content": "Hello {{name}}", "if_changed": True},
        headers={"Idempotency-Key": "k1"},
    )
    assert (retry.status_code, again.status_code) == (200, 200)
    assert "Idempotent-Replayed" not in again.headers
    r = api.post(
        "/prompts/support-reply/versions", json={"content": "Hi {{name}}", "if_changed": True}
    )
    assert r.status_code == 201


def test_includes_cycles_and_protection_over_http(api: TestClient) -> None:
    tone = create_prompt(api, "tone", content="Be kind.")
    a = create_prompt(api, "a", content="{{> tone@1}} {{q}}")
    r = api.post("/prompts/tone/versions", json={"content": "{{> a}}"})
    assert "tone -> a -> tone" in assert_problem(r, 422, "include-cycle")["detail"]
    assert_problem(api.delete("/prompts/tone"), 409, "still-included")
    tone_v1 = tone["active_version"]["id"]
    create_version(api, "tone", content="v2", activate=True)
    assert_problem(
        api.request("DELETE", f"/prompts/tone/versions/{tone_v1}", json={"reason": "x"}),
        409,
        "still-included",
    )
    deps = api.get(f"/prompts/a/versions/{a['active_version']['id']}/dependencies").json()
    assert [(d["target_prompt_name"], d["target_version_id"]) for d in deps] == [("tone", tone_v1)]
    dependents = api.get(f"/prompts/tone/versions/{tone_v1}/dependents").json()
    assert [d["prompt_name"] for d in dependents] == ["a"]
    r = api.post("/prompts/a/render", json={"variables": {"q": "?"}})
    assert r.json()["text"] == "Be kind. ?"
    assert api.delete("/prompts/tone?force=true").status_code == 204
    assert_problem(
        api.post("/prompts/a/render", json={"variables": {"q": "?"}}), 422, "template-invalid"
    )


def test_render_refuses_a_version_id_past_the_id_range_and_an_unstorable_version_with_422(
    api: TestClient,
) -> None:
    # Found by schemathesis on PostgreSQL: both reached the database and answered 500.
    create_prompt(api)
    r = api.post("/prompts/support-reply/render", json={"variables": {}, "version_id": 2**33})
    assert_problem(r, 422)
    r = api.post("/prompts/support-reply/render", json={"variables": {}, "version": "a\x00b"})
    assert_problem(r, 422)


def test_a_jinja_loop_that_writes_nothing_is_a_422_render_too_large_naming_the_bound(
    api: TestClient,
) -> None:
    create_prompt(api)
    quiet = "{% for i in v %}{% for j in v %}{% for k in v %}{% endfor %}{% endfor %}{% endfor %}"
    create_version(api, content=quiet, template_format="jinja", activate=True)
    r = api.post("/prompts/support-reply/render", json={"variables": {"v": list(range(200))}})
    body = assert_problem(r, 422, "render-too-large")
    assert "loop iterations" in body["detail"] or "CPU" in body["detail"]


CHAT = [{"role": "system", "content": "You are {{persona}}."}]


@pytest.mark.parametrize("kind", [None, "chat"])
def test_post_prompts_takes_kind_as_post_versions_does_and_messages_alone_make_a_chat_prompt(
    api: TestClient, kind: str | None
) -> None:
    body: dict[str, object] = {"name": "chatty", "messages": CHAT}
    if kind is not None:
        body["kind"] = kind
    assert api.post("/prompts", json=body).status_code == 201
    active = api.get("/prompts/chatty/active").json()
    assert (active["kind"], active["messages"]) == ("chat", CHAT)


def test_post_prompts_refuses_kind_text_with_messages_naming_messages(api: TestClient) -> None:
    body = {"name": "mixed", "kind": "text", "messages": CHAT}
    problem = assert_problem(api.post("/prompts", json=body), 422)
    assert problem["field"] == "messages" and "chat" in problem["detail"]
    problem = assert_problem(api.post("/prompts", json={"name": "empty", "kind": "chat"}), 422)
    assert problem["field"] == "messages"
    assert api.get("/prompts/mixed").status_code == 404


def test_post_prompts_with_kind_text_is_a_text_prompt(api: TestClient) -> None:
    assert api.post("/prompts", json={"name": "plain", "kind": "text", "content": "Hi"}).is_success
    assert api.get("/prompts/plain/active").json()["kind"] == "text"

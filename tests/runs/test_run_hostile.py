"""POST /prompts/{id}/run against generated hostile bodies, over the real app, database and
the stand-in provider: whatever arrives, a run's answer or a 4xx problem, never a 5xx, and
never a call out for a body that was refused."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from tests.api.helpers import assert_problem
from tests.support.fake_llm import FakeLLM

PROMPT = "hostile-run"
TEXT = st.text(max_size=40) | st.sampled_from(["a\x00b", "{{q}}", "{% for %}", "{{> x}}"])
LEAVES = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT
)
JSON = st.recursive(
    LEAVES,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)
DRAFT = st.fixed_dictionaries(
    {},
    optional={
        "content": JSON,
        "messages": JSON,
        "model_config": JSON,
        "contract": JSON,
        "template_format": st.sampled_from(["plain", "jinja", "other"]) | JSON,
    },
)
BODY = st.fixed_dictionaries(
    {"provider": st.sampled_from(["local", "nobody", ""]) | JSON},
    optional={
        "variables": st.dictionaries(TEXT, JSON, max_size=4) | JSON,
        "version_id": st.integers() | JSON,
        "draft": DRAFT | JSON,
        "model": st.sampled_from(["m", "other", "nope"]) | JSON,
        "stream": st.booleans() | JSON,
    },
)


@pytest.fixture
def ready(api: TestClient, local: FakeLLM) -> TestClient:
    made = api.post("/prompts", json={"name": PROMPT, "content": "Say {{q}}"})
    assert made.status_code == 201, made.text
    return api


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(body=BODY | JSON)
def test_generated_run_bodies_are_answered_or_refused_never_a_server_error(
    ready: TestClient, body: Any
) -> None:
    response = ready.post(f"/prompts/{PROMPT}/run", json=body)
    assert response.status_code < 500 or response.status_code in (502, 504), response.text
    if response.headers["content-type"].startswith("text/event-stream"):
        assert "event: done" in response.text or "event: error" in response.text
    elif response.status_code == 200:
        assert isinstance(response.json()["output"], str)
    else:
        assert_problem(response, response.status_code)

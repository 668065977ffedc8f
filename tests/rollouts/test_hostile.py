"""Hostile plans never reach a 5xx: generated bodies (any JSON in the plan's shape and out
of it) are a 201 or a 4xx problem naming a field, and a refused start writes nothing."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from promptdeck.core import Registry
from promptdeck.domain.caller import SYSTEM
from tests.rollouts.helpers import plan, two_versions

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=12,
)
FIELDS = st.sampled_from(
    [
        "version_id",
        "steps",
        "sticky",
        "guard",
        "step_after",
        "advance",
        "reason",
        "salt",
        "guard.measure",
        "guard.max_drop",
        "guard.max_increase_ms",
        "guard.min_outcomes",
        "guard.confidence",
        "step_after.minutes",
        "step_after.outcomes",
        "unknown",
    ]
)
SHARES = st.lists(
    st.floats(min_value=-1, max_value=101, allow_nan=False) | st.integers(-5, 105), max_size=25
)


def mutate(body: dict[str, Any], changes: list[tuple[str, Any]]) -> dict[str, Any]:
    for path, value in changes:
        head, _, tail = path.partition(".")
        if tail:
            inner = body.get(head)
            body[head] = {**inner, tail: value} if isinstance(inner, dict) else {tail: value}
        else:
            body[head] = value
    return body


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    changes=st.lists(st.tuples(FIELDS, JSON), max_size=4),
    steps=st.none() | SHARES,
    whole=st.none() | JSON,
)
def test_generated_plans_never_answer_5xx_and_a_refusal_writes_nothing(
    api: TestClient,
    registry: Registry,
    changes: list[tuple[str, Any]],
    steps: list[float] | None,
    whole: Any,
) -> None:
    name = "hostile"
    if not registry.list_prompts(SYSTEM, query=name).items:
        two_versions(registry, name)
    candidate = registry.list_versions(name, SYSTEM).items[0].id
    body: Any = mutate(plan(candidate), changes)
    if steps is not None:
        body["steps"] = steps
    if whole is not None and not changes:
        body = whole
    path = f"/prompts/{name}/labels/production/rollout"
    answer = api.post(path, json=body)
    assert answer.status_code < 500, answer.text
    if answer.status_code == 201:
        assert api.post(f"{path}/abort").status_code == 200
    else:
        problem = answer.json()
        assert problem["status"] == answer.status_code
        live = api.get(path)
        assert live.status_code == 404 or live.json()["status"] != "running"

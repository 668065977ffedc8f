"""Issue 23's generated check, over HTTP on the run's database: any variables the contract's
schema accepts render (200), any it refuses are a 422 variables-invalid, never a 5xx. The
verdict to compare with is the maintained JSON Schema library's own (jsonschema-rs)."""

from __future__ import annotations

import itertools
from typing import Any

import jsonschema_rs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from tests.contracts.helpers import CONTRACT, TEMPLATE

names = (f"gen-{i}" for i in itertools.count())

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
# Near the schema (the right keys, values of any type) as well as anywhere.
customers = st.one_of(
    values,
    st.fixed_dictionaries(
        {},
        optional={"name": st.one_of(st.text(max_size=6), values), "age": values},
    ),
)
variables = st.fixed_dictionaries(
    {},
    optional={
        "customer": customers,
        "tone": st.one_of(st.sampled_from(["warm", "brief", "shouty"]), values),
        "extra": values,
    },
)


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(given_variables=variables)
def test_what_the_schema_accepts_renders_and_what_it_refuses_is_a_422(
    api: TestClient, given_variables: dict[str, Any]
) -> None:
    name = next(names)
    created = api.post("/prompts", json={"name": name, "content": TEMPLATE, "contract": CONTRACT})
    assert created.status_code == 201, created.text
    answer = api.post(f"/prompts/{name}/render", json={"variables": given_variables})
    assert answer.status_code < 500, answer.text
    if jsonschema_rs.is_valid(CONTRACT["variables"], given_variables):
        assert answer.status_code == 200, answer.text
    else:
        assert answer.status_code == 422, answer.text
        kind = answer.json()["type"].rsplit("/", 1)[-1]
        assert kind in ("variables-invalid", "variables-too-large"), answer.text

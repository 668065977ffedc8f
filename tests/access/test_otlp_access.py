"""POST /v1/traces with keys: the write role, and a key's prompt prefixes span by span."""

from __future__ import annotations

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from starlette.testclient import TestClient

from promptdeck.core import Registry
from promptdeck.domain.caller import SYSTEM
from promptdeck.domain.commands import CreatePrompt
from tests.access.conftest import Keys, bearer
from tests.api.helpers import assert_problem
from tests.otlp.test_traces_hostile import PROTOBUF, export


def test_no_key_is_401_and_a_read_key_403_before_the_body_is_read(
    keyed: TestClient, keys: Keys
) -> None:
    body = export("anything", 1)
    assert_problem(keyed.post("/v1/traces", content=body, headers=PROTOBUF), 401)
    refused = keyed.post("/v1/traces", content=body, headers={**PROTOBUF, **bearer(keys.read)})
    assert_problem(refused, 403)


def test_a_key_kept_to_prefixes_has_spans_of_other_prompts_refused_and_its_own_counted(
    keyed: TestClient, keys: Keys, registry: Registry
) -> None:
    mine = registry.create_prompt(CreatePrompt("team-otel", content="a"), SYSTEM).prompt
    other = registry.create_prompt(CreatePrompt("otel-other", content="b"), SYSTEM).prompt
    assert mine.active_version_id is not None and other.active_version_id is not None
    body = export("team-otel", mine.active_version_id, 2) + export(
        "otel-other", other.active_version_id, 3
    )  # two ExportTraceServiceRequests concatenated: protobuf merges their resource spans
    response = keyed.post("/v1/traces", content=body, headers={**PROTOBUF, **bearer(keys.limited)})
    assert response.status_code == 200, response.text
    partial = ExportTraceServiceResponse.FromString(response.content).partial_success
    assert partial.rejected_spans == 3 and "no prompt 'otel-other'" in partial.error_message
    counts = registry.impact("team-otel", SYSTEM).versions
    assert [v.summary.count for v in counts] == [2]
    assert registry.impact("otel-other", SYSTEM).versions == [] or all(
        v.summary.count == 0 for v in registry.impact("otel-other", SYSTEM).versions
    )

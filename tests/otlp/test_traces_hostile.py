"""POST /v1/traces against hostile bodies, in process over the real app and database:
whatever arrives, the answer is a 200 export response or a 4xx problem, never a 5xx."""

from __future__ import annotations

import gzip
import json
import zlib
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from starlette.testclient import TestClient

from promptdeck import limits
from tests.api.helpers import assert_problem, create_prompt

PROTOBUF = {"Content-Type": "application/x-protobuf"}
JSON = {"Content-Type": "application/json"}


def export(name: str, version_id: int, count: int = 3) -> bytes:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    for i in range(count):
        attributes = {"gen_ai.prompt.name": name, "gen_ai.prompt.version": str(version_id)}
        with tracer.start_as_current_span(f"chat {i}", attributes=attributes):
            pass
    return bytes(encode_spans(exporter.get_finished_spans()).SerializeToString())


def send(api: TestClient, body: bytes, headers: dict[str, str]) -> Any:
    return api.post("/v1/traces", content=body, headers=headers)


def no_5xx(response: Any) -> None:
    assert response.status_code < 500, response.text
    if response.status_code == 200:
        if response.headers["content-type"] == "application/x-protobuf":
            ExportTraceServiceResponse.FromString(response.content)
        else:
            assert isinstance(response.json(), dict)
    else:
        assert_problem(response, response.status_code)


def test_an_export_is_counted_and_spans_naming_nothing_are_counted_in_metrics(
    api: TestClient, name: str
) -> None:
    version = create_prompt(api, name)["active_version"]["id"]
    response = send(api, export(name, version), PROTOBUF)
    assert response.status_code == 200, response.text
    assert not ExportTraceServiceResponse.FromString(response.content).HasField("partial_success")
    metrics = api.get("/metrics").text
    assert 'promptdeck_otlp_spans_total{fate="outcome"} 3.0' in metrics


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(body=st.binary(max_size=2000), json_type=st.booleans())
def test_random_bytes_are_never_a_server_error(
    api: TestClient, body: bytes, json_type: bool
) -> None:
    no_5xx(send(api, body, JSON if json_type else PROTOBUF))


def _json_values() -> st.SearchStrategy[Any]:
    scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
    return st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.dictionaries(
                st.sampled_from(
                    [
                        "resourceSpans",
                        "scopeSpans",
                        "spans",
                        "attributes",
                        "key",
                        "value",
                        "stringValue",
                        "intValue",
                        "doubleValue",
                        "boolValue",
                        "status",
                        "code",
                        "startTimeUnixNano",
                        "endTimeUnixNano",
                        "gen_ai.prompt.name",
                        "gen_ai.prompt.version",
                    ]
                )
                | st.text(max_size=8),
                inner,
                max_size=4,
            )
        ),
        max_leaves=30,
    )


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(value=_json_values())
def test_generated_otlp_json_shapes_are_never_a_server_error(api: TestClient, value: Any) -> None:
    no_5xx(send(api, json.dumps(value).encode(), JSON))


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    cut=st.integers(0, 10_000),
    flips=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=8),
)
def test_corrupted_real_exports_are_never_a_server_error(
    api: TestClient, cut: int, flips: list[tuple[int, int]]
) -> None:
    body = bytearray(export("some-prompt", 1, count=4))
    for at, byte in flips:
        body[at % len(body)] = byte
    no_5xx(send(api, bytes(body[: max(1, cut % (len(body) + 1))]), PROTOBUF))


def test_a_body_over_the_limit_is_413_and_a_gzip_bomb_stops_at_the_export_bound(
    api: TestClient,
) -> None:
    limit = limits.DEFAULT_MAX_BODY_BYTES  # PROMPTDECK_MAX_BODY_BYTES, the test settings'
    assert_problem(send(api, b"\x0a" * (limit + 1), PROTOBUF), 413, "payload-too-large")
    bomb = gzip.compress(b"\x00" * (limits.OTLP_BODY_MAX + 10))
    assert len(bomb) < limit
    response = send(api, bomb, {**PROTOBUF, "Content-Encoding": "gzip"})
    assert_problem(response, 413, "payload-too-large")
    assert_problem(send(api, b"not gzip", {**PROTOBUF, "Content-Encoding": "gzip"}), 400)
    truncated = gzip.compress(b"\x0a" * 100)[:-12]
    assert_problem(send(api, truncated, {**PROTOBUF, "Content-Encoding": "gzip"}), 400)
    deflated = zlib.compress(b"{}")
    assert_problem(send(api, deflated, {**JSON, "Content-Encoding": "br"}), 415)

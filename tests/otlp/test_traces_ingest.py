"""POST /v1/traces against a real server process (the run's database, SQLite or
PostgreSQL): the OpenTelemetry SDK's own OTLP/HTTP exporter sends spans, and they show up
in the impact API under the versions they name; OTLP/JSON too; partial success."""

from __future__ import annotations

import gzip
import json
from typing import Any

import httpx
from google.protobuf import json_format
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Status, StatusCode

from promptdeck.client import Client
from tests.support.server import ServerProcess


def two_versions(url: str, name: str) -> tuple[int, int]:
    with Client(url) as client:
        first = client.create_prompt(name, "Hello {{who}}").active_version
        assert first is not None
        second = client.create_version(name, content="Hi {{who}}", activate=True)
        return first.id, second.id


def impact(url: str, name: str) -> dict[int, dict[str, Any]]:
    body = httpx.get(f"{url}/prompts/{name}/impact", timeout=30).json()
    return {v["version_id"]: v for v in body["versions"]}


def made(*spans: tuple[dict[str, Any], StatusCode]) -> list[ReadableSpan]:
    """SDK spans, ended now, with these attributes and statuses."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    for attributes, status in spans:
        with tracer.start_as_current_span("chat gpt-4o-mini", attributes=attributes) as span:
            span.set_status(Status(status))
    return list(exporter.get_finished_spans())


def named(name: str, version: int, **more: Any) -> dict[str, Any]:
    return {"gen_ai.prompt.name": name, "gen_ai.prompt.version": str(version), **more}


def test_spans_sent_by_the_sdk_exporter_show_up_in_impact_under_the_versions_they_name(
    shared_server: ServerProcess, name: str
) -> None:
    v1, v2 = two_versions(shared_server.url, name)
    provider = TracerProvider()
    exporter = OTLPSpanExporter(endpoint=f"{shared_server.url}/v1/traces", timeout=30)
    provider.add_span_processor(BatchSpanProcessor(exporter))
    tracer = provider.get_tracer("support")
    for i in range(12):
        version = v1 if i < 4 else v2
        attributes = named(
            name,
            version,
            **{
                "gen_ai.usage.input_tokens": 100,
                "gen_ai.usage.output_tokens": 20,
                "promptdeck.label": "production",
            },
        )
        with tracer.start_as_current_span("chat", attributes=attributes) as span:
            span.set_status(Status(StatusCode.ERROR if i % 4 == 0 else StatusCode.OK))
        with tracer.start_as_current_span("GET /health", attributes={"http.method": "GET"}):
            pass  # names nothing: dropped
    assert provider.force_flush(30_000)
    provider.shutdown()
    found = impact(shared_server.url, name)
    assert (found[v1]["count"], found[v1]["success_n"], found[v1]["success_rate"]) == (4, 4, 0.75)
    assert (found[v2]["count"], found[v2]["success_rate"]) == (8, 6 / 8)
    assert found[v2]["input_tokens"] == 800 and found[v2]["output_tokens"] == 160
    assert found[v1]["latency_p50_ms"] is not None


def test_an_otlp_json_export_counts_like_protobuf_and_is_answered_in_json(
    shared_server: ServerProcess, name: str
) -> None:
    v1, _ = two_versions(shared_server.url, name)
    spans = made(*[(named(name, v1), StatusCode.UNSET)] * 3)
    body = json_format.MessageToJson(encode_spans(spans)).encode()
    response = httpx.post(
        f"{shared_server.url}/v1/traces",
        content=body,
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {}  # nothing refused: no partialSuccess
    assert impact(shared_server.url, name)[v1]["count"] == 3


def test_a_gzipped_export_as_collectors_send_it_is_taken(
    shared_server: ServerProcess, name: str
) -> None:
    v1, _ = two_versions(shared_server.url, name)
    body = encode_spans(made((named(name, v1), StatusCode.OK))).SerializeToString()
    response = httpx.post(
        f"{shared_server.url}/v1/traces",
        content=gzip.compress(body),
        headers={"Content-Type": "application/x-protobuf", "Content-Encoding": "gzip"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    assert impact(shared_server.url, name)[v1]["count"] == 1


def test_spans_naming_an_unknown_prompt_or_version_are_refused_alone_as_partial_success(
    shared_server: ServerProcess, name: str
) -> None:
    v1, v2 = two_versions(shared_server.url, name)
    spans = made(
        (named(name, v1), StatusCode.OK),
        (named("no-such-prompt", v1), StatusCode.OK),
        (named(name, 10**9), StatusCode.OK),
        (named(name, v2), StatusCode.OK),
        ({"http.method": "GET"}, StatusCode.OK),
    )
    response = httpx.post(
        f"{shared_server.url}/v1/traces",
        content=encode_spans(spans).SerializeToString(),
        headers={"Content-Type": "application/x-protobuf"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/x-protobuf"
    answer = ExportTraceServiceResponse.FromString(response.content)
    assert answer.HasField("partial_success")
    assert answer.partial_success.rejected_spans == 2
    message = answer.partial_success.error_message
    assert "no prompt 'no-such-prompt'" in message and f"no version {10**9}" in message
    found = impact(shared_server.url, name)
    assert (found[v1]["count"], found[v2]["count"]) == (1, 1)  # the good ones kept
    # The same in OTLP/JSON: int64 as a decimal string (proto3's JSON mapping).
    body = json_format.MessageToJson(encode_spans(spans[:3])).encode()
    response = httpx.post(
        f"{shared_server.url}/v1/traces",
        content=body,
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    partial = response.json()["partialSuccess"]
    assert partial["rejectedSpans"] == "2" and "no-such-prompt" in partial["errorMessage"]
    assert impact(shared_server.url, name)[v1]["count"] == 2


def test_the_sdk_exporter_is_told_of_a_bad_body_with_a_400_problem_not_a_5xx(
    shared_server: ServerProcess,
) -> None:
    for content_type, body in [
        ("application/x-protobuf", b"\xff\xff\xff\xff"),
        ("application/json", b"{not json"),
        ("application/json", json.dumps({"resourceSpans": 7}).encode()),
    ]:
        response = httpx.post(
            f"{shared_server.url}/v1/traces",
            content=body,
            headers={"Content-Type": content_type},
            timeout=30,
        )
        assert response.status_code == 400, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["type"].endswith("/export-malformed")
    response = httpx.post(
        f"{shared_server.url}/v1/traces",
        content=b"x",
        headers={"Content-Type": "text/plain"},
        timeout=30,
    )
    assert response.status_code == 415

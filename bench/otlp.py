"""OTLP ingest's decode (issue 27; domain/otlp.py): spans per second turned into outcomes,
from protobuf and from OTLP/JSON, in one process, no server (the HTTP and ingest cost is
POST /outcomes', measured by bench.outcomes in the same run for comparison).

Exports of ``--batch`` spans (the SDK's BatchSpanProcessor sends 512), made by the real SDK
and encoded by the real OTLP encoder; ``--named`` of them name a prompt version (with
tokens, cost, a label and four other attributes each, as a GenAI instrumentation writes),
the rest are other spans of the same trace (HTTP, database), dropped as unnamed. Best of
``--rounds`` rounds of ``--exports`` decodes each.

    nice .venv/bin/python -m bench.otlp
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import UTC, datetime

from google.protobuf import json_format
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Status, StatusCode

from promptdeck.domain import otlp


def export(batch: int, named: float) -> bytes:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("bench")
    for i in range(batch):
        if i < batch * named:
            attributes = {
                "gen_ai.operation.name": "chat",
                "gen_ai.system": "openai",
                "gen_ai.request.model": "gpt-4o-mini",
                "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
                "gen_ai.prompt.name": "support-reply",
                "gen_ai.prompt.version": str(1 + i % 4),
                "gen_ai.usage.input_tokens": 400 + i,
                "gen_ai.usage.output_tokens": 120,
                "promptdeck.cost": 0.00042,
                "promptdeck.label": "production",
            }
        else:
            attributes = {
                "http.request.method": "POST",
                "url.full": "https://api.example.com/v1/chat",
                "http.response.status_code": 200,
                "server.address": "api.example.com",
            }
        span = tracer.start_span("chat", attributes=attributes)
        span.set_status(Status(StatusCode.ERROR if i % 10 == 0 else StatusCode.UNSET))
        span.end()
    return bytes(encode_spans(exporter.get_finished_spans()).SerializeToString())


def rate(decode: Callable[[bytes, datetime], otlp.Decoded], body: bytes, exports: int) -> float:
    now = datetime.now(UTC)
    spans = 0
    start = time.process_time()
    for _ in range(exports):
        spans += decode(body, now).spans
    return spans / (time.process_time() - start)  # CPU time: the machine is shared


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--exports", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--named", type=float, default=0.5, help="share of spans naming one")
    args = parser.parse_args()
    pb = export(args.batch, args.named)
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    js = json_format.MessageToJson(ExportTraceServiceRequest.FromString(pb)).encode()
    print(
        f"{args.batch} spans an export, {args.named:.0%} naming a prompt version; "
        f"protobuf {len(pb):,} bytes, JSON {len(js):,} bytes; best of {args.rounds} rounds"
    )
    for form, decode, body in (
        ("protobuf", otlp.decode_protobuf, pb),
        ("OTLP/JSON", otlp.decode_json, js),
    ):
        best = max(rate(decode, body, args.exports) for _ in range(args.rounds))
        print(f"  {form:<10} {best:>10,.0f} spans/s decoded")


if __name__ == "__main__":
    main()

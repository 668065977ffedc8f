"""OTLP ingest's decode (issue 27; domain/otlp.py): spans per second turned into outcomes,
from protobuf and from OTLP/JSON, in one process, no server (the HTTP and ingest cost is
POST /outcomes', measured by bench.outcomes in the same run for comparison).

Exports of ``--batch`` spans (the SDK's BatchSpanProcessor sends 512), made by the real SDK
and encoded by the real OTLP encoder; ``--named`` of them name a prompt version (with
tokens, cost, a label and four other attributes each, as a GenAI instrumentation writes),
the rest are other spans of the same trace (HTTP, database), dropped as unnamed. Best of
``--rounds`` rounds of ``--exports`` decodes each.

``--http``: the route end to end instead (POST /v1/traces on a real server, ``--senders``
threads posting protobuf exports for ``--seconds``), then POST /outcomes on the same
server in the same run (bench.outcomes' ingest, batches of as many outcomes as an export
names), so the two rates sit side by side. The per-key outcome rate limit is lifted
(PROMPTDECK_OUTCOMES_RATE=0) for both: this measures the server, not the limit.

    nice .venv/bin/python -m bench.otlp
    nice .venv/bin/python -m bench.otlp --http                       # SQLite, temporary file
    nice .venv/bin/python -m bench.otlp --http --database-url postgresql+psycopg://…
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import httpx
from google.protobuf import json_format
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Status, StatusCode

from promptdeck.domain import otlp


def export(
    batch: int, named: float, versions: Sequence[int] = (1, 2, 3, 4), prompt: str = "support-reply"
) -> bytes:
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
                "gen_ai.prompt.name": prompt,
                "gen_ai.prompt.version": str(versions[i % len(versions)]),
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


def over_http(url: str, senders: int, batch: int, named: float, seconds: float) -> dict[str, float]:
    """Spans a second taken by POST /v1/traces (and the outcomes they made), ``senders``
    threads posting pre-encoded exports."""
    with httpx.Client(base_url=url, timeout=30) as http:
        http.post("/prompts", json={"name": "otlp", "content": "v"})
        versions = [
            http.post("/prompts/otlp/versions", json={"content": f"v{i}"}).json()["id"]
            for i in range(4)
        ]
    body = export(batch, named, versions, "otlp")
    spans = [0] * senders
    failures = [0] * senders
    stop_at = time.monotonic() + seconds

    def sender(k: int) -> None:
        with httpx.Client(base_url=url, timeout=30) as http:
            while time.monotonic() < stop_at:
                response = http.post(
                    "/v1/traces",
                    content=body,
                    headers={"Content-Type": "application/x-protobuf"},
                )
                if response.status_code == 200 and response.content == b"":
                    spans[k] += batch
                else:
                    failures[k] += 1

    threads = [threading.Thread(target=sender, args=(k,)) for k in range(senders)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    with httpx.Client(base_url=url, timeout=30) as http:
        counted = sum(v["count"] for v in http.get("/prompts/otlp/impact").json()["versions"])
    return {
        "spans": sum(spans) / elapsed,
        "outcomes": counted / elapsed,
        "counted": counted,
        "failures": sum(failures),
    }


def http_main(args: argparse.Namespace) -> None:
    from bench.common import serve_promptdeck, stop
    from bench.outcomes import ingest

    os.environ["PROMPTDECK_OUTCOMES_RATE"] = "0"  # inherited by the server
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp(prefix='pd-otlp-')}/bench.db"
    backend = "SQLite" if url.startswith("sqlite") else "PostgreSQL"
    proc, base = serve_promptdeck(url, workers=args.workers)
    try:
        r = over_http(base, args.senders, args.batch, args.named, args.seconds)
        per_export = max(1, round(args.batch * args.named))
        o = ingest(base, proc.pid, args.senders, per_export, args.seconds)
    finally:
        stop(proc)
    print(
        f"| {backend}, {args.workers} process(es), {args.senders} senders | POST /v1/traces, "
        f"exports of {args.batch} spans ({args.named:.0%} naming a version) | "
        f"{r['spans']:,.0f} spans/s ({r['outcomes']:,.0f} outcomes/s, {r['failures']:.0f} "
        f"failed) | POST /outcomes, batches of {per_export} | {o['rate']:,.0f} outcomes/s "
        f"({o['failures']:.0f} failed) |"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--exports", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--named", type=float, default=0.5, help="share of spans naming one")
    parser.add_argument("--http", action="store_true", help="POST /v1/traces on a server")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--senders", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()
    if args.http:
        http_main(args)
        return
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

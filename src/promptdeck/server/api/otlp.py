"""POST /v1/traces: OTLP/HTTP trace exports (protobuf or JSON) from an application or a
collector; each span that names a prompt version becomes an outcome (docs/opentelemetry.md).

OTLP's answer, in the request's own encoding: 200 with an ExportTraceServiceResponse whose
``partial_success`` counts the spans refused (too old, an unknown prompt or version, one
outside the key's prefixes) and says why, so an exporter keeps the rest and does not retry
them; a body that is not an export is a 400 problem, one too large a 413."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request, Response
from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTracePartialSuccess,
    ExportTraceServiceResponse,
)

from promptdeck.domain import otlp
from promptdeck.domain.commands import ReportOutcomes
from promptdeck.errors import UnsupportedMediaType
from promptdeck.server.deps import RegistryDep
from promptdeck.server.problems import responses
from promptdeck.server.roles import ActingWriter

PROTOBUF = "application/x-protobuf"
JSON = "application/json"

router = APIRouter(tags=["opentelemetry"])


async def _body(request: Request) -> bytes:
    """Read on the event loop (bounded by the body limit); decoded in the thread pool."""
    return await request.body()


Body = Annotated[bytes, Depends(_body)]


def _is_protobuf(content_type: str | None) -> bool:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media not in (PROTOBUF, JSON):
        raise UnsupportedMediaType(f"an OTLP export is {PROTOBUF} or {JSON}", field="Content-Type")
    return media == PROTOBUF


def export_response(rejected: int, reasons: list[str], protobuf: bool) -> Response:
    answer = ExportTraceServiceResponse()
    if rejected:
        answer.partial_success.CopyFrom(
            ExportTracePartialSuccess(rejected_spans=rejected, error_message="; ".join(reasons))
        )
    if protobuf:
        return Response(answer.SerializeToString(), media_type=PROTOBUF)
    return Response(json_format.MessageToJson(answer, indent=None), media_type=JSON)


_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Taken: every span that names a prompt version is an outcome; "
        "partialSuccess counts the spans refused and says why (absent: none).",
        "content": {
            JSON: {
                "schema": {
                    "type": "object",
                    "properties": {
                        "partialSuccess": {
                            "type": "object",
                            "properties": {
                                "rejectedSpans": {"type": "string", "pattern": "^[0-9]+$"},
                                "errorMessage": {"type": "string"},
                            },
                        }
                    },
                }
            },
            PROTOBUF: {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


@router.post(
    "/v1/traces",
    summary="OTLP/HTTP trace export (protobuf or JSON): spans naming a prompt version "
    "become outcomes (write role)",
    responses={**_ANSWER, **responses(400, 413, 415, 429)},
    response_class=Response,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                PROTOBUF: {"schema": {"type": "string", "format": "binary"}},
                JSON: {"schema": {"type": "object"}},
            },
        }
    },
)
def export_traces(
    caller: ActingWriter,
    registry: RegistryDep,
    body: Body,
    request: Request,
    content_type: Annotated[str | None, Header()] = None,
) -> Response:
    """The OTLP/HTTP exporter's request (docs/opentelemetry.md): protobuf or JSON, the body
    gzip-compressed or not (`Content-Encoding: gzip`, or none; any other coding is a 415)."""
    protobuf = _is_protobuf(content_type)
    # Content-Encoding (gzip or identity) is the body's framing, not a parameter: the document
    # says so in the description (a generator sending gzip over a JSON body would be refused).
    data = otlp.inflate(body, request.headers.get("content-encoding"))
    decode = otlp.decode_protobuf if protobuf else otlp.decode_json
    decoded = decode(data, registry.clock())
    rejected, reasons = decoded.rejected, decoded.reasons
    if decoded.outcomes:
        done = registry.report_outcomes(ReportOutcomes(decoded.outcomes, partial=True), caller)
        rejected += done.rejected
        reasons = [*reasons, *done.reasons][:5]
    # Counted by fate in GET /metrics (server/observe.py): spans naming nothing included.
    request.state.otlp_spans = {
        "outcome": decoded.spans - decoded.unnamed - rejected,
        "unnamed": decoded.unnamed,
        "rejected": rejected,
    }
    return export_response(rejected, reasons, protobuf)

"""OTLP trace exports into outcomes (domain/otlp.py): spans made by the real SDK, encoded by
the real OTLP encoder, in protobuf and OTLP/JSON; hostile bodies only ever InvalidInput."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from google.protobuf import json_format
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Status, StatusCode

from promptdeck import limits
from promptdeck.domain import otlp
from promptdeck.domain.impact import Outcome
from promptdeck.errors import InvalidInput, PayloadTooLarge

# Pure functions: the database plays no part, so the SQLite pass alone runs them.
pytestmark = pytest.mark.sqlite_only

T0 = 1_800_000_000_000_000_000  # 2027-01-15, in ns
NOW = datetime.fromtimestamp(T0 / 1e9, UTC) + timedelta(minutes=1)


def spans(*made: tuple[dict[str, Any], StatusCode, int]) -> Sequence[ReadableSpan]:
    """SDK spans: (attributes, status, duration in ms) each, starting at T0."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    for attributes, status, ms in made:
        span = tracer.start_span("chat", start_time=T0, attributes=attributes)
        span.set_status(Status(status))
        span.end(end_time=T0 + ms * 1_000_000)
    return exporter.get_finished_spans()


def protobuf(made: Sequence[ReadableSpan]) -> bytes:
    return bytes(encode_spans(made).SerializeToString())


def as_json(made: Sequence[ReadableSpan]) -> bytes:
    """OTLP/JSON as the proto3 JSON mapping writes it: camelCase, int64 as strings."""
    return json_format.MessageToJson(encode_spans(made)).encode()


NAMED = {"gen_ai.prompt.name": "support-reply", "gen_ai.prompt.version": "42"}


@pytest.mark.parametrize("decode", [otlp.decode_protobuf, otlp.decode_json])
def test_a_span_naming_a_version_becomes_an_outcome_with_its_measures(decode: Any) -> None:
    made = spans(
        (
            {
                **NAMED,
                "gen_ai.usage.input_tokens": 120,
                "gen_ai.usage.output_tokens": 30,
                "promptdeck.cost": 0.0021,
                "promptdeck.score": 0.75,
                "promptdeck.label": "production",
                "promptdeck.rollout.arm": "candidate",
                "gen_ai.request.model": "gpt-4o-mini",
            },
            StatusCode.OK,
            420,
        ),
        ({**NAMED, "gen_ai.usage.prompt_tokens": 7}, StatusCode.ERROR, 15),
        ({**NAMED}, StatusCode.UNSET, 1),
    )
    body = protobuf(made) if decode is otlp.decode_protobuf else as_json(made)
    found = decode(body, NOW)
    assert (found.spans, found.unnamed, found.rejected) == (3, 0, 0)
    first, second, third = found.outcomes
    assert first == Outcome(
        prompt="support-reply",
        version_id=42,
        success=True,
        score=0.75,
        latency_ms=420.0,
        input_tokens=120,
        output_tokens=30,
        cost=0.0021,
        tags={"label": "production", "rollout.arm": "candidate"},
        at=datetime.fromtimestamp((T0 + 420_000_000) / 1e9, UTC),
    )
    assert (second.success, second.input_tokens, second.latency_ms) == (False, 7, 15.0)
    assert (third.success, third.tags) == (True, {})


@pytest.mark.parametrize("decode", [otlp.decode_protobuf, otlp.decode_json])
def test_spans_that_name_no_version_in_canonical_decimal_are_counted_unnamed_and_dropped(
    decode: Any,
) -> None:
    made = spans(
        ({"http.method": "GET"}, StatusCode.UNSET, 1),
        ({"gen_ai.prompt.name": "p"}, StatusCode.UNSET, 1),
        ({"gen_ai.prompt.name": "p", "gen_ai.prompt.version": 42}, StatusCode.UNSET, 1),
        *[
            ({"gen_ai.prompt.name": "p", "gen_ai.prompt.version": v}, StatusCode.UNSET, 1)
            for v in ("042", "+42", "v3", "", "0", " 42", "4.2", "٤٢", "99999999999")
        ],
        ({"gen_ai.prompt.name": "", "gen_ai.prompt.version": "1"}, StatusCode.UNSET, 1),
        ({"gen_ai.prompt.name": "p", "gen_ai.prompt.version": "1"}, StatusCode.UNSET, 1),
    )
    body = protobuf(made) if decode is otlp.decode_protobuf else as_json(made)
    found = decode(body, NOW)
    assert (found.spans, found.unnamed, len(found.outcomes)) == (14, 13, 1)


def test_measures_out_of_the_outcome_bounds_are_omitted_and_tags_are_bounded() -> None:
    tags = {f"promptdeck.t{i}": f"v{i}" for i in range(12)}
    made = spans(
        (
            {
                **NAMED,
                "promptdeck.k" + "x" * 80: "too long a key",
                "promptdeck.long": "é" * 300,
                "promptdeck.flag": True,
                **tags,
                "gen_ai.usage.input_tokens": -1,
                "gen_ai.usage.output_tokens": 2**40,
                "promptdeck.cost": -0.5,
                "promptdeck.score": 1.5,
            },
            StatusCode.OK,
            25 * 3600 * 1000,  # over a day
        )
    )
    (outcome,) = otlp.decode_protobuf(protobuf(made), NOW + timedelta(days=2)).outcomes
    assert (outcome.input_tokens, outcome.output_tokens, outcome.cost, outcome.score) == (
        None,
        None,
        None,
        None,
    )
    assert outcome.latency_ms is None
    assert len(outcome.tags) == limits.OUTCOME_TAGS_MAX
    assert outcome.tags["long"] == "é" * limits.OUTCOME_TAG_VALUE_MAX
    assert outcome.tags["flag"] == "true"
    assert not any(k.startswith("k") for k in outcome.tags)


def test_a_span_older_than_thirty_days_or_from_the_future_is_rejected_not_ingested() -> None:
    made = protobuf(spans((NAMED, StatusCode.OK, 1)))
    old = otlp.decode_protobuf(made, NOW + timedelta(days=31))
    ahead = otlp.decode_protobuf(made, NOW - timedelta(hours=1))
    for found in (old, ahead):
        assert (found.rejected, found.outcomes) == (1, [])
    assert "older than 30 days" in old.reasons[0]


def test_an_otlp_json_export_as_the_specification_writes_it_decodes() -> None:
    body = {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"stringValue": "a"}}]
                },
                "scopeSpans": [
                    {
                        "scope": {"name": "my.library", "version": "1.0.0"},
                        "spans": [
                            {
                                "traceId": "5b8efff798038103d269b633813fc60c",
                                "spanId": "eee19b7ec3c1b174",
                                "name": "chat",
                                "kind": 3,
                                "startTimeUnixNano": str(T0),
                                "endTimeUnixNano": str(T0 + 2_500_000),
                                "attributes": [
                                    {"key": "gen_ai.prompt.name", "value": {"stringValue": "p"}},
                                    {"key": "gen_ai.prompt.version", "value": {"stringValue": "9"}},
                                    {
                                        "key": "gen_ai.usage.input_tokens",
                                        "value": {"intValue": "5"},
                                    },
                                    {"key": "promptdeck.cost", "value": {"doubleValue": 0.5}},
                                ],
                                "status": {"code": 2, "message": "rate limited"},
                            }
                        ],
                    }
                ],
            }
        ]
    }
    (outcome,) = otlp.decode_json(json.dumps(body).encode(), NOW).outcomes
    assert (outcome.version_id, outcome.success, outcome.latency_ms) == (9, False, 2.5)
    assert (outcome.input_tokens, outcome.cost) == (5, 0.5)


def test_an_export_over_the_span_limit_is_refused_and_over_the_body_limit_too_large() -> None:
    one = {"attributes": []}
    body = {"resourceSpans": [{"scopeSpans": [{"spans": [one] * (limits.OTLP_SPANS_MAX + 1)}]}]}
    with pytest.raises(InvalidInput, match="more than 10000 spans"):
        otlp.decode_json(json.dumps(body).encode(), NOW)
    with pytest.raises(PayloadTooLarge):
        otlp.decode_protobuf(b"\x00" * (limits.OTLP_BODY_MAX + 1), NOW)


SPANS = b'{"resourceSpans": [{"scopeSpans": [{"spans": [%s]}]}]}'
SPAN = "resourceSpans[0].scopeSpans[0].spans[0]"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"{", "body"),
        (b"[]", "body"),
        (b'{"resourceSpans": {}}', "body.resourceSpans"),
        (b'{"resourceSpans": [1]}', "resourceSpans[0]"),
        (SPANS % b'"x"', SPAN),
        (SPANS % b'{"attributes": [{"key": "gen_ai.prompt.name"}], "startTimeUnixNano": "-1"}',
         SPAN + ".startTimeUnixNano"),
        (b"[" * 100_000 + b"]" * 100_000, "body"),
        (b"\xff\xfe", "body"),
    ],
)  # fmt: skip
def test_a_malformed_json_export_is_invalid_input_naming_where(body: bytes, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        otlp.decode_json(body, NOW)
    assert caught.value.field == field


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=20), inner, max_size=4)
    ),
    max_leaves=20,
)
KEYS = ["resourceSpans", "scopeSpans", "spans", "attributes", "key", "value", "stringValue",
        "intValue", "doubleValue", "boolValue", "status", "code", "startTimeUnixNano",
        "endTimeUnixNano", "gen_ai.prompt.name", "gen_ai.prompt.version"]  # fmt: skip
leaves = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5)
shaped = st.recursive(
    leaves | st.sampled_from(KEYS),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=4)
    ),
    max_leaves=30,
)


@settings(max_examples=400, deadline=None)
@given(json_values | shaped)
def test_any_json_body_decodes_or_is_refused_as_invalid_input(value: Any) -> None:
    try:
        found = otlp.decode_json(json.dumps(value).encode(), NOW)
    except InvalidInput:
        return
    assert found.spans == found.unnamed + found.rejected + len(found.outcomes)


VALID = protobuf(spans((NAMED, StatusCode.OK, 1), ({"a": "b"}, StatusCode.ERROR, 2)))


@settings(max_examples=300, deadline=None)
@given(
    st.binary(max_size=300)
    | st.integers(0, len(VALID)).map(lambda n: VALID[:n])
    | st.tuples(st.integers(0, len(VALID) - 1), st.integers(0, 255)).map(
        lambda at: VALID[: at[0]] + bytes([at[1]]) + VALID[at[0] + 1 :]
    )
)
def test_any_protobuf_body_decodes_or_is_refused_as_invalid_input(body: bytes) -> None:
    try:
        found = otlp.decode_protobuf(body, NOW)
    except InvalidInput:
        return
    assert found.spans == found.unnamed + found.rejected + len(found.outcomes)


def test_deeply_nested_protobuf_values_are_refused_as_invalid_input() -> None:
    # AnyValue{array_value{values: [AnyValue{array_value …}]}} 200 levels deep: past the
    # protobuf runtime's recursion limit.
    value = b""
    for _ in range(200):
        array = b"\x0a" + _varint(len(value)) + value  # ArrayValue.values
        value = b"\x2a" + _varint(len(array)) + array  # AnyValue.array_value
    kv = b"\x0a\x01k\x12" + _varint(len(value)) + value
    span = b"\x4a" + _varint(len(kv)) + kv  # Span.attributes
    scope = b"\x12" + _varint(len(span)) + span
    resource = b"\x12" + _varint(len(scope)) + scope
    body = b"\x0a" + _varint(len(resource)) + resource
    with pytest.raises(InvalidInput):
        otlp.decode_protobuf(body, NOW)


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)

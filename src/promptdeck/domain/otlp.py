"""OTLP trace exports into outcomes (docs/opentelemetry.md): pure, bounded, hostile-safe.

A span becomes an outcome (`impact.Outcome`, what POST /outcomes ingests) when its
attributes name a prompt version: ``gen_ai.prompt.name`` (the prompt's name, or id) and
``gen_ai.prompt.version`` (the version's id, a canonical decimal string). Any other span,
or one whose version is spelled otherwise (``"07"``, an integer attribute, ``"v3"``), is
counted as *unnamed* and dropped: found by one pass over its attribute keys, nothing else
of it is read.

- latency: end - start (omitted when end < start or over a day);
- success: the status: ``ERROR`` (2) is a failure, ``OK`` (1) and ``UNSET`` (0) a
  success (instrumentations leave a call that went well UNSET);
- tokens: ``gen_ai.usage.input_tokens`` / ``output_tokens`` (older
  ``gen_ai.usage.prompt_tokens`` / ``completion_tokens`` too); ``promptdeck.cost`` and
  ``promptdeck.score`` (0..1); a measure out of the outcome bounds is omitted;
- when: the span's end; a span older than 30 days or over 300 s ahead is *rejected*;
- tags: the other ``promptdeck.*`` attributes, key without the prefix (``label``,
  ``rollout.arm``): string, boolean, integer or double values as text; the first 8 whose
  key is at most 64 characters; values cut to 128 characters; arrays, maps and bytes skipped.

Bounds: the body (``OTLP_BODY_MAX``), spans per request (``OTLP_SPANS_MAX``), attributes
read per span (``OTLP_ATTRIBUTES_MAX``, the rest ignored). Anything malformed is an
`ExportMalformed` (a 400) naming where, never another exception. A gzipped body
(``Content-Encoding: gzip``, a collector's default) is inflated first, to the same bound.
"""

from __future__ import annotations

import json
import math
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from promptdeck import limits
from promptdeck.domain import values
from promptdeck.domain.commands import Outcome
from promptdeck.errors import ExportMalformed, PayloadTooLarge, UnsupportedMediaType

PROMPT_NAME = "gen_ai.prompt.name"
PROMPT_VERSION = "gen_ai.prompt.version"
INPUT_TOKENS = ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens")
OUTPUT_TOKENS = ("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens")
COST = "promptdeck.cost"
SCORE = "promptdeck.score"
TAG_PREFIX = "promptdeck."
STATUS_ERROR = 2
_MEASURES = frozenset({COST, SCORE})
# The keys read from a named span (and every promptdeck.* one); the others are skipped.
_WANTED = frozenset({PROMPT_NAME, PROMPT_VERSION, *INPUT_TOKENS, *OUTPUT_TOKENS})
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NS_PER_MS = 1_000_000
_INT64_MAX = 2**63 - 1


@dataclass(slots=True)
class Decoded:
    """What one export holds: outcomes, and the spans dropped (unnamed) or refused."""

    outcomes: list[Outcome] = field(default_factory=list)
    spans: int = 0
    unnamed: int = 0
    rejected: int = 0
    reasons: list[str] = field(default_factory=list)  # the first few refusals, for the answer

    def reject(self, why: str) -> None:
        self.rejected += 1
        if len(self.reasons) < 5:
            self.reasons.append(why)


@dataclass(slots=True)
class _Span:
    """The parts of a span this module reads, whichever the encoding."""

    attributes: dict[str, Any]  # key -> str | bool | int | float (others skipped)
    start_ns: int
    end_ns: int
    status: int


# --- the outcome of one span -------------------------------------------------------------------


def _count(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if 0 <= value <= limits.OUTCOME_TOKENS_MAX else None


def _number(value: Any, high: float) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    value = float(value)
    return value if math.isfinite(value) and 0 <= value <= high else None


def _first(attributes: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        if key in attributes:
            return attributes[key]
    return None


def _tags(attributes: dict[str, Any]) -> dict[str, str]:
    tags: dict[str, str] = {}
    for key, value in attributes.items():
        if not key.startswith(TAG_PREFIX) or key in _MEASURES:
            continue
        name = key[len(TAG_PREFIX) :]
        if not name or len(name) > limits.OUTCOME_TAG_KEY_MAX or not values.is_text(name):
            continue
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, float) and not math.isfinite(value):
            continue
        else:
            text = str(value)[: limits.OUTCOME_TAG_VALUE_MAX]
        if not values.is_text(text):
            continue
        tags[name] = text
        if len(tags) == limits.OUTCOME_TAGS_MAX:
            break
    return tags


@dataclass(slots=True)
class _Context:
    """What one decode checks once: the time window (ns) and names and versions seen."""

    low_ns: int
    high_ns: int
    names: dict[str, bool] = field(default_factory=dict)
    versions: dict[str, int | None] = field(default_factory=dict)

    @classmethod
    def at(cls, now: datetime) -> _Context:
        now_ns = int((now - _EPOCH) / timedelta(microseconds=1)) * 1000
        low = now_ns - limits.OUTCOME_PAST_DAYS_MAX * 86_400 * 10**9
        return cls(low, now_ns + limits.OUTCOME_FUTURE_S_MAX * 10**9)

    def name_ok(self, name: str) -> bool:
        ok = self.names.get(name)
        if ok is None:
            ok = self.names[name] = 1 <= len(name) <= limits.PROMPT_NAME_MAX and values.is_text(
                name
            )
        return ok

    def version(self, text: str) -> int | None:
        if text not in self.versions:
            found = values.parse_id(text)
            self.versions[text] = found if found else None
        return self.versions[text]


def _outcome(span: _Span, ctx: _Context, out: Decoded) -> None:
    attributes = span.attributes
    name, version = attributes.get(PROMPT_NAME), attributes.get(PROMPT_VERSION)
    if not isinstance(name, str) or not isinstance(version, str):
        out.unnamed += 1
        return
    version_id = ctx.version(version)
    if version_id is None or not ctx.name_ok(name):
        out.unnamed += 1
        return
    end = span.end_ns
    at: datetime | None = None
    if end > 0:
        if end > ctx.high_ns:
            out.reject(f"{name}@{version_id}: ends over {limits.OUTCOME_FUTURE_S_MAX} s ahead")
            return
        if end < ctx.low_ns:
            out.reject(f"{name}@{version_id}: older than {limits.OUTCOME_PAST_DAYS_MAX} days")
            return
        at = _EPOCH + timedelta(microseconds=end // 1000)
    latency: float | None = None
    if 0 < span.start_ns <= end:
        latency = (end - span.start_ns) / _NS_PER_MS
        if latency > limits.OUTCOME_LATENCY_MS_MAX:
            latency = None
    out.outcomes.append(
        Outcome(
            prompt=name,
            version_id=version_id,
            success=span.status != STATUS_ERROR,
            score=_number(attributes.get(SCORE), 1.0),
            latency_ms=latency,
            input_tokens=_count(_first(attributes, INPUT_TOKENS)),
            output_tokens=_count(_first(attributes, OUTPUT_TOKENS)),
            cost=_number(attributes.get(COST), limits.OUTCOME_COST_MAX),
            tags=_tags(attributes),
            at=at,
        )
    )


def _fold(spans: Iterable[_Span | None], now: datetime) -> Decoded:
    out = Decoded()
    ctx = _Context.at(now)
    for span in spans:
        out.spans += 1
        if out.spans > limits.OTLP_SPANS_MAX:
            raise ExportMalformed(
                f"more than {limits.OTLP_SPANS_MAX} spans in one export", field="resourceSpans"
            )
        if span is None:  # named nothing: its attributes were not even collected
            out.unnamed += 1
        else:
            _outcome(span, ctx, out)
    return out


def _check_size(body: bytes) -> None:
    if len(body) > limits.OTLP_BODY_MAX:
        raise PayloadTooLarge(f"an OTLP export is at most {limits.OTLP_BODY_MAX} bytes")


def inflate(body: bytes, encoding: str | None) -> bytes:
    """The body as sent: ``identity`` (or no header), or ``gzip`` inflated up to
    ``OTLP_BODY_MAX`` bytes (a gzip bomb stops there: 413)."""
    coding = (encoding or "identity").strip().lower()
    if coding == "identity":
        return body
    if coding != "gzip":
        raise UnsupportedMediaType(
            f"Content-Encoding {coding[:40]!r}: send gzip or nothing", field="Content-Encoding"
        )
    inflater = zlib.decompressobj(wbits=31)  # gzip framing only
    try:
        out = inflater.decompress(body, limits.OTLP_BODY_MAX + 1)
    except zlib.error as exc:
        raise ExportMalformed(f"the body is not gzip: {exc}", field="body") from exc
    _check_size(out)
    if not inflater.eof:
        raise ExportMalformed("the gzip body ends early", field="body")
    return out


# --- protobuf ----------------------------------------------------------------------------------


def _pb_value(value: Any) -> Any:
    which = value.WhichOneof("value")
    if which in ("string_value", "bool_value", "int_value", "double_value"):
        return getattr(value, which)
    return None  # arrays, maps, bytes: not read


def _pb_spans(request: Any) -> Iterator[_Span | None]:
    for resource_spans in request.resource_spans:
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                kept = [
                    kv
                    for kv in span.attributes[: limits.OTLP_ATTRIBUTES_MAX]
                    if kv.key in _WANTED or kv.key.startswith(TAG_PREFIX)
                ]
                if not any(kv.key == PROMPT_NAME for kv in kept):
                    yield None
                    continue
                attributes = {kv.key: _pb_value(kv.value) for kv in kept}
                yield _Span(
                    attributes,
                    span.start_time_unix_nano,
                    span.end_time_unix_nano,
                    span.status.code,
                )


def decode_protobuf(body: bytes, now: datetime) -> Decoded:
    """An ``application/x-protobuf`` ExportTraceServiceRequest."""
    _check_size(body)
    from google.protobuf.message import DecodeError
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    try:
        request = ExportTraceServiceRequest.FromString(body)
    except (DecodeError, RecursionError, ValueError) as exc:
        raise ExportMalformed(f"not an OTLP protobuf trace export: {exc}", field="body") from exc
    return _fold(_pb_spans(request), now)


# --- OTLP/JSON ---------------------------------------------------------------------------------


def _bad(where: str, what: str) -> ExportMalformed:
    return ExportMalformed(f"{where}: {what}", field=where)


def _list(obj: dict[str, Any], camel: str, snake: str, where: str) -> list[Any]:
    found = obj.get(camel, obj.get(snake, []))
    if found is None:
        return []
    if not isinstance(found, list):
        raise _bad(f"{where}.{camel}", "must be a list")
    return found


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _bad(where, "must be an object")
    return value


def _int64(value: Any, where: str, signed: bool = False) -> int:
    """proto3 JSON's 64-bit integers: a decimal string (or a JSON number); absent is 0."""
    if value is None:
        return 0
    if isinstance(value, bool):
        raise _bad(where, "must be an integer")
    if isinstance(value, str):
        text = value[1:] if signed and value.startswith("-") else value
        if not text.isascii() or not text.isdigit() or len(text) > 20:
            raise _bad(where, "must be an integer (a decimal string)")
        number = int(value)
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    else:
        raise _bad(where, "must be an integer")
    low = -(2**63) if signed else 0
    high = _INT64_MAX if signed else 2**64 - 1
    if not low <= number <= high:
        raise _bad(where, "is out of the 64-bit range")
    return number


def _json_value(value: Any, where: str) -> Any:
    if not isinstance(value, dict):
        return None
    if "stringValue" in value or "string_value" in value:
        text = value.get("stringValue", value.get("string_value"))
        return text if isinstance(text, str) else None
    if "boolValue" in value or "bool_value" in value:
        flag = value.get("boolValue", value.get("bool_value"))
        return flag if isinstance(flag, bool) else None
    if "intValue" in value or "int_value" in value:
        return _int64(value.get("intValue", value.get("int_value")), where, signed=True)
    if "doubleValue" in value or "double_value" in value:
        number = value.get("doubleValue", value.get("double_value"))
        if isinstance(number, bool):
            return None
        if isinstance(number, int | float):
            return float(number)
        if number in ("NaN", "Infinity", "-Infinity"):
            return float(number.replace("Infinity", "inf"))
        return None
    return None


def _json_spans(body: dict[str, Any]) -> Iterator[_Span | None]:
    for i, rs in enumerate(_list(body, "resourceSpans", "resource_spans", "body")):
        at = f"resourceSpans[{i}]"
        rs = _object(rs, at)
        for j, ss in enumerate(_list(rs, "scopeSpans", "scope_spans", at)):
            at_scope = f"{at}.scopeSpans[{j}]"
            ss = _object(ss, at_scope)
            for k, span in enumerate(_list(ss, "spans", "spans", at_scope)):
                where = f"{at_scope}.spans[{k}]"
                span = _object(span, where)
                raw = _list(span, "attributes", "attributes", where)[: limits.OTLP_ATTRIBUTES_MAX]
                if not any(isinstance(kv, dict) and kv.get("key") == PROMPT_NAME for kv in raw):
                    yield None
                    continue
                attributes: dict[str, Any] = {}
                for n, kv in enumerate(raw):
                    key = kv.get("key") if isinstance(kv, dict) else None
                    if isinstance(key, str) and (key in _WANTED or key.startswith(TAG_PREFIX)):
                        attributes[key] = _json_value(
                            kv.get("value"), f"{where}.attributes[{n}].value"
                        )
                status = span.get("status") or {}
                code = _object(status, f"{where}.status").get("code", 0)
                if code in ("STATUS_CODE_ERROR", "STATUS_CODE_OK", "STATUS_CODE_UNSET"):
                    code = {"STATUS_CODE_ERROR": 2, "STATUS_CODE_OK": 1}.get(code, 0)
                if isinstance(code, bool) or not isinstance(code, int):
                    raise _bad(f"{where}.status.code", "must be 0, 1 or 2")
                yield _Span(
                    attributes,
                    _int64(
                        span.get("startTimeUnixNano", span.get("start_time_unix_nano")),
                        f"{where}.startTimeUnixNano",
                    ),
                    _int64(
                        span.get("endTimeUnixNano", span.get("end_time_unix_nano")),
                        f"{where}.endTimeUnixNano",
                    ),
                    code,
                )


def decode_json(body: bytes, now: datetime) -> Decoded:
    """An ``application/json`` ExportTraceServiceRequest (OTLP/JSON: lowerCamelCase names,
    the proto field names accepted too; 64-bit integers as strings; hex ids, not read)."""
    _check_size(body)
    try:
        found = json.loads(body)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise ExportMalformed(f"not JSON: {str(exc)[:200]}", field="body") from exc
    return _fold(_json_spans(_object(found, "body")), now)

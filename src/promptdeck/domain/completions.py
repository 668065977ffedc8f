"""What a chat completion answers, read back: the whole answer, or its Server-Sent Events
(``data:`` lines, ``[DONE]`` at the end) assembled piece by piece. Pure; everything a
provider sends is bounded and checked here, and nothing it says reaches an error's text
without its key scrubbed out."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from promptdeck.domain.providers import Price, Secret
from promptdeck.errors import ProviderUnavailable

OUTPUT_MAX = 2_000_000  # characters of output and tool arguments, together
TOOL_CALLS_MAX = 128
ANSWER_MAX_BYTES = 8_000_000  # a whole answer's body
LINE_MAX_BYTES = 1_000_000  # one line of a stream
MESSAGE_KEEP = 300  # characters of a provider's error message kept
DONE = "[DONE]"


@dataclass(frozen=True, slots=True)
class ToolCall:
    id: str
    name: str
    arguments: str  # as the model wrote it: JSON, when the model did it right

    def parsed(self) -> Any:
        """The arguments as JSON, or None when they are not JSON."""
        try:
            return json.loads(self.arguments)
        except ValueError:
            return None


@dataclass(frozen=True, slots=True)
class Usage:
    prompt_tokens: int | None
    completion_tokens: int | None
    total_tokens: int | None


@dataclass(frozen=True, slots=True)
class Completion:
    """A model's answer with what it cost: ``latency_ms`` from the request's start to the
    answer's end (the last attempt's), ``cost`` only with a price for the model."""

    output: str
    tool_calls: tuple[ToolCall, ...]
    finish_reason: str | None
    usage: Usage | None
    cost: float | None
    latency_ms: float
    model: str | None = None
    attempts: int = 1
    first_token_ms: float | None = None  # streams: when the first piece arrived


@dataclass(frozen=True, slots=True)
class ToolCallPiece:
    """A part of a tool call as a stream sends it (``index`` says which call)."""

    index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""


@dataclass(frozen=True, slots=True)
class Delta:
    """A piece of a streamed answer."""

    text: str = ""
    tool_calls: tuple[ToolCallPiece, ...] = ()


def cost_of(usage: Usage | None, price: Price | None) -> float | None:
    if usage is None or price is None:
        return None
    if usage.prompt_tokens is None or usage.completion_tokens is None:
        return None
    return (
        usage.prompt_tokens * price.input_per_million
        + usage.completion_tokens * price.output_per_million
    ) / 1_000_000


def _malformed(what: str) -> ProviderUnavailable:
    return ProviderUnavailable(f"the provider's answer is not a chat completion: {what}")


def _count(value: Any) -> int | None:
    ok = isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**53
    return value if ok else None


def usage_of(data: Any) -> Usage | None:
    if not isinstance(data, Mapping):
        return None
    prompt, completion = _count(data.get("prompt_tokens")), _count(data.get("completion_tokens"))
    total = _count(data.get("total_tokens"))
    if total is None and prompt is not None and completion is not None:
        total = prompt + completion
    if prompt is None and completion is None and total is None:
        return None
    return Usage(prompt, completion, total)


def _text(content: Any) -> str:
    """A message's content: a string, or (some servers) a list of typed parts."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            p["text"] for p in content if isinstance(p, Mapping) and isinstance(p.get("text"), str)
        )
    raise _malformed("message content is neither text nor parts")


def _arguments(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return json.dumps(value, ensure_ascii=False)  # Ollama sends an object


def _tool_calls(message: Mapping[str, Any]) -> tuple[ToolCall, ...]:
    raw = message.get("tool_calls") or []
    if not isinstance(raw, list) or len(raw) > TOOL_CALLS_MAX:
        raise _malformed("tool_calls is not a list of at most 128")
    calls = []
    for item in raw:
        function = item.get("function") if isinstance(item, Mapping) else None
        if not isinstance(function, Mapping) or not isinstance(function.get("name"), str):
            raise _malformed("a tool call has no function name")
        call_id = item.get("id")
        calls.append(
            ToolCall(
                call_id if isinstance(call_id, str) else "",
                function["name"],
                _arguments(function.get("arguments")),
            )
        )
    legacy = message.get("function_call")  # the API before tools
    if not calls and isinstance(legacy, Mapping) and isinstance(legacy.get("name"), str):
        calls.append(ToolCall("", legacy["name"], _arguments(legacy.get("arguments"))))
    return tuple(calls)


def parse_completion(
    data: Any,
    *,
    latency_ms: float,
    price: Price | None,
    attempts: int = 1,
    secret: Secret | None = None,
) -> Completion:
    """A whole (non-streamed) answer's JSON as a Completion."""
    if not isinstance(data, Mapping):
        raise _malformed("not a JSON object")
    if "error" in data:
        raise ProviderUnavailable(f"the provider answered an error: {message_of(data, secret)}")
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], Mapping):
        raise _malformed("no choices")
    message = choices[0].get("message")
    if not isinstance(message, Mapping):
        raise _malformed("the first choice has no message")
    output = _text(message.get("content"))
    calls = _tool_calls(message)
    if len(output) + sum(len(c.arguments) for c in calls) > OUTPUT_MAX:
        raise _malformed(f"longer than {OUTPUT_MAX} characters")
    finish = choices[0].get("finish_reason")
    usage = usage_of(data.get("usage"))
    model = data.get("model")
    return Completion(
        output=output,
        tool_calls=calls,
        finish_reason=finish if isinstance(finish, str) else None,
        usage=usage,
        cost=cost_of(usage, price),
        latency_ms=latency_ms,
        model=model if isinstance(model, str) else None,
        attempts=attempts,
    )


# --- streams --------------------------------------------------------------------------------


class EventDecoder:
    """Server-Sent Events, line by line: ``line`` returns an event's data when the blank line
    that ends it comes (``data:`` lines joined by newlines; comments and other fields
    skipped); ``end`` flushes an event the stream did not end with a blank line."""

    def __init__(self) -> None:
        self._data: list[str] = []

    def line(self, line: str) -> str | None:
        if line == "":
            return self.end()
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        if name == "data":
            self._data.append(value[1:] if value.startswith(" ") else value)
        return None

    def end(self) -> str | None:
        if not self._data:
            return None
        data, self._data = "\n".join(self._data), []
        return data


@dataclass
class _Call:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)


class StreamAssembler:
    """Chunks of a streamed completion put together; ``feed`` gives the piece each adds."""

    def __init__(self, secret: Secret | None = None) -> None:
        self.secret = secret
        self.text: list[str] = []
        self.calls: dict[int, _Call] = {}
        self.size = 0
        self.finish_reason: str | None = None
        self.usage: Usage | None = None
        self.model: str | None = None

    def feed(self, data: str) -> Delta | None:
        try:
            chunk = json.loads(data)
        except ValueError:
            raise _malformed("a stream event is not JSON") from None
        if not isinstance(chunk, Mapping):
            raise _malformed("a stream event is not a JSON object")
        if "error" in chunk:
            raise ProviderUnavailable(
                f"the provider's stream ended in an error: {message_of(chunk, self.secret)}"
            )
        if isinstance(chunk.get("model"), str):
            self.model = chunk["model"]
        usage = usage_of(chunk.get("usage"))
        if usage is not None:
            self.usage = usage
        choices = chunk.get("choices") or []
        if not isinstance(choices, list):
            raise _malformed("choices is not a list")
        first = next((c for c in choices if isinstance(c, Mapping) and c.get("index", 0) == 0), {})
        if isinstance(first.get("finish_reason"), str):
            self.finish_reason = first["finish_reason"]
        delta = first.get("delta") or {}
        if not isinstance(delta, Mapping):
            raise _malformed("a delta is not an object")
        text = _text(delta.get("content"))
        pieces = self._pieces(delta.get("tool_calls"))
        self.size += len(text) + sum(len(p.arguments) for p in pieces)
        if self.size > OUTPUT_MAX:
            raise _malformed(f"longer than {OUTPUT_MAX} characters")
        self.text.append(text)
        return Delta(text, pieces) if text or pieces else None

    def _pieces(self, raw: Any) -> tuple[ToolCallPiece, ...]:
        if not raw:
            return ()
        if not isinstance(raw, list):
            raise _malformed("tool_calls is not a list")
        pieces = []
        for item in raw:
            if not isinstance(item, Mapping):
                raise _malformed("a tool call piece is not an object")
            index = item.get("index", 0)
            if not isinstance(index, int) or not 0 <= index < TOOL_CALLS_MAX:
                raise _malformed("a tool call piece has no valid index")
            function = item.get("function") or {}
            call = self.calls.setdefault(index, _Call())
            piece = ToolCallPiece(
                index,
                item["id"] if isinstance(item.get("id"), str) else None,
                function.get("name") if isinstance(function.get("name"), str) else None,
                _arguments(function.get("arguments")) if isinstance(function, Mapping) else "",
            )
            call.id = piece.id or call.id
            call.name = piece.name or call.name
            call.arguments.append(piece.arguments)
            pieces.append(piece)
        return tuple(pieces)

    def finish(
        self,
        *,
        latency_ms: float,
        first_token_ms: float | None,
        price: Price | None,
        attempts: int = 1,
    ) -> Completion:
        calls = tuple(
            ToolCall(c.id, c.name, "".join(c.arguments))
            for _, c in sorted(self.calls.items())
            if c.name
        )
        return Completion(
            output="".join(self.text),
            tool_calls=calls,
            finish_reason=self.finish_reason,
            usage=self.usage,
            cost=cost_of(self.usage, price),
            latency_ms=latency_ms,
            model=self.model,
            attempts=attempts,
            first_token_ms=first_token_ms,
        )


# --- a provider's error, told without its key ------------------------------------------------

_TOKEN = re.compile(r"[A-Za-z0-9_\-.]{8,}")


def scrub(text: str, secret: Secret | None) -> str:
    """``text`` with the key, and any run of 8 or more of its characters (a server that
    echoes part of it), replaced by ``***``."""
    if secret is None:
        return text
    key = secret.reveal()
    text = text.replace(key, "***")
    return _TOKEN.sub(lambda m: "***" if m.group(0) in key else m.group(0), text)


def message_of(data: Any, secret: Secret | None) -> str:
    """The message of an error answer (OpenAI's ``{"error": {"message": ...}}`` and the
    like), one line, at most MESSAGE_KEEP characters, without the key."""
    message: Any = data
    if isinstance(data, Mapping):
        error = data.get("error", data)
        message = error.get("message", error) if isinstance(error, Mapping) else error
    text = message if isinstance(message, str) else json.dumps(message, default=str)
    return scrub(" ".join(text.split())[:MESSAGE_KEEP], secret)


def error_text(body: bytes, secret: Secret | None) -> str:
    """What an error answer's body says, as ``message_of`` tells it (any body)."""
    text = body[:16_384].decode("utf-8", "replace")
    try:
        return message_of(json.loads(text), secret)
    except ValueError:
        return message_of(text, secret)

"""Model providers: OpenAI-compatible chat completion endpoints (OpenAI, Azure OpenAI's v1 API,
vLLM, Ollama, llama.cpp's server, LM Studio, LiteLLM...). Pure: a provider's configuration,
its key kept out of every text, what a call asks (``ChatRequest`` and its JSON body), when
a failed call is tried again. The answer's reading is ``domain/completions.py``; the HTTP side
``promptdeck/outgoing/`` (which the core never imports: it is handed a caller)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

from promptdeck.errors import InvalidInput

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
MODEL_MAX = 200
MODELS_MAX = 100
# A key is read from an environment variable only when its name says it is one: an admin
# who configures a provider must not be able to send the server's other variables (its
# database password, PROMPTDECK_*) to an endpoint of their choosing as a "key".
KEY_ENV_RE = re.compile(r"^[A-Z][A-Z0-9_]{0,100}_API_KEY$")
KEY_MAX = 4096
# Keys of a version's model_config that the call sets itself: passing them through would
# change what promptdeck asked for (the messages, one answer, streaming, the contract).
RESERVED_KEYS = frozenset(
    {"model", "messages", "stream", "stream_options", "tools", "response_format", "n"}
)


class Secret:
    """A provider's key: shown as ``***`` by ``str`` and ``repr``; ``reveal`` gives it to the
    one place that sends it (the ``Authorization`` header)."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not 0 < len(value) <= KEY_MAX or not all(33 <= ord(c) < 127 for c in value):
            # The message never quotes the value.
            raise InvalidInput(
                f"an API key is 1 to {KEY_MAX} printable ASCII characters, no spaces",
                field="api_key",
            )
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__


def check_key_env(name: str) -> str:
    if not KEY_ENV_RE.match(name) or name.startswith("PROMPTDECK_"):
        raise InvalidInput(
            "api_key_env must name an environment variable ending in _API_KEY (upper case, "
            "not PROMPTDECK_*), such as OPENAI_API_KEY",
            field="api_key_env",
        )
    return name


@dataclass(frozen=True, slots=True)
class Price:
    """What a model costs per million tokens, in the currency the operator keeps."""

    input_per_million: float
    output_per_million: float


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds: to connect, between two reads of the answer, and for the whole call with its
    retries (a stream included)."""

    connect_s: float = 10.0
    read_s: float = 60.0
    total_s: float = 180.0


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """At most ``attempts`` tries on 408, 429, 5xx and connection failures: the wait doubles
    from ``base_s`` up to ``cap_s`` with jitter; a ``Retry-After`` is honoured when it asks
    for no more than ``retry_after_max_s`` (a longer one ends the call: its error says when)."""

    attempts: int = 3
    base_s: float = 0.5
    cap_s: float = 8.0
    retry_after_max_s: float = 30.0

    def delay(self, attempt: int, retry_after: float | None, randomness: float) -> float | None:
        """Seconds to wait after the failed ``attempt`` (1-based), or None: give up.
        ``randomness`` in [0, 1) takes up to half the doubled wait away (jitter)."""
        if attempt >= self.attempts:
            return None
        if retry_after is not None:
            return retry_after if retry_after <= self.retry_after_max_s else None
        wait: float = min(self.cap_s, self.base_s * 2.0 ** min(attempt - 1, 30))
        return wait * (1 - 0.5 * randomness)


RETRY_STATUSES = frozenset({408, 409, 429})  # and every 5xx


def retryable(status: int) -> bool:
    return status in RETRY_STATUSES or status >= 500


def retry_after_seconds(headers: Mapping[str, str], now: datetime) -> float | None:
    """``Retry-After`` (seconds or an HTTP date) or OpenAI's ``retry-after-ms``, in seconds."""
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            value = float(millis) / 1000
        except ValueError:
            value = math.nan
        if math.isfinite(value) and value >= 0:
            return value
    text = (headers.get("retry-after") or "").strip()
    if not text:
        return None
    if text.isascii() and text.isdigit():
        return float(int(text[:9]))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds())


@dataclass(frozen=True, slots=True)
class ProviderConfig:
    """An endpoint and what it offers. The key is not here: it is an environment variable
    (``api_key_env``) or stored encrypted, and handed to the caller as a ``Secret``."""

    name: str
    base_url: str  # up to /v1: the call goes to {base_url}/chat/completions
    models: tuple[str, ...]
    api_key_env: str | None = None
    prices: Mapping[str, Price] = field(default_factory=dict)
    timeouts: Timeouts = Timeouts()
    retry: RetryPolicy = RetryPolicy()
    stream_usage: bool = True  # ask a stream for its token counts (stream_options)

    @property
    def completions_url(self) -> str:
        return self.base_url.rstrip("/") + "/chat/completions"


def provider_config(
    name: str,
    base_url: str,
    models: Sequence[str],
    *,
    api_key_env: str | None = None,
    prices: Mapping[str, Mapping[str, float]] | None = None,
    timeouts: Timeouts | None = None,
    retry: RetryPolicy | None = None,
    stream_usage: bool = True,
) -> ProviderConfig:
    """A checked configuration (the URL's destination is checked by the caller with
    ``domain/outgoing.check_url``: that needs the server's allowance)."""
    if not NAME_RE.match(name):
        raise InvalidInput("name must be a slug of at most 64 characters", field="name")
    if len(models) > MODELS_MAX or not models:
        raise InvalidInput(f"models must list 1 to {MODELS_MAX} model names", field="models")
    for model in models:
        check_model(model, "models")
    found: dict[str, Price] = {}
    for model, price in (prices or {}).items():
        if model not in models:
            raise InvalidInput(f"prices names {model[:80]!r}, not one of models", field="prices")
        values = [price.get("input"), price.get("output")]
        if set(price) - {"input", "output"} or not all(
            isinstance(v, int | float) and not isinstance(v, bool) and 0 <= v < 1e9 for v in values
        ):
            raise InvalidInput(
                'a price is {"input": N, "output": N} per million tokens, each 0 or more',
                field=f"prices.{model[:80]}",
            )
        found[model] = Price(float(values[0] or 0), float(values[1] or 0))
    timeouts = timeouts or Timeouts()
    for key, value, most in (
        ("connect_s", timeouts.connect_s, 60),
        ("read_s", timeouts.read_s, 600),
        ("total_s", timeouts.total_s, 1800),
    ):
        if not 0 < value <= most:
            raise InvalidInput(f"{key} must be over 0 and at most {most}", field=f"timeouts.{key}")
    retry = retry or RetryPolicy()
    if not 1 <= retry.attempts <= 6:
        raise InvalidInput("retry attempts must be 1 to 6", field="retry.attempts")
    return ProviderConfig(
        name=name,
        base_url=base_url.rstrip("/"),
        models=tuple(dict.fromkeys(models)),
        api_key_env=None if api_key_env is None else check_key_env(api_key_env),
        prices=found,
        timeouts=timeouts,
        retry=retry,
        stream_usage=stream_usage,
    )


def check_model(model: Any, field_name: str = "model") -> str:
    if not isinstance(model, str) or not 0 < len(model) <= MODEL_MAX or not model.isprintable():
        raise InvalidInput(
            f"a model name is 1 to {MODEL_MAX} printable characters", field=field_name
        )
    return model


def choose_model(asked: str | None, model_config: Mapping[str, Any], config: ProviderConfig) -> str:
    """The model a call uses: the one asked, else the version's ``model_config.model``, else
    the provider's first; always one the provider offers."""
    model = asked if asked is not None else model_config.get("model", config.models[0])
    check_model(model)
    if model not in config.models:
        raise InvalidInput(
            f"provider {config.name} offers no model {str(model)[:80]!r}", field="model"
        )
    return str(model)


# --- what a call asks ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """One chat completion: the rendered messages, the model, the version's ``model_config``
    (temperature, max_tokens... passed through), its tools and answer format."""

    model: str
    messages: Sequence[Mapping[str, Any]]
    model_config: Mapping[str, Any] = field(default_factory=dict)
    tools: Sequence[Mapping[str, Any]] | None = None
    response_format: Mapping[str, Any] | None = None


def messages_of(text: str | None, messages: Sequence[Mapping[str, Any]] | None) -> list[Any]:
    """A rendered version as chat messages: a text version is one user message."""
    if messages is not None:
        return [dict(m) for m in messages]
    return [{"role": "user", "content": text or ""}]


def chat_body(request: ChatRequest, *, stream: bool, stream_usage: bool = True) -> dict[str, Any]:
    """The JSON body of ``POST {base_url}/chat/completions``."""
    body: dict[str, Any] = {}
    for key, value in request.model_config.items():
        if key == "model":
            continue  # the default model when the call names none (choose_model)
        if key in RESERVED_KEYS:
            raise InvalidInput(
                f"model_config.{key} is set by promptdeck itself and cannot be given",
                field=f"model_config.{key}",
            )
        body[key] = value
    body["model"] = request.model
    body["messages"] = [dict(m) for m in request.messages]
    if request.tools:
        body["tools"] = [dict(t) for t in request.tools]
    if request.response_format is not None:
        body["response_format"] = dict(request.response_format)
    if stream:
        body["stream"] = True
        if stream_usage:
            body["stream_options"] = {"include_usage": True}
    return body


@dataclass(frozen=True, slots=True)
class StoredProvider:
    """A provider as the server keeps it: its configuration, its key sealed when it is stored
    (never the key itself), and who added it when."""

    id: int
    config: ProviderConfig
    created_at: datetime
    created_by: str
    updated_at: datetime
    sealed_key: str | None = field(default=None, repr=False)  # domain/sealing.py

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def key_source(self) -> str | None:
        """Where the key comes from: ``stored`` (sealed here), ``env`` (a variable), None."""
        if self.sealed_key is not None:
            return "stored"
        return "env" if self.config.api_key_env is not None else None

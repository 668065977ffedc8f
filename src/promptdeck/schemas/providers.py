"""Model providers on the wire (issue 25; docs/evaluations.md "Model providers"). A key goes
in (``api_key``, stored sealed) and never comes out: an answer says ``"api_key": "stored"``
or names the variable (``api_key_env``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, SecretStr

from promptdeck.domain import providers
from promptdeck.domain.providers import ProviderConfig, RetryPolicy, Secret, StoredProvider
from promptdeck.domain.providers import Timeouts as DomainTimeouts
from promptdeck.errors import InvalidInput
from promptdeck.schemas.common import _In, _Out

ProviderName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        pattern=providers.NAME_RE.pattern,
        description="A slug: a-z, 0-9, '.', '_', '-' (at most 64 characters).",
    ),
]
Seconds = Annotated[float, Field(gt=0, allow_inf_nan=False)]
Model = Annotated[str, Field(min_length=1, max_length=providers.MODEL_MAX)]


class TimeoutsIn(_In):
    connect_s: Seconds = Field(10.0, le=60, description="To connect (at most 60).")
    read_s: Seconds = Field(60.0, le=600, description="The longest silence while answering.")
    total_s: Seconds = Field(180.0, le=1800, description="The whole call, its retries included.")


class RetryIn(_In):
    attempts: int = Field(3, ge=1, le=6, description="Tries in all (408, 409, 429, 5xx).")


class PriceIn(_In):
    input: float = Field(ge=0, lt=1e9, allow_inf_nan=False, description="Per million tokens.")
    output: float = Field(ge=0, lt=1e9, allow_inf_nan=False, description="Per million tokens.")


class ProviderIn(_In):
    """A provider's whole configuration (``PUT /providers/{name}``): its key as ``api_key``
    (stored sealed) or ``api_key_env`` (a variable of the server's environment), or neither.
    A PUT that names neither keeps the key the provider has; ``null`` drops it."""

    base_url: str = Field(
        min_length=1,
        max_length=2048,
        description="Up to /v1: calls go to {base_url}/chat/completions. An http(s) URL whose "
        "host calls out of the server may reach (PROMPTDECK_ALLOW_OUTGOING for loopback, "
        "private and link-local addresses).",
    )
    models: list[Model] = Field(
        min_length=1,
        max_length=providers.MODELS_MAX,
        description="The models it offers: each 1 to 200 printable characters.",
    )
    api_key: SecretStr | None = Field(
        None,
        description="The key: 1 to 4,096 printable ASCII characters, no spaces. Stored sealed "
        "under the server's secret key and never returned. Give it or api_key_env, not both.",
    )
    api_key_env: str | None = Field(
        None,
        max_length=128,
        pattern=r"^[A-Z][A-Z0-9_]{0,100}_API_KEY$",
        description="The server's environment variable that holds the key: upper case, ending "
        "in _API_KEY, not starting with PROMPTDECK_ (e.g. OPENAI_API_KEY).",
    )
    prices: dict[str, PriceIn] = Field(
        default_factory=dict,
        max_length=providers.MODELS_MAX,
        description="Per model (each one of models): its cost per million tokens.",
    )
    timeouts: TimeoutsIn = Field(default_factory=TimeoutsIn)
    retry: RetryIn = Field(default_factory=RetryIn)

    def config(self, name: str) -> ProviderConfig:
        """The checked configuration (a bad one: InvalidInput naming the field)."""
        if self.api_key is not None and self.api_key_env is not None:
            raise InvalidInput("give api_key or api_key_env, not both", field="api_key")
        t = self.timeouts
        return providers.provider_config(
            name,
            self.base_url,
            self.models,
            api_key_env=self.api_key_env,
            prices={m: p.model_dump() for m, p in self.prices.items()},
            timeouts=DomainTimeouts(t.connect_s, t.read_s, t.total_s),
            retry=RetryPolicy(attempts=self.retry.attempts),
        )

    def secret(self) -> Secret | None:
        return None if self.api_key is None else Secret(self.api_key.get_secret_value())

    @property
    def keep_key(self) -> bool:
        """Neither api_key nor api_key_env was sent: the key stays as it is."""
        return not {"api_key", "api_key_env"} & self.model_fields_set


class ProviderCreate(ProviderIn):
    """``POST /providers``: a name and the configuration."""

    name: ProviderName


class TimeoutsOut(_Out):
    connect_s: float
    read_s: float
    total_s: float


class ProviderOut(_Out):
    name: str
    base_url: str
    models: list[str]
    api_key: Literal["stored"] | None = Field(
        description='"stored" when the key is kept (sealed) by the server; it is never shown.'
    )
    api_key_env: str | None = Field(description="The variable that holds the key, if any.")
    prices: dict[str, PriceIn]
    timeouts: TimeoutsOut
    retry: RetryIn
    created_at: datetime
    created_by: str
    updated_at: datetime

    @classmethod
    def of(cls, found: StoredProvider) -> ProviderOut:
        c = found.config
        return cls(
            name=c.name,
            base_url=c.base_url,
            models=list(c.models),
            api_key="stored" if found.key_source == "stored" else None,
            api_key_env=c.api_key_env,
            prices={
                m: PriceIn(input=p.input_per_million, output=p.output_per_million)
                for m, p in c.prices.items()
            },
            timeouts=TimeoutsOut(
                connect_s=c.timeouts.connect_s,
                read_s=c.timeouts.read_s,
                total_s=c.timeouts.total_s,
            ),
            retry=RetryIn(attempts=c.retry.attempts),
            created_at=found.created_at,
            created_by=found.created_by,
            updated_at=found.updated_at,
        )

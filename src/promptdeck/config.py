"""Settings. The only module that reads the environment (``PROMPTDECK_*``)."""

from __future__ import annotations

import os
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from promptdeck.domain.outgoing import Allowance, parse_allowance
from promptdeck.domain.sealing import check_key
from promptdeck.errors import InvalidInput, PromptdeckError
from promptdeck.limits import DEFAULT_MAX_BODY_BYTES, OUTCOMES_BATCH_MAX


class Settings(BaseSettings):
    """Server settings; every field can be set as ``PROMPTDECK_<NAME>`` or as a CLI flag."""

    model_config = SettingsConfigDict(env_prefix="PROMPTDECK_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///promptdeck.db",
        description="SQLAlchemy URL: sqlite:///FILE or postgresql+psycopg://USER:PW@HOST/DB.",
    )
    host: str = Field(default="127.0.0.1", description="Address to listen on.")
    port: int = Field(default=8000, ge=0, le=65535, description="Port to listen on.")
    workers: int = Field(default=1, ge=1, le=64, description="Server worker processes.")
    max_body_bytes: int = Field(
        default=DEFAULT_MAX_BODY_BYTES,
        ge=1024,
        description="Largest request body accepted; larger bodies get 413.",
    )
    default_max_versions: int | None = Field(
        default=None,
        ge=1,
        description="Retention limit for prompts created without max_versions (none: unlimited).",
    )
    sqlite_synchronous: Literal["FULL", "NORMAL"] = Field(
        default="FULL",
        description="SQLite synchronous pragma: FULL survives power loss, NORMAL is faster.",
    )
    sqlite_busy_timeout_ms: int = Field(default=30_000, ge=0, description="SQLite busy timeout.")
    pool_size: int = Field(default=10, ge=1, description="Database connection pool size.")
    access_log: bool = Field(default=False, description="Log every request (costs ~30%).")
    log_level: str = Field(default="info", description="Log level of the server.")
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="Server log lines: text, or one JSON object a line with the request id.",
    )
    changes_heartbeat_s: float = Field(
        default=15.0,
        gt=0,
        le=300,
        description="GET /changes sends a heartbeat after this many quiet seconds.",
    )
    allowed_hosts: str | None = Field(
        default=None,
        description="Comma-separated names the server answers to in the Host header (others "
        "get 400; * for any). Default with `serve`: the bound address and localhost names.",
    )
    cors_origins: str = Field(
        default="",
        description="Comma-separated origins (https://app.example.com) whose pages may call "
        "the API from a browser; none by default (CORS off).",
    )
    insecure: bool = Field(
        default=False,
        description="Serve open (no key, no user) on a non-loopback address. Never on a "
        "network you do not control.",
    )
    allow_open: bool = Field(
        default=False,
        description="Serve open (no key, no user) a database that once had keys or people "
        "(after a downgrade past the access migration, or keys lost); refused otherwise.",
    )
    secure_cookies: bool = Field(
        default=False,
        description="Mark the sign-in cookie Secure even when the request did not arrive as "
        "https (set it behind a TLS-terminating proxy that does not pass the scheme on).",
    )

    webhooks_deliver: bool = Field(
        default=True,
        description="Send webhook deliveries from this process (every process claims due "
        "deliveries with a lease, so each is sent by one).",
    )
    webhook_timeout_s: float = Field(
        default=10.0, gt=0, le=120, description="A webhook receiver must answer within this."
    )
    webhook_poll_s: float = Field(
        default=1.0, gt=0, le=60, description="How often a process looks for due deliveries."
    )
    webhook_retry_base_s: float = Field(
        default=10.0,
        gt=0,
        description="First wait before a failed delivery is tried again; it doubles each time.",
    )
    webhook_retry_max_s: float = Field(
        default=3600.0, gt=0, description="The longest wait between two attempts."
    )
    webhook_retry_for_s: float = Field(
        default=86_400.0,
        gt=0,
        description="A delivery not accepted this long after its event is marked failed.",
    )
    webhook_lease_s: float = Field(
        default=60.0,
        gt=0,
        description="How long a claimed delivery is one process's (at least twice the "
        "timeout): a process that dies mid-send gives it up after this.",
    )
    webhook_keep_days: int = Field(
        default=14, ge=1, description="Days the delivery log keeps finished deliveries."
    )
    rollout_check_s: float = Field(
        default=5.0,
        ge=0,
        le=3600,
        description="How often live rollouts are checked for steps that advance on time alone "
        "(each claimed by one process per period); 0: this process never checks.",
    )
    outcomes_raw: bool = Field(
        default=False,
        description="Keep every reported outcome as a row too (the aggregates are always "
        "kept); off by default.",
    )
    outcomes_raw_days: int = Field(
        default=7, ge=1, le=3650, description="Days raw outcomes are kept (with outcomes_raw)."
    )
    outcomes_rate: float = Field(
        default=5000.0,
        ge=0,
        allow_inf_nan=False,
        description="Outcomes a second each key (or person) may report to one server process, "
        "past a burst (POST /outcomes answers 429 with Retry-After); 0: no limit.",
    )
    outcomes_burst: int = Field(
        default=20_000,
        ge=OUTCOMES_BATCH_MAX,
        description="Outcomes a key may report at once before outcomes_rate applies (at least "
        "one full batch).",
    )

    evaluations_run: bool = Field(
        default=True,
        description="Run evaluations from this process (every process claims pending cases "
        "with a lease, so each case is worked by one).",
    )
    evaluation_concurrency: int = Field(
        default=16,
        ge=1,
        le=256,
        description="Model calls an evaluation runner keeps in flight (each process).",
    )
    evaluation_lease_s: float = Field(
        default=600.0,
        gt=0,
        le=86_400,
        description="How long a claimed case is one process's: a process that dies mid-run "
        "gives its cases up after this (over twice a provider's total timeout: a case claimed "
        "ahead may wait one call for its slot).",
    )
    evaluation_poll_s: float = Field(
        default=1.0, gt=0, le=60, description="How often an idle runner looks for work."
    )

    run_in_flight: int = Field(
        default=4,
        ge=0,
        le=1000,
        description="Runs (POST /prompts/{id}/run, the playground) one key or person may have "
        "in flight at once in one server process (429 past it); 0: no limit.",
    )
    run_rate: float = Field(
        default=60.0,
        ge=0,
        le=1_000_000,
        allow_inf_nan=False,
        description="Runs a minute one key or person may start in one server process, past "
        "run_burst (429 with Retry-After); 0: no limit.",
    )
    run_burst: int = Field(
        default=10,
        ge=1,
        le=100_000,
        description="Runs a caller may start at once before run_rate applies.",
    )

    allow_outgoing: str = Field(
        default="",
        description="Comma-separated hosts and networks that calls out of the server "
        "(webhooks, model providers) may reach although loopback, private, link-local or "
        "metadata addresses (127.0.0.1,10.0.0.0/8,llm.internal,*.svc.cluster.local); none by "
        "default.",
    )

    secret_key: SecretStr | None = Field(
        default=None,
        description="Comma-separated secret keys (Fernet: 44 characters of URL-safe base64) "
        "that seal provider keys stored in the database; the first seals, every one opens "
        "(put a new key first to rotate). Unset: the key file.",
    )
    secret_key_file: str | None = Field(
        default=None,
        description="A file of secret keys, one a line, the first sealing; created with one "
        "new key (mode 0600) when a provider key is first stored. Default on SQLite: the "
        "database's file name with .key appended; on PostgreSQL: none (set this or secret_key).",
    )

    @field_validator("secret_key")
    @classmethod
    def _secret_keys_parse(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            try:
                for key in _split(value.get_secret_value()):
                    check_key(key)
            except PromptdeckError as exc:
                raise ValueError(exc.detail) from None
        return value

    @field_validator("allow_outgoing")
    @classmethod
    def _allowance_parses(cls, value: str) -> str:
        try:
            parse_allowance(value)
        except InvalidInput as exc:
            raise ValueError(exc.detail) from None
        return value

    def outgoing_allowance(self) -> Allowance:
        return parse_allowance(self.allow_outgoing)

    def host_list(self) -> list[str] | None:
        return _split(self.allowed_hosts) if self.allowed_hosts is not None else None

    def origin_list(self) -> list[str]:
        return _split(self.cors_origins)


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def environment_secret(name: str) -> str | None:
    """The value of the environment variable ``name`` (a provider's key named in its
    configuration), or None when it is unset or empty. Callers check the name first
    (``domain/providers.check_key_env``): not every variable of the server is a key."""
    return os.environ.get(name) or None

"""Run tests call the stand-in provider on 127.0.0.1, allowed explicitly as an operator
would with PROMPTDECK_ALLOW_OUTGOING."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from promptdeck.config import Settings
from promptdeck.core import Registry
from promptdeck.domain.caller import SYSTEM
from promptdeck.domain.providers import Timeouts, provider_config
from tests.evaluations.helpers import LOOPBACK, SHORT, evaluations_of
from tests.support.fake_llm import FakeLLM


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        max_body_bytes=256 * 1024,
        allow_outgoing=LOOPBACK,
        evaluations_run=False,
        run_rate=6000,
        run_burst=1000,
    )


@pytest.fixture
def llm() -> Iterator[FakeLLM]:
    with FakeLLM(models=("m", "other")) as server:
        yield server


def add_provider(
    registry: Registry,
    llm: FakeLLM,
    name: str = "local",
    timeouts: Timeouts = SHORT,
    **extra: object,
) -> None:
    evaluations_of(registry).add_provider(
        provider_config(name, llm.url, list(llm.models), timeouts=timeouts, **extra),  # type: ignore[arg-type]
        SYSTEM,
    )


@pytest.fixture
def local(registry: Registry, llm: FakeLLM) -> FakeLLM:
    """The stand-in, configured as the provider ``local``."""
    add_provider(registry, llm)
    return llm

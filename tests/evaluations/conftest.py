"""Evaluation tests call the stand-in provider on 127.0.0.1: each allows it explicitly, as an
operator would with PROMPTDECK_ALLOW_OUTGOING, and the runner looks for work often."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from promptdeck.config import Settings
from tests.evaluations.helpers import LOOPBACK
from tests.support.fake_llm import FakeLLM


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        max_body_bytes=256 * 1024,
        allow_outgoing=LOOPBACK,
        evaluation_poll_s=0.05,
        evaluation_lease_s=30,
        secret_key_file=str(tmp_path / "secret.key"),  # seals stored provider keys
    )


@pytest.fixture
def llm() -> Iterator[FakeLLM]:
    with FakeLLM(models=("m", "judge")) as server:
        yield server

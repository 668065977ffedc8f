"""Webhook tests deliver to receivers on 127.0.0.1: each allows it explicitly, as an operator
would with PROMPTDECK_ALLOW_OUTGOING (by default a hook may not point there)."""

from __future__ import annotations

import pytest

from promptdeck.config import Settings
from tests.webhooks.helpers import LOOPBACK


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, max_body_bytes=64 * 1024, allow_outgoing=LOOPBACK)

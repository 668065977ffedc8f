"""`promptdeck history` tells a run: where, and how it went."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from promptdeck.cli.versions import describe
from promptdeck.schemas import EventOut


def run_event(**detail: Any) -> EventOut:
    return EventOut(
        id=1, prompt_id=1, kind="prompt.run", version_id=None, from_version_id=None,
        actor="ada", created_at=datetime(2026, 1, 1, tzinfo=UTC), detail=detail,
    )  # fmt: skip


def test_a_run_is_told_with_its_provider_model_and_outcome() -> None:
    ok = run_event(provider="local", model="m", draft=True, ok=True, latency_ms=812.4)
    assert describe(ok, {}) == "a draft on local · m: answered in 812 ms"
    failed = run_event(provider="local", model="m", ok=False, error="provider-timeout: slow")
    assert describe(failed, {}) == "this version on local · m: provider-timeout: slow"

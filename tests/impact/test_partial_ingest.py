"""The core's partial ingest (ReportOutcomes(partial=True), what POST /v1/traces uses): each
bad outcome refused alone with its reason, the rest counted in the same transaction; and a
batch larger than the rate limit's burst passing on a full bucket, leaving it in debt."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from promptdeck.core import Registry
from promptdeck.core.outcomes import IngestLimit
from promptdeck.domain.access import Role
from promptdeck.domain.caller import SYSTEM, Caller
from promptdeck.domain.commands import CreatePrompt, Outcome, ReportOutcomes
from promptdeck.errors import InvalidInput, RateLimited
from tests.impact.test_outcome_guards import Clock


def counts(registry: Registry, name: str) -> dict[int, int]:
    return {v.version_id: v.summary.count for v in registry.impact(name, SYSTEM).versions}


def test_a_partial_ingest_refuses_each_bad_outcome_alone_and_counts_the_rest(
    registry: Registry, name: str
) -> None:
    v1 = registry.create_prompt(CreatePrompt(name, content="a"), SYSTEM).prompt.active_version_id
    other = registry.create_prompt(CreatePrompt(f"{name}-b", content="b"), SYSTEM).prompt
    assert v1 is not None and other.active_version_id is not None
    old = datetime.now(UTC) - timedelta(days=40)
    batch = [
        Outcome(name, v1, success=True),
        Outcome(name, v1, success=True, at=old),  # too old
        Outcome("no-such-prompt", v1),  # no prompt
        Outcome(name, other.active_version_id),  # another prompt's version
        Outcome(name, v1, success=False),
    ]
    done = registry.report_outcomes(ReportOutcomes(batch, partial=True), SYSTEM)
    assert (done.accepted, done.rejected) == (2, 3)
    assert any("older than 30 days" in r for r in done.reasons)
    assert any("no prompt 'no-such-prompt'" in r for r in done.reasons)
    assert counts(registry, name) == {v1: 2}
    with pytest.raises(InvalidInput):  # the same batch, strict: nothing counts
        registry.report_outcomes(ReportOutcomes(batch), SYSTEM)
    assert counts(registry, name) == {v1: 2}
    # A caller kept to prefixes: another prompt is as missing, outcome by outcome.
    team = Caller("bot", Role.write, "key", ("team-",))
    done = registry.report_outcomes(ReportOutcomes(batch[:1], partial=True), team)
    assert (done.accepted, done.rejected) == (0, 1)


def test_a_batch_over_the_burst_passes_on_a_full_bucket_and_leaves_it_in_debt() -> None:
    clock = Clock()
    limit = IngestLimit(rate=100, burst=1000, clock=clock)
    limit.take("a", 5000)  # an OTLP export of 5,000 named spans: a full bucket lets it in
    clock.now += 10  # 1,000 tokens back: still 3,000 in debt
    with pytest.raises(RateLimited) as refused:
        limit.take("a", 1)
    assert refused.value.extra["retry_after"] == pytest.approx(30.01)
    clock.now += 50
    limit.take("a", 5000)  # full again (never past the burst): the next export passes

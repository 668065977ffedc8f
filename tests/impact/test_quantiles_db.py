"""The database ranks the merged latency sketch as domain.impact.quantile does, and the
aggregates merge batches: reported in many batches, the answer is that of one sketch."""

from __future__ import annotations

import random

from promptdeck.core import Registry
from promptdeck.domain import impact
from promptdeck.domain.caller import SYSTEM
from promptdeck.domain.commands import CreatePrompt, ReportOutcomes
from promptdeck.domain.impact import Outcome


def test_latency_quantiles_from_the_database_equal_the_sketchs_own(registry: Registry) -> None:
    version_id = registry.create_prompt(CreatePrompt("quantiles"), SYSTEM).prompt.active_version_id
    assert version_id is not None
    rng = random.Random(5)
    latencies = [rng.lognormvariate(5, 0.8) for _ in range(3000)] + [0.0] * 20
    for i in range(0, len(latencies), 250):
        batch = [Outcome("quantiles", version_id, latency_ms=x) for x in latencies[i : i + 250]]
        registry.report_outcomes(ReportOutcomes(batch), SYSTEM)
    sketch: dict[int, int] = {}
    for x in latencies:
        sketch[impact.latency_bucket(x)] = sketch.get(impact.latency_bucket(x), 0) + 1
    [found] = registry.impact("quantiles", SYSTEM).versions
    assert found.summary.count == len(latencies)
    assert found.summary.latency_p50_ms == impact.quantile(sketch.items(), 0.5)
    assert found.summary.latency_p95_ms == impact.quantile(sketch.items(), 0.95)
    ordered = sorted(latencies)
    exact = ordered[int(0.95 * (len(ordered) - 1))]
    assert found.summary.latency_p95_ms is not None
    assert abs(found.summary.latency_p95_ms - exact) <= 0.01 * exact

"""Issue 16: several client processes report outcomes at once, through two server
processes, into the same per-minute rows: every outcome is counted once (the aggregates
merge with INSERT … ON CONFLICT DO UPDATE, no read-modify-write)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Callable

from promptdeck.client import Client
from tests.support.load import figure, scale
from tests.support.server import ServerProcess

REPORTERS = 4

SCRIPT = textwrap.dedent(
    """
    import json, sys
    from promptdeck import Client
    url, name, versions, count = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), int(sys.argv[4])
    client = Client(url, outcome_batch_size=250, outcome_queue_size=count, outcome_interval=0.05)
    for i in range(count):
        version_id = versions[i % len(versions)]
        client.report(name, version_id, success=i % 3 != 0, latency_ms=10 + i % 500, feedback=1)
    client.close()
    stats = client.outcome_stats
    print(json.dumps({"sent": stats.sent, "lost": stats.lost}))
    """
)


def test_reporters_in_several_processes_have_every_outcome_counted_once(
    start_server: Callable[..., ServerProcess], name: str
) -> None:
    servers = [start_server(), start_server()]
    per_reporter = scale("outcome_reporters", 3000)
    with Client(servers[0].url) as c:
        first = c.create_prompt(name, "one").active_version
        assert first is not None
        versions = [first.id, c.create_version(name, "two", activate=True).id]
    reporters = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                SCRIPT,
                servers[i % 2].url,
                name,
                json.dumps(versions),
                str(per_reporter),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(REPORTERS)
    ]
    results = []
    for proc in reporters:
        out, _ = proc.communicate(timeout=240)
        assert proc.returncode == 0
        results.append(json.loads(out.strip().splitlines()[-1]))
    sent = sum(r["sent"] for r in results)
    assert sum(r["lost"] for r in results) == 0
    with Client(servers[1].url) as c:
        found = c.impact(name)
    counted = sum(v.count for v in found.versions)
    successes = sum(round((v.success_rate or 0) * v.success_n) for v in found.versions)
    expected_successes = REPORTERS * sum(1 for i in range(per_reporter) if i % 3 != 0)
    figure(
        "outcome ingest",
        f"{REPORTERS} reporter processes x {per_reporter} outcomes through 2 server processes "
        f"into 2 versions' per-minute rows: sent {sent}, counted {counted}, "
        f"successes {successes}/{expected_successes}",
    )
    assert sent == REPORTERS * per_reporter
    assert counted == sent
    assert successes == expected_successes
    assert sum(v.feedback_up for v in found.versions) == sent

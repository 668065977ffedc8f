"""The client reports outcomes in the background: `prompt.report` on what `get_active`
returned, batches, a bounded queue whose drops are counted, flushed at close and at exit,
never blocking or raising into the caller."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from promptdeck.client import AsyncClient, Client
from promptdeck.client._outcomes import OutcomeQueue
from tests.support.aio import run as run_async
from tests.support.server import ServerProcess, free_port


def count_of(client: Client, name: str) -> int:
    return sum(v.count for v in client.impact(name).versions)


def test_prompt_report_is_sent_in_batches_and_flushed_at_close(
    shared_server: ServerProcess, name: str
) -> None:
    with Client(shared_server.url, outcome_batch_size=40) as admin:
        admin.create_prompt(name, "hello")
    client = Client(shared_server.url, outcome_batch_size=40, outcome_interval=60)
    prompt = client.get_active(name)
    for i in range(100):
        assert prompt.report(success=i % 4 != 0, score=0.5, latency_ms=12.5, feedback=1)
    client.close()  # the sender sleeps 60 s between empty polls: close sends what is left
    assert client.outcome_stats.sent == 100
    assert client.outcome_stats.lost == 0
    with Client(shared_server.url) as reader:
        [version] = reader.impact(name).versions
    assert (version.version_id, version.count, version.success_rate) == (
        prompt.version_id,
        100,
        0.75,
    )


def test_a_full_queue_refuses_new_outcomes_and_counts_them() -> None:
    queue = OutcomeQueue(max_size=5, batch_size=2)
    assert [queue.put("p", 1, {"success": True}) for _ in range(8)] == [True] * 5 + [False] * 3
    assert (queue.stats.queued, queue.stats.dropped) == (5, 3)
    assert [len(queue.take()) for _ in range(4)] == [2, 2, 1, 0]


def test_a_dead_server_or_a_bad_value_never_raises_and_every_outcome_is_accounted_for() -> None:
    client = Client(f"http://127.0.0.1:{free_port()}", outcome_queue_size=5, retries=0)
    results = [client.report("p", 1, success=True) for _ in range(8)]
    assert client.report("p", 1, score=2.0) is False  # out of range: counted, not raised
    client.close()
    stats = client.outcome_stats
    assert stats.queued == results.count(True) and stats.dropped == results.count(False)
    assert (stats.invalid, stats.failed, stats.sent) == (1, stats.queued, 0)
    assert stats.lost == 9


def test_the_fallback_content_has_no_version_to_report_on() -> None:
    with Client(f"http://127.0.0.1:{free_port()}", retries=0) as client:
        prompt = client.get_active("missing", fallback="be nice")
        assert prompt.source == "fallback"
        assert prompt.report(success=True) is False


def test_the_async_client_reports_and_aclose_flushes(
    shared_server: ServerProcess, name: str
) -> None:
    async def scenario() -> int:
        async with AsyncClient(shared_server.url) as client:
            await client.create_prompt(name, "hello")
            prompt = await client.get_active(name)
            for _ in range(30):
                prompt.report(success=True, input_tokens=10, output_tokens=5, cost=0.001)
        return client.outcome_stats.sent

    assert run_async(scenario()) == 30
    with Client(shared_server.url) as reader:
        [version] = reader.impact(name).versions
    assert (version.count, version.input_tokens, version.output_tokens) == (30, 300, 150)


def test_outcomes_still_queued_are_sent_when_the_process_exits(
    shared_server: ServerProcess, name: str
) -> None:
    with Client(shared_server.url) as admin:
        admin.create_prompt(name, "hello")
    script = textwrap.dedent(
        f"""
        from promptdeck import Client
        client = Client({shared_server.url!r}, outcome_interval=60)
        prompt = client.get_active({name!r})
        for _ in range(50):
            prompt.report(success=False)
        # no close(): atexit sends them
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    with Client(shared_server.url) as reader:
        assert count_of(reader, name) == 50

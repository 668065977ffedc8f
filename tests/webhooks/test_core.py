"""The queue and the worker's two database steps (claim, record), with an injected clock:
leases, backoff with jitter, the retry window, and migration 0008 down and up."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from promptdeck.core import Registry, announce
from promptdeck.core.webhooks import Webhooks
from promptdeck.domain.caller import SYSTEM
from promptdeck.domain.commands import CreatePrompt, CreateVersion
from promptdeck.domain.webhooks import Attempt, Retry
from promptdeck.store import migrate
from promptdeck.store.engine import create_engine

RETRY = Retry(timedelta(seconds=10), timedelta(hours=1), timedelta(days=1))


def test_a_claimed_delivery_is_nobody_elses_until_its_lease_ends(registry: Registry) -> None:
    now = [datetime(2026, 1, 1, tzinfo=UTC)]
    hooks = Webhooks(registry.engine, clock=lambda: now[0])
    hooks.create("http://127.0.0.1:9/")
    Registry(registry.engine, clock=lambda: now[0]).create_prompt(CreatePrompt("p"), SYSTEM)
    first = hooks.claim("one", lease=timedelta(seconds=30))
    assert first
    assert hooks.claim("two", lease=timedelta(seconds=30)) == []
    now[0] += timedelta(seconds=31)  # "one" died mid-send: its lease ran out
    again = hooks.claim("two", lease=timedelta(seconds=30))
    assert sorted(o.uid for o in again) == sorted(o.uid for o in first)
    # The late "one" cannot overwrite what "two" records.
    hooks.record(again[0], Attempt(200, "ok", None, 5), RETRY)
    hooks.record(first[0], Attempt(500, "late", None, 5), RETRY)
    log = {d.uid: d for d in hooks.deliveries(1).items}
    assert log[first[0].uid].status == "delivered"
    assert log[first[0].uid].last_response == "ok"


def test_failures_back_off_doubling_with_jitter_and_fail_for_good_after_a_day(
    registry: Registry,
) -> None:
    now = [datetime(2026, 1, 1, tzinfo=UTC)]
    hooks = Webhooks(registry.engine, clock=lambda: now[0])
    hook = hooks.create("http://127.0.0.1:9/").hook
    hooks.send_test(hook.id)
    waits, status = [], "pending"
    while status == "pending":
        (out,) = hooks.claim("w", lease=timedelta(minutes=1))
        status = hooks.record(out, Attempt(None, None, "no answer within 10 s", 10_000), RETRY)
        (d,) = hooks.deliveries(hook.id).items
        if status == "pending":
            assert d.next_attempt_at is not None
            waits.append((d.next_attempt_at - now[0]).total_seconds())
            now[0] = d.next_attempt_at
    assert d.status == "failed" and d.finished_at is not None
    assert d.last_error == "no answer within 10 s"
    assert 5 <= waits[0] <= 10 and 10 <= waits[1] <= 20 and 20 <= waits[2] <= 40
    assert max(waits) <= 3600
    assert sum(waits) <= 86_400 < sum(waits) + 3600
    assert d.attempts == len(waits) + 1


def test_a_retention_archive_told_by_its_creation_is_still_a_version_archived_delivery(
    registry: Registry,
) -> None:
    hooks = Webhooks(registry.engine)
    hooks.create("http://127.0.0.1:9/", events=["version.archived"])
    registry.create_prompt(CreatePrompt("p", content="v1", max_versions=2), SYSTEM)
    v2 = registry.create_version(CreateVersion("p", content="v2"), SYSTEM)
    registry.create_version(
        CreateVersion("p", content="v3"), SYSTEM
    )  # over the limit: archives #2 (#1 is active)
    (out,) = hooks.claim("w", lease=timedelta(minutes=1))
    body = json.loads(out.body)
    assert out.kind == body["type"] == "version.archived"
    assert body["event"]["version_id"] == v2.version.id
    assert body["event"]["detail"]["reason"] == "retention"
    assert body["event"]["detail"]["number"] == 2


def test_jitter_spreads_hooks_that_failed_together() -> None:
    rng = random.Random(1)
    delays = {RETRY.delay(5, rng) for _ in range(20)}
    assert len(delays) == 20
    assert all(timedelta(seconds=80) <= x <= timedelta(seconds=160) for x in delays)


def test_migration_0008_goes_down_to_0007_and_up_again(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        migrate.upgrade(engine)
        Webhooks(engine).create("http://127.0.0.1:9/")
        Registry(engine).create_prompt(CreatePrompt("p"), SYSTEM)
        migrate.downgrade(engine, "0007")
        assert migrate.current(engine) == "0007"
        tables = set(sa.inspect(engine).get_table_names())
        assert not {"webhooks", "webhook_deliveries"} & tables
        assert Registry(engine).get_prompt("p", SYSTEM).name == "p"
        migrate.upgrade(engine)
        assert {"webhooks", "webhook_deliveries"} <= set(sa.inspect(engine).get_table_names())
        hooks = Webhooks(engine)
        hook = hooks.create("http://127.0.0.1:9/").hook
        Registry(engine).create_version(CreateVersion("p", content="after"), SYSTEM)
        assert [d.kind for d in hooks.deliveries(hook.id).items] == ["version.created"]
    finally:
        engine.dispose()


def test_hooks_for_events_of_several_prompts_are_the_global_ones_and_each_prompts(
    registry: Registry,
) -> None:
    hooks = Webhooks(registry.engine)
    a = registry.create_prompt(CreatePrompt("a"), SYSTEM).prompt
    b = registry.create_prompt(CreatePrompt("b"), SYSTEM).prompt
    registry.create_prompt(CreatePrompt("c"), SYSTEM)
    everyone = hooks.create("http://127.0.0.1:9/", enabled=True).hook
    own_a = hooks.create("http://127.0.0.1:9/", prompt="a").hook
    own_b = hooks.create("http://127.0.0.1:9/", prompt="b").hook
    hooks.create("http://127.0.0.1:9/", prompt="c")
    hooks.create("http://127.0.0.1:9/", enabled=False)
    with registry.engine.connect() as conn:
        found = announce.hooks_for(conn, [{"prompt_id": a.id}, {"prompt_id": b.id}])
        single = announce.hooks_for(conn, [{"prompt_id": a.id}])
    assert sorted(h.id for h in found) == [everyone.id, own_a.id, own_b.id]
    assert sorted(h.id for h in single) == [everyone.id, own_a.id]

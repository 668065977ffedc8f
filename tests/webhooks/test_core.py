"""The queue and the worker's two database steps (claim, record), with an injected clock:
leases, backoff with jitter, the retry window, and migration 0008 down and up."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from promptdeck.core import Registry, announce
from promptdeck.domain.caller import SYSTEM
from promptdeck.domain.commands import CreatePrompt, CreateVersion
from promptdeck.domain.webhooks import Attempt, Retry
from promptdeck.store import migrate
from promptdeck.store.engine import create_engine
from tests.webhooks.helpers import hooks_of

RETRY = Retry(timedelta(seconds=10), timedelta(hours=1), timedelta(days=1))


def test_a_claimed_delivery_is_nobody_elses_until_its_lease_ends(registry: Registry) -> None:
    now = [datetime(2026, 1, 1, tzinfo=UTC)]
    at = Registry(registry.engine, clock=lambda: now[0])
    hooks = hooks_of(at)
    hooks.create("http://127.0.0.1:9/")
    at.create_prompt(CreatePrompt("p"), SYSTEM)
    first = hooks.claim("one", lease=timedelta(seconds=30))
    assert first
    assert hooks.claim("two", lease=timedelta(seconds=30)) == []
    now[0] += timedelta(seconds=31)  # "one" died mid-send: its lease ran out
    again = hooks.claim("two", lease=timedelta(seconds=30))
    assert sorted(o.uid for o in again) == sorted(o.uid for o in first)
    # The late "one" cannot overwrite what "two" records.
    hooks.record(again[0], Attempt(200, None, 5), RETRY)
    hooks.record(first[0], Attempt(500, None, 5), RETRY)
    log = {d.uid: d for d in hooks.deliveries(1).items}
    assert log[first[0].uid].status == "delivered"
    assert log[first[0].uid].last_status_code == 200


def test_failures_back_off_doubling_with_jitter_and_fail_for_good_after_a_day(
    registry: Registry,
) -> None:
    now = [datetime(2026, 1, 1, tzinfo=UTC)]
    hooks = hooks_of(Registry(registry.engine, clock=lambda: now[0]))
    hook = hooks.create("http://127.0.0.1:9/").hook
    hooks.send_test(hook.id)
    waits, status = [], "pending"
    while status == "pending":
        (out,) = hooks.claim("w", lease=timedelta(minutes=1))
        status = hooks.record(out, Attempt(None, "no answer within 10 s", 10_000), RETRY)
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
    hooks = hooks_of(registry)
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
        hooks_of(Registry(engine)).create("http://127.0.0.1:9/")
        Registry(engine).create_prompt(CreatePrompt("p"), SYSTEM)
        migrate.downgrade(engine, "0007")
        assert migrate.current(engine) == "0007"
        tables = set(sa.inspect(engine).get_table_names())
        assert not {"webhooks", "webhook_deliveries"} & tables
        assert Registry(engine).get_prompt("p", SYSTEM).name == "p"
        migrate.upgrade(engine)
        assert {"webhooks", "webhook_deliveries"} <= set(sa.inspect(engine).get_table_names())
        hooks = hooks_of(Registry(engine))
        hook = hooks.create("http://127.0.0.1:9/").hook
        Registry(engine).create_version(CreateVersion("p", content="after"), SYSTEM)
        assert [d.kind for d in hooks.deliveries(hook.id).items] == ["version.created"]
    finally:
        engine.dispose()


def test_hooks_for_events_of_several_prompts_are_the_global_ones_and_each_prompts(
    registry: Registry,
) -> None:
    hooks = hooks_of(registry)
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


def test_a_claim_takes_each_hooks_oldest_due_delivery_and_nothing_of_a_hook_with_one_out(
    registry: Registry,
) -> None:
    hooks = hooks_of(registry)
    a = hooks.create("http://127.0.0.1:9/a").hook
    b = hooks.create("http://127.0.0.1:9/b").hook
    for n in range(3):
        registry.create_prompt(CreatePrompt(f"p{n}"), SYSTEM)
    queued = {h.id: sorted(d.id for d in hooks.deliveries(h.id).items) for h in (a, b)}
    assert len(queued[a.id]) == len(queued[b.id]) >= 3
    lease = timedelta(minutes=1)
    first = hooks.claim("one", lease=lease)
    assert sorted((o.hook_id, o.id) for o in first) == [
        (a.id, queued[a.id][0]),
        (b.id, queued[b.id][0]),
    ]
    assert hooks.claim("two", lease=lease) == []  # each hook has one out
    done = next(o for o in first if o.hook_id == a.id)
    status, after = hooks.record_and_next(done, Attempt(200, None, 5), RETRY, lease=lease)
    assert status == "delivered" and after is not None  # the same worker's, in one transaction
    assert (after.hook_id, after.id, after.claim) == (a.id, queued[a.id][1], "one")
    assert hooks.claim("two", lease=lease) == []
    hooks.update(b.id, {"enabled": False})
    hooks.record(next(o for o in first if o.hook_id == b.id), Attempt(200, None, 5), RETRY)
    assert hooks.claim("three", lease=lease) == []  # a has one out, b is paused


def test_migration_0013_erases_the_receivers_answers_and_goes_down_and_up(
    database_url: str,
) -> None:
    engine = create_engine(database_url)
    try:
        # Made by today's code on today's schema (it reads tables newer than 0012), then
        # taken down to 0012 with the delivery rows it queued.
        migrate.upgrade(engine)
        hooks_of(Registry(engine)).create("http://127.0.0.1:9/")
        Registry(engine).create_prompt(CreatePrompt("p"), SYSTEM)
        migrate.downgrade(engine, "0012")
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE webhook_deliveries SET last_response = 'internal page'"))

        def columns() -> set[str]:
            return {c["name"] for c in sa.inspect(engine).get_columns("webhook_deliveries")}

        migrate.upgrade(engine)
        assert "last_response" not in columns()
        assert len(hooks_of(Registry(engine)).deliveries(1).items) == 3  # all still there
        migrate.downgrade(engine, "0012")
        assert "last_response" in columns()
        with engine.connect() as conn:
            kept = conn.execute(sa.text("SELECT last_response FROM webhook_deliveries")).all()
        assert kept == [(None,)] * 3
        migrate.upgrade(engine)
        assert "last_response" not in columns()
    finally:
        engine.dispose()

"""Webhooks against a real local receiver, sent by real `promptdeck serve` processes: the
receiver fails (500), then times out, then recovers; the first server is killed meanwhile,
events are written while no server runs, and two servers take over. Every event is then
accepted exactly once, signed as docs/webhooks.md says (its recipe, run as written)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from promptdeck.core import Registry
from promptdeck.domain.caller import SYSTEM, Caller
from promptdeck.domain.commands import CreateVersion, MoveLabel
from promptdeck.store.engine import create_engine
from tests.support.load import figure
from tests.support.receiver import Receiver, wait_until
from tests.support.server import ServerProcess
from tests.webhooks.helpers import FAST

DOC = Path(__file__).parents[2] / "docs" / "webhooks.md"


def documented_verify() -> Callable[..., bool]:
    """The ``verify`` function of docs/webhooks.md, exactly as written there."""
    recipe = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)[0]
    scope: dict[str, Any] = {}
    exec(compile(recipe, str(DOC), "exec"), scope)
    verify: Callable[..., bool] = scope["verify"]
    return verify


def changes(http: httpx.Client, prompt: str) -> None:
    """One of each kind the issue names: created, label moved, rollback, deploy requested,
    approved and rejected, archived, purged."""
    v1 = http.post("/prompts", json={"name": prompt, "content": "one"}).json()
    v1_id = v1["active_version"]["id"]
    v2 = http.post(f"/prompts/{prompt}/versions", json={"content": "two"}).json()["id"]
    v3 = http.post(f"/prompts/{prompt}/versions", json={"content": "three"}).json()["id"]
    ok = [
        http.put(f"/prompts/{prompt}/labels/staging", json={"version_id": v2}),
        http.post(f"/prompts/{prompt}/versions/{v2}/rollback"),
        http.post(f"/prompts/{prompt}/versions/{v1_id}/rollback"),
    ]
    ana, bob = {"X-Actor": "ana"}, {"X-Actor": "bob"}
    first = http.post(
        f"/prompts/{prompt}/deploy-requests",
        json={"label": "production", "version_id": v2, "reason": "ship"},
        headers=ana,
    )
    second = http.post(
        f"/prompts/{prompt}/deploy-requests",
        json={"label": "canary", "version_id": v2, "reason": "try"},
        headers=ana,
    )
    ok += [first, second]
    ok.append(
        http.post(f"/prompts/{prompt}/deploy-requests/{first.json()['id']}/approve", headers=bob)
    )
    ok.append(
        http.post(
            f"/prompts/{prompt}/deploy-requests/{second.json()['id']}/reject",
            json={"reason": "not now"},
            headers=bob,
        )
    )
    ok.append(http.post(f"/prompts/{prompt}/versions/{v3}/archive"))
    ok.append(http.request("DELETE", f"/prompts/{prompt}/versions/{v3}", json={"reason": "x"}))
    assert [r.status_code for r in ok if r.status_code >= 300] == [], [r.text for r in ok]


def pending(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(
                    sa.text("SELECT count(*) FROM webhook_deliveries WHERE status <> 'delivered'")
                ).scalar_one()
            )
    finally:
        engine.dispose()


def test_every_event_reaches_a_failing_then_slow_then_recovered_receiver_once_across_a_crash(
    start_server: Callable[..., ServerProcess], database_url: str
) -> None:
    verify = documented_verify()
    with Receiver("fail", slow_s=1.0) as rx:
        first = start_server(env=FAST)
        with httpx.Client(base_url=first.url, timeout=10) as http:
            created = http.post("/webhooks", json={"url": rx.url, "description": "all of it"})
            assert created.status_code == 201, created.text
            secret = created.json()["secret"]
            changes(http, "alpha")
        rx.wait_for(lambda r: len(r.received()) >= 20)
        failed_attempts = len(rx.received())
        rx.mode = "slow"
        rx.wait_for(lambda r: sum(x.answered is None for x in r.received()) >= 4)
        first.kill()  # a crash while deliveries are out and unanswered

        # Written while no server runs: queued in the database by the write's transaction.
        engine = create_engine(database_url)
        registry = Registry(engine)
        registry.create_version(
            CreateVersion("alpha", content="written offline"), Caller.local("cron")
        )
        registry.move_label(
            MoveLabel("alpha", "staging", registry.get_active("alpha", SYSTEM)[1].id), SYSTEM
        )
        engine.dispose()

        rx.mode = "ok"
        start_server(env=FAST)
        start_server(env=FAST)  # two processes, one database: each event sent once
        deadline_hit = False
        rx.wait_for(lambda r: pending(database_url) == 0, timeout=60)
        deadline_hit = pending(database_url) != 0
        with create_engine(database_url).connect() as conn:
            events = {int(i) for i in conn.execute(sa.text("SELECT id FROM events")).scalars()}

        accepted = rx.accepted()
        bodies = [httpx.Response(200, content=r.body).json() for r in accepted]
        per_event = Counter(b["event"]["id"] for b in bodies)
        per_delivery = Counter(r.headers["promptdeck-delivery"] for r in accepted)
        bad_signatures = sum(not verify(secret, r.headers, r.body) for r in accepted)
        slow = sum(r.answered is None for r in rx.received())
        figure(
            "webhooks: fail, time out, crash, recover on two processes",
            f"{len(events)} events, {len(accepted)} accepted deliveries "
            f"({failed_attempts} answered 500 and {slow} timed out before), "
            f"{sum(n > 1 for n in per_event.values())} events accepted twice, "
            f"{bad_signatures} bad signatures",
        )
        assert not deadline_hit
        assert set(per_event) == events
        assert max(per_event.values()) == 1
        assert max(per_delivery.values()) == 1
        assert bad_signatures == 0
        kinds = {b["type"] for b in bodies}
        for kind in (
            "version.created",
            "label.moved",
            "version.rolled_back",
            "deploy.requested",
            "deploy.approved",
            "deploy.rejected",
            "version.archived",
            "version.purged",
        ):
            assert kind in kinds
        # Each body names its event and prompt; no secret in any of them.
        assert all(b["event"]["prompt_name"] == "alpha" for b in bodies)
        assert not any(secret.encode() in r.body for r in rx.received())


def test_the_documented_recipe_refuses_a_changed_body_a_wrong_secret_and_an_old_signature(
    start_server: Callable[..., ServerProcess],
) -> None:
    verify = documented_verify()
    with Receiver("ok") as rx:
        server = start_server(env=FAST)
        with httpx.Client(base_url=server.url, timeout=10) as http:
            made = http.post(
                "/webhooks", json={"url": rx.url, "secret": "a shared secret of ours"}
            ).json()
            queued = http.post(f"/webhooks/{made['id']}/test")
            assert queued.status_code == 202
            deliveries = f"/webhooks/{made['id']}/deliveries"
            # The receiver has it before the sender has recorded its answer.
            wait_until(lambda: http.get(deliveries).json()["items"][0]["status"] != "pending")
            log = http.get(deliveries).json()["items"]
    got = rx.accepted()[0]
    assert got.headers["promptdeck-event"] == "webhook.test"
    assert got.headers["promptdeck-delivery"] == queued.json()["uid"]
    assert verify("a shared secret of ours", got.headers, got.body)
    assert not verify("a shared secret of ours", got.headers, got.body + b" ")
    assert not verify("another secret entirely", got.headers, got.body)
    assert not verify("a shared secret of ours", got.headers, got.body, tolerance=-1)
    assert [(d["status"], d["last_status_code"], d["last_error"]) for d in log] == [
        ("delivered", 200, None)
    ]
    assert "last_response" not in log[0]  # the receiver's answer is never kept

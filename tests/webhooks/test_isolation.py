"""Each webhook is delivered on its own: a receiver that hangs holds one delivery of its own
hook, and every other hook's deliveries keep arriving meanwhile (a real server, real
receivers on 127.0.0.1)."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.support.receiver import Receiver
from tests.support.server import ServerProcess
from tests.webhooks.helpers import FAST

# A receiver that hangs is given up on only after a minute: far past what the test waits.
PATIENT = {**FAST, "PROMPTDECK_WEBHOOK_TIMEOUT_S": "60", "PROMPTDECK_WEBHOOK_LEASE_S": "120"}


def test_a_fast_hooks_deliveries_arrive_while_another_hooks_receiver_hangs(
    start_server: Callable[..., ServerProcess],
) -> None:
    with Receiver("hang") as stuck, Receiver("ok") as fast:
        server = start_server(env=PATIENT)
        with httpx.Client(base_url=server.url, timeout=10) as http:
            for rx in (stuck, fast):
                made = http.post("/webhooks", json={"url": rx.url})
                assert made.status_code == 201, made.text
            assert http.post("/prompts", json={"name": "p", "content": "v1"}).status_code == 201
            # The first event is out to both; the stuck receiver holds its request open.
            stuck.wait_for(lambda r: len(r.arrived) >= 1)
            fast.wait_for(lambda r: len(r.accepted()) >= 1)
            for n in range(2, 7):
                made = http.post("/prompts/p/versions", json={"content": f"v{n}"})
                assert made.status_code == 201
            events = http.get("/events", params={"prompt": "p", "limit": 200}).json()["items"]
            fast.wait_for(lambda r: len(r.accepted()) >= len(events))
            got_fast = len(fast.accepted())
            stuck_answered = len(stuck.received())  # a hanging request is kept once released
            stuck_arrived = len(stuck.arrived)
            stuck.release()
    assert len(events) >= 6  # the prompt's creation (several events) and five versions
    assert got_fast == len(events)
    assert stuck_answered == 0  # it was still hanging all along
    assert stuck_arrived == 1  # one delivery of its own hook out at a time

"""Caps hold under concurrency: counted in the transaction that adds, on both databases.

The webhook cap is the one cap counted in rows (limits.WEBHOOKS_MAX); the others bound one
request (batch sizes, includes, messages) or are enforced under the prompt row's lock
(retention's max_versions: tests/concurrency/test_retention_race.py)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from promptdeck import limits
from promptdeck.core import Registry
from promptdeck.errors import TooManyWebhooks
from tests.webhooks.helpers import hooks_of

URL = "http://127.0.0.1:9/"


def test_eight_concurrent_creates_at_the_webhook_cap_add_exactly_up_to_it(
    registry: Registry,
) -> None:
    hooks = hooks_of(registry)
    for _ in range(limits.WEBHOOKS_MAX - 4):
        hooks.create(URL, enabled=False)
    start = threading.Barrier(8)

    def create(_: int) -> str:
        start.wait()
        try:
            hooks.create(URL, enabled=False)
        except TooManyWebhooks:
            return "refused"
        return "created"

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(create, range(8)))
    assert results.count("created") == 4
    assert results.count("refused") == 4
    assert len(hooks.page(limit=200).items) == limits.WEBHOOKS_MAX
